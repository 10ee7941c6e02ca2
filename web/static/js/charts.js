/* fairway charts: every chart of the team and rep pages, drawn with the vendored Chart.js.
 *
 * The page carries its data in <script type="application/json" id="chart-data">
 * ({canvas id: spec}), or names where to fetch it: <div id="chart-data" data-src="...">
 * (the rep page: its charts load with them, not inlined in the page). Each spec has a
 * `type` naming one of the drawers below.
 * Once a chart has rendered, its <canvas> gets data-drawn="1" (the end-to-end tests
 * wait for it). The numbers behind each chart are already in the page as a table.
 */
(function () {
  "use strict";

  var COLORS = {
    rep: "#1f6feb", team: "#8c96a8", company: "#c9d1dd", goal: "#1d2433",
    green: "#2da44e", yellow: "#d4a72c", red: "#cf222e", none: "#aab3c0",
    riskFill: "rgba(207, 34, 46, 0.35)", okFill: "rgba(45, 164, 78, 0.35)"
  };
  var SERIES = ["#1f6feb", "#8250df", "#1a7f37", "#bf8700", "#cf222e", "#0a7ea4"];
  var MONEY = new Intl.NumberFormat("en-US", {style: "currency", currency: "USD", maximumFractionDigits: 0});
  var COUNT = new Intl.NumberFormat("en-US", {maximumFractionDigits: 0});

  function fmt(value, unit) {
    if (value === null || value === undefined || Number.isNaN(value)) { return "n/a"; }
    switch (unit) {
      case "share": return Math.round(value * 100) + "%";
      case "percent": return Math.round(value) + "%";
      case "currency": return MONEY.format(value);
      case "minutes": return COUNT.format(value) + " min";
      case "ratio": return value.toFixed(1);
      default: return COUNT.format(value);
    }
  }

  function axisTicks(unit) {
    return {callback: function (v) { return fmt(v, unit); }};
  }

  /* a flat dataset drawn as a dashed line across every category */
  function refLine(label, value, n, color) {
    var data = [];
    for (var i = 0; i < n; i++) { data.push(value); }
    return {type: "line", label: label, data: data, borderColor: color || COLORS.goal, borderWidth: 2,
            borderDash: [6, 4], pointRadius: 0, pointHoverRadius: 0, fill: false, order: 0};
  }

  function base(extra) {
    var opts = {
      responsive: true, maintainAspectRatio: false, animation: false,
      interaction: {mode: "index", intersect: false},
      plugins: {legend: {position: "bottom", labels: {boxWidth: 12, usePointStyle: true}}}
    };
    return Object.assign(opts, extra || {});
  }

  /* progress toward a goal, in percent, bars capped on screen at 200% */
  function progressAxis(values) {
    var max = 120;
    values.forEach(function (v) { if (v !== null && v * 100 > max) { max = v * 100; } });
    return {min: 0, max: Math.min(200, Math.ceil(max / 20) * 20), ticks: axisTicks("percent")};
  }

  var DRAW = {
    goals: function (s) {
      return {
        type: "bar",
        data: {labels: s.labels, datasets: [
          {label: "Progress toward goal", data: s.progress.map(function (v) { return v === null ? null : v * 100; }),
           backgroundColor: s.rag.map(function (r) { return COLORS[r] || COLORS.none; }), order: 1,
           maxBarThickness: 56},
          refLine("Goal (100%)", 100, s.labels.length)
        ]},
        options: base({
          scales: {y: progressAxis(s.progress)},
          plugins: {legend: {display: false}, tooltip: {callbacks: {
            label: function (ctx) {
              if (ctx.datasetIndex !== 0) { return "Goal: 100%"; }
              return s.values[ctx.dataIndex] + " of " + s.targets[ctx.dataIndex] + " (" + fmt(ctx.raw, "percent") + ")";
            }}}}
        })
      };
    },

    team_goals: function (s) {
      var all = [];
      var sets = s.series.map(function (ser, i) {
        all = all.concat(ser.values);
        return {label: ser.label, data: ser.values.map(function (v) { return v === null ? null : v * 100; }),
                backgroundColor: SERIES[i % SERIES.length], order: 1, maxBarThickness: 28, text: ser.text};
      });
      sets.push(refLine("Goal (100%)", 100, s.labels.length));
      return {
        type: "bar", data: {labels: s.labels, datasets: sets},
        options: base({
          scales: {y: progressAxis(all), x: {ticks: {autoSkip: false, maxRotation: 45}}},
          plugins: {legend: {position: "bottom", labels: {boxWidth: 12}}, tooltip: {callbacks: {
            label: function (ctx) {
              var ds = ctx.dataset;
              if (!ds.text) { return "Goal: 100%"; }
              return ds.label + ": " + ds.text[ctx.dataIndex] + " (" + fmt(ctx.raw, "percent") + ")";
            }}}}
        })
      };
    },

    funnel: function (s) {
      var colors = [COLORS.rep, COLORS.team, COLORS.company];
      var labels = s.labels.map(function (l) {   /* "Calls → Connects" on two lines */
        var parts = l.split(" → ");
        return parts.length === 2 ? [parts[0] + " →", parts[1]] : l;
      });
      return {
        type: "bar",
        data: {labels: labels, datasets: s.series.map(function (ser, i) {
          return {label: ser.label, data: ser.values, backgroundColor: colors[i % colors.length], maxBarThickness: 34};
        })},
        options: base({
          scales: {y: {min: 0, max: 1, ticks: axisTicks("share")}},
          plugins: {legend: {position: "bottom", labels: {boxWidth: 12}}, tooltip: {callbacks: {
            label: function (ctx) { return ctx.dataset.label + ": " + fmt(ctx.raw, "share"); }}}}
        })
      };
    },

    lines: function (s) {
      return {
        type: "line",
        data: {labels: s.labels, datasets: s.series.map(function (ser, i) {
          var c = SERIES[i % SERIES.length];
          return {label: ser.label, data: ser.values, borderColor: c, backgroundColor: c, spanGaps: false,
                  tension: 0.2, pointRadius: 3, borderWidth: 2};
        })},
        options: base({
          scales: {y: {beginAtZero: true, ticks: axisTicks(s.format)}},
          plugins: {legend: {position: "bottom", labels: {boxWidth: 12}}, tooltip: {callbacks: {
            label: function (ctx) {
              return ctx.dataset.label + ": " + (ctx.raw === null ? "undefined" : fmt(ctx.raw, s.format));
            }}}}
        })
      };
    },

    talk: function (s) {
      return {
        type: "bar",
        data: {labels: s.labels, datasets: [
          {label: s.rep, data: s.values, backgroundColor: COLORS.rep, order: 1, maxBarThickness: 30},
          {type: "line", label: "Team median", data: s.team, borderColor: COLORS.goal, backgroundColor: COLORS.goal,
           borderDash: [6, 4], borderWidth: 2, pointRadius: 2, spanGaps: false, order: 0}
        ]},
        options: base({
          scales: {y: {beginAtZero: true, ticks: axisTicks("minutes")}},
          plugins: {legend: {position: "bottom", labels: {boxWidth: 12}}, tooltip: {callbacks: {
            label: function (ctx) { return ctx.dataset.label + ": " + fmt(ctx.raw, "minutes"); }}}}
        })
      };
    },

    roster: function (s) {
      var colors = s.labels.map(function (_, i) {
        return s.highlight === null || s.highlight === undefined ? COLORS.rep
          : (i === s.highlight ? COLORS.rep : COLORS.company);
      });
      var sets = [{label: s.metric, data: s.values, backgroundColor: colors, order: 1, maxBarThickness: 40}];
      if (s.median !== null && s.median !== undefined) {
        sets.push(refLine("Team median " + fmt(s.median, s.format), s.median, s.labels.length));
      }
      return {
        type: "bar", data: {labels: s.labels, datasets: sets},
        options: base({
          scales: {y: {beginAtZero: true, ticks: axisTicks(s.format)},
                   x: {ticks: {autoSkip: false, maxRotation: 45}}},
          plugins: {legend: {position: "bottom", labels: {boxWidth: 12,
                      filter: function (item) { return item.datasetIndex > 0; }}},
                    tooltip: {callbacks: {label: function (ctx) {
                      return ctx.dataset.label + ": " + fmt(ctx.raw, s.format); }}}}
        })
      };
    },

    losses: function (s) {
      return {
        type: "bar",
        data: {labels: s.labels, datasets: [
          {label: "Lost deals", data: s.values, backgroundColor: COLORS.red, maxBarThickness: 22}]},
        options: base({
          indexAxis: "y",
          interaction: {mode: "nearest", axis: "y", intersect: false},
          scales: {x: {beginAtZero: true, ticks: {precision: 0}}},
          plugins: {legend: {display: false}}
        })
      };
    },

    pipeline: function (s) {
      var most = 1;
      s.points.forEach(function (p) { if (p.activities > most) { most = p.activities; } });
      function point(p) {
        return {x: Date.parse(p.x + "T00:00:00"), y: p.y, r: 4 + 18 * p.activities / most, p: p};
      }
      var xs = s.points.map(function (p) { return Date.parse(p.x + "T00:00:00"); });
      var pad = 4 * 86400000;   /* four days either side, so edge bubbles are not cut */
      var risky = s.points.filter(function (p) { return p.at_risk; }).map(point);
      var fine = s.points.filter(function (p) { return !p.at_risk; }).map(point);
      var dateFmt = new Intl.DateTimeFormat("en-GB", {day: "numeric", month: "short"});
      return {
        type: "bubble",
        data: {datasets: [
          {label: "At risk", data: risky, backgroundColor: COLORS.riskFill, borderColor: COLORS.red, borderWidth: 1.5},
          {label: "In line with won deals", data: fine, backgroundColor: COLORS.okFill, borderColor: COLORS.green,
           borderWidth: 1.5}
        ]},
        options: base({
          interaction: {mode: "nearest", intersect: true},
          scales: {
            x: {type: "linear", title: {display: true, text: "Expected close date"},
                min: Math.min.apply(null, xs) - pad, max: Math.max.apply(null, xs) + pad,
                ticks: {callback: function (v) { return dateFmt.format(new Date(v)); }, maxTicksLimit: 8}},
            y: {beginAtZero: true, grace: "12%", title: {display: true, text: "Amount"}, ticks: axisTicks("currency")}
          },
          plugins: {legend: {position: "bottom", labels: {usePointStyle: true}}, tooltip: {callbacks: {
            title: function (items) { var p = items[0].raw.p; return p.id + " · " + p.stage; },
            label: function (ctx) {
              var p = ctx.raw.p;
              var lines = [fmt(p.y, "currency") + ", expected to close " + dateFmt.format(new Date(ctx.raw.x)),
                           p.days_in_stage + (p.days_in_stage === 1 ? " day" : " days") + " in stage · " +
                           p.activities + (p.activities === 1 ? " activity" : " activities")];
              if (p.why.length) { lines.push("At risk: " + p.why.join("; ")); }
              return lines;
            }}}}
        })
      };
    }
  };

  var markDrawn = {
    id: "fairwayDrawn",
    afterRender: function (chart) { chart.canvas.setAttribute("data-drawn", "1"); }
  };

  function draw(specs) {
    window.Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
    window.Chart.defaults.color = "#5b6577";
    Object.keys(specs).forEach(function (id) {
      var canvas = document.getElementById(id);
      var spec = specs[id];
      var drawer = spec && DRAW[spec.type];
      if (!canvas || !drawer) { return; }
      /* a chart in a closed panel (the conversation's side panel) is drawn when it opens */
      var closed = canvas.closest("details.chart-panel:not([open])");
      if (closed) {
        closed.addEventListener("toggle", function once() {
          if (!closed.open) { return; }
          closed.removeEventListener("toggle", once);
          drawOne(canvas, spec, drawer, id);
        });
        return;
      }
      drawOne(canvas, spec, drawer, id);
    });
  }

  function drawOne(canvas, spec, drawer, id) {
    try {
      var config = drawer(spec);
      config.plugins = [markDrawn];
      new window.Chart(canvas, config);
    } catch (err) {
      canvas.setAttribute("data-error", String(err && err.message || err));
      if (window.console) { window.console.error("chart " + id + ":", err); }
    }
  }

  /* a chart whose data could not be fetched says so where it would be drawn; its numbers stay below */
  function unavailable(why) {
    Array.prototype.forEach.call(document.querySelectorAll("canvas[id^='chart-']"), function (canvas) {
      canvas.setAttribute("data-error", why);
      var note = document.createElement("p");
      note.className = "fw-chart-empty";
      note.textContent = "The chart could not be loaded (" + why + "): its numbers are below.";
      canvas.parentNode.replaceWith(note);
    });
  }

  function drawAll() {
    var holder = document.getElementById("chart-data");
    if (!holder || typeof window.Chart === "undefined") { return; }
    var src = holder.getAttribute("data-src");
    if (!src) { draw(JSON.parse(holder.textContent || "{}")); return; }
    fetch(src, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(draw)
      .catch(function (err) { unavailable(String(err && err.message || err)); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
}());

"""A mapping's rules and conditions as SQL over one export file (a text view).

`PartSQL` compiles one part of a mapping over one file: every target column becomes a
SQL expression (text), with what an import must know beside it: the value before a map
(to list unmapped values), flags for values that do not parse (to name their rows),
reasons to leave a row out (deleted in the CRM, `where`, `unmapped: drop`, a parent that
is not kept). Lookups become joins with small key tables; rep and opportunity ids are
resolved against the reps and opportunities already imported.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..aggregation.backend import quote_ident, quote_text
from ..dataset.contract import Kind
from ..errors import Problem
from .exports import ExportFile
from .mapping import Condition, Lookup, Mapping, RepBy, Rule, template_columns

if TYPE_CHECKING:
    from .importer import Run

TRUE_WORDS = ("1", "true", "yes", "y", "x", "checked", "t")
FALSE_WORDS = ("0", "false", "no", "n", "unchecked", "f")
# "$12,000.00", "USD 12,000.00", "12 000 €": currency signs and codes, spaces
CURRENCY_RE = r"^[A-Z]{3}\s*|\s*[A-Z]{3}$|[$€£¥\s\x{00a0}]"
GROUPED_RE = r"^-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?$"


def lit(text: str) -> str:
    return quote_text(text)


def words(values) -> str:
    return "(" + ", ".join(lit(v.lower()) for v in values) + ")" if values else "(NULL)"


def name_key(x: str) -> str:
    """A name or email as matched: case and spacing ignored."""
    return f"lower(regexp_replace(trim({x}), '\\s+', ' ', 'g'))"


@dataclass
class Bad:
    """Rows whose source value cannot be read: a problem per distinct value."""

    flag: str               # SQL: true where bad
    value: str              # SQL: the value shown
    column: str             # the source column named
    message: str
    expected: str
    suggest: list[str] | None = None   # choices for did-you-mean


@dataclass
class Value:
    sql: str
    raw: str | None = None             # before a map or a lookup of reps: listed when unmapped
    unmapped: str | None = None        # SQL: a value the map has no entry for
    unmapped_policy: str = "error"
    source: str = ""                   # the source column(s), for messages
    bad: list[Bad] = field(default_factory=list)
    drops: list[tuple[str, str]] = field(default_factory=list)   # (SQL condition, reason)
    orphan: str | None = None          # SQL: an id with no kept parent
    ambiguous: str | None = None       # SQL: a name two reps share
    decided: str | None = None         # SQL: the value is settled (a map's "none" included): first_of stops

    def settled(self) -> str:
        return self.decided or f"({self.sql} IS NOT NULL)"


class PartSQL:
    """One part of a mapping over one export file."""

    def __init__(self, run: "Run", stem: str, index: int, part, f: ExportFile, path: tuple):
        self.run = run
        self.m: Mapping = run.mapping
        self.stem = stem
        self.index = index
        self.part = part
        self.f = f
        self.path = path                 # the YAML key path of the part
        self.joins: list[str] = []
        self.fields: dict[str, str] = {}
        self.means: list[tuple[str, str, str]] = []      # (vocabulary, SQL of the value, column): listed when unknown

    # ------------------------------------------------------------------ columns
    def col(self, names: list[str], optional: bool, path: tuple) -> str:
        names = [self.m.resolve(n) for n in names]
        if names[0] in self.fields and len(names) == 1:
            return self.fields[names[0]]
        actual = self.f.column(names)
        if actual is not None:
            return f"s.{quote_ident(actual)}"
        if not optional and (self.f.name, tuple(names)) not in self.run.reported:
            self.run.reported.add((self.f.name, tuple(names)))
            self.run.problems.append(Problem(
                file=self.f.name, row=1, column=names[0], message="source column is missing",
                expected="a column of the export's header row" + (f" (or one of {', '.join(names[1:])})"
                                                                  if len(names) > 1 else ""),
                suggestion=self.f.suggest(names)))
        return "CAST(NULL AS VARCHAR)"

    # ------------------------------------------------------------------ conditions
    def condition(self, c: Condition, path: tuple) -> str:
        if c.any is not None:
            return "(" + " OR ".join(self.condition(x, path + ("any", i)) for i, x in enumerate(c.any)) + ")"
        if c.all is not None:
            return "(" + " AND ".join(self.condition(x, path + ("all", i)) for i, x in enumerate(c.all)) + ")"
        if c.not_ is not None:
            return f"(NOT coalesce({self.condition(c.not_, path + ('not',))}, false))"
        if c.present is not None:
            has = self.f.column([self.m.resolve(n) for n in c.column]) is not None
            return "true" if has == c.present else "false"
        x = self.col(c.column, c.optional, path)
        if c.filled is not None:
            return f"({x} IS {'NOT ' if c.filled else ''}NULL)"
        if c.one_of is not None:
            return f"coalesce(lower({x}) IN {words(self.m.resolve(v) for v in c.one_of)}, false)"
        if c.none_of is not None:
            return f"NOT coalesce(lower({x}) IN {words(self.m.resolve(v) for v in c.none_of)}, false)"
        if c.same_as is not None:
            other = self.col(c.same_as, c.optional, path + ("same_as",))
            return f"coalesce({x} = {other}, false)"
        if c.means is not None:
            [(name, wanted)] = c.means.items()
            voc = self.m.vocabulary(name)
            found = self.translate(x, voc.map, voc.patterns)
            self.means.append((name, f"CASE WHEN {x} IS NOT NULL AND {found} IS NULL THEN {x} END",
                               self.f.column([self.m.resolve(n) for n in c.column]) or c.column[0]))
            return f"coalesce({found} IN {words(wanted)}, false)"
        if c.prefix is not None:
            return "coalesce(" + " OR ".join(f"starts_with(lower({x}), {lit(self.m.resolve(p).lower())})"
                                             for p in c.prefix) + ", false)"
        return f"coalesce(regexp_matches({x}, {lit(self.m.resolve(c.matches))}), false)"

    # ------------------------------------------------------------------ rules
    def rule(self, rule: Rule, target: str, kind: Kind, path: tuple, resolve_refs: bool = True) -> Value:
        v = self._source(rule, target, kind, path)
        if rule.when is not None:
            v.sql = f"(CASE WHEN {self.condition(rule.when, path + ('when',))} THEN {v.sql} END)"
        if rule.take_first is not None:
            v.sql = f"nullif(trim(split_part({v.sql}, {lit(rule.take_first)}, 1)), '')"
        if rule.map is not None or rule.patterns is not None:
            self._map(v, rule, path)
        if kind in (Kind.date, Kind.period) and rule.date is not None:
            self._date(v, rule, kind, path)
        elif kind == Kind.number:
            self._number(v, rule, path)
        if rule.default is not None:
            v.sql = f"coalesce({v.sql}, {lit(self.m.resolve(rule.default))})"
        if resolve_refs and target in ("rep_id", "source_rep_id", "opportunity_id") and self.stem != "reps" \
                and rule.first_of is None:        # (alternatives resolve themselves, each with its rep_roles)
            self._resolve(v, rule, target)
        if rule.if_empty == "drop":
            v.drops.append((f"({v.sql} IS NULL)", f"no {target}" + (f" ({v.source})" if v.source else "")))
        return v

    def _source(self, rule: Rule, target: str, kind: Kind, path: tuple) -> Value:
        if rule.column is not None:
            x = self.col(rule.column, rule.optional, path + ("column",))
            return Value(x, source=self.f.column([self.m.resolve(n) for n in rule.column]) or rule.column[0])
        if rule.value is not None:
            text = self.m.resolve(rule.value)
            return Value(lit(text) if text != "" else "CAST(NULL AS VARCHAR)", source="")
        if rule.template is not None:
            cols = template_columns(rule.template)
            sqls = {c: self.col([c], rule.optional, path + ("template",)) for c in cols}
            parts = []
            for literal, fld in re.findall(r"([^{]*)(?:\{([^}]*)\})?", rule.template):
                if literal:
                    parts.append(lit(literal))
                if fld:
                    parts.append(f"coalesce({sqls[fld]}, '')")
            joined = " || ".join(parts) if parts else "''"
            filled = " OR ".join(f"{s} IS NOT NULL" for s in sqls.values())
            return Value(f"(CASE WHEN {filled} THEN nullif(trim({joined}), '') END)", source=", ".join(cols))
        if rule.flags is not None:
            won = self.col(rule.flags.won, rule.optional, path + ("flags", "won"))
            closed = self.col(rule.flags.closed, rule.optional, path + ("flags", "closed"))
            v = Value(f"(CASE WHEN lower({won}) IN {words(TRUE_WORDS)} THEN 'won' "
                      f"WHEN lower({closed}) IN {words(TRUE_WORDS)} THEN 'lost' ELSE 'open' END)",
                      source=f"{rule.flags.won[0]}, {rule.flags.closed[0]}")
            for x, names in ((won, rule.flags.won), (closed, rule.flags.closed)):
                v.bad.append(self._flag_bad(x, names))
            return v
        if rule.flag is not None:
            x = self.col(rule.flag, rule.optional, path + ("flag",))
            v = Value(f"(CASE WHEN lower({x}) IN {words(TRUE_WORDS)} THEN 'true' "
                      f"WHEN lower({x}) IN {words(FALSE_WORDS)} THEN 'false' END)", source=rule.flag[0])
            v.bad.append(self._flag_bad(x, rule.flag))
            return v
        if rule.lookup is not None:
            return self._lookup(rule.lookup, target, kind, path + ("lookup",), rule.optional)
        # first_of: the first alternative that settles the value: gives one, or maps to "none"
        # explicitly (a manager's role stops the search); a rep id: the first that is a kept rep
        alts = [self.rule(r, target, kind, path + ("first_of", i)) for i, r in enumerate(rule.first_of)]
        pick = "".join(f" WHEN {a.settled()} THEN {a.sql}" for a in alts)
        out = Value(f"(CASE{pick} END)", source=" or ".join(a.source for a in alts if a.source))
        out.decided = "(" + " OR ".join(a.settled() for a in alts) + ")"
        for a in alts:
            out.bad += a.bad
            out.drops += [d for d in a.drops]
        if any(a.raw for a in alts):
            out.raw = f"coalesce({', '.join(a.raw or a.sql for a in alts)})"
            orphans = [a.orphan for a in alts if a.orphan]
            out.orphan = f"({out.sql} IS NULL AND {out.raw} IS NOT NULL)" if orphans else None
        out.ambiguous = " OR ".join(f"coalesce({a.ambiguous}, false)" for a in alts if a.ambiguous) or None
        return out

    def _flag_bad(self, x: str, names: list[str]) -> Bad:
        return Bad(flag=f"({x} IS NOT NULL AND lower({x}) NOT IN {words(TRUE_WORDS + FALSE_WORDS)})", value=x,
                   column=self.f.column(names) or names[0], message="not a yes/no value",
                   expected="1/0, true/false or yes/no")

    def _lookup(self, lk: Lookup, target: str, kind: Kind, path: tuple, optional: bool = False) -> Value:
        on = self.rule(lk.by, target, Kind.text, path + ("by",), resolve_refs=False)
        table = self.run.lookup_table(lk, path, self.stem, self.index, optional)
        if table is None:
            return Value("CAST(NULL AS VARCHAR)", source=on.source)
        alias = f"j{len(self.joins)}"
        self.joins.append(f"LEFT JOIN {table} AS {alias} ON {alias}.key = {on.sql}")
        return Value(f"{alias}.value", source=on.source, bad=on.bad, drops=on.drops)

    def _map(self, v: Value, rule: Rule, path: tuple) -> None:
        if isinstance(rule.map, str):
            voc = self.m.vocabulary(rule.map)
            entries, patterns = voc.map, {**(rule.patterns or {}), **voc.patterns}
        else:
            entries, patterns = rule.map or {}, rule.patterns or {}
        x = v.sql
        found = self.translate(x, entries, patterns)
        v.raw = x
        v.unmapped = f"({x} IS NOT NULL AND {found} IS NULL)"
        v.decided = f"({x} IS NOT NULL AND {found} IS NOT NULL)"
        how = rule.unmapped
        v.unmapped_policy = how
        if how not in ("error", "drop", "blank"):      # kept, or a constant: a value all the same
            v.decided = f"({x} IS NOT NULL)"
        mapped = f"nullif({found}, '')"
        if how == "keep":
            v.sql = f"(CASE WHEN {v.unmapped} THEN {x} ELSE {mapped} END)"
        elif how in ("error", "drop", "blank"):
            v.sql = mapped
            if how == "drop":
                v.drops.append((v.unmapped, "unmapped"))
        else:
            v.sql = f"(CASE WHEN {v.unmapped} THEN {lit(self.m.resolve(how))} ELSE {mapped} END)"

    @staticmethod
    def translate(x: str, entries: dict, patterns: dict) -> str:
        """SQL: the word `x` maps to (exact, any case; else the first pattern that matches), or NULL."""
        cases = "".join(f" WHEN {lit(k.strip().lower())} THEN {lit(val)}" for k, val in entries.items())
        pats = "".join(f" WHEN regexp_matches({x}, {lit(k)}) THEN {lit(val)}" for k, val in patterns.items())
        exact = f"(CASE lower({x}){cases} END)" if cases else "CAST(NULL AS VARCHAR)"
        return f"coalesce({exact}, CASE{pats} END)" if pats else exact

    def _date(self, v: Value, rule: Rule, kind: Kind, path: tuple) -> None:
        x = v.sql
        tz = self.m.timezone
        formats = [f for f in rule.date if f not in ("auto", "iso", "epoch_ms", "epoch_s")]
        keywords = [f for f in rule.date if f in ("auto", "iso", "epoch_ms", "epoch_s")]
        instants, locals_ = [], []
        for k in keywords:
            if k in ("auto", "epoch_ms"):
                instants.append(f"CASE WHEN regexp_full_match({x}, '-?[0-9]{{12,14}}') "
                                f"THEN epoch_ms(TRY_CAST({x} AS BIGINT)) END")
            if k in ("auto", "epoch_s"):
                instants.append(f"CASE WHEN regexp_full_match({x}, '-?[0-9]{{9,11}}') "
                                f"THEN make_timestamp(TRY_CAST({x} AS BIGINT) * 1000000) END")
            if k in ("auto", "iso"):
                offset = (f"(length({x}) > 10 AND (contains(substr({x}, 11), '+') OR contains(substr({x}, 11), '-') "
                          f"OR ends_with(upper({x}), 'Z') OR ends_with(upper({x}), 'UTC')))")
                instants.append(f"CASE WHEN substr({x}, 5, 1) = '-' AND {offset} "
                                f"THEN timezone('UTC', TRY_CAST({x} AS TIMESTAMPTZ)) END")
                locals_.append(f"CASE WHEN substr({x}, 5, 1) = '-' AND NOT {offset} THEN TRY_CAST({x} AS TIMESTAMP) END")
        if formats:
            fmts = "[" + ", ".join(lit(f) for f in formats) + "]"
            locals_.append(f"try_strptime({x}, {fmts})")
        # an instant (an offset, Z, an epoch) is shown in the mapping's time zone; local times as they are
        inst = f"coalesce({', '.join(instants)})" if instants else "CAST(NULL AS TIMESTAMP)"
        if tz.upper() != "UTC":
            inst = f"timezone({lit(tz)}, timezone('UTC', {inst}))"
        parsed = f"coalesce({inst}, {', '.join(locals_)})" if locals_ else inst
        if kind == Kind.period:
            out = f"strftime({parsed}, '%Y-%m')"
        elif rule.has_time and all(any(d in f for d in ("%H", "%I", "%T", "%R", "%X", "%c")) for f in formats):
            out = f"strftime({parsed}, '%Y-%m-%dT%H:%M:%S')"
        elif rule.has_time:      # formats with and without a time: a date stays a date
            out = (f"(CASE WHEN {parsed} = date_trunc('day', {parsed}) THEN strftime({parsed}, '%Y-%m-%d') "
                   f"ELSE strftime({parsed}, '%Y-%m-%dT%H:%M:%S') END)")
        elif keywords:      # keep the time where the source has one
            out = (f"(CASE WHEN contains({x}, ':') OR regexp_full_match({x}, '-?[0-9]{{9,14}}') "
                   f"THEN strftime({parsed}, '%Y-%m-%dT%H:%M:%S') ELSE strftime({parsed}, '%Y-%m-%d') END)")
        else:
            out = f"strftime({parsed}, '%Y-%m-%d')"
        example = "2026-03-14T14:05:09Z or 1773497109000" if keywords else ""
        shown = " or ".join([f"{f} (such as {_example(f)})" for f in formats] + ([example] if example else []))
        v.bad.append(Bad(flag=f"({x} IS NOT NULL AND {parsed} IS NULL)", value=x, column=v.source or "",
                         message="date does not match the format", expected=shown))
        v.sql = out

    def _number(self, v: Value, rule: Rule, path: tuple) -> None:
        x = v.sql
        clean = f"regexp_replace({x}, {lit(CURRENCY_RE)}, '', 'g')"
        clean = f"(CASE WHEN regexp_full_match({clean}, {lit(GROUPED_RE)}) THEN replace({clean}, ',', '') ELSE {clean} END)"
        n = f"TRY_CAST({clean} AS DOUBLE)"
        n = f"(CASE WHEN isfinite({n}) THEN {n} END)"
        if rule.divide_by is not None:
            n = f"round({n} / {rule.divide_by!r}, 6)"
        v.bad.append(Bad(flag=f"({x} IS NOT NULL AND {n} IS NULL)", value=x, column=v.source or "",
                         message="not a number", expected="a number such as 12000, 12,000.00 or $12,000.00"))
        v.sql = (f"(CASE WHEN {n} = round({n}) AND abs({n}) < 1e15 THEN CAST(CAST({n} AS BIGINT) AS VARCHAR) "
                 f"ELSE CAST({n} AS VARCHAR) END)")

    def _resolve(self, v: Value, rule: Rule, target: str) -> None:
        """A rep or opportunity id resolved against what is already imported; orphans flagged."""
        alias = f"r{len(self.joins)}"
        raw = v.sql
        if target == "opportunity_id":
            if self.run.opp_keys is None:
                return
            self.joins.append(f"LEFT JOIN {self.run.opp_keys} AS {alias} ON {alias}.opportunity_id = {raw}")
            resolved = f"{alias}.opportunity_id"
        else:
            if self.run.rep_keys is None:
                return
            by = (rule.rep_by or RepBy.id).value
            key = raw if by == "id" else name_key(raw)
            self.joins.append(f"LEFT JOIN (SELECT * FROM {self.run.rep_keys} WHERE kind = '{by}') AS {alias} "
                              f"ON {alias}.key = {key}")
            cond = f"{alias}.n = 1" + (f" AND lower({alias}.role) IN {words(rule.rep_roles)}" if rule.rep_roles else "")
            resolved = f"(CASE WHEN {cond} THEN {alias}.rep_id END)"
            v.ambiguous = f"({alias}.n > 1)"
        v.raw = v.raw or raw
        v.sql = resolved
        v.decided = f"({resolved} IS NOT NULL)"
        v.orphan = f"({raw} IS NOT NULL AND {resolved} IS NULL)"


def _example(fmt: str) -> str:
    from datetime import datetime
    return datetime(2026, 3, 14, 14, 5).strftime(fmt)

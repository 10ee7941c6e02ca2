"""Write a demo org as a real CRM would export it, with its ground truth.

    python tests/exports/make_exports.py OUT --shape salesforce-api [--reps 60] [--months 12]
        [--seed 7] [--end 2026-10]

Shapes: salesforce-api, salesforce-dataloader, salesforce-sync, salesforce-report,
hubspot-sync, hubspot-export (README.md describes each). The same arguments give
byte-identical files. OUT must be missing or empty; truth.json goes beside the files.
"""
from __future__ import annotations

import argparse
import json
import sys
from functools import lru_cache
from pathlib import Path

if __package__ in (None, ""):                      # run as a script: tests/ on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    __package__ = "exports"

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from engine.catalog import load_catalog  # noqa: E402
from engine.demo import generate_org  # noqa: E402

from . import hubspot, salesforce  # noqa: E402
from .model import TZ, Crm, build_crm  # noqa: E402

SHAPES = ("salesforce-api", "salesforce-dataloader", "salesforce-sync", "salesforce-report",
          "hubspot-sync", "hubspot-export")
PLANTED_SHARE = 0.3
DEFAULTS = {"reps": 60, "months": 12, "seed": 7, "end": "2026-10"}


@lru_cache(maxsize=1)
def _pipeline():
    return load_catalog().pipeline


@lru_cache(maxsize=4)
def crm_for(reps: int, months: int, seed: int, end: str) -> Crm:
    """The CRM of the demo org with these arguments (cached: shapes of one org share it)."""
    args = {"reps": reps, "months": months, "seed": seed, "end": end}
    org = generate_org(_pipeline(), reps=reps, months=months, seed=seed, end=end,
                       planted_share=PLANTED_SHARE)
    return build_crm(org, args)


def write_exports(out, shape: str, reps: int = 60, months: int = 12, seed: int = 7,
                  end: str = "2026-10") -> dict:
    """Write the export of `shape` and truth.json into `out`; returns the truth (with the
    rows written per file under "files")."""
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {', '.join(SHAPES)}, not {shape!r}")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out} exists and is not an empty folder")
    out.mkdir(parents=True, exist_ok=True)
    crm = crm_for(int(reps), int(months), int(seed), str(end))
    if shape == "salesforce-api":
        rows = salesforce.write_api(crm, out)
    elif shape == "salesforce-dataloader":
        rows = salesforce.write_api(crm, out, upper=True, field_history=True)
    elif shape == "salesforce-sync":
        rows = salesforce.write_sync(crm, out)
    elif shape == "salesforce-report":
        rows = salesforce.write_reports(crm, out)
    elif shape == "hubspot-sync":
        rows = hubspot.write_sync(crm, out)
    else:
        rows = hubspot.write_export(crm, out)
    truth = _truth(crm, shape, rows)
    (out / "truth.json").write_text(json.dumps(truth, indent=2, sort_keys=False) + "\n",
                                    encoding="utf-8")
    return truth


# ------------------------------------------------------------------ truth
ID_FIELD = {
    "salesforce-api": "User.Id", "salesforce-dataloader": "User.ID",
    "salesforce-sync": "user.id", "salesforce-report": "users.csv User ID",
    "hubspot-sync": "owner.owner_id", "hubspot-export": "users.csv Email",
}


def _export_ids(crm: Crm, shape: str) -> np.ndarray:
    """Each user's id in the export: Salesforce user Id, HubSpot owner id, or email."""
    uid = crm.users["uid"].to_numpy()
    if shape.startswith("salesforce"):
        return salesforce.ids("User", uid)
    if shape == "hubspot-sync":
        return hubspot.owner_ids(crm)[uid].astype(str).astype(object)
    return crm.users["email"].to_numpy(dtype=object)


def _truth(crm: Crm, shape: str, rows: dict) -> dict:
    org, u = crm.org, crm.users
    export_id = _export_ids(crm, shape)
    truth = org.truth.set_index("rep_id")
    team_label = crm.teams.set_index("team")["label"]
    reps = []
    for r in org.reps.itertuples():
        uid = crm.users.index[u["rep_id"].eq(r.rep_id).to_numpy()][0]
        planted = truth.at[r.rep_id, "planted_metric"]
        reps.append({
            "export_id": export_id[uid], "name": r.name, "email": r.email, "demo_rep_id": r.rep_id,
            "role": r.role, "team": team_label[r.team], "demo_team": r.team,
            "division": r.division.title(), "manager": r.manager,
            "planted_metric": planted or None,
            "severity": float(truth.at[r.rep_id, "severity"]) if planted else None,
        })
    others = [{"export_id": export_id[i], "name": u.at[i, "name"], "kind": u.at[i, "kind"],
               "active": bool(u.at[i, "active"])}
              for i in u.index[~u["kind"].eq("rep").to_numpy()]]
    as_of = pd.Timestamp(crm.as_of)
    traps = _traps(crm, shape)
    return {
        "shape": shape,
        "generator": {**crm.args, "planted_share": PLANTED_SHARE},
        "as_of": as_of.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "as_of_date": str(as_of.date()),
        "month": crm.month,
        "timezone": TZ,
        "id_field": ID_FIELD[shape],
        "windows": {"closed_months": 12, "note": "win rate: deals closed in the 12 months ending with the month"},
        "planted": [r for r in reps if r["planted_metric"]],
        "reps": reps,
        "not_reps": others,
        "traps": traps,
        "files": rows,
    }


SALESFORCE_ONLY = ("Type blank", "ListEmail", "child events", "sync user", "sub-stage steps",
                   "WhoId 00Q", "WhatId 001", "amount edits", "close date pushes")
DELETED = {"deleted opportunities": "opps", "history rows of deleted": "history",
           "deleted tasks": "tasks", "deleted events": "events"}


def _traps(crm: Crm, shape: str) -> dict:
    """The CRM's trap counts that apply to this shape; deleted rows as this shape shows
    them (an API export only those still in the recycle bin, a UI export none)."""
    hubspot_shape = shape.startswith("hubspot")
    out = {}
    for key, n in crm.traps.items():
        if key.startswith("HubSpot") and not hubspot_shape:
            continue
        if hubspot_shape and any(word in key for word in SALESFORCE_ONLY):
            continue
        if shape == "hubspot-export" and key.startswith("to-dos"):     # tasks are not exported
            continue
        if shape == "salesforce-report" and "child events" in key:     # reports leave them out
            continue
        frame = next((getattr(crm, f) for k, f in DELETED.items() if key.startswith(k)), None)
        if frame is not None:
            if shape in ("salesforce-report", "hubspot-export"):
                continue
            gone = frame["deleted"].to_numpy()
            if shape in ("salesforce-api", "salesforce-dataloader"):   # the recycle bin's
                gone = gone & ~frame["purged"].to_numpy()
            n = gone.sum()
        out[key] = int(n)
    if hubspot_shape:
        out["HubSpot: calls that never rang (status FAILED)"] = hubspot.failed_calls(crm)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--shape", required=True, choices=SHAPES)
    ap.add_argument("--reps", type=int, default=DEFAULTS["reps"])
    ap.add_argument("--months", type=int, default=DEFAULTS["months"])
    ap.add_argument("--seed", type=int, default=DEFAULTS["seed"])
    ap.add_argument("--end", default=DEFAULTS["end"])
    a = ap.parse_args(argv)
    try:
        truth = write_exports(a.out, a.shape, a.reps, a.months, a.seed, a.end)
    except (ValueError, FileExistsError) as exc:
        print(f"make_exports: {exc}", file=sys.stderr)
        return 1
    for name, n in truth["files"].items():
        print(f"{n:9d}  {name}")
    print(f"as of {truth['as_of']}, month {truth['month']}, {len(truth['planted'])} planted reps")
    return 0


if __name__ == "__main__":
    sys.exit(main())

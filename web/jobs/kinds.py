"""What each kind of job does, given its Job row and its Run (progress, fenced outcome).

A kind raises ProblemsError to refuse its input (the runner stores every problem), and
writes its success with `run.finish_in` inside the transaction of its own work.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from flask import current_app

from engine.aggregation.period import PeriodError
from engine.errors import FairwayError, Problem, ProblemsError

from ..extensions import db
from ..models import Job, JobStatus, User
from ..store import catalog, ingest, work_tmp
from .runner import Run, cleanup


def import_dataset(job: Job, run: Run) -> None:
    """Validate, analyse and store a dataset folder (an unpacked upload, or a server folder); with a
    mapping, the folder is a CRM export, converted first into a staging folder of the job's own."""
    p = job.params
    folder = Path(p["folder"])
    try:
        if p.get("mapping"):
            with tempfile.TemporaryDirectory(prefix="convert-", dir=work_tmp(),
                                             ignore_cleanup_errors=True) as staging:
                dataset = Path(staging) / "dataset"
                report = _convert(folder, p, dataset, run)
                _store(job, run, dataset, report, Path(staging))
        else:
            _store(job, run, folder, None)
    except ProblemsError as err:
        raise ProblemsError([_as_shown(q, folder, p["source"]) for q in err.problems]) from err
    except PeriodError as err:         # no month to review in the data, or not the one asked for
        raise ProblemsError([Problem(file=p["source"], message=str(err), value=p.get("period"),
                                     expected="a Month to review (YYYY-MM) that the data covers, or empty "
                                              "for the latest month with data")]) from err
    except FairwayError as err:
        # other refusals of the analysis speak to the command line: the page says what to do here
        current_app.logger.warning("import of %s: the analysis refused it: %s", p["source"], err)
        month = p.get("period") or "the latest month with data"
        raise ProblemsError([Problem(file=p["source"], message=f"the dataset was read, but {month} could not be "
                                                               "analysed", expected="another Month to review, or "
                                                               "data that covers it")]) from err
    cleanup(job)


def _convert(folder: Path, p: dict, out: Path, run: Run) -> dict:
    """The export converted by its mapping (and overlay) into `out`, whole or not at all; the import
    report as a plain dict (the engine's, as `fairway import --json` prints it)."""
    from engine.diagnosis.documents import dumps
    from engine.sources import import_dataset as convert, load_mapping, shipped_mappings
    cat = catalog()
    shipped = shipped_mappings()
    if p["mapping"] not in shipped:
        raise ProblemsError([Problem(file=p["source"], message=f"no shipped mapping {p['mapping']!r}",
                                     expected=", ".join(shipped))])
    run.progress(f"reading the export with the {p['mapping']} mapping")
    mapping = load_mapping(shipped[p["mapping"]], cat.pipeline, overlay=p.get("overlay"))
    report = convert(folder, mapping, out, cat.pipeline, progress=run.progress)
    doc = report.to_dict(cat)
    return json.loads(dumps({**doc, "mapping": p["mapping"], "description": doc["mapping"],
                             "overlay": Path(p["overlay"]).name if p.get("overlay") else None}))


def _store(job: Job, run: Run, folder: Path, report: dict | None, staging: Path | None = None) -> None:
    """Ingest the dataset folder; the job's outcome (with the import report and the data's coverage)
    is written in the transaction that stores the dataset, once the job's own files (the upload, the
    overlay, the converted export) are removed: the dataset's copy is in place by then, and whoever
    sees the outcome finds nothing of the job left in the instance."""
    from engine.dataset.model import Coverage
    from engine.sources import coverage_rows
    p = job.params
    user = db.session.get(User, job.created_by) if job.created_by else None

    def succeeded(ds) -> None:
        note = f"{ds.summary.get('reps', 0):,} reps, period {ds.period}"
        cat = catalog()
        coverage = coverage_rows(Coverage.from_dict(ds.summary.get("coverage") or {}),
                                 cat.pipeline.activity_type_ids, cat)
        run.finish_in(db.session, JobStatus.succeeded,
                      {"dataset_id": ds.id, "name": ds.name, "reps": ds.summary.get("reps", 0),
                       "period": ds.period, "is_current": bool(ds.is_current), "ignored": p.get("ignored", []),
                       "warnings": list(ds.summary.get("warnings") or []), "coverage": coverage,
                       "report": report},
                      f"accepted: {note}")
        cleanup(job)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    try:
        ingest(folder, name=p["name"], source=p["source"], user=user,
               make_current=p.get("make_current", True), period=p.get("period"), progress=run.progress,
               before_commit=succeeded)
    except ProblemsError as err:
        if report is None:
            raise
        # the mapping's result was valid: a problem here is about the dataset made from the export
        raise ProblemsError([_as_shown(q, folder, "the dataset made from the export") for q in err.problems]
                            ) from err


def _as_shown(problem: Problem, folder: Path, source: str) -> Problem:
    """A problem as the person who asked for the import knows the data: the server's own path to the
    unpacked folder is never shown (a problem about the whole dataset names the upload or folder)."""
    where = Path(problem.file)
    if where == folder:
        return replace(problem, file=source)
    if where.is_absolute() and where.is_relative_to(folder):
        return replace(problem, file=str(where.relative_to(folder)))
    return problem


KINDS = {"import": import_dataset}

"""One job from queued to its outcome.

A job is taken only from `queued` (so a job put twice on the queue runs once), its attempt
number is its fence: every later write of the run (progress, heartbeat, the outcome) says
`where status = running and attempts = n`, and a run that finds itself fenced off (the
janitor gave its job to another run) writes nothing more. The outcome of an import is
written in the same transaction as the dataset, so a job is never both retried and applied.

A run beats every FAIRWAY_JOB_HEARTBEAT seconds. A running job silent for three beats lost
its worker (a restart, a crash): the janitor puts it back on the queue once, and after a
second loss reports it `interrupted`.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import update

from engine.errors import ProblemsError

from ..extensions import db
from ..models import Job, JobStatus, utcnow

log = logging.getLogger("fairway.jobs")
MAX_ATTEMPTS = 2                 # a job whose worker is lost twice is reported, not tried a third time
STALE_BEATS = 3
PROGRESS_EVERY = 0.5             # seconds between progress writes (the last message always lands)


class JobLost(RuntimeError):
    """The job was given to another run while this one worked: this run stores nothing."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Run:
    """One attempt at one job: its fenced writes, its heartbeat and its progress."""

    def __init__(self, app: Flask, job: Job):
        self.app, self.job_id, self.attempt = app, job.id, job.attempts
        self.engine = db.engine              # the heartbeat's thread has no app context of its own
        self.stopped = threading.Event()
        self.last_progress = 0.0
        self.beat = threading.Thread(target=self._beat, name=f"fairway-job-{job.id}-heartbeat", daemon=True)

    def fenced(self, **values) -> bool:
        """Update the job if this run still holds it; in a connection of its own (committed at once)."""
        with self.engine.begin() as conn:
            r = conn.execute(update(Job).where(Job.id == self.job_id, Job.status == JobStatus.running.value,
                                               Job.attempts == self.attempt).values(**values))
        return r.rowcount == 1

    def progress(self, message: str) -> None:
        now = time.monotonic()
        if now - self.last_progress < PROGRESS_EVERY and not message.endswith("done"):
            return
        self.last_progress = now
        try:
            self.fenced(progress=message[:500], heartbeat_at=utcnow())
        except Exception:           # progress is a courtesy: never the reason a job fails
            log.warning("job %s: progress not written", self.job_id, exc_info=True)

    def _beat(self) -> None:
        while not self.stopped.wait(self.app.config["FAIRWAY_JOB_HEARTBEAT"]):
            try:
                self.fenced(heartbeat_at=utcnow())
            except Exception:
                log.warning("job %s: heartbeat not written", self.job_id, exc_info=True)

    def finish_in(self, session, status: JobStatus, result: dict, progress: str) -> None:
        """Write the outcome in `session`'s transaction (the caller commits); JobLost if fenced off."""
        r = session.execute(update(Job).where(Job.id == self.job_id, Job.status == JobStatus.running.value,
                                              Job.attempts == self.attempt)
                            .values(status=status.value, result=result, progress=progress[:500],
                                    finished_at=utcnow()))
        if r.rowcount != 1:
            raise JobLost(f"job {self.job_id} was given to another run")


def take(job_id: int) -> Job | None:
    """Mark a queued job running (by this worker); None if it is not queued (done, or taken)."""
    r = db.session.execute(update(Job).where(Job.id == job_id, Job.status == JobStatus.queued.value)
                           .values(status=JobStatus.running.value, attempts=Job.attempts + 1,
                                   started_at=utcnow(), heartbeat_at=utcnow(), worker=worker_name(),
                                   progress="started"))
    db.session.commit()
    return db.session.get(Job, job_id) if r.rowcount == 1 else None


def run_job(app: Flask, job_id: int) -> None:
    """Run a queued job to its outcome (the consumer's task)."""
    from .kinds import KINDS
    with app.app_context():
        job = take(job_id)
        if job is None:
            log.info("job %s is not queued: skipped", job_id)
            return
        run = Run(app, job)
        run.beat.start()
        try:
            from ..catalog_live import serve_live
            serve_live(app)                    # the version live now, as a request would be served
            KINDS[job.kind](job, run)
        except JobLost:
            db.session.rollback()
            log.warning("job %s attempt %s was given to another run: nothing stored", job_id, run.attempt)
        except ProblemsError as err:
            db.session.rollback()
            _end(run, job, JobStatus.refused, {"problems": [p.to_dict() for p in err.problems]},
                 f"refused: {len(err.problems)} problem{'s' if len(err.problems) != 1 else ''}")
        except Exception as exc:
            db.session.rollback()
            log.exception("job %s (%s) failed", job_id, job.kind)
            _end(run, job, JobStatus.failed, {"error": type(exc).__name__},
                 "failed: an error of fairway's own, written to the worker's log")
        finally:
            run.stopped.set()
            run.beat.join()
            db.session.remove()


def _end(run: Run, job: Job, status: JobStatus, result: dict, progress: str) -> None:
    """Write a refusal or a failure. The job's own files are removed once the outcome is written
    (fenced: the job is still this run's) and before it is committed, as a success does: whoever
    sees the outcome finds nothing of the job left (the page polls the row and may see it at once)."""
    try:
        run.finish_in(db.session, status, result, progress)
        cleanup(job)
        db.session.commit()
    except JobLost:
        db.session.rollback()


def cleanup(job: Job) -> None:
    """Remove what the job was given to work on, if it owns it (an unpacked upload)."""
    folder = job.params.get("owned_folder")
    if folder:
        import shutil
        shutil.rmtree(Path(folder), ignore_errors=True)


def sweep(app: Flask) -> list[int]:
    """Jobs whose worker fell silent: back on the queue once, then reported interrupted. Their ids."""
    from .queue import queue
    with app.app_context():
        cutoff = utcnow() - timedelta(seconds=STALE_BEATS * app.config["FAIRWAY_JOB_HEARTBEAT"])
        stale = db.session.execute(db.select(Job).where(Job.status == JobStatus.running.value,
                                                        Job.heartbeat_at < cutoff)).scalars().all()
        moved = []
        for job in stale:
            again = job.attempts < MAX_ATTEMPTS
            values = ({"status": JobStatus.queued.value, "progress": "its worker stopped: waiting to be tried "
                                                                      "again"} if again else
                      {"status": JobStatus.interrupted.value, "finished_at": utcnow(),
                       "progress": "interrupted: its worker stopped twice; nothing was stored",
                       "result": {"interrupted": True}})
            r = db.session.execute(update(Job).where(Job.id == job.id, Job.status == JobStatus.running.value,
                                                     Job.attempts == job.attempts).values(**values))
            db.session.commit()
            if r.rowcount != 1:
                continue                       # it beat, or another janitor took it, meanwhile
            moved.append(job.id)
            if again:
                log.warning("job %s lost its worker (%s): queued again", job.id, job.worker)
                queue(app).put(job.id)
            else:
                log.warning("job %s lost its worker twice: interrupted", job.id)
                cleanup(job)
        db.session.remove()
        return moved

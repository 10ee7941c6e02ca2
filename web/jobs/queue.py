"""The huey queue of an app and its consumers.

The queue carries only job ids: what a job is, how far it got and how it ended live in the
store's `jobs` table (web.models.Job), so that every app server and every worker sees the same.
"""
from __future__ import annotations

import atexit
import logging
import threading

from flask import Flask, current_app
from huey import RedisHuey, SqliteHuey
from huey.consumer import Consumer

from ..extensions import db
from ..models import Job, JobStatus, User, utcnow
from . import runner

log = logging.getLogger("fairway.jobs")
EXTENSION = "fairway.jobs"
TASK = "fairway.run_job"


class Queue:
    """An app's huey instance, with the one task that runs a job by id. The instance (and with
    SQLite its file) is made when a job is first put or consumed, never by building the app: a
    command that builds the app and then refuses its input leaves nothing behind."""

    def __init__(self, app: Flask):
        self.app = app
        self.url = app.config.get("FAIRWAY_REDIS_URL")
        self.where = "Redis" if self.url else app.config["FAIRWAY_JOBS_DB"]
        self._huey = None
        self._task = None
        self._making = threading.Lock()
        self.consumer: RunningConsumer | None = None      # FAIRWAY_JOB_CONSUMER=thread: started on demand

    @property
    def huey(self):
        if self._huey is None:
            with self._making:
                if self._huey is None:
                    if self.url:
                        huey = RedisHuey("fairway", url=self.url, results=False, utc=True)
                    else:
                        huey = SqliteHuey("fairway", filename=self.where, results=False, utc=True, fsync=True)
                    self._task = huey.task(name=TASK)(self._run)
                    self._huey = huey
        return self._huey

    @property
    def task(self):
        return self.huey and self._task

    def _run(self, job_id: int) -> None:
        runner.run_job(self.app, job_id)

    def put(self, job_id: int) -> None:
        self.task(job_id)


def init_app(app: Flask) -> None:
    """Attach the queue; with FAIRWAY_JOB_CONSUMER=thread, run its consumer in this process from its
    first request on (so that commands which build the app without serving it, `db upgrade` among
    them, start none)."""
    q = app.extensions[EXTENSION] = Queue(app)
    if app.config["FAIRWAY_JOB_CONSUMER"] == "thread":
        lock = threading.Lock()

        @app.before_request
        def consume_in_this_process():
            if q.consumer is None:
                with lock:
                    if q.consumer is None:
                        q.consumer = start_consumer(app)
                        atexit.register(q.consumer.stop)


def queue(app: Flask | None = None) -> Queue:
    return (app or current_app).extensions[EXTENSION]


def submit(kind: str, title: str, params: dict, user: User | None) -> Job:
    """Store a queued job and put it on the queue; the caller answers at once."""
    job = Job(kind=kind, title=title[:300], params=params, created_by=user.id if user else None,
              progress="waiting for a worker", result={})
    db.session.add(job)
    db.session.commit()
    try:
        queue().put(job.id)
    except Exception as exc:              # Redis unreachable, the queue's file not writable...
        log.exception("job %s could not be put on the queue (%s)", job.id, queue().where)
        job.status, job.finished_at = JobStatus.failed.value, utcnow()
        job.progress = f"failed: the job queue could not be reached ({type(exc).__name__}); nothing was done"
        job.result = {"error": type(exc).__name__}
        db.session.commit()
        runner.cleanup(job)
    return job


class _QuietConsumer(Consumer):
    """huey's consumer for a thread of a process that owns its signals (the app's, a test's)."""

    def _set_signal_handlers(self):
        pass


class RunningConsumer:
    """A consumer and its janitor (retries or reports jobs whose worker stopped under them)."""

    def __init__(self, app: Flask, consumer: Consumer):
        self.app, self.consumer = app, consumer
        self.stopping = threading.Event()
        self.janitor = threading.Thread(target=self._sweep, name="fairway-jobs-janitor", daemon=True)

    def start(self) -> "RunningConsumer":
        self.consumer.start()
        self.janitor.start()
        return self

    def _sweep(self) -> None:
        beat = self.app.config["FAIRWAY_JOB_HEARTBEAT"]
        while not self.stopping.wait(beat):
            try:
                runner.sweep(self.app)
            except Exception:                  # a database hiccup: the next beat tries again
                log.exception("the job janitor failed; it tries again in %s s", beat)

    def stop(self) -> None:
        """Stop taking jobs; wait for the one running to finish."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        self.consumer.stop(graceful=True)
        self.janitor.join()


def consumer_for(app: Flask, workers: int = 1, quiet: bool = True) -> Consumer:
    cls = _QuietConsumer if quiet else Consumer
    # SIGTERM (a service manager's stop) lets the running job finish; SIGINT stops at once, and the
    # janitor of the next consumer retries what was running
    return cls(queue(app).huey, workers=workers, worker_type="thread", periodic=False,
               initial_delay=0.1, backoff=1.5, max_delay=1.0, check_worker_health=True,
               graceful_signal="TERM")


def start_consumer(app: Flask, workers: int = 1) -> RunningConsumer:
    """A consumer in threads of this process (the development server, tests, small instances)."""
    runner.sweep(app)
    return RunningConsumer(app, consumer_for(app, workers)).start()


def run_worker(app: Flask, workers: int = 1) -> None:
    """`fairway worker`: a consumer owning this process and its signals, until SIGINT or SIGTERM."""
    runner.sweep(app)
    running = RunningConsumer(app, consumer_for(app, workers, quiet=False))
    running.janitor.start()
    try:
        running.consumer.run()           # returns once a signal stopped it (gracefully on SIGINT)
    finally:
        running.stopping.set()
        running.janitor.join()

"""Background jobs: long work (imports; later re-diagnoses and reports) run by a job queue.

The request that asks for the work stores a Job row and puts its id on the queue, then
answers at once; a consumer runs the job, writing its progress and outcome to the row, which
every page and every app server reads. The queue is huey's: an SQLite file in the instance
by default (no server), Redis with FAIRWAY_REDIS_URL. A consumer is `fairway worker` (and
the one `fairway serve` starts beside the app), or a thread in the app's own process
(FAIRWAY_JOB_CONSUMER=thread: the development server, small instances).

- queue.py   the huey queue of an app, and the consumers (a process's main loop, or a thread)
- runner.py  one job from queued to its outcome: state, heartbeat, retry of interrupted jobs
- kinds.py   what each kind of job does (import)
"""
from .queue import init_app, start_consumer, submit

__all__ = ["init_app", "start_consumer", "submit"]

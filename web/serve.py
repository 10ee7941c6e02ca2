"""`fairway serve`: the app under gunicorn, the production WSGI server.

The app is built once in gunicorn's master (so a setting it cannot use is one line before
anything starts, and the catalog is shared by the workers' memory) and its workers fork from
it: each drops the database connections it inherited. With `worker=True` a `fairway worker`
runs beside it for the job queue, started and stopped with the server.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass

from flask import Flask
from gunicorn.app.base import BaseApplication

MAX_DEFAULT_WORKERS = 8


def default_workers() -> int:
    """One process per core and one more (at most MAX_DEFAULT_WORKERS unless asked).

    The pages are CPU-bound (Python rendering stored rows), so a process of one thread per
    request is what serves them best: threads of one process share one interpreter lock,
    and a long page then holds back the short ones behind it. Measured with
    bench/bench_load.py on 2 cores (20 users, no think time): 2 processes of 4 threads,
    p95 262 ms at 198 requests/s; 2 of 1 thread, 148 ms at 195/s; 3 of 1, 146 ms at 208/s;
    5 of 1, 152 ms at 218/s (docs/scale.md)."""
    return min((os.cpu_count() or 1) + 1, MAX_DEFAULT_WORKERS)


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    threads: int = 1              # more where requests wait on a remote database (PostgreSQL)
    timeout: int = 120            # seconds a request may take before its worker is restarted
    access_log: bool = False

    def gunicorn(self) -> dict:
        return {"bind": f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}",
                "workers": self.workers, "threads": self.threads,
                "worker_class": "gthread" if self.threads > 1 else "sync",
                "timeout": self.timeout, "graceful_timeout": 30, "keepalive": 5,
                "preload_app": True, "proc_name": "fairway",
                "accesslog": "-" if self.access_log else None, "errorlog": "-",
                # X-Forwarded-* is werkzeug's ProxyFix's to trust (FAIRWAY_PROXY_COUNT), not gunicorn's
                "forwarded_allow_ips": "", "post_fork": _post_fork}


def _post_fork(server, worker) -> None:
    """A forked worker opens its own database connections, never the master's."""
    from .extensions import db
    with server.app.wsgi().app_context():
        db.engine.dispose(close=False)


class Server(BaseApplication):
    def __init__(self, app: Flask, options: ServeOptions):
        self.flask_app, self.options = app, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.gunicorn().items():
            self.cfg.set(key, value)
        if "control_socket_disable" in self.cfg.settings:   # gunicorn 24+: no socket in the home folder
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Flask:
        return self.flask_app


def serve(app: Flask, options: ServeOptions) -> None:
    """Serve until SIGINT or SIGTERM (gunicorn's graceful stop)."""
    Server(app, options).run()


def start_worker(threads: int = 1) -> subprocess.Popen:
    """`fairway worker` as a child process, with this process's settings."""
    return subprocess.Popen([sys.executable, "-m", "web.cli", "worker", "--threads", str(threads)],
                            env=os.environ.copy())


def stop_worker(proc: subprocess.Popen, wait: float = 60) -> None:
    """SIGTERM: the worker finishes the job it runs (an import retried later if it cannot)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

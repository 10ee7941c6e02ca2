"""`fairway serve`, for real: gunicorn on a free loopback port, with the `fairway worker` it starts
beside it, behind a (pretend) proxy that says the client spoke HTTPS. Signs in, fetches pages
and the API, imports a dataset through the job queue, and stops the lot with SIGTERM."""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from helpers import PASSWORDS, wait_until_serving

AGENT = "fairway-serve-test"
PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


class Client(requests.Session):
    """A browser behind the proxy: the app marks its cookies Secure (HTTPS), the proxy's side is plain."""

    def __init__(self, base: str):
        super().__init__()
        self.base = base
        self.headers.update({"User-Agent": AGENT, **PROXY})

    def go(self, method: str, path: str, **kw) -> requests.Response:
        # over HTTPS a browser says where a form came from, and the CSRF check wants it
        referer = {"Referer": self.base.replace("http://", "https://") + path}
        r = self.request(method, self.base + path, allow_redirects=False, timeout=60, headers=referer, **kw)
        for c in self.cookies:
            c.secure = False             # the hop from the proxy to the app is loopback HTTP
        return r

    def sign_in(self, username: str) -> None:
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', self.go("GET", "/login").text).group(1)
        r = self.go("POST", "/login", data={"csrf_token": token, "username": username,
                                            "password": PASSWORDS[username]})
        assert r.status_code == 302 and "session" in r.headers.get("Set-Cookie", ""), r.text[:500]
        assert "Secure" in r.headers["Set-Cookie"], "production cookies travel over HTTPS only"


@pytest.fixture
def served(seeded_instance, tmp_path):
    instance = tmp_path / "instance"
    shutil.copytree(seeded_instance, instance)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAIRWAY_")}
    env.update({"FAIRWAY_INSTANCE": str(instance), "FAIRWAY_SECRET_KEY": "serve-test-secret",
                "FAIRWAY_IMPORT_ROOT": str(instance / "imports"), "FAIRWAY_PROXY_COUNT": "1",
                "FAIRWAY_JOB_HEARTBEAT": "2"})
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        # the defaults a new user gets: processes of one thread (gunicorn's sync workers), one per core and one more
        proc = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(port), "--access-log"],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    wait_until_serving(base, proc, log)
    yield {"base": base, "proc": proc, "log": log, "instance": instance}
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_fairway_serve_serves_signed_in_pages_and_runs_imports(served, seeded_instance):
    base, proc, log = served["base"], served["proc"], served["log"]
    kids = children(proc.pid)
    from web.serve import default_workers
    assert len(kids) == default_workers() + 1, f"one server process per core and one more, and a worker: {kids}"
    manager = Client(base)
    manager.sign_in("manager")
    for _ in range(6):                       # several requests: several server processes answer, one session
        team = manager.go("GET", "/team/")
        assert team.status_code == 200 and "Your team" in team.text
        assert team.headers["Server"].startswith("gunicorn")
        assert "script-src 'self'" in team.headers["Content-Security-Policy"]
    rep = re.search(r'href="/reps/([^"]+)"', team.text).group(1)
    assert manager.go("GET", f"/reps/{rep}").status_code == 200
    api = manager.go("GET", "/api/v1/reps")
    assert api.status_code == 200 and api.json()["reps"], api.text[:300]
    assert manager.go("GET", "/admin/datasets").status_code == 403

    admin = Client(base)
    admin.sign_in("admin")
    target = served["instance"] / "imports" / "october"
    target.mkdir(parents=True)
    for p in (seeded_instance / "org").glob("*.csv"):
        if p.name != "ground_truth.csv":
            shutil.copy(p, target / p.name)
    page = admin.go("GET", "/admin/datasets/folder").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    started = time.monotonic()
    r = admin.go("POST", "/admin/datasets/folder", data={"csrf_token": token, "folder": "october",
                                                         "name": "Served import", "make_current": "y"})
    assert r.status_code == 302 and "/admin/jobs/" in r.headers["Location"], r.text[:500]
    assert time.monotonic() - started < 10
    job = r.headers["Location"]
    deadline = time.monotonic() + 120
    while not (status := admin.go("GET", job + "/status").json())["finished"]:
        assert time.monotonic() < deadline, f"the import did not end: {status}\n{log.read_text()[-3000:]}"
        time.sleep(0.3)
    assert status["status"] == "succeeded", log.read_text()[-3000:]
    assert "Dataset accepted: 40 reps" in admin.go("GET", job).text

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(90) == 0, log.read_text()[-3000:]
    time.sleep(0.5)
    assert not [k for k in kids if alive(k)], "a server process or the worker outlived fairway serve"
    text = log.read_text()
    assert "Starting gunicorn" in text and "Huey consumer started" in text
    assert "Using worker: sync" in text, "processes of one thread by default"
    assert "203.0.113.7" in text, "the access log shows the client's address the proxy gave"


def test_fairway_serve_says_what_is_missing_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAIRWAY_")}
    env["FAIRWAY_INSTANCE"] = str(tmp_path / "instance")
    r = subprocess.run([sys.executable, "-m", "web.cli", "serve", "--port", str(free_port())], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "SECRET_KEY is not set" in r.stderr and "Traceback" not in r.stderr
    env["FAIRWAY_SECRET_KEY"] = "k"
    r = subprocess.run([sys.executable, "-m", "web.cli", "serve", "--port", str(free_port())], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "run `fairway db upgrade` first" in r.stderr and "Traceback" not in r.stderr


def test_serve_defaults_are_processes_of_one_thread_one_per_core_and_one_more(monkeypatch):
    from web import serve
    for cores, expected in ((1, 2), (2, 3), (4, 5), (32, serve.MAX_DEFAULT_WORKERS)):
        monkeypatch.setattr(serve.os, "cpu_count", lambda cores=cores: cores)
        assert serve.default_workers() == expected
    assert serve.ServeOptions().gunicorn()["worker_class"] == "sync"
    threaded = serve.ServeOptions(threads=4).gunicorn()
    assert threaded["worker_class"] == "gthread" and threaded["threads"] == 4

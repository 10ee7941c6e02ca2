"""Small helpers shared by tests: write a dataset folder from rows; sign in, post forms and uploads."""
from __future__ import annotations

import csv
import io
import re
import signal
from contextlib import contextmanager
from pathlib import Path

HEADERS = {
    "reps": ["rep_id", "name", "role", "team", "division", "manager"],
    "opportunities": ["opportunity_id", "rep_id", "created_date", "status", "stage", "amount",
                      "close_date", "loss_reason", "source_rep_id"],
    "stage_history": ["opportunity_id", "stage", "entered_date"],
    "activities": ["rep_id", "date", "type", "duration_minutes", "opportunity_id"],
    "goals": ["rep_id", "period", "metric", "target"],
}


def write_dataset(folder: Path, **tables: list[dict]) -> Path:
    """Write each table (a list of row dicts) as <name>.csv with the contract's header."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        present = {k for row in rows for k in row}
        header = [h for h in HEADERS.get(name, []) if h in present]
        for row in rows:
            header += [k for k in row if k not in header]
        with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=header)
            w.writeheader()
            for row in rows:
                w.writerow(row)
    return folder


# --------------------------------------------------------------------------- web instances

PASSWORDS = {role: f"{role}-secret-pw" for role in ("manager", "director", "enablement", "ops", "trainer", "admin",
                                                    "rep")}


def web_config(instance: Path) -> dict:
    """The test configuration of an app on the instance folder `instance`."""
    return {"INSTANCE_PATH": str(instance), "FAIRWAY_ENV": "testing", "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'fairway.sqlite'}",
            "FAIRWAY_DATASETS": str(instance / "datasets"), "FAIRWAY_IMPORT_ROOT": str(instance / "imports")}


def seed_web_instance(instance: Path) -> Path:
    """A demo instance: 40 reps, 12 months to 2026-10, one user per role with PASSWORDS."""
    from web import create_app
    from web.demo import init_db, seed_demo
    from web.extensions import db
    app = create_app(web_config(instance))
    init_db(app)
    seed_demo(app, instance / "org", reps=40, months=12, seed=7, end="2026-10", passwords=PASSWORDS)
    fast_passwords(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return instance


def copy_instance(seeded: Path, folder: Path) -> Path:
    """A copy of the session's seeded instance (conftest `seeded_instance`) at folder/instance, with its
    import folder: seeding again costs ten seconds, a copy a few milliseconds."""
    import shutil
    instance = folder / "instance"
    shutil.copytree(seeded, instance)
    (instance / "imports").mkdir(exist_ok=True)
    return instance


def fast_passwords(app) -> None:
    """Cheap hashes of the demo users' PASSWORDS in a test instance: each sign-in checks its password,
    and the default hash (scrypt) costs a quarter of a second of CPU on the test machine. The app's own
    hashing is untouched: a password it sets (the admin's pages, `create-user`) is hashed as in production."""
    from werkzeug.security import generate_password_hash

    from web.extensions import db
    from web.models import User
    with app.app_context():
        for u in db.session.execute(db.select(User)).scalars():
            if u.username in PASSWORDS:
                u.password_hash = generate_password_hash(PASSWORDS[u.username], method="pbkdf2:sha256:1000")
        db.session.commit()


# --------------------------------------------------------------------------- web clients

ROLES = tuple(PASSWORDS)


def csrf_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


class Forms:
    """Post a form the way a browser does: fetch the page, take its CSRF token, submit."""

    def __init__(self, client):
        self.client = client

    def post(self, page: str, data: dict | None = None, action: str | None = None, **kw):
        token = csrf_from(self.client.get(page).get_data(as_text=True))
        return self.client.post(action or page, data={**(data or {}), "csrf_token": token}, **kw)


class AuthActions:
    """Sign in and out as the demo users (flaskr's AuthActions)."""

    def __init__(self, client):
        self.client = client
        self.forms = Forms(client)

    def login(self, username: str = "manager", password: str | None = None):
        return self.forms.post("/login", {"username": username,
                                          "password": password or PASSWORDS.get(username, "")})

    def logout(self):
        token = csrf_from(self.client.get("/catalog/").get_data(as_text=True))
        return self.client.post("/logout", data={"csrf_token": token})


def post_multipart(client, url: str, data: dict):
    """Post multipart form data with the page's CSRF token, encoded in memory (the test client
    would spool large bodies to a temporary file it never closes)."""
    from werkzeug.test import stream_encode_multipart
    token = csrf_from(client.get(url).get_data(as_text=True))
    stream, length, boundary = stream_encode_multipart({**data, "csrf_token": token}, use_tempfile=False)
    return client.post(url, input_stream=stream, content_length=length,
                       content_type=f"multipart/form-data; boundary={boundary}")


def upload_files(client, files: dict[str, bytes], **extra):
    """Post files (name -> bytes) through the admin's upload form."""
    from werkzeug.datastructures import FileStorage
    data = {"files": [FileStorage(io.BytesIO(content), filename=name) for name, content in files.items()], **extra}
    return post_multipart(client, "/admin/datasets/upload", data)


# --------------------------------------------------------------------------- background jobs

def job_outcome(client, response, timeout: float = 90):
    """Follow an answer that queued a job (a redirect to its page) until the job has ended; the
    job's page then. Any other answer is returned as it is (refused before any job was queued)."""
    import time
    location = response.headers.get("Location", "")
    if response.status_code != 302 or "/admin/jobs/" not in location:
        return response
    deadline = time.monotonic() + timeout
    while True:
        status = client.get(location + "/status").get_json()
        if status["finished"]:
            return client.get(location)
        assert time.monotonic() < deadline, f"the job at {location} did not end in {timeout} s: {status}"
        time.sleep(0.1)


def wait_until_serving(base: str, proc, log: Path, timeout: float = 120) -> None:
    """Wait for a server process to answer /healthz; fail with its log if it exits or stays silent."""
    import time

    import requests
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(base + "/healthz", timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}): {log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not answer in {timeout} s: {log.read_text()[-3000:]}")
        time.sleep(0.3)


SMTP_SENDER = "fairway@fairway.example"      # the From of the test SMTP server's app (webapp conftest)


@contextmanager
def time_limit(seconds: float, what: str = "the block"):
    """TimeoutError if the block still runs after `seconds` (a hang, wherever Python gets control
    back); a fuzzer's own deadline only judges the examples that finish."""
    def fire(_signum, _frame):
        raise TimeoutError(f"{what} still running after {seconds}s: a hang")
    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

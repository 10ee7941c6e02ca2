"""Background jobs: an import asked for in a request runs in the job queue (huey), its state,
progress and outcome in the store; a job whose worker stops under it is tried again or
reported, never half-applied. Real consumers throughout: threads of the test's process, a
`fairway worker` process, and a Redis server where one can be started."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from helpers import job_outcome, upload_files, web_config

from web import create_app
from web.config import ConfigError
from web.extensions import db
from web.jobs import start_consumer, submit
from web.jobs.kinds import import_dataset
from web.jobs.runner import JobLost, Run, sweep, take
from web.models import Dataset, Job, User, utcnow


def org_files(seeded_instance: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((seeded_instance / "org").glob("*.csv"))
            if p.name != "ground_truth.csv"}


def counts(app) -> tuple[int, list[tuple]]:
    with app.app_context():
        n = db.session.execute(db.select(db.func.count(Dataset.id))).scalar_one()
        jobs = [(j.id, j.status, j.attempts) for j in db.session.execute(db.select(Job).order_by(Job.id)).scalars()]
        db.session.remove()
    return n, jobs


def job_row(app, job_id: int) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        db.session.remove()
    return job


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"{what}: not within {timeout} s")


def queue_import(app, folder: Path, name: str = "Queued", owned: bool = False) -> int:
    with app.app_context():
        admin = db.session.execute(db.select(User).where(User.username == "admin")).scalar_one()
        params = {"folder": str(folder), "name": name, "source": f"server: {folder.name}", "make_current": True,
                  "period": None, "ignored": []}
        if owned:
            params["owned_folder"] = str(folder)
        job_id = submit("import", f"Import of {name}", params, admin).id
        db.session.remove()
    return job_id


# --------------------------------------------------------------------------- the request returns at once

def test_an_upload_answers_at_once_and_a_consumer_imports_it(app, auth, seeded_instance):
    auth.login("admin")
    before = counts(app)[0]
    started = time.monotonic()
    r = upload_files(auth.client, org_files(seeded_instance), name="Queued upload", make_current="y")
    assert r.status_code == 302 and "/admin/jobs/" in r.headers["Location"]
    assert time.monotonic() - started < 5              # unpacked only: checking and analysing wait for a worker
    page = auth.client.get(r.headers["Location"]).get_data(as_text=True)
    assert "queued" in page and "Waiting for the job queue" in page and "js/jobs.js" in page
    assert counts(app)[0] == before                    # nothing stored while no worker runs
    assert "Imports in progress" in auth.client.get("/admin/datasets").get_data(as_text=True)
    consumer = start_consumer(app)
    try:
        page = job_outcome(auth.client, r).get_data(as_text=True)
    finally:
        consumer.stop()
    assert "Dataset accepted: 40 reps, period 2026-10" in page and "js/jobs.js" not in page
    assert counts(app)[0] == before + 1
    assert list((Path(app.instance_path) / "tmp").iterdir()) == [], "the unpacked upload was left"
    status = auth.client.get(r.headers["Location"] + "/status").get_json()
    assert status["status"] == "succeeded" and status["finished"] and status["attempts"] == 1
    assert "Queued upload" in auth.client.get("/admin/jobs").get_data(as_text=True)


def test_a_job_is_run_once_even_if_queued_twice(app, seeded_instance):
    job_id = queue_import(app, seeded_instance / "org")
    from web.jobs.queue import queue
    queue(app).put(job_id)                             # a duplicate delivery
    consumer = start_consumer(app, workers=2)
    try:
        wait_for(lambda: job_row(app, job_id).status == "succeeded", 90, "the job to succeed")
        # the duplicate's turn: taken off the queue, and its run over once stop() returns (graceful: it
        # waits for the workers' tasks), rather than two seconds' sleep that hoped for both
        wait_for(lambda: queue(app).huey.pending_count() == 0, 30, "the duplicate delivery to be taken")
    finally:
        consumer.stop()
    assert job_row(app, job_id).attempts == 1
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Dataset.id)).where(Dataset.name == "Queued")).scalar_one() == 1


# --------------------------------------------------------------------------- progress

def test_ingest_reports_progress_from_the_engine_to_the_storing(app, seeded_instance):
    from web.store import ingest
    heard: list[str] = []
    with app.app_context():
        ingest(seeded_instance / "org", name="x", source="x", user=None, make_current=False, progress=heard.append)
    assert any("reps" in m for m in heard[:-2]), heard          # the engine's own messages come first
    assert heard[-2].startswith("analysing") and heard[-1] == "storing 40 reps"


def test_progress_and_the_outcome_are_fenced_by_the_attempt(app, seeded_instance):
    """A run whose job was given to another run (the janitor) writes nothing, and stores nothing."""
    job_id = queue_import(app, seeded_instance / "org", name="Fenced")
    before = counts(app)[0]
    with app.app_context():
        job = take(job_id)
        run = Run(app, job)
        run.progress("reading reps done")
        db.session.expire_all()
        assert db.session.get(Job, job_id).progress == "reading reps done"
        db.session.execute(db.update(Job).where(Job.id == job_id).values(status="queued"))   # the janitor
        db.session.commit()
        run.progress("analysing done")
        with pytest.raises(JobLost):
            import_dataset(job, run)
        db.session.rollback()
        db.session.expire_all()
        assert db.session.get(Job, job_id).progress == "reading reps done"
        db.session.remove()
    assert counts(app)[0] == before
    assert not any(p.name.startswith(".import-") for p in Path(app.config["FAIRWAY_DATASETS"]).iterdir())


# --------------------------------------------------------------------------- interrupted jobs

def stale(app, job_id: int, attempts: int) -> None:
    with app.app_context():
        db.session.execute(db.update(Job).where(Job.id == job_id).values(
            status="running", attempts=attempts, heartbeat_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()
        db.session.remove()


def test_a_silent_job_is_queued_again_once_then_reported_interrupted(app, tmp_path, seeded_instance):
    folder = tmp_path / "upload"
    shutil.copytree(seeded_instance / "org", folder)
    job_id = queue_import(app, folder, owned=True)
    stale(app, job_id, attempts=1)
    assert sweep(app) == [job_id]
    assert job_row(app, job_id).status == "queued" and folder.is_dir()
    stale(app, job_id, attempts=2)
    assert sweep(app) == [job_id]
    job = job_row(app, job_id)
    assert job.status == "interrupted" and job.finished_at is not None and "nothing was stored" in job.progress
    assert not folder.exists(), "the interrupted job's upload was left"
    assert sweep(app) == []
    with app.test_client() as client:
        from helpers import AuthActions
        AuthActions(client).login("admin")
        page = client.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
    assert "interrupted twice" in page and "Nothing\n    was stored" in page


def worker_env(instance: Path, heartbeat: int = 1, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAIRWAY_")}
    env.update({"FAIRWAY_INSTANCE": str(instance), "FAIRWAY_SECRET_KEY": "test-secret", "FAIRWAY_ENV": "production",
                "FAIRWAY_DATABASE_URL": f"sqlite:///{instance / 'fairway.sqlite'}",
                "FAIRWAY_JOB_HEARTBEAT": str(heartbeat), **extra})
    return env


def start_worker(instance: Path, log: Path, **extra) -> subprocess.Popen:
    with log.open("a") as out:          # the child keeps its own copy of the file
        return subprocess.Popen([sys.executable, "-m", "web.cli", "worker"], env=worker_env(instance, **extra),
                                stdout=out, stderr=subprocess.STDOUT)


@pytest.mark.slow
def test_a_worker_killed_mid_import_stores_nothing_and_the_next_worker_imports_it(app, tmp_path):
    """`fairway worker` killed (SIGKILL) in the middle of an import: nothing half-stored; the next worker's
    janitor finds the silent job and imports it whole, once."""
    from engine.demo.org import generate_org, write_org
    from web.store import catalog
    with app.app_context():
        org = generate_org(catalog().pipeline, reps=300, months=12, seed=11, end="2026-10")
    write_org(org, tmp_path / "big")
    instance = Path(app.instance_path)
    before = counts(app)[0]
    job_id = queue_import(app, tmp_path / "big", name="Big")
    log = tmp_path / "worker.log"
    first = start_worker(instance, log)
    try:
        wait_for(lambda: job_row(app, job_id).status == "running", 120, "the first worker to take the job")
        time.sleep(1.5)                                  # into the reading and analysing
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    finally:
        if first.poll() is None:
            first.kill()
    assert job_row(app, job_id).status == "running" and counts(app)[0] == before
    second = start_worker(instance, log)
    try:
        wait_for(lambda: job_row(app, job_id).status == "succeeded", 180,
                 f"the second worker to import the job\n{log.read_text()[-3000:]}")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(60)
    job = job_row(app, job_id)
    assert job.attempts == 2 and job.result["reps"] == 300
    assert counts(app)[0] == before + 1
    assert second.returncode == 0, log.read_text()[-3000:]
    assert "queued again" in log.read_text()


# --------------------------------------------------------------------------- Redis

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    server = shutil.which("redis-server")
    if server is None:
        if os.environ.get("FAIRWAY_REQUIRE_REDIS") == "1":
            pytest.fail("FAIRWAY_REQUIRE_REDIS=1 but no redis-server on PATH (apt-get install redis-server)")
        pytest.skip("no redis-server on PATH: the Redis queue is not tested (apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    import redis
    client = redis.Redis(host="127.0.0.1", port=port)
    wait_for(lambda: _pings(client), 20, "redis-server to answer")
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(20)


def _pings(client) -> bool:
    import redis
    try:
        return client.ping()
    except redis.ConnectionError:
        return False


def test_the_queue_on_redis(seeded_instance, tmp_path, redis_url):
    instance = tmp_path / "instance"
    shutil.copytree(seeded_instance, instance)
    (instance / "jobs.sqlite").unlink(missing_ok=True)
    app = create_app({**web_config(instance), "FAIRWAY_REDIS_URL": redis_url})
    assert app.extensions["fairway.jobs"].where == "Redis"
    try:
        job_id = queue_import(app, seeded_instance / "org", name="Through Redis")
        import redis
        assert redis.Redis.from_url(redis_url).keys("*fairway*"), "nothing was put on Redis"
        consumer = start_consumer(app)
        try:
            wait_for(lambda: job_row(app, job_id).status == "succeeded", 90, "the job to succeed through Redis")
        finally:
            consumer.stop()
        assert not (instance / "jobs.sqlite").exists(), "the SQLite queue was used beside Redis"
    finally:
        with app.app_context():
            db.engine.dispose()


# --------------------------------------------------------------------------- settings

@pytest.mark.parametrize("setting,value,says", [
    ("FAIRWAY_JOB_CONSUMER", "process", "FAIRWAY_JOB_CONSUMER='process': expected one of thread, none"),
    ("FAIRWAY_JOB_HEARTBEAT", "0", "FAIRWAY_JOB_HEARTBEAT='0': expected a whole number of at least 1"),
    ("FAIRWAY_PROXY_COUNT", "-1", "FAIRWAY_PROXY_COUNT='-1'"),
    ("FAIRWAY_REDIS_URL", "http://user:secret@cache:6379", "FAIRWAY_REDIS_URL: expected a Redis URL"),
])
def test_job_and_proxy_settings_that_cannot_be_used_are_refused(tmp_path, setting, value, says):
    with pytest.raises(ConfigError) as err:
        create_app({**web_config(tmp_path), setting: value})
    assert says in str(err.value) and "secret" not in str(err.value)


def test_the_development_server_runs_jobs_in_a_thread_and_production_does_not(tmp_path):
    from web.config import defaults, finalise
    dev = {**defaults(str(tmp_path)), "FAIRWAY_ENV": "development"}
    prod = {**defaults(str(tmp_path)), "FAIRWAY_ENV": "production", "SECRET_KEY": "k"}
    finalise(dev)
    finalise(prod)
    assert dev["FAIRWAY_JOB_CONSUMER"] == "thread" and prod["FAIRWAY_JOB_CONSUMER"] == "none"


def test_forwarded_headers_are_trusted_only_behind_the_configured_proxies(tmp_path):
    def seen(count: int) -> dict:
        app = create_app({**web_config(tmp_path / str(count)), "SQLALCHEMY_DATABASE_URI": "sqlite://",
                          "FAIRWAY_PROXY_COUNT": count})
        from flask import request
        app.add_url_rule("/echo", "echo", lambda: {"scheme": request.scheme, "host": request.host,
                                                   "remote": request.remote_addr})
        with app.app_context():
            db.create_all()                     # every request reads which catalog version is live
        headers = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https",
                   "X-Forwarded-Host": "fairway.example.com"}
        answer = app.test_client().get("/echo", headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_json()
        with app.app_context():
            db.engine.dispose()
        return answer
    assert seen(0) == {"scheme": "http", "host": "localhost", "remote": "127.0.0.1"}
    assert seen(1) == {"scheme": "https", "host": "fairway.example.com", "remote": "203.0.113.9"}


def test_a_consumer_thread_starts_with_the_first_request_not_with_the_app(seeded_instance, tmp_path):
    """FAIRWAY_JOB_CONSUMER=thread (the development server): the app's own process runs the jobs once it
    serves, and building the app for a command (`db upgrade` on an empty database) starts nothing."""
    import threading

    def janitors() -> set:
        return {t for t in threading.enumerate() if t.name == "fairway-jobs-janitor"}
    before = janitors()                   # other tests' apps may still run theirs (stopped at exit)
    empty = create_app({**web_config(tmp_path / "empty"), "FAIRWAY_JOB_CONSUMER": "thread"})
    assert empty.extensions["fairway.jobs"].consumer is None and janitors() <= before
    with empty.app_context():
        db.engine.dispose()
    instance = tmp_path / "instance"
    shutil.copytree(seeded_instance, instance)
    app = create_app({**web_config(instance), "FAIRWAY_JOB_CONSUMER": "thread"})
    job_id = queue_import(app, seeded_instance / "org", name="In process")
    try:
        assert app.test_client().get("/healthz").status_code == 200
        wait_for(lambda: job_row(app, job_id).status == "succeeded", 90, "the job to succeed in the app's process")
    finally:
        app.extensions["fairway.jobs"].consumer.stop()
        with app.app_context():
            db.engine.dispose()


def test_a_queue_that_cannot_be_reached_fails_the_job_and_says_so(seeded_instance, tmp_path):
    """Redis down (nothing listens on the port): the import is reported failed at once, its upload removed."""
    instance = tmp_path / "instance"
    shutil.copytree(seeded_instance, instance)
    app = create_app({**web_config(instance), "FAIRWAY_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    folder = tmp_path / "upload"
    shutil.copytree(seeded_instance / "org", folder)
    try:
        job_id = queue_import(app, folder, owned=True)
        job = job_row(app, job_id)
        assert job.status == "failed" and "the job queue could not be reached" in job.progress
        assert not folder.exists()
    finally:
        with app.app_context():
            db.engine.dispose()

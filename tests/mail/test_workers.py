"""Real worker processes on one database: exactly one e-mail each, on time, or a recorded miss.

Each worker is a separate Python process (worker_harness.py) running scheduler.jobs.run_worker
with a driven clock; they send through a real SMTP server in this test process.
"""

from __future__ import annotations

import json
import queue
import shutil
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from mail_fixtures import (
    CHICAGO,
    DST_DAYS,
    PATIENT_WORDS,
    SmtpServer,
    add_plan,
    add_practice,
    local,
)
from sqlalchemy import inspect, select, text

from scheduler import models
from scheduler.db import make_engine, make_session_factory, session_scope
from scheduler.runtime import Runtime

pytestmark = pytest.mark.slow

HARNESS = Path(__file__).with_name("worker_harness.py")
MONDAY = date(2026, 3, 9)
WORKER_TIMEOUT = 90


def write_instance(folder: Path, database_url: str, smtp: SmtpServer) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rounds.toml").write_text(
        f"[database]\nurl = {json.dumps(database_url)}\n\n"
        '[web]\nsecret_key = "worker-test"\n\n'
        f'[mail]\nbackend = "smtp"\nsmtp_host = "{smtp.host}"\nsmtp_port = {smtp.port}\n'
        'smtp_security = "none"\n'
    )
    return folder


def spawn(instance: Path, start: datetime, stop: datetime, go_file: Path | None = None,
          housekeeping_minutes: int = 5) -> subprocess.Popen[str]:
    config = instance / f"worker-{start:%Y%m%d%H%M}-{id(start)}.json"
    config.write_text(json.dumps({"instance": str(instance), "start": start.isoformat(),
                                  "stop": stop.isoformat(),
                                  "go_file": str(go_file) if go_file else None,
                                  "housekeeping_minutes": housekeeping_minutes}))
    return subprocess.Popen([sys.executable, "-W", "error", str(HARNESS), str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).parents[2])


def finish(workers: list[subprocess.Popen[str]]) -> str:
    """Wait for every worker; fail with its output if one did not exit cleanly."""
    logs = []
    for worker in workers:
        try:
            out, err = worker.communicate(timeout=WORKER_TIMEOUT)
        except subprocess.TimeoutExpired:
            worker.kill()
            out, err = worker.communicate()
            pytest.fail(f"worker did not stop in {WORKER_TIMEOUT}s:\n{err[-3000:]}")
        assert worker.returncode == 0, f"worker failed:\n{out}\n{err[-3000:]}"
        logs.append(err)
    text = "\n".join(logs)
    assert "Traceback" not in text, text[-3000:]  # a job that raised is logged, not fatal
    for word in PATIENT_WORDS:
        assert word not in text, f"patient data in the worker log: {word}"
    return text


def outbox_rows(database_url: str) -> list[models.OutboxMessage]:
    engine = make_engine(database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            return list(session.scalars(select(models.OutboxMessage).order_by(
                models.OutboxMessage.day, models.OutboxMessage.therapist_id)))
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------------------------


def test_three_workers_send_exactly_one_email_per_therapist(
        runtime: Runtime, smtp_server: SmtpServer, tmp_path: Path, drop_job_table: None) -> None:
    """Runs on SQLite, then on PostgreSQL (the runtime fixture's two legs)."""
    therapists = 6
    with runtime.session() as session:
        practice = add_practice(session, therapists=therapists, weekdays=(0, 1, 2, 3, 4))
        for therapist_id in practice.therapist_ids:
            add_plan(session, practice, therapist_id, MONDAY)
    instance = write_instance(tmp_path / "instance", runtime.settings.database_url, smtp_server)
    go = tmp_path / "go"
    # All three start together ten seconds before 06:00: the stored cron jobs and the catch-up
    # of each process race for the same rows.
    workers = [spawn(instance, local(MONDAY, 5, 59, 50), local(MONDAY, 6, 10), go)
               for _ in range(3)]
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    go.touch()
    finish(workers)

    received = Counter(message["To"] for message in smtp_server.handler.messages())
    assert received == {f"therapist{n}@example.org": 1 for n in range(1, therapists + 1)}
    rows = outbox_rows(runtime.settings.database_url)
    assert [(r.therapist_id, r.state, r.attempts) for r in rows] == [
        (n, models.OutboxState.SENT, 1) for n in range(1, therapists + 1)]
    assert [r.sent_at for r in rows] == [local(MONDAY, 6)] * therapists  # by the cron jobs


def _sqlite_copy(template: Path, folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, folder / "rounds.sqlite3")
    return f"sqlite:///{folder / 'rounds.sqlite3'}"


def _practice_database(url: str, days: list[date], weekdays: tuple[int, ...]) -> None:
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as session:
        practice = add_practice(session, therapists=2, weekdays=weekdays)
        for day in days:
            for therapist_id in practice.therapist_ids:
                add_plan(session, practice, therapist_id, day)
    engine.dispose()


def test_one_email_a_day_at_six_local_across_the_clock_changes(
        sqlite_template: Path, smtp_server: SmtpServer, tmp_path: Path) -> None:
    """Each DST day is a Sunday. A worker per day runs from 00:31 (before the clocks change at
    02:00) to noon, past the cut-off. Its housekeeping runs every 30 minutes here (a long night
    costs less) at :01 and :31, so never at 06:00: a send at 06:00:00 is the cron job's."""
    runs = []
    for day in DST_DAYS:
        url = _sqlite_copy(sqlite_template, tmp_path / day.isoformat())
        _practice_database(url, [day], weekdays=(6,))
        instance = write_instance(tmp_path / day.isoformat(), url, smtp_server)
        runs.append((day, url, spawn(instance, local(day, 0, 31), local(day, 12, 0),
                                     housekeeping_minutes=30)))
    finish([worker for _, _, worker in runs])

    for day, url, _ in runs:
        rows = outbox_rows(url)
        assert [(r.therapist_id, r.day, r.state, r.attempts) for r in rows] == [
            (t, day, models.OutboxState.SENT, 1) for t in (1, 2)], day
        assert [r.sent_at.astimezone(CHICAGO) for r in rows] == [local(day, 6)] * 2, day
    # 06:00 local is 11:00 UTC on the spring days and 12:00 UTC on the autumn ones
    assert sorted({r.sent_at.astimezone(UTC).hour for _, url, _ in runs
                   for r in outbox_rows(url)}) == [11, 12]
    subjects = Counter((m["To"], m["Subject"]) for m in smtp_server.handler.messages())
    assert len(subjects) == len(DST_DAYS) * 2 and set(subjects.values()) == {1}


def test_a_late_worker_catches_up_once_and_a_too_late_one_records_the_miss(
        sqlite_template: Path, smtp_server: SmtpServer, tmp_path: Path) -> None:
    """A worker ran the evening before (its jobs are stored for 06:00), then was down at 06:00.
    Restarted at 06:20 it sends once; restarted at 11:30, past the cut-off, it records the
    miss and sends nothing."""
    day = DST_DAYS[1]  # a Sunday; the clocks went back that night
    evening = local(day, 0, 0) - timedelta(hours=4)
    folders = {name: tmp_path / name for name in ("late", "too-late")}
    urls = {name: _sqlite_copy(sqlite_template, folder) for name, folder in folders.items()}
    instances = {}
    for name, url in urls.items():
        _practice_database(url, [day], weekdays=(6,))
        instances[name] = write_instance(folders[name], url, smtp_server)
    finish([spawn(instance, evening, evening + timedelta(minutes=10))
            for instance in instances.values()])
    assert _stored_next_runs(urls["late"]) == [local(day, 6)] * 2

    late = spawn(instances["late"], local(day, 6, 20), local(day, 8, 0))
    too_late = spawn(instances["too-late"], local(day, 11, 30), local(day, 13, 0))
    log = finish([late, too_late])

    sent = outbox_rows(urls["late"])
    assert [(r.therapist_id, r.state, r.attempts) for r in sent] == [
        (1, models.OutboxState.SENT, 1), (2, models.OutboxState.SENT, 1)]
    assert {r.sent_at for r in sent} == {local(day, 6, 20)}  # at start, not at the next tick
    assert _stored_next_runs(urls["late"]) == [local(day + timedelta(days=7), 6)] * 2
    missed = outbox_rows(urls["too-late"])
    assert [(r.therapist_id, r.state, r.attempts, r.sent_at) for r in missed] == [
        (1, models.OutboxState.MISSED, 0, None), (2, models.OutboxState.MISSED, 0, None)]
    assert "missed (the worker was not running in time)" in log
    assert len(smtp_server.handler.received) == 2


def _stored_next_runs(url: str) -> list[datetime]:
    """The next run of each stored itinerary job, read from APScheduler's table."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            stamps = connection.execute(text(
                "SELECT next_run_time FROM apscheduler_jobs WHERE id LIKE 'itinerary:%' "
                "ORDER BY id")).scalars().all()
    finally:
        engine.dispose()
    return [datetime.fromtimestamp(stamp, CHICAGO) for stamp in stamps]


def test_the_worker_command_starts_and_stops_cleanly_on_sigterm(
        sqlite_template: Path, tmp_path: Path) -> None:
    """`rounds worker` as the lead registers it, on the real clock: it starts, creates its job
    table, and a SIGTERM stops it with status 0 (after the job running, if any)."""
    url = _sqlite_copy(sqlite_template, tmp_path / "instance")
    (tmp_path / "instance" / "rounds.toml").write_text(
        f"[database]\nurl = {json.dumps(url)}\n\n[web]\nsecret_key = \"x\"\n")
    program = "from scheduler.cli import cli; cli(prog_name='rounds')"
    worker = subprocess.Popen(
        [sys.executable, "-c", program, "--instance", str(tmp_path / "instance"), "worker"],
        stderr=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])
    lines: queue.Queue[str] = queue.Queue()
    assert worker.stderr is not None
    stream = worker.stderr
    reader = threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True)
    reader.start()
    seen = []
    try:
        while not any("Scheduler started" in line for line in seen):
            seen.append(lines.get(timeout=WORKER_TIMEOUT))
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=WORKER_TIMEOUT) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        reader.join(timeout=10)
        stream.close()
    log = "".join(seen) + "".join(lines.queue)
    assert "worker" in log and "stopping" in log and "Traceback" not in log
    engine = make_engine(url)
    try:
        assert "apscheduler_jobs" in inspect(engine).get_table_names()
    finally:
        engine.dispose()

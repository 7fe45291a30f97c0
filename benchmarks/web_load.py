"""How fast the web app answers under load: the day page and the day-plan API.

1. A practice ten times the Kansas City demo (10 copies of its facilities, therapists, clients
   and series, every series running for a year) is loaded into a fresh SQLite database, and
   one Monday is planned and published for every therapist (one problem, as the morning job
   plans a day).
2. The app is served by gunicorn (``web:create_app()``, the production command) on loopback.
3. A load generator in a second process (threads with keep-alive HTTP connections) requests,
   each for ``--duration`` seconds with ``--concurrency`` connections:
   - ``/healthz``: a trivial endpoint of the same app on the same server (the floor);
   - the day page of the therapist with the most stops (signed in);
   - ``GET /api/v1/day-plans?date=...&therapist_id=...`` with an API token.
4. p50 / p95 / p99 latency and requests per second are printed, and written to
   benchmarks/results/web-<database>.json.

SQLite (the embedded default) or, with ``--postgres [URL]``, a fresh PostgreSQL database.

Target (issue 5): day page p95 <= 100 ms. Timings on a shared machine are noisy.

Run:  .venv/bin/python benchmarks/web_load.py [--copies 10] [--duration 10] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import copy
import http.client
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from scheduler import planning

RESULTS = Path(__file__).resolve().parent / "results" / "web-sqlite.json"
PASSWORD = "rounds-demo"


# ---------------------------------------------------------------------------------------------
# The practice


def multiplied_demo(copies: int, days: int) -> dict[str, Any]:
    """The demo file's records ``copies`` times, keys and e-mails made unique, series a year."""
    from scheduler.demo.loader import read_demo_file

    original = read_demo_file()
    data: dict[str, Any] = {"practice": original.get("practice", {}), "facilities": [],
                            "therapists": [], "clients": [], "series": []}
    for n in range(copies):
        def key(value: str | None, n: int = n) -> str | None:
            return f"{n}:{value}" if value else value

        for raw in copy.deepcopy(original["facilities"]):
            raw["key"] = key(raw["key"])
            data["facilities"].append(raw)
        for raw in copy.deepcopy(original["therapists"]):
            raw["key"] = key(raw["key"])
            user, _, domain = raw["email"].partition("@")
            raw["email"] = f"{user}+{n}@{domain}" if n else raw["email"]
            if n:
                raw["role"] = "therapist"
            data["therapists"].append(raw)
        for raw in copy.deepcopy(original["clients"]):
            raw["key"] = key(raw["key"])
            raw["facility"] = key(raw["facility"])
            if raw.get("primary_therapist"):
                raw["primary_therapist"] = key(raw["primary_therapist"])
            for treatment in raw.get("treatments", []):
                treatment["key"] = key(treatment["key"])
                if treatment.get("facility"):
                    treatment["facility"] = key(treatment["facility"])
            data["clients"].append(raw)
        for raw in copy.deepcopy(original["series"]):
            raw["key"] = key(raw.get("key"))
            raw["client"] = key(raw["client"])
            raw["therapist"] = key(raw.get("therapist"))
            raw["during_treatment"] = key(raw.get("during_treatment"))
            raw.setdefault("lasts_days", days)
            data["series"].append(raw)
    return data


def build_instance(instance: Path, copies: int) -> dict[str, Any]:
    """Load the practice, plan a Monday, issue a token; return what the load needs."""
    from sqlalchemy import func, select

    from scheduler import migrate, models
    from scheduler.accounts.tokens import issue_token
    from scheduler.clock import utcnow
    from scheduler.demo.loader import anchor_monday, load_demo
    from scheduler.runtime import open_runtime
    from scheduler.settings import load_settings

    settings = load_settings(environ=dict(os.environ), instance_path=instance)
    runtime = open_runtime(settings)
    migrate.upgrade(runtime.engine)
    today = utcnow().astimezone(settings.zone).date()
    monday = anchor_monday(today)
    started = time.perf_counter()
    with runtime.session() as session:
        summary = load_demo(session, anchor=monday, data=multiplied_demo(copies, 365))
    loaded = time.perf_counter() - started
    day = monday + timedelta(days=7)  # a full week into the series
    with runtime.session() as session:
        started = time.perf_counter()
        plans = planning.plan_days(session, settings, day, publish=True, now=utcnow())
        planned = time.perf_counter() - started
        busiest = max(plans, key=lambda p: len(p.stops))
        therapist = session.get(models.Therapist, busiest.therapist_id)
        admin = session.scalar(select(models.Therapist).where(
            models.Therapist.role == models.Role.ADMIN).limit(1))
        _, token = issue_token(session, admin, "benchmark", utcnow())
        counts = {name: session.scalar(select(func.count()).select_from(model)) for name, model
                  in (("facilities", models.Facility), ("therapists", models.Therapist),
                      ("clients", models.Client), ("series", models.AppointmentSeries))}
        result = {"day": day.isoformat(), "therapist_id": therapist.id,
                  "therapist_email": therapist.email, "stops": len(busiest.stops),
                  "left_out": len(busiest.unplaced or []), "plans": len(plans),
                  "token": token, "counts": counts, "load_seconds": round(loaded, 2),
                  "plan_seconds": round(planned, 2), "series_in_file": summary.series}
    runtime.close()
    return result


@contextmanager
def database(postgres_url: str | None) -> Iterator[str]:
    """The URL to serve from: "" (SQLite in the instance folder) or a fresh PostgreSQL one."""
    if not postgres_url:
        yield ""
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"rounds_bench_{secrets.token_hex(4)}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# ---------------------------------------------------------------------------------------------
# The server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(env: dict[str, str], port: int, workers: int, threads: int) -> Any:
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads",
               str(threads), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
               "web:create_app()"]
    server = subprocess.Popen(command, env=env, cwd=Path(__file__).resolve().parents[1])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


# ---------------------------------------------------------------------------------------------
# The load generator (run in its own process: --generate)


def sign_in(port: int, email: str) -> str:
    """Sign in like a browser; return the session cookie."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/login")
    response = connection.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    body = urlencode({"email": email, "password": PASSWORD, "csrf_token": token})
    connection.request("POST", "/login", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    response = connection.getresponse()
    response.read()
    if response.status != 302:
        raise SystemExit(f"sign-in failed with {response.status}")
    return response.getheader("Set-Cookie", "").split(";")[0]


def hammer(port: int, path: str, headers: dict[str, str], seconds: float,
           concurrency: int) -> dict[str, Any]:
    """Requests from ``concurrency`` keep-alive connections for ``seconds``; latencies in ms."""
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        bad: list[int] = []
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            mine.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                bad.append(response.status)
        with lock:
            latencies.extend(mine)
            failures.extend(bad)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 1)

    return {"path": path, "requests": len(ordered), "errors": len(failures),
            "error_codes": sorted(set(failures)), "req_per_s": round(len(ordered) / elapsed, 1),
            "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99),
            "mean_ms": round(statistics.fmean(ordered), 1)}


def generate(args: argparse.Namespace) -> None:
    setup = json.loads(args.generate)
    port, seconds, concurrency = setup["port"], setup["duration"], setup["concurrency"]
    cookie = sign_in(port, setup["therapist_email"])
    day_path = f"/day/{setup['day']}"
    api_path = f"/api/v1/day-plans?date={setup['day']}&therapist_id={setup['therapist_id']}"
    targets = [
        ("trivial /healthz", "/healthz", {}),
        ("day page", day_path, {"Cookie": cookie}),
        ("day-plan API", api_path, {"Authorization": f"Bearer {setup['token']}"}),
    ]
    results = []
    for name, path, headers in targets:
        hammer(port, path, headers, min(2.0, seconds), concurrency)  # warm-up
        results.append({"name": name, **hammer(port, path, headers, seconds, concurrency)})
    json.dump(results, sys.stdout)


# ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--postgres", metavar="URL", nargs="?",
                        const="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="serve from a fresh PostgreSQL database made on this server "
                             "(default: SQLite in a temporary instance folder)")
    parser.add_argument("--generate", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args)
        return

    with tempfile.TemporaryDirectory(prefix="rounds-bench-") as folder, \
            database(args.postgres) as url:
        instance = Path(folder)
        env = {**os.environ, "ROUNDS_INSTANCE_PATH": str(instance),
               "ROUNDS_WEB_SECRET_KEY": secrets.token_urlsafe(32),
               "ROUNDS_PLANNING_TIME_LIMIT_SECONDS": "2", "ROUNDS_DATABASE_URL": url}
        env.pop("DATABASE_URL", None)
        os.environ.update({k: env[k] for k in ("ROUNDS_INSTANCE_PATH", "ROUNDS_WEB_SECRET_KEY",
                                               "ROUNDS_DATABASE_URL")})
        print(f"Building {args.copies}x the demo practice ...", flush=True)
        setup = build_instance(instance, args.copies)
        print(f"  {setup['counts']} (loaded in {setup['load_seconds']} s); "
              f"{setup['day']} planned for {setup['plans']} therapists in "
              f"{setup['plan_seconds']} s; the busiest day has {setup['stops']} stops and "
              f"{setup['left_out']} visits left out", flush=True)
        port = free_port()
        server = start_server(env, port, args.workers, args.threads)
        try:
            load = {"port": port, "duration": args.duration, "concurrency": args.concurrency,
                    **{k: setup[k] for k in ("day", "therapist_id", "therapist_email",
                                             "token")}}
            print(f"Load: {args.concurrency} connections x {args.duration} s per endpoint, "
                  f"gunicorn {args.workers} workers x {args.threads} threads", flush=True)
            generator = subprocess.run(
                [sys.executable, __file__, "--generate", json.dumps(load)], env=env,
                capture_output=True, text=True, check=True)
            results = json.loads(generator.stdout)
        finally:
            server.terminate()
            server.wait(timeout=30)

    print(f"\n{'endpoint':<18}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
          f"{'requests':>10}{'errors':>8}")
    for row in results:
        print(f"{row['name']:<18}{row['req_per_s']:>8}{row['p50_ms']:>9}{row['p95_ms']:>9}"
              f"{row['p99_ms']:>9}{row['requests']:>10}{row['errors']:>8}")
    day_page = next(r for r in results if r["name"] == "day page")
    verdict = "met" if day_page["p95_ms"] <= 100 else "NOT met"
    print(f"\nTarget day page p95 <= 100 ms: {verdict} ({day_page['p95_ms']} ms).")
    RESULTS.parent.mkdir(exist_ok=True)
    backend = "postgresql" if args.postgres else "sqlite"
    RESULTS.with_name(f"web-{backend}.json").write_text(json.dumps({
        "date": date.today().isoformat(), "copies": args.copies,
        "database": backend,
        "setup": {k: v for k, v in setup.items() if k != "token"},
        "server": {"workers": args.workers, "threads": args.threads},
        "load": {"concurrency": args.concurrency, "duration_s": args.duration},
        "results": results}, indent=2))
    print(f"Written to {RESULTS.parent}")


if __name__ == "__main__":
    main()

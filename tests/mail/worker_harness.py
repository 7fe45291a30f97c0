"""One real Rounds worker process under a driven clock, for test_workers.py.

    python worker_harness.py CONFIG.json

CONFIG holds ``instance`` (a folder with its rounds.toml: database, [mail]), ``start`` and
``stop`` (ISO instants of simulated time), optionally ``go_file`` (the process then prints
"ready" once it is set up and waits for that file, so that several workers start together)
and ``housekeeping_minutes`` (default 5, as in production).

The worker is :func:`scheduler.jobs.run_worker`, as `rounds worker` runs it, with two changes
that only concern time:

- the clock (:class:`mail_fixtures.DrivenClock`) starts at ``start``;
- instead of sleeping until the next job is due, the scheduler moves the clock there
  (a discrete-event simulation), and jobs run in the scheduler's thread (APScheduler's
  DebugExecutor) so the clock never moves under a running job. At ``stop`` the worker exits.

So a simulated night from 00:30 to 06:30 takes well under a second, and a job due at 06:00
runs with the clock at 06:00:00 exactly.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apscheduler.executors.debug import DebugExecutor  # noqa: E402
from apscheduler.schedulers.base import STATE_STOPPED  # noqa: E402
from apscheduler.schedulers.blocking import BlockingScheduler  # noqa: E402
from mail_fixtures import DrivenClock  # noqa: E402

from scheduler.delivery import worker
from scheduler.runtime import open_runtime  # noqa: E402
from scheduler.settings import load_settings  # noqa: E402


def jumping_scheduler(clock: DrivenClock, stop: datetime) -> type[BlockingScheduler]:
    class JumpingScheduler(BlockingScheduler):
        """Jumps the clock to the next due job instead of waiting for it."""

        def _main_loop(self) -> None:
            while self.state != STATE_STOPPED:
                self._event.clear()
                wait = self._process_jobs()  # due jobs have run when this returns
                if self._event.is_set():
                    continue  # a job was added or changed meanwhile (wakeup()): look again
                if wait is None:
                    return
                target = clock.now + timedelta(seconds=max(wait, 1e-6))
                if target > stop:
                    return
                clock.set(target)

    return JumpingScheduler


def main(config_path: str) -> None:
    config = json.loads(Path(config_path).read_text())
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    start, stop = (datetime.fromisoformat(config[k]) for k in ("start", "stop"))
    clock = DrivenClock(start)
    clock.install(setattr)
    runtime = open_runtime(load_settings(environ={}, instance_path=config["instance"]))
    if config.get("go_file"):
        print("ready", flush=True)
        go = Path(config["go_file"])
        while not go.exists():
            time.sleep(0.005)
    every = timedelta(minutes=config.get("housekeeping_minutes", 5))
    worker.run_worker(runtime, scheduler_class=jumping_scheduler(clock, stop),
                    executor=DebugExecutor(), housekeeping_every=every)
    runtime.close()
    print(f"stopped at {clock.now.isoformat()}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])

"""`rounds ARGS` in a process of its own, with the clock stopped at NOW, for test_crashed_sender.py.

    python send_harness.py INSTANCE NOW ARGS...

The clock is :class:`mail_fixtures.DrivenClock`, so the subprocess and the test agree on
"now" to the second; everything else is the command as the lead registers it.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mail_fixtures import DrivenClock  # noqa: E402

from scheduler.cli import cli  # noqa: E402


def main(instance: str, now: str, *args: str) -> None:
    DrivenClock(datetime.fromisoformat(now)).install(setattr)
    cli.main(["--instance", instance, *args], prog_name="rounds")


if __name__ == "__main__":
    main(*sys.argv[1:])

"""The `rounds` command line: one module per command (or group of commands), each importing
only :mod:`.base`; this module puts them on the group. ``web.cli`` adds ``serve`` and is the
entry point.

- :mod:`.database`: ``rounds db upgrade``, ``rounds demo``;
- :mod:`.audit`: ``rounds audit verify`` (the audit trail's hash chain);
- :mod:`.visits`: ``rounds visits`` (the calendar of a day, with its windows and why);
- :mod:`.plan`: ``rounds plan`` (plan, re-plan, print itineraries);
- :mod:`.solve`: ``rounds solve`` (the optimizer on a VROOM-style file);
- :mod:`.mail`: ``rounds worker``, ``rounds send-itineraries``;
- :mod:`.backup`: ``rounds backup``, ``rounds restore``.
"""

from scheduler.cli.audit import audit
from scheduler.cli.backup import backup_command, restore_command
from scheduler.cli.base import cli, runtime_from
from scheduler.cli.database import db, demo
from scheduler.cli.mail import send_itineraries_command, worker_command
from scheduler.cli.plan import plan_command
from scheduler.cli.solve import solve_command
from scheduler.cli.visits import visits

cli.add_command(db, "db")
cli.add_command(demo, "demo")
cli.add_command(audit, "audit")
cli.add_command(visits, "visits")
cli.add_command(plan_command, "plan")
cli.add_command(solve_command, "solve")
cli.add_command(worker_command, "worker")
cli.add_command(send_itineraries_command, "send-itineraries")
cli.add_command(backup_command, "backup")
cli.add_command(restore_command, "restore")

__all__ = ["cli", "runtime_from"]

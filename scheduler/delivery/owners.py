"""Who holds an outbox claim, and whether that process is still there.

A claim names its owner as ``host:pid:token`` (the token tells apart two claims of one
process, and a pid the system reused) and carries a heartbeat the owner refreshes while it
sends. Another process may take the claim over:

- at once, when the owner ran on this host and its pid is gone (``kill -9``, a crash, a
  reboot): nothing else can still be sending for it;
- otherwise once the heartbeat is older than the lease (the owner ran elsewhere, so its pid
  cannot be asked; or the name cannot be read, as with claims made before owners were named).

A live pid on this host is trusted only until its lease runs out too: the pid may have been
reused by an unrelated process.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

HEARTBEAT_LEASE = timedelta(minutes=10)
"""How long a claim counts as held after its owner's last heartbeat. The owner beats when it
claims and again just before SMTP; the SMTP exchange that follows is at most a few of its
30-second timeouts (connect, TLS, login, envelope, data), about 3 minutes at worst. Twice
that and more, so that hosts whose clocks disagree by minutes do not take over from a live
sender (then the message would go twice); a dead sender on this host is not waited for."""


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    token: str

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}:{self.token}"


def this_process(token: str) -> Owner:
    return Owner(socket.gethostname(), os.getpid(), token)


def parse_owner(text: str) -> Owner | None:
    """The owner a ``claimed_by`` names, or None if it names none (an older or foreign label)."""
    host, _, rest = text.partition(":")
    pid_text, _, token = rest.partition(":")
    if not host or not pid_text.isdigit() or not token:
        return None
    return Owner(host, int(pid_text), token)


def pid_running(pid: int) -> bool:
    """True if a process ``pid`` exists on this host and is not a zombie.

    ``os.kill(pid, 0)`` alone answers yes for a zombie (killed, not yet reaped by its parent),
    which is as dead as a sender can be; on Linux its state in /proc says so. Hand-written:
    these few lines do not justify a dependency (psutil).
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (not Linux): trust kill()
    # The state follows the command name, which is in parentheses and may hold spaces.
    state = stat.rpartition(")")[2].split()
    return not state or state[0] not in ("Z", "X")


def owner_gone(claimed_by: str, heartbeat_at: datetime | None, now: datetime, *,
               host: str | None = None) -> bool:
    """May another process take this claim over now? (See the module's docstring.)"""
    if heartbeat_at is None or now >= heartbeat_at + HEARTBEAT_LEASE:
        return True
    owner = parse_owner(claimed_by)
    if owner is None or owner.host != (host or socket.gethostname()):
        return False
    if owner.pid == os.getpid():
        return False  # another thread of this process: it is alive by definition
    return not pid_running(owner.pid)

"""Who holds an outbox claim and whether it is gone: pure rules, real processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from scheduler.delivery.owners import (
    HEARTBEAT_LEASE,
    Owner,
    owner_gone,
    parse_owner,
    pid_running,
    this_process,
)

NOW = datetime(2026, 3, 9, 12, tzinfo=UTC)
HOST = socket.gethostname()


def _exited_child() -> subprocess.Popen[bytes]:
    """A child that has exited and is not reaped yet: a zombie, as a killed sender is until
    its parent waits for it."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # blocks until it exits
    return child


def test_an_owner_reads_back_from_its_name() -> None:
    owner = this_process("a1b2c3")
    assert parse_owner(str(owner)) == Owner(HOST, os.getpid(), "a1b2c3")
    assert parse_owner("cli:12629") is None and parse_owner("worker-3") is None
    assert parse_owner("") is None


def test_a_zombie_or_reaped_pid_is_not_running() -> None:
    child = _exited_child()
    try:
        assert not pid_running(child.pid)
    finally:
        child.wait()
    assert not pid_running(child.pid)
    assert pid_running(os.getpid())


def test_a_dead_local_owner_is_gone_at_once() -> None:
    child = _exited_child()
    child.wait()
    assert owner_gone(f"{HOST}:{child.pid}:abc", NOW, NOW)


def test_a_live_or_remote_owner_holds_until_its_lease_runs_out() -> None:
    alive = str(this_process("t"))
    remote = "elsewhere.example.org:1:t"
    parent = f"{HOST}:{os.getppid()}:t"  # another live process on this host
    just_before = NOW + HEARTBEAT_LEASE - timedelta(seconds=1)
    for owner in (alive, remote, parent, "cli:12629"):
        assert not owner_gone(owner, NOW, just_before), owner
        assert owner_gone(owner, NOW, NOW + HEARTBEAT_LEASE), owner
    assert owner_gone(alive, None, NOW)  # no heartbeat at all: nothing holds it

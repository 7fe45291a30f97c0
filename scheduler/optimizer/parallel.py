"""Several searches side by side, one per core, with an answer that does not depend on how.

A machine with two cores runs two ruin-and-recreate chains (:mod:`.ruin_recreate`) in the time
of one. Each chain is a plain function of its inputs and its own seed; the answer is the best
of the chains' answers on VROOM's objective, the first chain winning ties. So when the chains
stop on their work limits the answer is the same whether they ran in parallel (a forked child
per extra chain) or one after the other (a single core, or a process that must not fork: one
with other threads running, where a fork could copy a lock held by another thread), and
whatever the load.

A forked child gets everything by copy-on-write and sends back only its routes (a pickled
dict of lists) through a pipe. The parent waits for it until the deadline plus
:data:`GRACE` at most, then ends it and goes on without its answer: the call's time limit
holds even if a child is starved of CPU.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import threading
import time
from collections.abc import Callable, Sequence

Task = Callable[[float | None], dict[int, list[int]]]
"""A search: given a deadline (or ``None``), routes (vehicle position -> job positions)."""

GRACE = 0.02
"""Seconds a child may take past the deadline to hand its answer over before it is ended."""


def cores() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether forking is possible and safe here: POSIX, several cores, no other thread."""
    return hasattr(os, "fork") and cores() > 1 and threading.active_count() == 1


def side_by_side(
    tasks: Sequence[Task], deadline: float | None
) -> list[dict[int, list[int]] | None]:
    """Run ``tasks``, in parallel when :func:`can_fork`, else in turn; their answers in order.

    In turn, each task gets an equal share of the time left to ``deadline``. An answer is
    ``None`` for a child that failed or was too late.
    """
    if len(tasks) > 1 and can_fork():
        return _forked(tasks, deadline)
    answers: list[dict[int, list[int]] | None] = []
    for k, task in enumerate(tasks):
        share = None
        if deadline is not None:
            now = time.perf_counter()
            share = now + max(0.0, deadline - now) / (len(tasks) - k)
        answers.append(task(share))
    return answers


def _forked(tasks: Sequence[Task], deadline: float | None) -> list[dict[int, list[int]] | None]:
    children: list[tuple[int, int]] = []
    for task in tasks[1:]:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: run, send, leave without running the parent's clean-ups
            status = 1
            try:
                os.close(read)
                data = pickle.dumps(task(deadline))
                with os.fdopen(write, "wb") as pipe:
                    pipe.write(data)
                status = 0
            finally:
                os._exit(status)
        os.close(write)
        children.append((pid, read))
    answers: list[dict[int, list[int]] | None] = [tasks[0](deadline)]
    for pid, read in children:
        answers.append(_collect(pid, read, deadline))
    return answers


def _collect(pid: int, read: int, deadline: float | None) -> dict[int, list[int]] | None:
    """The child's answer, read until it closes the pipe or the deadline plus GRACE passes."""
    chunks: list[bytes] = []
    complete = False
    try:
        while True:
            wait = None if deadline is None else max(0.0, deadline + GRACE - time.perf_counter())
            ready, _, _ = select.select([read], [], [], wait)
            if not ready:
                break  # too late
            chunk = os.read(read, 1 << 16)
            if not chunk:
                complete = True
                break
            chunks.append(chunk)
    finally:
        os.close(read)
        if not complete:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:  # reaped elsewhere (SIGCHLD ignored): trust the pipe
            status = 0
    if not complete or status != 0:
        return None
    answer: dict[int, list[int]] = pickle.loads(b"".join(chunks))
    return answer

"""Login throttling: a few failed attempts per account and per address, then a pause.

The key for an account is a digest of the e-mail address typed, whether or not such a user
exists, so the answer to a throttled attempt is the same for every address and tells an
attacker nothing. Counts live in this process's memory: behind a server with N worker
processes an attacker gets at most N times the allowance, which still turns a password
guessing run into years.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LoginThrottle:
    per_account: int = 5
    per_address: int = 30
    window_seconds: float = 15 * 60
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def retry_after(self, email: str, address: str) -> int:
        """Seconds until another attempt is allowed for this account or address (0: now)."""
        now = self.clock()
        with self._lock:
            waits = [self._wait(self._account_key(email), self.per_account, now),
                     self._wait(f"ip:{address}", self.per_address, now)]
        return max(waits)

    def failed(self, email: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            for key in (self._account_key(email), f"ip:{address}"):
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, email: str) -> None:
        with self._lock:
            self._failures.pop(self._account_key(email), None)

    def _wait(self, key: str, limit: int, now: float) -> int:
        times = self._failures.get(key)
        if not times:
            return 0
        while times and now - times[0] >= self.window_seconds:
            times.popleft()
        if not times:
            del self._failures[key]
            return 0
        if len(times) < limit:
            return 0
        return int(self.window_seconds - (now - times[0])) + 1

    @staticmethod
    def _account_key(email: str) -> str:
        return "acct:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()

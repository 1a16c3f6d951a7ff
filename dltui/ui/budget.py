"""A bytes-per-second budget for what the UI writes to its terminal (over SSH, the link's).

Pure and clock-injected, so it is tested without a terminal: the app counts every byte its
driver writes (`spend`) and asks for the next frame only while `allows()`; a key press is answered
whatever the budget says. A token bucket: up to `burst` seconds of budget may be spent at once
(a first full paint), then the rate holds on average.
"""

from __future__ import annotations

import time
from collections.abc import Callable

DEFAULT_KBPS = 64
SSH_FPS = 10
"""Frames a second when SSH_CONNECTION is set and no --fps is given."""


class ByteBudget:
    def __init__(
        self,
        bytes_per_s: float,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = float(bytes_per_s)
        self.capacity = self.rate * burst
        self.clock = clock
        self.tokens = self.capacity
        self.last = clock()

    def _fill(self) -> None:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now

    def spend(self, n: int) -> None:
        """`n` bytes went to the terminal (the balance may go below zero: a debt to wait out)."""
        self._fill()
        self.tokens -= n

    def allows(self) -> bool:
        """Whether a frame may be drawn now: the budget is not in debt."""
        if self.rate <= 0:
            return True
        self._fill()
        return self.tokens > 0


def default_fps(env: dict[str, str]) -> float | None:
    """The frame cap when none is given: SSH_FPS over SSH, none (the CPU budget's) locally."""
    return SSH_FPS if env.get("SSH_CONNECTION") else None

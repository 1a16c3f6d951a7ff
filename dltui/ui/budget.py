"""What may go to the terminal: a bytes-per-second budget, and what the terminal has taken.

Both pure and clock-injected, so they are tested without a terminal; `dltui.ui.output` feeds
them what the driver writes and what the terminal answers, and the app asks for the next frame
only while neither holds it back. A key press is answered whatever the budget says, and unless
the terminal is `KEY_WINDOW` bytes behind (then its frame would only queue there).

- `ByteBudget`: a token bucket (over SSH, the link's share): up to `burst` seconds of budget may
  be spent at once (a first full paint), then the rate holds on average.
- `Backlog`: back-pressure from the terminal itself. After each screen update the app asks the
  terminal where its cursor is; a terminal answers only once it has read everything before the
  question, so an answer says that every byte up to it has arrived and been drawn, over
  whatever link lies between. Frames wait while more than `window` bytes are unanswered.
"""

from __future__ import annotations

import time
from collections import deque
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


WINDOW = 8 * 1024
"""Bytes that may be on their way to the terminal before frames wait: over 1 Mbit/s that is
64 ms of queue ahead of a key's answer, and 100 ms of round trip still carries 80 KB/s."""
KEY_WINDOW = 4 * WINDOW
"""...and before even a key's frame waits: a key is answered at once while the terminal is
less than this behind, and then as soon as it has caught up (its frame would only queue)."""
PROBE_TIMEOUT = 10.0
"""Seconds without an answer after which the terminal is taken to have stopped answering. Every
terminal answers the probe (Textual's inline mode relies on it too), so a late answer is a slow
link: 40 KB take 5 s to cross 64 kbit/s, and frames must go on waiting for it."""


class Backlog:
    def __init__(
        self,
        window: int = WINDOW,
        timeout: float = PROBE_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window
        self.timeout = timeout
        self.clock = clock
        self.written = 0
        """Bytes written so far."""
        self.taken = 0
        """Bytes the terminal has answered for: arrived and drawn."""
        self.probes: deque[tuple[int, float]] = deque(maxlen=256)
        """Questions not yet answered: (bytes written before each, when it was asked)."""
        self.answering = False
        """Whether the terminal answers (until it has, the budget alone paces it)."""

    def wrote(self, n: int) -> None:
        self.written += n

    def asked(self) -> None:
        """A question went out after everything written so far."""
        self.probes.append((self.written, self.clock()))

    def answered(self) -> None:
        """The terminal answered the oldest question it had not answered."""
        if self.probes:
            self.taken = self.probes.popleft()[0]
            self.answering = True

    @property
    def in_flight(self) -> int:
        """Bytes written that the terminal has not answered for."""
        return self.written - self.taken

    def holds(self, window: int | None = None) -> bool:
        """Whether frames must wait: the terminal has more than `window` bytes (default: the
        backlog's own) to take. A terminal silent for `timeout` s is no longer waited for,
        until it answers again."""
        limit = self.window if window is None else window
        if not self.answering or not self.probes or self.in_flight <= limit:
            return False
        if self.probes and self.clock() - self.probes[0][1] > self.timeout:
            self.answering = False
            return False
        return True


def default_fps(env: dict[str, str]) -> float | None:
    """The frame cap when none is given: SSH_FPS over SSH, none (the CPU budget's) locally."""
    return SSH_FPS if env.get("SSH_CONNECTION") else None

"""Bounded history of scalar metrics: every step recorded, memory fixed however long the run.

Each metric keeps at most `capacity` points. When full, the older half is halved by merging
neighbouring pairs (mean value, later step), so recent steps stay at full resolution and old
ones thin out geometrically: a run of a million steps holds the same few thousand points.
`truncated(step)` is the history as it stood at an earlier step (time travel).
"""

from __future__ import annotations

import math

import numpy as np


class Series:
    """One metric's (step, value) points with pairwise decimation of the oldest half."""

    def __init__(self, capacity: int):
        self.capacity = capacity - capacity % 4
        self.steps = np.zeros(self.capacity, dtype=np.int64)
        self.values = np.zeros(self.capacity, dtype=np.float64)
        self.n = 0

    def append(self, step: int, value: float) -> None:
        if self.n == self.capacity:
            self._decimate()
        self.steps[self.n] = step
        self.values[self.n] = value
        self.n += 1

    def _decimate(self) -> None:
        half = self.n // 2
        old_steps = self.steps[1:half:2].copy()
        with np.errstate(invalid="ignore"):
            old_values = (
                np.nanmean(np.stack([self.values[0:half:2], self.values[1:half:2]]), axis=0)
                if half
                else self.values[:0]
            )
        k = len(old_steps)
        rest = self.n - half
        self.steps[:k] = old_steps
        self.values[:k] = old_values
        self.steps[k : k + rest] = self.steps[half : self.n]
        self.values[k : k + rest] = self.values[half : self.n]
        self.n = k + rest

    def truncated(self, step: int) -> Series:
        """A copy holding only the points up to `step` (time travel went back there)."""
        out = Series(self.capacity)
        n = int(np.searchsorted(self.steps[: self.n], step, side="right"))
        out.steps[:n], out.values[:n], out.n = self.steps[:n], self.values[:n], n
        return out

    def snapshot(self, max_points: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Read-only copies of the points, thinned to at most `max_points` (keeps the last)."""
        steps, values = self.steps[: self.n], self.values[: self.n]
        if max_points and self.n > max_points:
            idx = np.linspace(0, self.n - 1, max_points).round().astype(np.int64)
            steps, values = steps[idx], values[idx]
        steps, values = steps.copy(), values.copy()
        steps.flags.writeable = values.flags.writeable = False
        return steps, values


class History:
    """All metrics of a run, each a bounded `Series`."""

    def __init__(self, capacity: int = 4096):
        self.capacity = capacity
        self.series: dict[str, Series] = {}

    def record(self, step: int, metrics: dict[str, float]) -> None:
        for key, value in metrics.items():
            series = self.series.get(key)
            if series is None:
                series = self.series[key] = Series(self.capacity)
            series.append(step, value if value is not None else math.nan)

    def snapshot(self, keys=None, max_points: int = 2048) -> dict[str, tuple]:
        keys = self.series.keys() if keys is None else [k for k in keys if k in self.series]
        return {k: self.series[k].snapshot(max_points) for k in keys}

    def truncated(self, step: int) -> History:
        """A copy holding only the points up to `step`."""
        out = History(self.capacity)
        out.series = {k: s.truncated(step) for k, s in self.series.items()}
        return out

    def nbytes(self) -> int:
        return sum(s.steps.nbytes + s.values.nbytes for s in self.series.values())

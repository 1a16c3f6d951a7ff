"""Frame: the immutable snapshot of a run that crosses from the engine to its consumers.

Pure data (numpy arrays, floats, strings): picklable through a pipe, importable without torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, eq=False)  # eq=False: numpy arrays inside don't compare with ==
class Frame:
    step: int
    """Updates done so far (1-based count; 0 before the first step)."""
    limit: int
    """Step at which the run stops (the scenario's natural length or --steps)."""
    status: str
    """"running", "paused", "done" or "diverged"."""
    metrics: dict[str, float]
    """Scalar metrics of the latest step."""
    history: dict[str, tuple[Any, Any]]
    """Metric name -> (steps, values) arrays, bounded: the metrics line panels plot."""
    panels: dict[str, dict[str, Any]]
    """Panel key -> data for that panel kind (see dltui.panels)."""
    view_id: int
    """Counts the scenario's view() calls: frames with the same view_id carry the same panels
    (at max speed pictures refresh less often than frames), so a consumer can skip them."""
    params: dict[str, Any]
    """Current param values."""
    events: tuple[tuple[int, str], ...] = ()
    """(step, label) of live changes, e.g. (120, "lr=0.5")."""
    speed: float | None = None
    """Steps per second cap (None: max)."""
    steps_per_s: float = 0.0
    """Measured training speed."""
    device: str = "cpu"
    diverged_at: int | None = None
    message: str = ""
    """A line for the user: why the run paused, what went wrong."""
    extra: dict[str, Any] = field(default_factory=dict)

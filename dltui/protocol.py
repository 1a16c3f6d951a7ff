"""What crosses the pipe between the engine and the UI, as typed values.

    UI process                                   engine (child process, torch)
    ──────────                                   ─────────────────────────────
    RunSpec ───────── spawns the child with ───► builds a Runner
    Command (Play, Step(n), ScaleParam…) ──────► Controller.handle  (match on the type)
    on_message (match on the type) ◄──────────── Message: Hello(RunInfo), FrameMsg(Frame),
                                                          Error(line), Crash(text)

Every command and message is a frozen dataclass of plain data (numpy arrays, numbers, str, and
the scenario's own `Panel` and `Param` declarations): picklable, and importable without torch,
so the UI process can name them all. `Died` is not sent by anyone: the UI's link to the child
makes it when the child is gone. `Outbox` is how both sides write to the pipe.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dltui.scenario.panels import Panel
from dltui.scenario.params import Param

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

# -- the request ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSpec:
    """What the command line asked to run (the same for the UI, headless and screenshots)."""

    target: str
    sets: tuple[str, ...] = ()
    seed: int | None = None
    device: str = "auto"
    steps: int | None = None
    speed: float | None | str = "default"
    """Steps per second, None for max, "default" for the scenario's own."""
    paused: bool = False
    threads: int | None = None
    """torch's CPU threads (None: torch's default); the same number gives the same numbers."""
    at: tuple[str, ...] = ()
    """Timed actions, `STEP:NAME=VALUE` or `STEP:rewind=K` (--at)."""
    checkpoint_mb: float = 256
    """Time travel's memory budget (--checkpoint-mb; 0 turns it off)."""
    start: int = 0
    """Open at this step (--start): the engine takes the steps before it, and the `--at`
    actions due on the way, before its first frame."""


# -- commands: consumer → engine --------------------------------------------------------------


@dataclass(frozen=True)
class Play:
    """Run at the current speed."""


@dataclass(frozen=True)
class Pause:
    """Stop between steps."""


@dataclass(frozen=True)
class Toggle:
    """Pause if running, run if paused (space)."""


@dataclass(frozen=True)
class Step:
    """Take `n` steps now, then stay paused (n, N)."""

    n: int = 1


@dataclass(frozen=True)
class SetSpeed:
    """Cap the speed at `speed` steps per second; None: as fast as possible."""

    speed: float | None


@dataclass(frozen=True)
class Faster:
    """One rung up the speed ladder (+)."""


@dataclass(frozen=True)
class Slower:
    """One rung down the speed ladder (−)."""


@dataclass(frozen=True)
class Reset:
    """Back to step 0: same seed, current params (r)."""


@dataclass(frozen=True)
class SetParam:
    """Set a live param between steps."""

    name: str
    value: Any


@dataclass(frozen=True)
class ScaleParam:
    """Multiply a live numeric param, clamped to its range ([ and ] scale "lr")."""

    name: str
    factor: float


@dataclass(frozen=True)
class PressKey:
    """One of the scenario's own keys (`Scenario.keys`), by Textual key name."""

    key: str


@dataclass(frozen=True)
class Back:
    """Go back `n` updates (b, B): the state after that step, exactly (time travel)."""

    n: int = 1


@dataclass(frozen=True)
class GoTo:
    """Go to step `step`, back or forward (g, home); forward trains or replays to it."""

    step: int


@dataclass(frozen=True)
class Share:
    """Write the command line that reproduces this screen exactly (S): the next frame
    carries it in `Frame.shared`."""


@dataclass(frozen=True)
class WantFrame:
    """Send the next Frame when it is ready (the UI asks for one at a time)."""


@dataclass(frozen=True)
class Quit:
    """The consumer is going away; the engine returns."""


Command = (
    Play
    | Pause
    | Toggle
    | Step
    | SetSpeed
    | Faster
    | Slower
    | Reset
    | SetParam
    | ScaleParam
    | PressKey
    | Back
    | GoTo
    | Share
    | WantFrame
    | Quit
)

# -- what the engine sends back ---------------------------------------------------------------


@dataclass(frozen=True)
class RunInfo:
    """The run as the engine built it: what the UI lays out before the first frame."""

    name: str
    title: str
    caption: str
    panels: tuple[Panel, ...]
    params: tuple[Param, ...]
    values: dict[str, Any]
    """Current value of every param."""
    keys: dict[str, tuple[str, int, str]]
    """The scenario's own keys: key -> (target, step, help); see `Scenario.keys`."""
    columns: int
    device: str
    limit: int
    speed: float | None
    paused: bool
    seed: int
    start: int = 0
    """The step the run opened at (`RunSpec.start`)."""
    threads: int = 1
    """The CPU threads training keeps busy: torch's on a CPU, 1 when a GPU does the work. The
    UI's CPU budget is tighter when they take every core (`dltui.ui.app`)."""


@dataclass(frozen=True, eq=False)  # eq=False: numpy arrays inside
class Ghost:
    """A run left behind by a branch or a reset, drawn dimmed beside the current one."""

    label: str
    """What the ghost was, e.g. "lr=1" (its value of what changed) or "previous run"."""
    step: int
    """Where the current run parted from it (0 after a reset)."""
    mark: str
    """The label of that branch point on the curves, e.g. "lr=0.5 from step 1200"."""
    series: dict[str, tuple[Any, Any]]
    """Every recorded metric as (steps, values), thinned to a few hundred points."""


@dataclass(frozen=True, eq=False)  # eq=False: numpy arrays inside don't compare with ==
class Frame:
    """An immutable snapshot of a run, captured only when a consumer asks for one."""

    step: int
    """Updates done so far (1-based count; 0 before the first step)."""
    limit: int
    """Step at which the run stops (the scenario's natural length or --steps)."""
    status: str
    """"running", "paused", "done" or "diverged"."""
    metrics: dict[str, float]
    """Scalar metrics of the latest step."""
    panels: dict[str, dict[str, Any]]
    """Panel key -> data for that panel kind (see dltui.scenario.panels); `line` panels get
    the history of their series from the engine, every other kind the scenario's view()."""
    view_id: int
    """Counts the scenario's view() calls: frames with the same view_id carry the same
    pictures (at max speed they refresh less often than frames), so a consumer can skip them."""
    params: dict[str, Any]
    """Current param values."""
    lr: float | None = None
    """The learning rate the scenario's optimizers hold now (None: no optimizer, or several
    holding different ones, when the `lr` param is what there is to show)."""
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
    panel_errors: dict[str, str] = field(default_factory=dict)
    """Panel key -> why its data is wrong (a mistake in the scenario's view()), one line."""
    head: int = 0
    """The furthest step this branch has reached (> step after going back)."""
    branch: int = 0
    """Which branch of the run this is: 0 at first, +1 at each branch or reset."""
    ghosts: tuple[Ghost, ...] | None = None
    """The runs left behind (newest last); None: the same as in the previous frame."""
    shared: tuple[str, ...] | None = None
    """The argv of `dltui run …` that reproduces this frame, in the frame after a Share."""


@dataclass(frozen=True)
class Hello:
    """The first message of a run that started: how to lay out the screen."""

    info: RunInfo


@dataclass(frozen=True)
class FrameMsg:
    """The frame the UI asked for with WantFrame."""

    frame: Frame


@dataclass(frozen=True)
class Error:
    """A mistake in what the user asked for (bad --set, unknown device): one line, exit 2."""

    line: str


@dataclass(frozen=True)
class Crash:
    """The engine failed: the traceback of the scenario's code, short."""

    text: str


@dataclass(frozen=True)
class Died:
    """The child process is gone without a word (killed, out of memory)."""

    exitcode: int | None


Message = Hello | FrameMsg | Error | Crash | Died


# -- the sending end of the pipe --------------------------------------------------------------


class Outbox:
    """One end of the pipe, written by a thread of its own, so the side that sends never waits
    for the other to read: the engine trains on while a large frame crosses, and the UI's
    event loop goes on reading while its commands queue."""

    def __init__(self, conn: Connection, name: str):
        self._queue: queue.SimpleQueue[Command | Message | None] = queue.SimpleQueue()
        self._thread = threading.Thread(
            target=self._send_all, args=(conn,), daemon=True, name=f"dltui-{name}-sender"
        )
        self._thread.start()

    def _send_all(self, conn: Connection) -> None:
        while (message := self._queue.get()) is not None:
            try:
                conn.send(message)
            except OSError:  # the other side is gone; its reader says so
                return

    def put(self, message: Command | Message) -> None:
        self._queue.put(message)

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued (a last Crash, say), then stop."""
        self._queue.put(None)
        self._thread.join(timeout)

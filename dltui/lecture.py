"""Lecture files: a class as a list of scenes, each what one `dltui run` command line holds.

A lecture is a TOML file (the course's ships in `dltui/lectures/`, `dltui lecture course`):

    title = "From the perceptron to CNNs"        # optional

    [[scene]]
    scenario = "xor"                # TARGET: a built-in name or path/to/file.py[:Class]
    set = ["hidden=0"]              # --set KEY=VALUE, each
    seed = 777                      # --seed
    steps = 3000                    # --steps
    start = 1500                    # --start: open at this step (the steps before it taken)
    paused = true                   # --paused
    speed = 200                     # --speed: steps a second, or "max"
    threads = 1                     # --threads
    at = ["2000:lr=4"]              # --at STEP:ACTION, each, in order
    title = "..."                   # replaces the scenario's title
    caption = "..."                 # replaces its caption
    notes = "..."                   # the presenter's (dltui lecture FILE --notes)
    panels = ["Decision boundary (network output)", "loss"]   # only these, by title or key
    zoom = "loss"                   # this panel to the whole screen

`read` reads a file and notes what is wrong that needs no torch to see (the TOML, unknown
keys, each value's type, the scenario names), `load` refuses a file with such mistakes, and
`dltui.engine.lecture.check` builds each scene's run for the rest (params, actions, the start
step, panel names). `Scene.spec()` is the RunSpec a scene runs and
`Scene.command_line()` the `dltui run` line that runs it; `scene_toml` goes the other way, from
a command line's RunSpec to a scene, so a shared screen is a one-scene lecture. A running
lecture writes its scene to a state file (`state_path`) that `--notes` in another terminal
follows.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shlex
import sys
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from dltui.protocol import RunSpec
from dltui.registry import builtins, canonical, check_target, is_path
from dltui.scenario.panels import Panel
from dltui.scenario.params import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

LECTURES = Path(__file__).resolve().parent / "lectures"
"""The lectures that ship with dltui (`dltui lecture course`)."""


class LectureError(UsageError):
    """Mistakes in a lecture file, one line each (`lines`)."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


@dataclass(frozen=True)
class Scene:
    """One scene: a run (the fields of a `dltui run` command line) and how to present it."""

    target: str
    sets: tuple[str, ...] = ()
    seed: int | None = None
    steps: int | None = None
    start: int = 0
    paused: bool = False
    speed: float | None | str = "default"
    threads: int | None = None
    at: tuple[str, ...] = ()
    title: str = ""
    caption: str = ""
    notes: str = ""
    panels: tuple[str, ...] = ()
    zoom: str = ""

    def spec(self, device: str = "auto", paused: bool | None = None) -> RunSpec:
        """The run this scene is (`paused`: open it paused whatever the scene says)."""
        return RunSpec(
            target=self.target,
            sets=self.sets,
            seed=self.seed,
            device=device,
            steps=self.steps,
            speed=self.speed,
            paused=self.paused if paused is None else paused,
            threads=self.threads,
            at=self.at,
            start=self.start,
        )

    def command_line(self) -> str:
        """The `dltui run` command line of this scene's run."""
        words = ["dltui", "run", self.target]
        words += [w for text in self.sets for w in ("--set", text)]
        for flag, value in (
            ("--seed", self.seed),
            ("--steps", self.steps),
            ("--start", self.start or None),
            ("--threads", self.threads),
        ):
            if value is not None:
                words += [flag, str(value)]
        if self.speed != "default":
            words += ["--speed", "max" if self.speed is None else f"{self.speed:g}"]
        if self.paused:
            words.append("--paused")
        words += [w for text in self.at for w in ("--at", text)]
        return shlex.join(words)

    def shown_title(self) -> str:
        """The scene's title, else its scenario's (read without importing it), else the target."""
        if self.title:
            return self.title
        builtin = None if is_path(self.target) else builtins().get(canonical(self.target))
        return builtin.title if builtin is not None else self.target


@dataclass(frozen=True)
class Lecture:
    path: Path
    title: str
    scenes: tuple[Scene, ...]
    mistakes: tuple[tuple[int, str], ...] = ()
    """What reading the file found: (scene number, or 0 for the file; the line)."""

    @property
    def name(self) -> str:
        return self.path.name


# -- reading a file ---------------------------------------------------------------------------


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"must be a string, got {_shown(value)}")
    return value


def _texts(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        raise TypeError(f'must be a list of strings, e.g. ["{value}"]')
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"must be a list of strings, got {_shown(value)}")
    return tuple(value)


def _whole(least: int):
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"must be a whole number, got {_shown(value)}")
        if value < least:
            raise ValueError(f"must be {least} or more, got {value}")
        return value

    return check


def _seed(value: Any) -> int:
    value = _whole(-(2**63))(value)
    if value >= 2**63:
        raise ValueError(f"must fit in 64 bits (±9.2e18), got {value}")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"must be true or false, got {_shown(value)}")
    return value


def _speed(value: Any) -> float | None:
    if value == "max":
        return None
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value <= 0:
        raise ValueError(
            f'must be steps a second (a positive number) or "max", got {_shown(value)}'
        )
    return float(value)


def _shown(value: Any) -> str:
    return json.dumps(value, default=str)[:40]


SCENE_KEYS = {
    "scenario": ("target", _text),
    "set": ("sets", _texts),
    "seed": ("seed", _seed),
    "steps": ("steps", _whole(1)),
    "start": ("start", _whole(0)),
    "paused": ("paused", _flag),
    "speed": ("speed", _speed),
    "threads": ("threads", _whole(1)),
    "at": ("at", _texts),
    "title": ("title", _text),
    "caption": ("caption", _text),
    "notes": ("notes", _text),
    "panels": ("panels", _texts),
    "zoom": ("zoom", _text),
}
"""A scene's keys in the file -> (Scene field, the check that turns the value into it)."""


def resolve(name: str) -> Path:
    """A lecture file by path, or a built-in lecture by name ("course")."""
    path = Path(name)
    if path.is_file():
        return path
    builtin = LECTURES / f"{name.removesuffix('.toml')}.toml"
    if not is_path(name) and builtin.is_file():
        return builtin
    known = ", ".join(sorted(p.stem for p in LECTURES.glob("*.toml")))
    raise UsageError(f"no lecture file {name} (built-in lectures: {known})")


def load(path: Path) -> Lecture:
    """A lecture file, read and checked; LectureError lists every mistake found without
    torch."""
    lecture = read(path)
    if lecture.mistakes:
        raise LectureError([line for _, line in lecture.mistakes])
    return lecture


def read(path: Path) -> Lecture:
    """A lecture file with the mistakes reading it found (UsageError if it is no TOML)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path.name}: not valid TOML: {exc}") from None
    mistakes: list[tuple[int, str]] = []
    for key in data:
        if key not in ("title", "scene"):
            why = f"unknown key {key!r} (a lecture has a title and [[scene]] tables)"
            mistakes.append((0, f"{path.name}: {why}"))
    title = data.get("title", "")
    if not isinstance(title, str):
        mistakes.append((0, f"{path.name}: title must be a string, got {_shown(title)}"))
        title = ""
    tables = data.get("scene", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        mistakes.append((0, f"{path.name}: scenes are [[scene]] tables"))
        tables = []
    elif not tables:
        mistakes.append((0, f"{path.name}: no scenes; add [[scene]] tables, a scenario each"))
    scenes = []
    for number, table in enumerate(tables, 1):
        scene, wrong = _scene(table, path.parent)
        mistakes += [(number, f"{path.name}: scene {number}: {line}") for line in wrong]
        scenes.append(scene)
    return Lecture(path, title, tuple(scenes), tuple(mistakes))


def _scene(table: dict[str, Any], folder: Path) -> tuple[Scene, list[str]]:
    """The scene a [[scene]] table describes, and its mistakes as "key: what is wrong"."""
    values: dict[str, Any] = {}
    wrong = []
    for key, value in table.items():
        if key not in SCENE_KEYS:
            wrong.append(f"unknown key {key!r} (a scene takes {', '.join(SCENE_KEYS)})")
            continue
        name, check = SCENE_KEYS[key]
        try:
            values[name] = check(value)
        except (TypeError, ValueError) as exc:
            wrong.append(f"{key}: {exc}")
    target = values.get("target")
    if target is None:
        if "scenario" not in table:
            wrong.append('scenario: missing (e.g. scenario = "xor")')
        target = "?"
    else:
        if is_path(target) and not Path(target).is_absolute():
            target = values["target"] = str(folder / target)  # beside the lecture file
        try:
            check_target(target)
        except UsageError as exc:
            wrong.append(f"scenario: {exc}")
    return Scene(**{**values, "target": target}), wrong


def scene_toml(spec: RunSpec, title: str = "") -> str:
    """A command line's RunSpec as a [[scene]] table (its device and checkpoint budget are the
    lecture's, not the scene's)."""
    lines = ["[[scene]]", f"scenario = {json.dumps(spec.target)}"]
    if title:
        lines.append(f"title = {json.dumps(title, ensure_ascii=False)}")
    defaults = {f.name: f.default for f in fields(RunSpec)}
    for key, (name, _) in SCENE_KEYS.items():
        if key in ("scenario", "title") or name not in defaults:
            continue  # title, caption, notes, panels, zoom: not the run's
        value = getattr(spec, name)
        if value == defaults[name]:
            continue
        if name == "speed":
            value = "max" if value is None else value
        elif isinstance(value, tuple):
            value = list(value)
        lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


# -- panels -----------------------------------------------------------------------------------


def find_panel(panels: tuple[Panel, ...], name: str) -> Panel | None:
    """The panel a scene names by its key or its title (any case)."""
    for panel in panels:
        if name == panel.key or name.casefold() == panel.title.casefold():
            return panel
    return None


def shown_panels(panels: tuple[Panel, ...], names: tuple[str, ...]) -> tuple[Panel, ...]:
    """The panels a scene shows: those it names, in its order, or all (none named, or none
    of the names found)."""
    chosen = {p.key: p for name in names if (p := find_panel(panels, name)) is not None}
    return tuple(chosen.values()) or panels


def panel_names(panels: tuple[Panel, ...]) -> str:
    return ", ".join(f"{p.title!r} ({p.key})" for p in panels)


# -- where the presenter's notes find the current scene ---------------------------------------


def state_path(lecture: Path) -> Path:
    """The file a running lecture keeps its scene in: one per lecture file, in
    $XDG_RUNTIME_DIR/dltui (this user's, this session's), else a folder of this user's in the
    temp directory."""
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime and Path(runtime).is_dir():
        folder = Path(runtime) / "dltui"
    else:
        user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
        folder = Path(tempfile.gettempdir()) / f"dltui-{user}"
    key = hashlib.sha256(str(lecture.resolve()).encode()).hexdigest()[:16]
    return folder / f"lecture-{lecture.stem}-{key}.json"


def write_state(path: Path, scene: int, count: int) -> None:
    """Say which scene (0-based) is on screen; written whole, so a reader never sees half."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        part = path.with_suffix(f".{os.getpid()}.part")
        part.write_text(json.dumps({"scene": scene, "count": count, "pid": os.getpid()}))
        os.replace(part, path)
    except OSError:
        pass  # the notes cannot follow; the lecture goes on


def read_state(path: Path) -> int | None:
    """The scene (0-based) a running lecture shows, or None when none runs."""
    try:
        state = json.loads(path.read_text())
        scene, pid = state.get("scene"), state.get("pid")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(scene, int) or (isinstance(pid, int) and not _alive(pid)):
        return None  # a lecture that was killed: its file stayed
    return scene


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # alive, another user's (or no signals here)
        return True
    return True


def clear_state(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass

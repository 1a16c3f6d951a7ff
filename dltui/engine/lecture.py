"""A lecture on the engine's side: check every scene by building its run, and run each to its start.

`check` finds what `dltui.lecture.load` cannot see without torch: a bad `set`, a bad `at`
action, a `start` past the run's last step, a panel or zoom that names no panel of the
scenario (its panels can depend on its params). Each is one line naming the scene and the
key; every scene is checked, not only up to the first mistake. `run_headless` takes each
scene to the step it opens at, in this process, and prints one JSON summary a scene: the
record a `dltui run` of the scene's command line shows there.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from typing import IO

from dltui.engine.control import build_controller, build_runner, threads_of
from dltui.engine.runner import resolve_device
from dltui.engine.timetravel import parse_at
from dltui.lecture import Lecture, Scene, find_panel, panel_names, shown_panels
from dltui.registry import load
from dltui.scenario.params import Params, UsageError


def check(lecture: Lecture, device: str = "auto", only: int | None = None) -> list[str]:
    """Every mistake of every scene (or of scene `only`), as "FILE: scene N: key: what is
    wrong", in the file's order: those reading the file found (`lecture.mistakes`), and for
    each scene read without one, those its run shows."""
    resolve_device(device)  # a UsageError for the whole lecture, not one for each scene
    lines = [line for n, line in lecture.mistakes if n == 0]
    for number, scene in _numbered(lecture, only):
        read = [line for n, line in lecture.mistakes if n == number]
        built = [] if read else check_scene(scene, device)
        lines += read + [f"{lecture.name}: scene {number}: {line}" for line in built]
    return lines


def _numbered(lecture: Lecture, only: int | None) -> list[tuple[int, Scene]]:
    """(number, scene) of every scene, 1-based, or of scene `only`."""
    return [(n, s) for n, s in enumerate(lecture.scenes, 1) if only in (None, n)]


def check_scene(scene: Scene, device: str = "auto") -> list[str]:
    """A scene's mistakes as "key: what is wrong" (the scenario's name is checked already)."""
    cls = load(scene.target)
    params = Params(cls.params)
    wrong = []
    for text in scene.sets:
        try:
            params.set_text(text)
        except UsageError as exc:
            wrong.append(f"set: {exc}")
    if wrong:
        return wrong  # the run, its length and its panels depend on the params
    try:
        with threads_of(replace(scene.spec(device), at=())) as spec:
            runner = build_runner(spec)
    except UsageError as exc:  # no such device, the data not on disk
        return [f"scenario: {exc}"]
    good: list[str] = []
    for text in scene.at:  # each action after the good ones: every bad one is named
        try:
            parse_at((*good, text), runner.params, runner.limit)
            good.append(text)
        except UsageError as exc:
            wrong.append(f"at: {text}: {str(exc).removeprefix(f'--at {text}: ')}")
    if scene.start > runner.limit:
        wrong.append(
            f"start: step {scene.start:,} is past the run's last step ({runner.limit:,}); "
            "raise steps or start earlier"
        )
    panels = tuple(runner.scenario.layout())
    for name in scene.panels:
        if find_panel(panels, name) is None:
            wrong.append(f"panels: no panel {name!r}; {cls.name}'s: {panel_names(panels)}")
    shown = shown_panels(panels, scene.panels)
    if scene.zoom and find_panel(shown, scene.zoom) is None:
        wrong.append(f"zoom: no panel {scene.zoom!r} on screen; {panel_names(shown)}")
    return wrong


def run_headless(
    lecture: Lecture, device: str = "auto", only: int | None = None, out: IO[str] | None = None
) -> int:
    """Each scene (or scene `only`) to its start step; one JSON summary a line on `out`: the
    scene's number, scenario and title, then the record at that step."""
    out = out or sys.stdout
    for number, scene in _numbered(lecture, only):
        with threads_of(scene.spec(device)) as spec:
            runner = build_controller(spec).runner
            summary = {
                "scene": number,
                "scenario": runner.cls.name or runner.cls.__name__,
                "title": scene.title or runner.scenario.title or runner.cls.name,
                **runner.record(),
            }
        count = len(lecture.scenes)
        print(f"dltui: scene {number}/{count} at step {runner.step_count}", file=sys.stderr)
        out.write(json.dumps(summary) + "\n")
        out.flush()
    return 0

"""Lecture mode: the file and its checks, the course's lecture headless and in pictures, moving
between scenes and the presentation view (pilot), and the presenter's notes following along."""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import subprocess
import sys
from dataclasses import fields, replace
from pathlib import Path

import pytest
from conftest import make_runner
from textual.widgets import Footer, Markdown

from dltui.cli import build_parser, main, run_spec
from dltui.engine.control import build_controller, run_info
from dltui.lecture import (
    LECTURES,
    Scene,
    load,
    read,
    read_state,
    resolve,
    scene_toml,
    state_path,
    tomllib,
    write_state,
)
from dltui.protocol import RunSpec, Step
from dltui.ui.header import presentation_header
from dltui.ui.lecture_app import LectureApp
from dltui.ui.link import InlineLinks, ProcessLinks
from dltui.ui.notes import NotesApp
from dltui.ui.panel import PanelWidget

SMALL = """
title = "Small"

[[scene]]
scenario = "and"
steps = 20
paused = true
title = "AND in twenty steps"
notes = "Read the **math panel** out."

[[scene]]
scenario = "xor"
set = ["hidden=0"]
steps = 40
start = 30
paused = true
panels = ["loss", "Truth table"]
title = "XOR, one neuron"

[[scene]]
scenario = "gd"
steps = 10
paused = true
zoom = "curve"
"""


@pytest.fixture
def small(tmp_path, monkeypatch) -> Path:
    """A three-scene lecture file; the state file goes under tmp_path."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


async def until(pilot, condition, timeout: float = 60.0) -> None:
    """Let the app run until `condition()` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("timed out")
        await pilot.pause(0.05)
    await pilot.pause()


def header(app) -> str:
    return str(app.query_one("#header").render())


def shown(svg: Path) -> str:
    """The text of an SVG screenshot (Textual writes spaces as &#160;)."""
    return svg.read_text().replace("&#160;", " ")


# -- the file ---------------------------------------------------------------------------------


def test_the_course_lecture_ships_in_the_package_and_has_no_mistakes(capsys):
    assert resolve("course") == LECTURES / "course.toml"
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["dltui"]
    packaged = {p for g in globs for p in LECTURES.parent.glob(g)}
    assert LECTURES / "course.toml" in packaged  # a non-editable install has it too
    assert main(["lecture", "course", "--check", "--device", "cpu"]) == 0
    assert capsys.readouterr().out == "course.toml: 8 scenes, no mistakes found\n"
    lecture = load(resolve("course"))
    assert [s.target for s in lecture.scenes] == [
        *("and", "xor", "xor", "gd", "gd", "optimizers", "vanishing", "mnist")
    ]
    assert lecture.scenes[1].sets == ("hidden=0",)  # XOR failing with one neuron
    assert "dataset=digits" in lecture.scenes[-1].sets  # works offline
    assert all(scene.notes and scene.caption for scene in lecture.scenes)


BAD = """
title = "Bad"
colour = "red"

[[scene]]
scenario = "xr"

[[scene]]
scenario = "xor"
set = ["hiden=3"]

[[scene]]
scenario = "xor"
at = ["100:lr=abc", "200:lr=0.5"]

[[scene]]
scenario = "gd"
start = 500

[[scene]]
scenario = "xor"
panels = ["boundary", "Lost"]

[[scene]]
scenario = "and"
stepz = 10

[[scene]]
scenario = "and"
paused = "yes"

[[scene]]
scenario = "xor"
panels = ["loss"]
zoom = "math"
"""


def test_check_names_each_mistake_once_with_its_scene_and_key(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(BAD)
    assert main(["lecture", str(path), "--check", "--device", "cpu"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    expected = [
        ("bad.toml: unknown key 'colour'", None),
        ("scene 1: scenario: unknown scenario 'xr'", "Did you mean xor"),
        ("scene 2: set: unknown param 'hiden'", "Did you mean 'hidden'"),
        ("scene 3: at: 100:lr=abc:", "not a valid float"),
        ("scene 4: start: step 500 is past the run's last step (100)", None),
        ("scene 5: panels: no panel 'Lost'", "'Loss (BCE)' (loss)"),
        ("scene 6: unknown key 'stepz'", "a scene takes scenario, set"),
        ("scene 7: paused: must be true or false", None),
        ("scene 8: zoom: no panel 'math' on screen", None),
    ]
    assert len(lines) == len(expected), captured.err
    for line, (what, hint) in zip(lines, expected):
        assert line.startswith("dltui: error: bad.toml: ") and what in line, line
        assert hint is None or hint in line, line
    assert captured.out == "" and "Traceback" not in captured.err


def test_a_live_lecture_refuses_a_broken_file_before_any_engine_starts(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('[[scene]]\nscenario = "xr"\n')
    assert main(["lecture", str(path)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("dltui: error: bad.toml: scene 1: scenario: unknown scenario 'xr'.")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["nosuch"], "no lecture file nosuch (built-in lectures: course)"),
        (["course", "--scene", "9"], "--scene 9: course.toml has 8 scenes"),
        (["course", "--check", "--headless"], "not allowed with argument --check"),
        (["course", "--headless", "--device", "cuda:7"], "--device cuda:7"),
        (["course"], "a lecture and its notes need a terminal on stdin and stdout"),
        (["course", "--notes"], "a lecture and its notes need a terminal on stdin and stdout"),
        (["BROKEN", "--check"], "broken.toml: not valid TOML: "),
    ],
)
def test_lecture_mistakes_are_one_line_and_exit_2(tmp_path, capsys, args, error):
    broken = tmp_path / "broken.toml"
    broken.write_text("[[scene]\nscenario = 'xor'\n")
    args = [str(broken) if a == "BROKEN" else a for a in args]
    assert main(["lecture", *args]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and error in err, err
    assert "BROKEN" not in args or "(at line 1, column 8)" in err  # where, as TOML says it


def test_a_scene_is_what_one_dltui_run_command_line_holds(tmp_path):
    """Both ways: a scene's command line parses to the scene's run, and a command line's run
    written as a scene reads back as the same run; no RunSpec field is left out."""
    for scene in load(resolve("course")).scenes:
        args = build_parser().parse_args(shlex.split(scene.command_line())[1:])
        assert run_spec(args) == scene.spec(), scene.command_line()
    line = (
        "run xor --set hidden=3 --set lr=0.5 --seed 7 --steps 900 --start 300 --paused "
        "--speed max --threads 1 --at 400:lr=2 --at 500:rewind=350"
    )
    spec = run_spec(build_parser().parse_args(line.split()))
    path = tmp_path / "shared.toml"
    path.write_text(scene_toml(spec, title="Shared from step 300"))
    lecture = load(path)
    assert lecture.scenes[0].spec() == spec and lecture.scenes[0].title == "Shared from step 300"
    lecture_level = {"device", "checkpoint_mb"}  # the lecture's options, not a scene's
    scene_fields = {f.name for f in fields(Scene)}
    assert {f.name for f in fields(RunSpec)} - lecture_level <= scene_fields


def test_a_path_scenario_is_found_beside_the_lecture_file(tmp_path):
    (tmp_path / "mine.py").write_text("")
    (tmp_path / "l.toml").write_text('[[scene]]\nscenario = "mine.py"\n')
    elsewhere = read(tmp_path / "l.toml")
    assert elsewhere.mistakes == () and elsewhere.scenes[0].target == str(tmp_path / "mine.py")


# -- the course, run headless and in pictures ------------------------------------------------


@pytest.mark.slow
def test_headless_shows_each_scene_at_its_start_as_its_run_does(capsys):
    assert main(["lecture", "course", "--headless", "--device", "cpu"]) == 0
    summaries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    lecture = load(resolve("course"))
    assert [s["scene"] for s in summaries] == list(range(1, 9))
    assert [s["step"] for s in summaries] == [scene.start for scene in lecture.scenes]
    assert summaries[1]["title"] == "2. XOR with one neuron: no line separates it"
    alone = make_runner("xor", "hidden=0", steps=3000, advance=1000).record()
    assert {k: summaries[1][k] for k in alone} == alone  # bit for bit: the lab's numbers
    assert summaries[1]["loss"] == pytest.approx(0.6931, abs=1e-4)  # stuck at ln 2


@pytest.mark.slow
def test_screenshots_save_each_scene_as_it_opens_in_the_presentation_view(tmp_path, capsys):
    folder = tmp_path / "handouts"
    args = ["--screenshot", str(folder), "--present", "--size", "100x30", "--device", "cpu"]
    assert main(["lecture", "course", *args]) == 0
    svgs = sorted(folder.glob("*.svg"))
    assert [p.name for p in svgs] == [
        *("01-and.svg", "02-xor.svg", "03-xor.svg", "04-gd.svg", "05-gd.svg"),
        *("06-optimizers.svg", "07-vanishing.svg", "08-mnist.svg"),
    ]
    assert capsys.readouterr().out.splitlines() == [str(p) for p in svgs]
    for number, (svg, scene) in enumerate(zip(svgs, load(resolve("course")).scenes), 1):
        text = shown(svg)
        assert f" {number}/8 " in text and f"step {scene.start:,}" in text, svg.name
        assert "Pause/Run" not in text and "│ speed" not in text  # no footer, no status
    xor = shown(svgs[1])
    assert "XOR with one neuron" in xor and "Truth table" in xor and "Weights" not in xor
    race = shown(svgs[5])  # zoomed on the landscape
    assert "Landscape: ravine" in race and "Loss per optimizer" not in race


# -- on screen ------------------------------------------------------------------------------


async def test_page_keys_move_between_scenes_each_its_own_run(small):
    lecture = load(small)
    app = LectureApp(lecture, InlineLinks())
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.frame is not None)
        assert header(app).startswith(" 1/3  AND in twenty steps │ step 0/20")
        first = app.link
        await pilot.press("pagedown")
        await until(pilot, lambda: app.frame is not None)
        assert app.info.name == "xor" and app.frame.step == 30  # opened at its start
        assert header(app).startswith(" 2/3  XOR, one neuron │ step 30/40")
        await until(pilot, lambda: first.ctl is None)  # the previous engine is closed
        titles = [str(w.border_title) for w in app.query(PanelWidget)]
        assert titles == ["Loss (BCE)", "Truth table"]  # the scene's panels, in its order
        await pilot.press("full_stop")
        await until(pilot, lambda: app.frame is not None and app.info.name == "gd")
        assert header(app).startswith(" 3/3 ")
        await until(pilot, lambda: app.screen.maximized is not None)
        assert app.screen.maximized.key == "curve"  # the scene's zoom
        await pilot.press("pagedown")  # past the last scene: nothing moves
        await pilot.pause()
        assert app.index == 2 and "the last scene" in str(app.query_one("#message").render())
        await pilot.press("pageup")
        await until(pilot, lambda: app.frame is not None and app.info.name == "xor")
        await pilot.press("comma")
        await until(pilot, lambda: app.frame is not None and app.info.name == "and")
        assert header(app).startswith(" 1/3 ")


async def test_a_scene_that_cannot_start_says_why_and_the_lecture_goes_on(small):
    small.write_text(SMALL.replace('set = ["hidden=0"]', 'set = ["hiden=0"]'))
    app = LectureApp(load(small), InlineLinks())  # only --check builds the runs up front
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.frame is not None)
        await pilot.press("pagedown")
        await until(pilot, lambda: app.failed)
        assert header(app).startswith(" 2/3  XOR, one neuron │ ✖ not started")
        message = str(app.query_one("#message").render())
        assert message.startswith("scene 2: unknown param 'hiden'. Did you mean 'hidden'?")
        await pilot.press("pagedown")
        await until(pilot, lambda: app.frame is not None and app.info.name == "gd")
        assert app.is_running


@pytest.mark.slow
async def test_each_scene_gets_a_child_started_ahead_and_the_last_one_exits(small):
    links = ProcessLinks()
    app = LectureApp(load(small), links, device="cpu")
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.frame is not None and links.spare is not None)
            first, spare = app.link.process, links.spare.process
            await pilot.press("pagedown")
            await until(pilot, lambda: app.frame is not None)
            assert app.info.name == "xor" and app.link.process is spare  # torch imported ahead
            await until(pilot, lambda: not first.is_alive(), timeout=30)
    finally:
        app.link.close()
        links.close()


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
async def test_the_presentation_view_shows_what_the_class_reads(small, size):
    app = LectureApp(load(small), InlineLinks(), present=True)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.frame is not None)
        await pilot.press("n")
        await until(pilot, lambda: app.frame.step == 1)
        assert not app.query_one(Footer).display and not app.query_one("#message").display
        line = header(app)
        assert re.fullmatch(r" 1/3  AND in twenty steps │ step 1 │ lr 1 │ loss 0\.\d+ *", line)
        await pilot.press("p")  # back to the lecturer's view: keys, status, speed
        await pilot.pause()
        assert app.query_one(Footer).display and "⏸ paused" in header(app)


def test_the_presentation_header_cuts_the_scene_title_not_the_numbers():
    ctl = build_controller(RunSpec("xor", device="cpu", paused=True))
    ctl.handle(Step(3))
    title = "2. XOR with one neuron: no line separates it, whatever it tries"
    info = replace(run_info(ctl), title=title)
    line = str(presentation_header(info, ctl.frame(), 80, "2/8"))
    assert line.startswith(" 2/8  2. XOR with one neuron") and "… │ step 3 │ lr 1 │ loss" in line
    assert len(line) <= 80


async def test_the_notes_follow_the_scene_on_the_class_screen(small):
    lecture = load(small)
    state = state_path(lecture.path)
    assert state.is_relative_to(small.parent)  # $XDG_RUNTIME_DIR/dltui/…
    app = LectureApp(lecture, InlineLinks())
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.frame is not None)
        assert read_state(state) == 0
        await pilot.press("pagedown")
        await pilot.pause()
        assert read_state(state) == 1
        await pilot.press("q")
    assert read_state(state) is None  # the lecture ended: the notes wait for the next

    notes = NotesApp(lecture, poll=0.02)

    def scene_line() -> str:
        return str(notes.query_one("#scene").render())

    async with notes.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "waiting for the lecture" in scene_line())
        write_state(state, 1, 3)
        await until(pilot, lambda: scene_line().startswith(" 2/3  XOR, one neuron"))
        assert "Next: 3/3 Gradient descent on cost(W)" in str(notes.query_one("#next").render())
        command = str(notes.query_one("#command").render())
        assert command == "dltui run xor --set hidden=0 --steps 40 --start 30 --paused"
        write_state(state, 0, 3)
        await until(pilot, lambda: scene_line().startswith(" 1/3  AND in twenty steps"))
        assert notes.query_one("#text", Markdown).source == "Read the **math panel** out."


def test_the_state_file_is_one_a_lecture_file_and_gone_with_its_lecture(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    a, b = state_path(tmp_path / "a.toml"), state_path(tmp_path / "b.toml")
    assert a != b and a.parent == tmp_path / "dltui"
    write_state(a, 4, 8)
    assert read_state(a) == 4 and read_state(b) is None
    a.write_text(json.dumps({"scene": 4, "count": 8, "pid": 2**22 + 12345}))  # no such pid
    assert read_state(a) is None  # a lecture that was killed: its notes do not follow a ghost


def test_the_lecture_module_imports_no_torch():
    code = (
        "import sys, dltui.lecture, dltui.ui.lecture_app, dltui.ui.notes\n"
        "from dltui.lecture import load, resolve\nload(resolve('course'))\n"
        "assert 'torch' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr

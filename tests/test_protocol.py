"""The pipe between UI and engine: typed commands and messages, a dead child, a flood of keys."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import typing

import pytest

from dltui import protocol as p
from dltui.engine.control import build_controller
from dltui.ui.app import DltuiApp
from dltui.ui.link import ProcessLink

COMMANDS = typing.get_args(p.Command)


def example(cls: type) -> object:
    """An instance of a command class, with plausible field values."""
    values = {"n": 2, "speed": 50.0, "name": "lr", "value": 0.25, "factor": 2.0, "key": "nokey"}
    values["step"] = 3
    return cls(*(values[f] for f in cls.__match_args__))


@pytest.mark.parametrize("cls", COMMANDS, ids=lambda c: c.__name__)
def test_every_command_pickles_and_the_controller_takes_it(cls):
    command = example(cls)
    assert pickle.loads(pickle.dumps(command)) == command
    ctl = build_controller(p.RunSpec("xor", device="cpu", paused=True))
    if cls not in (p.WantFrame, p.Quit):  # those two are the serve loop's, not the run's
        ctl.handle(command)
        assert "does not take" not in ctl.frame().message


def test_the_ui_follows_the_lr_key_to_the_optimizer_by_types():
    ctl = build_controller(p.RunSpec("xor", device="cpu", paused=True))
    ctl.handle(p.ScaleParam("lr", 0.5))
    frame = ctl.frame()
    assert frame.lr == 0.5 and frame.params["lr"] == 0.5 and frame.message == "lr = 0.5"
    assert ctl.runner.optimizers[0].param_groups[0]["lr"] == 0.5


def test_the_protocol_imports_no_torch():
    code = "import sys, dltui.protocol, dltui.ui.link\nassert 'torch' not in sys.modules\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def recv(link: ProcessLink, kind: type, limit: int = 2000) -> object:
    """The next message of `kind`, polling the pipe (a frame takes a few ms)."""
    import time

    for _ in range(limit):
        message = link.recv()
        if isinstance(message, kind):
            return message
        time.sleep(0.02)
    raise AssertionError(f"no {kind.__name__} from the engine")


def test_a_killed_child_is_reported_once_then_the_link_is_quiet():
    link = ProcessLink(p.RunSpec("xor", device="cpu", paused=True))
    try:
        recv(link, p.Hello)
        os.kill(link.process.pid, signal.SIGKILL)
        died = recv(link, p.Died)
        assert died.exitcode == -signal.SIGKILL
        assert [link.recv() for _ in range(5)] == [None] * 5
        assert link.send(p.Step(1)) is False
        link.restart()  # r: a new child, a new Hello
        recv(link, p.Hello)
    finally:
        link.close()


async def test_after_the_engine_dies_the_ui_says_so_once_and_q_quits():
    link = ProcessLink(p.RunSpec("xor", device="cpu", paused=True))
    app = DltuiApp(link)
    async with app.run_test(size=(100, 30)) as pilot:
        while app.info is None:
            await pilot.pause(0.05)
        os.kill(link.process.pid, signal.SIGKILL)
        while app.info is not None:
            await pilot.pause(0.05)
        app.pump()
        app.pump()  # nothing more to read: no loop, no second message
        assert "The engine stopped (exit code -9)" in str(app.query_one("#message").render())
        await pilot.press("q")
    assert app.return_code == 0


def test_a_flood_of_keys_while_the_race_sends_big_frames_does_not_block():
    link = ProcessLink(p.RunSpec("optimizers", device="cpu", speed=None))
    try:
        recv(link, p.Hello)
        for i in range(20_000):  # the UI side never waits on the pipe
            assert link.send(p.ScaleParam("lr", 2.0 if i % 2 else 0.5))
            if i % 500 == 0:
                link.send(p.WantFrame())
                while link.recv() is not None:
                    pass
        link.send(p.WantFrame())
        frame = recv(link, p.FrameMsg).frame
        assert frame.step > 0
    finally:
        link.close()
    assert link.process is None


def gone(pid: int) -> bool:
    """The process has exited (a zombie nobody reaped counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")
def test_the_engine_dies_with_its_ui_even_mid_run():
    import time

    code = (
        "import time\nfrom dltui.protocol import RunSpec\nfrom dltui.ui.link import ProcessLink\n"
        "link = ProcessLink(RunSpec('xor', device='cpu', speed=None))\n"
        "print(link.process.pid, flush=True)\ntime.sleep(120)\n"
    )
    ui = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    child = int(ui.stdout.readline())
    ui.kill()  # SIGKILL: the UI gets no chance to say goodbye
    ui.wait()
    for _ in range(200):
        if gone(child):
            break
        time.sleep(0.05)
    assert gone(child), "the engine outlived its UI"


def test_threads_reach_torch_in_the_engine():
    import torch

    before = torch.get_num_threads()
    try:
        ctl = build_controller(p.RunSpec("xor", device="cpu", paused=True, threads=1))
        assert torch.get_num_threads() == 1 and ctl.runner.step_count == 0
    finally:
        torch.set_num_threads(before)


def test_small_scenarios_train_on_one_thread_and_the_cnn_on_torchs_default(monkeypatch):
    import torch

    from dltui.engine.control import scenario_threads, threads_of

    assert scenario_threads(p.RunSpec("overfit")).threads == 1
    assert scenario_threads(p.RunSpec("mnist")).threads is None  # torch's own count
    assert scenario_threads(p.RunSpec("overfit", threads=2)).threads == 2  # --threads wins
    before = torch.get_num_threads()
    with threads_of(p.RunSpec("xor")) as spec:
        build_controller(spec)
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before  # a headless run in-process leaves it as it was


def test_the_engine_child_takes_its_scenarios_thread_count():
    import torch

    from dltui.engine.control import start

    before = torch.get_num_threads()
    try:
        _, hello = start(p.RunSpec("vanishing", device="cpu", paused=True), own_process=True)
        assert isinstance(hello, p.Hello) and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)

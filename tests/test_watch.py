"""`dltui watch`: a user's own script, paused, stepped and steered through the optimizer's hooks.

The hooks are tested in this process over a pipe (what the UI would send); the launcher, the
link and the example script in child processes, as `dltui watch` runs them."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import torch
from torch import nn

from dltui import protocol as p
from dltui.engine.watch import Live
from dltui.ui.watch_link import WatchLink

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "dltui" / "examples" / "train_cnn.py"


def until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


@pytest.fixture
def live():
    """A watched tiny MLP with the UI's end of the pipe: (live, ui_conn, step_once)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    ui, script = mp.Pipe()
    x, y = torch.randn(16, 4), torch.randn(16, 1)

    def step_once() -> None:
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        watched.log(loss=loss)

    watched = Live(model, optimizer, connection=script, name="tiny.py")
    yield watched, ui, step_once
    ui.close()
    watched.close()


def in_thread(fn) -> threading.Thread:
    thread = threading.Thread(target=fn, daemon=True)
    thread.start()
    return thread


def test_pause_blocks_the_next_step_and_n_lets_exactly_one_through(live):
    watched, ui, step_once = live
    step_once()
    ui.send(p.Pause())
    assert until(lambda: watched.paused)
    weights = [q.detach().clone() for q in watched.params]
    blocked = in_thread(step_once)
    assert until(lambda: watched.blocked)
    time.sleep(0.3)
    assert blocked.is_alive() and watched.step == 1  # the optimizer's step waits
    assert all(torch.equal(a, b) for a, b in zip(weights, watched.params))
    ui.send(p.Step(1))
    blocked.join(5)
    assert not blocked.is_alive() and watched.step == 2
    second = in_thread(step_once)  # still paused: the one after waits again
    time.sleep(0.3)
    assert second.is_alive() and watched.step == 2
    ui.send(p.Toggle())
    second.join(5)
    assert not second.is_alive() and watched.step == 3


def test_lr_change_reaches_the_optimizer_and_is_marked(live):
    watched, ui, step_once = live
    step_once()
    ui.send(p.Pause())
    assert until(lambda: watched.paused)
    blocked = in_thread(step_once)
    assert until(lambda: watched.blocked)
    ui.send(p.ScaleParam("lr", 2.0))  # applied while the loop waits, before its next step
    assert until(lambda: watched.optimizer.param_groups[0]["lr"] == pytest.approx(0.2))
    assert watched.step == 1
    ui.send(p.Play())
    blocked.join(5)
    assert watched.events == [(1, "lr=0.2")]
    ui.send(p.WantFrame())
    frames = [m for m in _messages(ui) if isinstance(m, p.FrameMsg)]
    assert frames[-1].frame.lr == pytest.approx(0.2)
    assert frames[-1].frame.events == ((1, "lr=0.2"),)


def test_frames_carry_loss_grad_norms_and_update_ratios(live):
    _, ui, step_once = live
    for _ in range(3):
        step_once()
    ui.send(p.WantFrame())
    messages = _messages(ui)
    hellos = [m.info for m in messages if isinstance(m, p.Hello)]
    assert [panel.kind for panel in hellos[-1].panels][:1] == ["line"]
    assert hellos[-1].panels[0].series == ("loss",)  # laid out again once loss was logged
    frame = next(m.frame for m in messages if isinstance(m, p.FrameMsg))
    assert frame.step == 3 and frame.status == "running"
    steps, losses = frame.panels["loss"]["series"]["loss"]
    assert list(steps) == [1, 2, 3] and frame.metrics["loss"] == losses[-1]
    grads = frame.panels["grads"]
    assert grads["labels"] == ["0", "2"] and len(grads["series"][0][1]) == 2
    assert all(v > 0 for v in frame.panels["updates"]["series"][0][1])
    assert frame.panels["acts"]["rows"][0][0] == "1"  # the ReLU, sampled at the first forward


SYNCS = ("item", "tolist", "cpu", "numpy", "__float__", "__int__", "__bool__")


def test_the_hooks_read_nothing_off_the_device(live, monkeypatch):
    """What would be a host sync on CUDA (item, float, cpu…) happens only in the reader
    thread, when a frame is built: never in the training loop's thread."""
    watched, ui, step_once = live
    training = threading.get_ident()
    calls = []
    for name in SYNCS:
        original = getattr(torch.Tensor, name)

        def spy(self, *args, _name=name, _original=original, **kwargs):
            if threading.get_ident() == training:
                calls.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, spy)
    for _ in range(5):
        ui.send(p.WantFrame())  # each step after a request is sampled
        step_once()
        assert any(isinstance(m, p.FrameMsg) for m in _messages(ui))
    monkeypatch.undo()
    assert watched._sample is not None and watched._acts  # sampled, yet:
    assert calls == []


def test_a_failing_sample_never_stops_the_training(live, monkeypatch):
    watched, _, step_once = live

    def broken(tensors):
        raise RuntimeError("no foreach here")

    monkeypatch.setattr(torch, "_foreach_norm", broken)
    step_once()
    step_once()
    assert watched.step == 2 and "per-layer sampling stopped" in watched.message


def test_the_ui_going_away_never_leaves_the_script_paused(live):
    watched, ui, step_once = live
    ui.send(p.Pause())
    assert until(lambda: watched.paused)
    blocked = in_thread(step_once)
    assert until(lambda: watched.blocked)
    ui.close()  # the UI died
    blocked.join(5)
    assert not blocked.is_alive() and watched.step == 1


def _messages(ui, timeout: float = 5.0) -> list:
    out = []
    while ui.poll(timeout):
        out.append(ui.recv())
        if isinstance(out[-1], p.FrameMsg):
            break
        timeout = 1.0
    return out


# -- the script in its own process ------------------------------------------------------------
def _run(*args: str, env: dict | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.slow
def test_example_headless_records_loss_and_per_layer_grad_norms(tmp_path):
    jsonl = tmp_path / "run.jsonl"
    args = ("--headless", "--jsonl", str(jsonl), str(EXAMPLE), "--epochs", "1")
    done = _run("-m", "dltui", "watch", *args)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [r["step"] for r in records] == list(range(1, 16))  # 1500 digits / 100 a batch
    for record in records:
        assert record["loss"] > 0 and record["lr"] == 0.001
        for layer in ("layer1.0", "layer2.0", "fc"):
            assert record[f"grad_norm/{layer}"] > 0
            assert 0 < record[f"update_ratio/{layer}"] < 1
    assert records[0]["act_dead/layer1.1"] is not None  # the first forward pass is sampled
    assert "test_accuracy" in records[-1]
    final = json.loads(done.stdout.splitlines()[-1])
    assert final["step"] == 15 and final["loss"] == records[-1]["loss"]
    plain = _run(str(EXAMPLE), "--epochs", "1")  # the same script, no dltui watch
    assert plain.returncode == 0, plain.stderr
    epoch = [line for line in plain.stdout.splitlines() if line.startswith("[Epoch")]
    assert epoch and epoch == [
        line for line in done.stdout.splitlines() if line.startswith("[Epoch")
    ]


def test_plain_python_is_unaffected(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys
            import torch
            import dltui
            model = torch.nn.Linear(2, 1)
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
            live = dltui.watch(model, opt)
            model(torch.ones(1, 2)).sum().backward()
            opt.step()
            live.log(loss=1.0)
            print(live.active, len(opt._optimizer_step_pre_hooks), "textual" in sys.modules)
            """
        )
    )
    env = {k: "" for k in ("DLTUI_WATCH", "DLTUI_JSONL")}
    done = _run(str(script), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "0", "False"]
    jsonl = tmp_path / "rank1.jsonl"  # torchrun's other ranks: not hooked, nothing written
    done = _run(str(script), env={**env, "DLTUI_JSONL": str(jsonl), "RANK": "1"})
    assert done.stdout.split() == ["False", "0", "False"] and not jsonl.exists()
    done = _run(str(script), env={**env, "DLTUI_JSONL": str(jsonl), "RANK": "0"})
    assert done.stdout.split() == ["True", "1", "False"]
    assert json.loads(jsonl.read_text().splitlines()[-1])["loss"] == 1.0


def _finish(link: WatchLink, timeout: float = 60) -> str:
    out = []
    deadline = time.monotonic() + timeout
    while link.running and time.monotonic() < deadline:
        out.append(link.read_output())
        link.recv()
        time.sleep(0.02)
    out.append(link.read_output())
    return "".join(out)


def test_the_scripts_output_arrives_intact(tmp_path):
    script = tmp_path / "chatty.py"
    script.write_text(
        "import sys\n"
        "for i in range(3000):\n"
        "    print(f'line {i} ünïcode ✓')\n"
        "    if i % 500 == 0:\n"
        "        print(f'err {i}', file=sys.stderr)\n"
        "print('no newline at the end', end='')\n"
    )
    link = WatchLink(str(script), log_path=str(tmp_path / "out.log"))
    text = _finish(link)
    link.close()
    assert link.exitcode() == 0
    lines = text.split("\n")
    assert [x for x in lines if x.startswith("line")] == [
        f"line {i} ünïcode ✓" for i in range(3000)
    ]
    assert lines.index("err 500") == lines.index("line 500 ünïcode ✓") + 1  # in order
    assert lines[-1] == "no newline at the end"
    assert (tmp_path / "out.log").read_text() == text


def test_a_crashing_script_gives_its_traceback_and_exit_code(tmp_path):
    script = tmp_path / "crash.py"
    script.write_text("def train():\n    raise ValueError('boom')\n\ntrain()\n")
    link = WatchLink(str(script), ["--epochs", "3"], log_path=str(tmp_path / "out.log"))
    text = _finish(link)
    link.close()
    assert link.exitcode() == 1
    assert text.startswith("Traceback (most recent call last):")
    assert f'File "{script}", line 4, in <module>' in text and "ValueError: boom" in text
    assert "runpy" not in text and "launcher" not in text


@pytest.mark.slow
def test_pause_and_detach_through_the_link(tmp_path):
    """The whole path: a script under WatchLink pauses, steps once, and when the UI lets go
    (detach) runs to its end."""
    script = tmp_path / "loop.py"
    script.write_text(
        textwrap.dedent(
            """
            import torch, dltui
            model = torch.nn.Linear(2, 1)
            opt = torch.optim.SGD(model.parameters(), lr=0.01)
            live = dltui.watch(model, opt)
            for i in range(300):
                opt.zero_grad()
                loss = model(torch.ones(4, 2)).pow(2).mean()
                loss.backward()
                opt.step()
                live.log(loss=loss)
                __import__("time").sleep(0.01)
            print("done", live.step)
            """
        )
    )
    link = WatchLink(str(script), log_path=str(tmp_path / "out.log"), paused=True)
    messages: list = []

    def frame() -> p.Frame:
        messages.clear()
        link.send(p.WantFrame())
        frames = lambda: [m.frame for m in messages if isinstance(m, p.FrameMsg)]
        assert until(lambda: _collect(link, messages) and frames())
        return frames()[-1]

    assert until(lambda: _collect(link, messages) and isinstance(messages[0], p.Hello), 60)
    assert until(lambda: frame().status == "paused")
    assert frame().step == 0
    link.send(p.Step(1))
    assert until(lambda: frame().step == 1)
    time.sleep(0.3)
    assert frame().step == 1 and frame().status == "paused"
    link.detach()
    text = _finish(link)
    link.close()
    assert link.exitcode() == 0 and "done 300" in text


def _collect(link: WatchLink, into: list) -> bool:
    while (message := link.recv()) is not None:
        into.append(message)
    return bool(into)


async def test_a_script_without_watch_shows_its_output_and_the_hint(tmp_path):
    from textual.widgets import Static

    from dltui.ui.watch_app import OutputLog, WatchApp

    script = tmp_path / "plain.py"
    script.write_text("print('hello from the script')\n")
    link = WatchLink(str(script), log_path=str(tmp_path / "out.log"))
    app = WatchApp(link)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(200):
            await pilot.pause(0.05)
            if app.exitcode is not None:
                break
        await pilot.pause(0.1)
        assert app.exitcode == 0
        assert "hello from the script" in app.query_one(OutputLog).lines
        message = str(app.query_one("#message", Static).render())
        assert "never called dltui.watch()" in message
        assert "finished" in str(app.query_one("#header", Static).render())
    link.close()


@pytest.mark.slow
async def test_the_app_shows_a_watched_script_pauses_steps_and_stops_it(tmp_path):
    from dltui.ui.watch_app import QuitScreen, WatchApp

    script = tmp_path / "loop.py"
    script.write_text(
        textwrap.dedent(
            """
            import time, torch, dltui
            model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
            opt = torch.optim.SGD(model.parameters(), lr=0.01)
            live = dltui.watch(model, opt)
            try:
                for i in range(100000):
                    opt.zero_grad()
                    loss = model(torch.ones(4, 2)).pow(2).mean()
                    loss.backward()
                    opt.step()
                    live.log(loss=loss, acc=i / 100000)
                    time.sleep(0.005)
            finally:
                print("cleanup ran")
            """
        )
    )
    link = WatchLink(str(script), log_path=str(tmp_path / "out.log"))
    app = WatchApp(link)

    async def until_app(condition, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline
            await pilot.pause(0.05)

    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await until_app(lambda: app.frame is not None and "acc" in app.frame.metrics)
            await until_app(lambda: len(app._panels) == 6)  # laid out again for acc
            keys = [panel.key for panel in app._panels]
            assert keys == ["loss", "acc", "grads", "updates", "acts", "run"]
            await pilot.press("space")
            await until_app(lambda: app.frame.status == "paused")
            step = app.frame.step
            await pilot.press("n")
            await until_app(lambda: app.frame.step == step + 1 and app.frame.status == "paused")
            await pilot.press("right_square_bracket")
            await until_app(lambda: app.frame.lr == pytest.approx(0.02))
            await pilot.press("q")
            assert isinstance(app.screen, QuitScreen)
            await pilot.press("s")
            await until_app(lambda: app.exitcode is not None)
        assert app.exitcode == 130  # and run_watch exits with it
        assert "cleanup ran" in (tmp_path / "out.log").read_text()
    finally:
        link.close()  # a failed assertion must not leave the script running


def test_import_dltui_and_the_watch_ui_import_no_torch():
    code = (
        "import sys, dltui, dltui.ui.watch_app\n"
        "assert callable(dltui.watch)\n"
        "print('torch' in sys.modules)\n"
    )
    done = _run("-c", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False"]
    done = _run("-c", "import sys, dltui; print('textual' in sys.modules)")
    assert done.stdout.split() == ["False"]


def test_watch_mistakes_are_one_line(tmp_path, capsys):
    from dltui.cli import main

    assert main(["watch", str(tmp_path / "nosuch.py")]) == 2
    assert main(["watch", "--jsonl", "x.jsonl", str(EXAMPLE)]) == 2
    assert main(["watch", str(EXAMPLE)]) == 2  # pytest's stdin is not a terminal
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        f"dltui: error: no such script: {tmp_path / 'nosuch.py'}",
        "dltui: error: --jsonl needs --headless",
        (
            "dltui: error: the live UI needs a terminal on stdin and stdout; for a run without "
            "one use dltui watch --headless --jsonl FILE SCRIPT"
        ),
    ]

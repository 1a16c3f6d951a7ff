"""Core performance of dltui on the xor scenario, side by side with a bare PyTorch loop.

    python benchmarks/bench_core.py [--repeats 5]

(a) headless steps/s vs the bare lab loop (goal ≥ 0.9×), split into engine and scenario
(b) steps/s at max speed with the live UI drawing vs headless (goal ≥ 0.8×)
(c) launch → first painted frame of `dltui run xor` in a pseudo-terminal (goal ≤ 0.5 s)
(d) space pressed at max speed → last step taken, 90th percentile (goal ≤ 50 ms)
Medians over repeats; the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pty
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import torch

from dltui.engine.runner import Runner
from dltui.protocol import FrameMsg, Hello, Message, Pause, Play, RunSpec, WantFrame
from dltui.registry import load
from dltui.ui.link import ProcessLink

STEPS = 3000
XOR = (0.0, 1.0, 1.0, 0.0)


def bare_lab_loop(
    steps: int,
    targets: tuple[float, ...] = XOR,
    hidden: int = 2,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """The perceptron / backprop lab's loop as students write it; returns steps/s.

    `hidden=2` with the XOR targets is the backprop lab's 2-2-1 MLP (the `xor` scenario);
    `hidden=0` is the single neuron of the AND / OR / NAND labs. `clock`: what times the loop
    (time.process_time for CPU time)."""
    torch.manual_seed(777)
    x = torch.FloatTensor([[0, 0], [0, 1], [1, 0], [1, 1]])
    y = torch.FloatTensor(targets).reshape(4, 1)
    if hidden:
        layers = [torch.nn.Linear(2, hidden), torch.nn.Sigmoid(), torch.nn.Linear(hidden, 1)]
    else:
        layers = [torch.nn.Linear(2, 1)]
    model = torch.nn.Sequential(*layers, torch.nn.Sigmoid())
    criterion = torch.nn.BCELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1)
    start = clock()
    for _ in range(steps):
        optimizer.zero_grad()
        cost = criterion(model(x), y)
        cost.backward()
        optimizer.step()
    return steps / (clock() - start)


def headless(steps: int) -> float:
    runner = Runner(load("xor"), device="cpu", limit=steps)
    start = time.perf_counter()
    runner.step(steps)
    runner.record()
    return steps / (time.perf_counter() - start)


def scenario_only(steps: int) -> float:
    """The scenario's own step() in a plain loop: the lab code plus its per-step accuracy."""
    scenario = Runner(load("xor"), device="cpu", limit=steps).scenario
    start = time.perf_counter()
    for _ in range(steps):
        scenario.step()
    return steps / (time.perf_counter() - start)


async def _ui_rate(seconds: float) -> float:
    from dltui.ui.app import DltuiApp

    link = ProcessLink(RunSpec("xor", device="cpu", speed=None, steps=10**9))
    app = DltuiApp(link)
    async with app.run_test(size=(120, 40)) as pilot:
        while app.frame is None or app.frame.step < 200:
            await pilot.pause(0.02)
        s0, t0 = app.frame.step, time.perf_counter()
        await asyncio.sleep(seconds)
        s1, t1 = app.frame.step, time.perf_counter()
        await pilot.press("q")
    link.close()
    return (s1 - s0) / (t1 - t0)


def ui_rate(seconds: float = 3.0) -> float:
    return asyncio.run(_ui_rate(seconds))


def first_paint() -> float:
    """Seconds from launching `dltui run xor` in a pty to the UI's first painted frame."""
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "paint")
        master, slave = pty.openpty()
        env = {
            **os.environ,
            "DLTUI_TRACE_PAINT": trace,
            "TERM": "xterm-256color",
            "COLUMNS": "120",
            "LINES": "40",
        }
        start = time.time()
        proc = subprocess.Popen(
            [sys.executable, "-m", "dltui", "run", "xor"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            close_fds=True,
            start_new_session=True,
        )
        deadline = time.time() + 20
        while not os.path.exists(trace) and time.time() < deadline:
            try:  # keep the pty drained so the app never blocks writing
                os.set_blocking(master, False)
                os.read(master, 65536)
            except (BlockingIOError, OSError):
                pass
            time.sleep(0.005)
        painted = float("nan")
        if os.path.exists(trace):
            with open(trace) as f:
                painted = float(f.read().split()[0])
        os.killpg(proc.pid, signal.SIGKILL)  # the UI and its engine child: no orphan left
        proc.wait()  # importing torch while the next run is timed
        os.close(master)
        os.close(slave)
    return painted - start


def wait_for(link: ProcessLink, kind: type, timeout: float = 30.0) -> Message:
    """Poll the link (recv() does not block) until a message of this type arrives."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        msg = link.recv()
        if isinstance(msg, kind):
            return msg
        if msg is None:
            time.sleep(0.0002)
    raise TimeoutError(f"no {kind.__name__} from the engine in {timeout:g} s")


def pause_latency(trials: int = 30) -> list[float]:
    """Max-speed run; pause; time until the engine confirms (the last step is before that)."""
    link = ProcessLink(RunSpec("xor", device="cpu", speed=None, steps=10**9, paused=True))
    wait_for(link, Hello)
    latencies = []
    for _ in range(trials):
        link.send(Play())
        time.sleep(0.1)
        start = time.perf_counter()
        link.send(Pause())
        link.send(WantFrame())
        msg = wait_for(link, FrameMsg)
        latencies.append(time.perf_counter() - start)
        assert msg.frame.status == "paused"
    link.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    bare, scen, ours, ui, paint = [], [], [], [], []
    for _ in range(args.repeats):
        bare.append(bare_lab_loop(STEPS))
        scen.append(scenario_only(STEPS))
        ours.append(headless(STEPS))
        ui.append(ui_rate())
        paint.append(first_paint())
    lat = sorted(pause_latency())
    med = statistics.median
    print(
        f"(a) headless {med(ours):,.0f} steps/s vs bare lab loop {med(bare):,.0f} steps/s "
        f"= {med(ours) / med(bare):.2f}x"
    )
    print(
        f"    of which the engine: headless vs the scenario's step() alone "
        f"{med(scen):,.0f} steps/s = {med(ours) / med(scen):.2f}x; the scenario's step vs "
        f"the bare loop = {med(scen) / med(bare):.2f}x (its per-step accuracy)"
    )
    print(
        f"(b) UI at max speed {med(ui):,.0f} steps/s vs headless {med(ours):,.0f} steps/s "
        f"= {med(ui) / med(ours):.2f}x"
    )
    print(
        f"(c) launch to first painted frame: median {med(paint):.3f} s "
        f"(runs: {', '.join(f'{p:.3f}' for p in paint)})"
    )
    p90 = lat[int(0.9 * (len(lat) - 1))]
    print(
        f"(d) pause latency at max speed: median {med(lat) * 1000:.1f} ms, "
        f"p90 {p90 * 1000:.1f} ms, max {lat[-1] * 1000:.1f} ms over {len(lat)} presses"
    )


if __name__ == "__main__":
    main()

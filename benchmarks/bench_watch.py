"""`dltui watch` overhead: the CNN lab as a plain script, watched vs not, and pause latency.

    python benchmarks/bench_watch.py [--repeats 3] [--epochs 10] [--threads 1] [--latency 20]

The script is dltui/examples/train_cnn.py (the lab's CNN, Adam, batches of 100, on the 8×8
digits upsampled to 28×28: 15 batches an epoch), each run a fresh process timed by the
script's own clocks around its training loop ("Learning finished in T s (C s of CPU)"), so
imports and data loading are outside; steps per CPU second (the script's process, its reader
thread included) is the steadier figure on a loaded machine. Side by side, interleaved (A B C, then C B A), medians of `--repeats`:

  plain    `python train_cnn.py`: dltui.watch() finds no UI and hooks nothing
  headless `dltui watch --headless --jsonl F` (DLTUI_JSONL=F, DLTUI_EVERY=1): a record every
           step, so every step is sampled (per-layer norms, update ratios): the worst case
  ui@30Hz  under a WatchLink asking for a frame every 33 ms (the UI's top rate), without the
           drawing (bench_ui_speed measures what drawing costs): what the script pays for
           being watched
  ui@10Hz  the same at 10 frames a second, nearer what the live UI asks on a 2-core machine
           (it keeps its drawing to 10% of the CPU, at least 5 frames a second)

Pause latency: a tiny model slowed to ~25 steps/s under a WatchLink; `--latency` times it is
paused (after a random 0.6–0.9 s of running) and the time from sending Pause to the first
frame that says the loop waits in the optimizer's step is taken; p50 and p90 are printed.
Every process gets `OMP_NUM_THREADS=--threads`. The load average is printed: compare quiet runs.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dltui import protocol as p
from dltui.ui.watch_link import WatchLink

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "dltui" / "examples" / "train_cnn.py"
FINISHED = re.compile(r"Learning finished in ([0-9.]+) s \(([0-9.]+) s of CPU\)")
LOOP = """
import time, torch, dltui
model = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.01)
live = dltui.watch(model, opt)
x = torch.randn(64, 32)
while True:
    opt.zero_grad()
    loss = model(x).pow(2).mean()
    loss.backward()
    opt.step()
    live.log(loss=loss)
    time.sleep(0.04)
"""


def seconds(output: str) -> tuple[float, float]:
    """(wall, CPU) seconds of the script's training loop, as it prints them."""
    match = FINISHED.search(output)
    if match is None:
        raise RuntimeError(f"the script did not finish:\n{output[-2000:]}")
    return float(match.group(1)), float(match.group(2))


def run_plain(epochs: int, env: dict) -> tuple[float, float]:
    cmd = [sys.executable, str(EXAMPLE), "--epochs", str(epochs)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True, cwd=ROOT)
    return seconds(out.stdout)


def run_headless(epochs: int, env: dict) -> tuple[float, float]:
    with tempfile.NamedTemporaryFile(suffix=".jsonl") as jsonl:
        cmd = [sys.executable, "-m", "dltui", "watch", "--headless", "--jsonl", jsonl.name]
        cmd += [str(EXAMPLE), "--epochs", str(epochs)]
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True, cwd=ROOT)
        lines = Path(jsonl.name).read_text().count("\n")
    if lines != 15 * epochs:
        raise RuntimeError(f"expected {15 * epochs} records, got {lines}")
    return seconds(out.stdout)


def run_ui(epochs: int, env: dict, fps: float = 30) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as folder:
        link = WatchLink(
            str(EXAMPLE), ["--epochs", str(epochs)], log_path=f"{folder}/out.log", env=env
        )
        frames = 0
        waiting = False
        while link.running:
            while (message := link.recv()) is not None:
                if isinstance(message, p.FrameMsg):
                    frames += 1
                    waiting = False
            if not waiting and link.send(p.WantFrame()):
                waiting = True
            time.sleep(1 / fps)
        output = Path(f"{folder}/out.log").read_text()
        link.close()
    if frames < 2:
        raise RuntimeError("no frames came")
    return seconds(output)


def pause_latency(times: int, env: dict) -> list[float]:
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "loop.py"
        script.write_text(LOOP)
        link = WatchLink(str(script), log_path=f"{folder}/out.log", env=env)

        def status(timeout: float = 5.0) -> p.Frame:
            link.send(p.WantFrame())
            deadline = time.perf_counter() + timeout
            while time.perf_counter() < deadline:
                message = link.recv()
                if isinstance(message, p.FrameMsg):
                    return message.frame
                if message is None:
                    time.sleep(0.001)
            raise RuntimeError("no frame")

        deadline = time.perf_counter() + 60
        while link.recv() is None and time.perf_counter() < deadline:  # its Hello
            time.sleep(0.01)
        latencies, rates = [], []
        for _ in range(times):
            link.send(p.Play())
            time.sleep(random.uniform(0.6, 0.9))  # the rate is measured over ≥ 0.5 s
            rates.append(status().steps_per_s)
            start = time.perf_counter()
            link.send(p.Pause())
            while status().status != "paused":
                time.sleep(0.002)
            latencies.append(time.perf_counter() - start)
        link.close()
    print(f"  (the loop ran at {statistics.median(rates):.0f} steps/s before a pause)")
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--latency", type=int, default=20, help="pauses to time (0: none)")
    args = parser.parse_args()
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    env = {k: v for k, v in env.items() if k not in ("DLTUI_WATCH", "DLTUI_JSONL")}
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    sides = {
        "plain": run_plain,
        "headless": run_headless,
        "ui@30Hz": run_ui,
        "ui@10Hz": lambda epochs, env: run_ui(epochs, env, fps=10),
    }
    steps = 15 * args.epochs
    rates: dict[str, dict[str, list[float]]] = {n: {"wall": [], "cpu": []} for n in sides}
    for repeat in range(args.repeats):
        order = list(sides) if repeat % 2 == 0 else list(reversed(sides))
        for name in order:
            wall, cpu = sides[name](args.epochs, env)
            rates[name]["wall"].append(steps / wall)
            rates[name]["cpu"].append(steps / cpu)
        shown = (f"{n} {rates[n]['wall'][-1]:.1f} ({rates[n]['cpu'][-1]:.1f})" for n in sides)
        print("  " + "  ".join(shown), "steps/s (per CPU second)")
    print(f"\nthe CNN lab, {steps} steps, {args.threads} thread(s), medians of {args.repeats}:")
    base = {clock: statistics.median(rates["plain"][clock]) for clock in ("wall", "cpu")}
    for name in sides:
        wall, cpu = (statistics.median(rates[name][clock]) for clock in ("wall", "cpu"))
        print(
            f"  {name:<9} {wall:6.1f} steps/s {wall / base['wall']:.3f}×   "
            f"{cpu:6.1f} steps per CPU s {cpu / base['cpu']:.3f}×"
        )
    if args.latency:
        latencies = sorted(pause_latency(args.latency, env))
        p50 = statistics.median(latencies) * 1000
        p90 = latencies[int(0.9 * (len(latencies) - 1))] * 1000
        print(f"pause latency over {len(latencies)} pauses: p50 {p50:.0f} ms, p90 {p90:.0f} ms")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

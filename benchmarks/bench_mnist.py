"""Throughput of the mnist scenario, side by side with plain PyTorch loops in the same run.

    python benchmarks/bench_mnist.py [--device cpu|cuda] [--dataset digits|mnist|fashion-mnist]
                                     [--epochs 2] [--repeats 3] [--amp off|bf16|fp16]

(a) epoch time of the scenario (Runner, headless) vs a bare loop over the same model, the same
    device-resident data and the same number of batches, plus the same test evaluation
    (goal ≥ 0.95× the bare loop's speed)
(b) the course's lab loop (TensorDataset + DataLoader(shuffle=True, drop_last=True), batches
    copied to the device) on the same machine: the scenario should beat it
(c) images/s with frames captured at 30 Hz (feature maps, filters, confusion, probabilities)
    vs none (goal ≥ 0.95×: capture must not stall training)
(d) the live UI: `dltui run mnist --speed max` as the user gets it (engine process + Textual app
    drawing every panel, headless at 120×40), epoch time vs the bare loop (goal ≥ 0.95×)
Each figure is the median of `--repeats` runs, the variants interleaved so that a noisy, shared
machine slows them alike. On a CPU use digits (15 batches an epoch: the run takes ~1 minute);
on a GPU use the real MNIST (`dltui data mnist` first).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable

import torch
from torch.utils.data import DataLoader, TensorDataset

from dltui.engine.runner import Runner, resolve_device
from dltui.protocol import RunSpec
from dltui.registry import load
from dltui.scenario.params import Params
from dltui.ui.link import ProcessLink

Mnist = load("mnist")


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_runner(args, device: torch.device) -> Runner:
    values = {"dataset": args.dataset, "epochs": args.epochs, "amp": args.amp}
    return Runner(Mnist, Params(Mnist.params, values), device=device)


def scenario(args, device, frames_hz: float = 0.0) -> float:
    """Seconds per epoch of the scenario run headless; with frames_hz, frames captured at that
    rate between steps as the UI's engine process does."""
    runner = make_runner(args, device)
    sync(device)
    start = last = time.perf_counter()
    while not runner.done:
        runner.step(1)
        if frames_hz:
            now = time.perf_counter()
            if now - last >= 1 / frames_hz:
                runner.frame(status="running")
                last = now
    runner.record()
    sync(device)
    return (time.perf_counter() - start) / args.epochs


async def _ui(args, device) -> float:
    from dltui.ui.app import DltuiApp

    sets = (f"dataset={args.dataset}", f"epochs={args.epochs}", f"amp={args.amp}")
    link = ProcessLink(RunSpec("mnist", sets=sets, device=str(device), speed=None))
    app = DltuiApp(link)
    async with app.run_test(size=(120, 40)) as pilot:
        while app.frame is None or app.frame.step < 1:  # spawn, torch import, data load
            await pilot.pause(0.01)
        s0, t0 = app.frame.step, time.perf_counter()
        while app.frame.status != "done":
            await pilot.pause(0.01)
        s1, t1 = app.frame.step, time.perf_counter()
        await pilot.press("q")
    link.close()
    return (t1 - t0) / (s1 - s0) * s1 / args.epochs


def ui(args, device) -> float:
    """Seconds per epoch in the live UI at max speed, from its first frame to "done"."""
    return asyncio.run(_ui(args, device))


def bare(
    args, device, dataloader: bool = False, clock: Callable[[], float] = time.perf_counter
) -> float:
    """Seconds per epoch of a plain loop: same seeded model, same data and batch count, same test
    evaluation. With dataloader: the course's lab loop (data on the host, batches copied)."""
    sc = make_runner(args, device).scenario  # the same tensors, the same seeded model
    model, optimizer, criterion = sc.model, sc.optimizer, sc.criterion
    bs, batches = sc.p.batch_size, sc.batches_per_epoch
    if dataloader:
        loader = DataLoader(
            TensorDataset(sc.train_x.cpu(), sc.train_y.cpu()),
            batch_size=bs,
            shuffle=True,
            drop_last=True,
        )
    sync(device)
    start = clock()
    for _ in range(args.epochs):
        if dataloader:
            batch_iter = ((X.to(device), Y.to(device)) for X, Y in loader)
        else:
            order = torch.randperm(len(sc.train_y), device=device)
            batch_iter = (
                (sc.train_x[idx], sc.train_y[idx])
                for idx in order[: batches * bs].view(batches, bs)
            )
        for X, Y in batch_iter:
            optimizer.zero_grad()
            with torch.autocast(device.type, sc.amp_dtype, enabled=sc.amp_dtype is not None):
                cost = criterion(model(X), Y)
            cost.backward()
            optimizer.step()
        sc.evaluate()
    sync(device)
    return (clock() - start) / args.epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dataset", default="digits", choices=("digits", "mnist", "fashion-mnist"))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--amp", default="off", choices=("off", "bf16", "fp16"))
    args = parser.parse_args()
    device = resolve_device(args.device, prefers_gpu=True)
    probe = make_runner(args, device).scenario
    images = probe.batches_per_epoch * probe.p.batch_size
    print(
        f"mnist benchmark: {args.dataset} on {device}, {probe.batches_per_epoch} batches of "
        f"{probe.p.batch_size} an epoch, {args.epochs} epochs, median of {args.repeats}, "
        f"torch threads {torch.get_num_threads()}"
    )
    bare(args, device)  # warm-up (kernels, allocator)
    variants = ("bare", "scenario", "dataloader", "frames", "ui")
    runs: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(args.repeats):
        runs["bare"].append(bare(args, device))
        runs["scenario"].append(scenario(args, device))
        runs["dataloader"].append(bare(args, device, dataloader=True))
        runs["frames"].append(scenario(args, device, frames_hz=30))
        runs["ui"].append(ui(args, device))
    t = {k: statistics.median(v) for k, v in runs.items()}
    for key, label in (
        ("bare", "bare loop, data on the device"),
        ("scenario", "scenario (Runner headless)"),
        ("dataloader", "lab loop with DataLoader"),
        ("frames", "scenario + frames at 30 Hz"),
        ("ui", "live UI, --speed max"),
    ):
        print(f"  {label:<32} {t[key]:8.3f} s/epoch  {images / t[key]:10,.0f} images/s")
    ratios = (
        ("(a) scenario speed / bare loop", t["bare"] / t["scenario"], "≥ 0.95"),
        ("(b) scenario speed / DataLoader lab", t["dataloader"] / t["scenario"], "> 1"),
        ("(c) with 30 Hz frames / no frames", t["scenario"] / t["frames"], "≥ 0.95"),
        ("(d) live UI speed / bare loop", t["bare"] / t["ui"], "≥ 0.95"),
    )
    for label, ratio, goal in ratios:
        print(f"{label:<37} {ratio:.3f}×  (goal {goal})")


if __name__ == "__main__":
    main()

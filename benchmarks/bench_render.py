"""Time the pure renderers at 120×40 cells: median milliseconds per frame, and bytes per frame.

    python benchmarks/bench_render.py [--repeat N] [--size COLSxROWS]

Frames are built from synthetic data shaped like the scenarios' (a 2-D loss landscape with
trajectories, a digit with 32 feature maps, 100k steps of noisy loss, weight matrices). Bytes
are those of the frame written as truecolor ANSI, what an SSH session carries when the whole
panel changes. Budgets (DESIGN.md): a plotext line plot 13–41 ms, a half-block field ~7 ms.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from rich.console import Console

from dltui.render import render


def frames() -> dict[str, tuple[str, dict[str, Any]]]:
    """name → (kind, data) for every benchmarked frame."""
    rng = np.random.default_rng(0)
    x, y = np.linspace(-2, 2, 101), np.linspace(-1, 3, 101)
    xx, yy = np.meshgrid(x, y)
    path = np.cumsum(rng.normal(0, 0.05, (500, 2)), axis=0) + [-1.5, 2.5]
    field = {
        "x": x,
        "y": y,
        "z": (1 - xx) ** 2 + 100 * (yy - xx**2) ** 2,
        "log": True,
        "levels": 12,
        "trajectories": [("sgd", path), ("adam", path[::-1])],
        "markers": [("min", 1.0, 1.0)],
    }
    maps = [("digit", rng.random((28, 28)))] + [(f"c{i}", rng.random((28, 28))) for i in range(32)]
    ws = -2.8 * (-0.9) ** np.arange(41)  # gradient descent on w² with lr 0.95: overshoots
    trail = np.column_stack([ws, ws**2])
    steps = np.arange(1, 100_001)
    loss = np.exp(-steps / 20_000) + 0.1 * rng.random(steps.size)
    return {
        "field2d 101×101 grid, 2 trajectories": ("field2d", field),
        "images 1 digit + 32 maps 28×28": ("images", {"images": maps}),
        "images + 64 maps 14×14": (
            "images",
            {"images": maps + [(f"d{i}", rng.random((14, 14))) for i in range(64)]},
        ),
        "line 100k points, EMA, 1 event": (
            "line",
            {"series": {"loss": (steps, loss)}, "events": [(50_000, "lr=0.01")]},
        ),
        "heatmap 784×64 + 64×10 + 10×1": (
            "heatmap",
            {
                "matrices": [
                    ("W1", rng.normal(size=(784, 64))),
                    ("W2", rng.normal(size=(64, 10))),
                    ("b", rng.normal(size=(10, 1))),
                ]
            },
        ),
        "heatmap 2×2 with numbers": ("heatmap", {"matrices": [("W", rng.normal(size=(2, 2)))]}),
        "curve1d 400 points, zig-zag trail 40": (
            "curve1d",
            {
                "x": np.linspace(-3, 3, 400),
                "y": np.linspace(-3, 3, 400) ** 2,
                "w": trail[-1, 0],
                "cost": trail[-1, 1],
                "slope": 2 * trail[-1, 0],
                "trail": trail[:-1],
            },
        ),
        "bars 12 labels × 2 series, log": (
            "bars",
            {
                "labels": [f"layer{i}" for i in range(12)],
                "log": True,
                "series": [("a", 10.0 ** -rng.uniform(1, 8, 12)), ("b", rng.random(12))],
            },
        ),
        "table 30 rows": (
            "table",
            {
                "columns": ["i", "x", "p"],
                "highlight": [3],
                "rows": [[i, rng.random(), rng.random()] for i in range(30)],
            },
        ),
    }


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm-up: imports, caches
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def ansi_bytes(text: Any, width: int) -> int:
    out = io.StringIO()
    Console(file=out, width=width, force_terminal=True, color_system="truecolor").print(text)
    return len(out.getvalue().encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--size", default="120x40")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    print(f"{'frame at ' + args.size:42} {'median ms':>10} {'KiB':>7}")
    for name, (kind, data) in frames().items():
        ms = median_ms(lambda k=kind, d=data: render(k, d, width, height), args.repeat)
        kib = ansi_bytes(render(kind, data, width, height), width) / 1024
        print(f"{name:42} {ms:10.1f} {kib:7.1f}")


if __name__ == "__main__":
    main()

"""Convolution and pooling arithmetic (COURSE.md §5, §6), one output position per step.

The course's worked example by default: the 5×5 input [[1,2,3,0,1],[0,1,5,1,0],[1,0,2,2,1],
[1,1,2,0,0],[1,0,1,1,1]] and the filter [[1,0,1],[0,1,0],[1,0,1]] give [[8,9,8],[8,5,9],
[6,5,5]]. Each step slides the filter window to the next position (row by row), writes out
its nine products and their sum, and fills in that output cell; with `pooling=max|avg` the
steps then go on over the output map with the pooling window. The size formula
⌊(input − filter + 2·padding)/stride⌋ + 1 is written out with its floor, e.g. the course's
(64 − 7 + 0)/2 + 1 = 29.5 → 29. Presets set the course's size cases and the lab CNN's shapes.
The numbers are computed position by position, as on the slides; tests check them against
torch.nn.functional.conv2d / max_pool2d / avg_pool2d. No training: no loss, no lr.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import torch

from dltui.scenario import Panel, Param, Scenario, UsageError

COURSE_INPUTS = {
    "course": [[1, 2, 3, 0, 1], [0, 1, 5, 1, 0], [1, 0, 2, 2, 1], [1, 1, 2, 0, 0], [1, 0, 1, 1, 1]],
    "course2": [
        [3, 3, 2, 1, 0],
        [0, 0, 1, 3, 1],
        [3, 1, 2, 2, 3],
        [2, 0, 0, 2, 2],
        [2, 0, 0, 0, 1],
    ],
}
"""The course's two worked examples: with their filters they give [[8,9,8],[8,5,9],[6,5,5]]
and [[12,12,17],[10,17,19],[9,6,14]]."""
COURSE2_FILTER = [[0, 1, 2], [2, 2, 0], [0, 1, 2]]
PRESETS: dict[str, dict[str, Any]] = {
    "none": {},
    "course2": {"input": "course2", "filter": "course2", "kernel": 3, "stride": 1, "padding": 0},
    "227-11-4": {"input": "227", "kernel": 11, "stride": 4, "padding": 0, "pooling": "none"},
    "64-7-2": {"input": "64", "kernel": 7, "stride": 2, "padding": 0, "pooling": "none"},
    "32x64-5": {"input": "32x64", "kernel": 5, "stride": 1, "padding": 0, "pooling": "none"},
    "28-5-pool2": {
        "input": "28",
        "kernel": 5,
        "stride": 1,
        "padding": 0,
        "pooling": "max",
        "pool": 2,
    },
    "lab-cnn": {"input": "28", "kernel": 3, "stride": 1, "padding": 1, "pooling": "max", "pool": 2},
}
"""The course's size cases (227×227, 11×11, stride 4 → 55; 64, 7, stride 2 → 29; 32×64, 5 →
28×60; Conv2d(1, 5, 5) on 28×28 → 24, MaxPool2d(2) → 12) and the lab CNN's first layer (28 → conv 3×3 pad 1 → 28 → max pool 2 → 14)."""
COURSE_CASES = (((227, 227), 11, 4, 0), ((64, 64), 7, 2, 0), ((32, 64), 5, 1, 0))
VIEW = (9, 11)  # rows and columns of a grid shown around the window (80×24 shows ~7 rows)
SHOWN = 5  # rows and terms per row of a window's products written out


def out_size(n: int, k: int, stride: int, padding: int) -> int:
    """⌊(n − k + 2·padding)/stride⌋ + 1."""
    return (n - k + 2 * padding) // stride + 1


def size_line(n: int, k: int, stride: int, padding: int) -> str:
    """The formula with its numbers, e.g. '(64 − 7 + 0)/2 + 1 = 29.5 → 29'."""
    exact = (n - k + 2 * padding) / stride + 1
    text = f"({n} − {k} + {2 * padding})/{stride} + 1 = {exact:g}"
    return text if exact == int(exact) else f"{text} → {math.floor(exact)}"


def parse_input(text: str) -> tuple[int, int] | None:
    """'course', 'course2' -> None (a worked example); '28' -> (28, 28); '32x64' -> (32, 64)."""
    text = text.strip().lower()
    if text in COURSE_INPUTS:
        return None
    if m := re.fullmatch(r"(\d+)(?:\s*[x×]\s*(\d+))?", text):
        h, w = int(m.group(1)), int(m.group(2) or m.group(1))
        if 1 <= h <= 512 and 1 <= w <= 512:
            return h, w
    raise UsageError(
        f"input={text!r}: use 'course' or 'course2' (the 5×5 examples), N or HxW (1..512)"
    )


class InputParam(Param):
    def check(self, value: object) -> object:
        parse_input(str(value))
        return str(value).strip().lower()


def cell(v: float) -> str:
    """A grid value: integers bare, others to 2 decimals."""
    return str(int(v)) if float(v).is_integer() else f"{v:.2f}"


def grid_text(m: np.ndarray, window: tuple[int, int, int, int] | None, pad: int = 0) -> list[str]:
    """The matrix as text around `window` (r0, c0, h, w), at most VIEW × VIEW cells: the window's
    rows framed by ┃ on its columns; padding cells (the outer `pad` ring) as ·, values not
    computed yet (NaN) as _; indices count from the unpadded corner."""
    rows, cols = m.shape
    r0, c0, h, w = window or (0, 0, 0, 0)

    def span(start: int, size: int, total: int, view: int) -> range:
        lo = max(0, min(start - max(0, view - size) // 2, total - view))
        return range(lo, min(total, lo + view))

    rr, cc = span(r0, h, rows, VIEW[0]), span(c0, w, cols, VIEW[1])
    texts = [[cell(v) if np.isfinite(v) else "_" for v in row] for row in m]
    for i in range(rows):
        for j in range(cols):
            if pad and not (pad <= i < rows - pad and pad <= j < cols - pad):
                texts[i][j] = "·"
    width = max(len(t) for i in rr for j in cc for t in [texts[i][j]])
    width = max(width, len(str(cc[-1] - pad)))
    lines = ["    " + "".join(f" {j - pad:>{width}}" for j in cc)]
    for i in rr:
        inside = window is not None and r0 <= i < r0 + h
        line = f"{i - pad:>3} "
        for j in cc:
            edge = inside and j in (c0, c0 + w)
            line += ("┃" if edge else " ") + f"{texts[i][j]:>{width}}"
        if inside and c0 + w == cc[-1] + 1:
            line += "┃"
        lines.append(line)
    if rr[0] > 0 or rr[-1] < rows - 1 or cc[0] > 0 or cc[-1] < cols - 1:
        lines.append(
            f"    (rows {rr[0] - pad}…{rr[-1] - pad}, cols {cc[0] - pad}…{cc[-1] - pad} of {rows}×{cols})"
        )
    return lines


class Conv(Scenario):
    """Convolution then pooling, one output position per step."""

    name, title = "conv", "Convolution and pooling, one position at a time"
    description = "The filter slides over the course's 5×5 input: products, sums, output size."
    caption = (
        "Each output value is the inner product of the filter and the patch under it; the "
        "window moves by the stride. Output size = ⌊(input − filter + 2·padding)/stride⌋ + 1."
    )
    aliases = ("convolution",)
    steps = 9
    speed = 2.0
    columns = 3
    records = {
        "value": "the output value computed in this step (conv, then pooling)",
        "out_h, out_w": "size of the convolution's output map (ints)",
        "output": "the output map as nested lists, null where not computed yet",
        "pool_h, pool_w, pooled": "the pooled map's size and values (with pooling)",
    }
    params = (
        Param(
            "preset",
            "none",
            "set input, kernel, stride, padding and pooling (overriding them) to a course "
            "case: course2 (the second worked example), 227-11-4 (→ 55), "
            "64-7-2 (→ 29), 32x64-5 (→ 28×60), 28-5-pool2 (Conv2d(1,5,5): → 24, pool → 12), "
            "lab-cnn (28 → 28 → pool 14)",
            choices=tuple(PRESETS),
        ),
        InputParam(
            "input",
            "course",
            "'course' or 'course2' (the 5×5 examples), or a size N or HxW (random integers 0..3 "
            "from the seed)",
        ),
        Param(
            "filter",
            "course",
            "course: 1 on both diagonals ([[1,0,1],[0,1,0],[1,0,1]] at 3×3); course2: the "
            "second example's [[0,1,2],[2,2,0],[0,1,2]]; ones; random (integers −1..1)",
            choices=("course", "course2", "ones", "random"),
        ),
        Param("kernel", 3, "filter size (square)", min=1, max=31),
        Param("stride", 1, "step of the window", min=1, max=16),
        Param("padding", 0, "zero border around the input", min=0, max=15),
        Param("pooling", "none", "pooling of the output map", choices=("none", "max", "avg")),
        Param("pool", 2, "pooling window (and stride)", min=1, max=16),
    )

    # -- the arithmetic -----------------------------------------------------------------
    def setup(self) -> None:
        p = self.p
        for key, value in PRESETS[p.preset].items():
            p[key] = value
        size = parse_input(p.input)
        if size is None:
            x = torch.tensor(COURSE_INPUTS[p.input], dtype=torch.float64)
        else:
            x = torch.randint(0, 4, size).double()
        k = p.kernel
        if p.filter == "course":
            f = (torch.eye(k) + torch.eye(k).flip(1)).clamp(max=1).double()
        elif p.filter == "course2":
            if k != 3:
                raise UsageError(f"filter=course2 is 3×3; kernel={k} asks for {k}×{k}")
            f = torch.tensor(COURSE2_FILTER, dtype=torch.float64)
        elif p.filter == "ones":
            f = torch.ones(k, k, dtype=torch.float64)
        else:
            f = torch.randint(-1, 2, (k, k)).double()
        self.x, self.f = x.to(self.device), f.to(self.device)
        self.padded = torch.nn.functional.pad(self.x, (p.padding,) * 4)
        H, W = x.shape
        if k > H + 2 * p.padding or k > W + 2 * p.padding:
            raise UsageError(
                f"kernel={k} does not fit the {H}×{W} input with padding={p.padding}"
                f" ({H + 2 * p.padding}×{W + 2 * p.padding}); use a smaller kernel or more padding"
            )
        self.out_h, self.out_w = (out_size(n, k, p.stride, p.padding) for n in (H, W))
        self.out = torch.full((self.out_h, self.out_w), math.nan, dtype=torch.float64)
        self.pool_h = self.pool_w = 0
        if p.pooling != "none":
            if p.pool > min(self.out_h, self.out_w):
                raise UsageError(
                    f"pool={p.pool} is larger than the {self.out_h}×{self.out_w} output map"
                )
            self.pool_h, self.pool_w = self.out_h // p.pool, self.out_w // p.pool
        self.pooled = torch.full((self.pool_h, self.pool_w), math.nan, dtype=torch.float64)
        self.done = 0  # positions computed, conv first, then pooling
        self.title = f"Convolution {H}×{W} ⊛ {k}×{k}, stride {p.stride}, padding {p.padding}"
        if p.pooling != "none":
            self.title += f", then {p.pooling} pooling {p.pool}×{p.pool}"

    def length(self) -> int:
        return self.out_h * self.out_w + self.pool_h * self.pool_w

    def position(self, n: int) -> tuple[str, int, int]:
        """The n-th position (0-based): ('conv' | 'pool', row, col)."""
        convs = self.out_h * self.out_w
        if n < convs:
            return "conv", *divmod(n, self.out_w)
        return "pool", *divmod(n - convs, self.pool_w)

    def window(self, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The patch under the window at position n, and the filter (None when pooling)."""
        phase, i, j = self.position(n)
        if phase == "conv":
            s, k = self.p.stride, self.p.kernel
            return self.padded[i * s : i * s + k, j * s : j * s + k], self.f
        q = self.p.pool
        return self.out[i * q : (i + 1) * q, j * q : (j + 1) * q], None

    def step(self) -> dict[str, float]:
        n = min(self.done, self.length() - 1)  # past the end (--steps N): redo the last one
        phase, i, j = self.position(n)
        patch, f = self.window(n)
        if phase == "conv":
            value = (patch * f).sum()  # the inner product of the patch and the filter
            self.out[i, j] = value
        else:
            value = patch.max() if self.p.pooling == "max" else patch.mean()
            self.pooled[i, j] = value
        self.done = n + 1
        return {"value": float(value)}

    def record_extras(self) -> dict[str, Any]:
        """The output map (and the pooled one) as nested lists, null where not computed yet,
        with their sizes as ints."""
        extras: dict[str, Any] = {"out_h": self.out_h, "out_w": self.out_w}
        extras["output"] = nested(self.out)
        if self.pool_h:
            extras |= {"pool_h": self.pool_h, "pool_w": self.pool_w}
            extras["pooled"] = nested(self.pooled)
        return extras

    # -- what to show -------------------------------------------------------------------
    panels = (
        Panel("text", "Input and the window", "input", options={"wrap": False}),
        Panel("text", "Products and their sum", "products", options={"wrap": False}),
        Panel("text", "Output map, filling in", "output", options={"wrap": False}),
        Panel("text", "Output size", "size", col_span=2),
        Panel("heatmap", "The maps (colour: value)", "maps"),
    )

    def view(self) -> dict[str, dict]:
        n = self.done - 1  # the position computed last (-1: none yet)
        phase, i, j = self.position(max(n, 0))
        s, k, q, pad = self.p.stride, self.p.kernel, self.p.pool, self.p.padding
        pooling = n >= 0 and phase == "pool"
        H, W = self.x.shape
        if pooling:
            head = f"# output map, {self.p.pooling} pool {q}×{q}"
            grid = grid_text(self.out.cpu().numpy(), (i * q, j * q, q, q))
        else:
            head = f"# input {H}×{W}" + (f", zero padding {pad} (·)" if pad else "")
            win = (i * s, j * s, k, k) if n >= 0 else None
            grid = grid_text(self.padded.cpu().numpy(), win, pad)
        patch, f = self.window(max(n, 0))
        if pooling:
            maps = [("output", integral(self.out)), ("pooling window", integral(patch))]
        else:
            maps = [("input", integral(self.padded)), ("filter", integral(f))]
            maps.append(("window ⊙ filter", integral(patch * f)))
        return {
            "input": {"text": "\n".join([head, *grid])},
            "products": {"text": self.products(n)},
            "output": {"text": self.output_text(n)},
            "size": {"text": self.size_text()},
            "maps": {"matrices": maps},
        }

    def products(self, n: int) -> str:
        """The window's products and their sum (or its max / mean when pooling)."""
        if n < 0:
            return "no position yet: n slides the window to the first one"
        phase, i, j = self.position(n)
        patch, f = self.window(n)
        rows = patch.tolist()
        if phase == "pool":
            values = [v for row in rows for v in row]
            shown = ", ".join(cell(v) for v in values[: SHOWN * SHOWN])
            more = ", …" if len(values) > SHOWN * SHOWN else ""
            result = self.pooled[i, j].item()
            op = "max" if self.p.pooling == "max" else "avg"
            lines = [f"# pooled[{i},{j}] = {op} over the window"]
            lines.append(f"  {op}({shown}{more})")
            if op == "avg":
                lines.append(f"  = {cell(sum(values))}/{len(values)}")
            lines.append(f"  = {cell(result)}")
            return "\n".join(lines)
        s, k, pad = self.p.stride, self.p.kernel, self.p.padding
        lines = [
            f"# out[{i},{j}] = Σ window ⊙ filter",
            (
                f"  window: rows {i * s - pad}…{i * s + k - 1 - pad}, "
                f"cols {j * s - pad}…{j * s + k - 1 - pad}"
            ),
        ]
        frows = f.tolist()
        for r, (prow, frow) in enumerate(zip(rows[:SHOWN], frows[:SHOWN])):
            terms = [f"{cell(a)}·{cell(b)}" for a, b in zip(prow[:SHOWN], frow[:SHOWN])]
            tail = " + …" if k > SHOWN else ""
            lines.append(("  " if r == 0 else "+ ") + " + ".join(terms) + tail)
        if k > SHOWN:
            lines.append(f"+ … ({k * k} products in all)")
        sums = [cell(sum(a * b for a, b in zip(pr, fr))) for pr, fr in zip(rows, frows)]
        if k <= SHOWN:
            lines.append("= " + " + ".join(sums))  # row by row
        lines.append(f"= {cell(self.out[i, j].item())}")
        return "\n".join(lines)

    def output_text(self, n: int) -> str:
        """The map being filled in (the output, then the pooled map), this position framed."""
        phase, i, j = self.position(max(n, 0))
        current = (i, j, 1, 1) if n >= 0 else None
        if phase == "pool":
            head = f"# {self.p.pooling} pooled {self.pool_h}×{self.pool_w} (_ = not yet)"
            return "\n".join([head, *grid_text(self.pooled.cpu().numpy(), current)])
        head = f"# output {self.out_h}×{self.out_w} (_ = not yet)"
        return "\n".join([head, *grid_text(self.out.cpu().numpy(), current)])

    def size_text(self) -> str:
        """The formula with this run's numbers, the course's cases, the lab CNN's chain."""
        p = self.p
        H, W = self.x.shape
        k, s, pad = p.kernel, p.stride, p.padding
        lines = ["# ⌊(input − filter + 2·padding)/stride⌋ + 1"]
        shape = f"{H}×{W} ⊛ {k}×{k}, stride {s}, padding {pad}"
        if H == W:
            lines.append(f"  {shape}: {size_line(H, k, s, pad)}  → {self.out_h}×{self.out_w}")
        else:
            lines.append(f"  {shape}: rows {size_line(H, k, s, pad)}")
            lines.append(f"  cols {size_line(W, k, s, pad)}  → {self.out_h}×{self.out_w}")
        if self.pool_h:
            q, oh, ow = p.pool, self.out_h, self.out_w
            lines.append(
                f"  {p.pooling} pool {q}×{q}, stride {q}: {size_line(oh, q, q, 0)}"
                + (f", {size_line(ow, q, q, 0)}" if ow != oh else "")
                + f"  → {self.pool_h}×{self.pool_w}"
            )
        if p.preset == "lab-cnn":
            lines += [
                "# the lab CNN: 1×28×28",
                f"  conv1 3×3 pad 1: {size_line(28, 3, 1, 1)} → 32 maps 28×28",
                f"  pool 2: {size_line(28, 2, 2, 0)} → 32×14×14",
                f"  conv2 3×3 pad 1: {size_line(14, 3, 1, 1)} → 64 maps 14×14",
                f"  pool 2: {size_line(14, 2, 2, 0)} → 64×7×7 = 3136 → fc → 10",
            ]
        else:
            lines.append("# the course's cases")
            for (h, w), kk, ss, pp in COURSE_CASES:
                oh, ow = out_size(h, kk, ss, pp), out_size(w, kk, ss, pp)
                mark = "  ◀ this run" if (H, W, k, s, pad) == (h, w, kk, ss, pp) else ""
                if h == w:
                    formula = f"{h}, {kk}×{kk}, stride {ss}: {size_line(h, kk, ss, pp)}"
                else:
                    formula = (
                        f"{h}×{w}, {kk}×{kk}: {size_line(h, kk, ss, pp)}, "
                        f"{size_line(w, kk, ss, pp)} → {oh}×{ow}"
                    )
                lines.append(f"  {formula}{mark}")
        return "\n".join(lines)


def integral(m: torch.Tensor) -> np.ndarray:
    """A map for the heatmap: int64 when every value is whole (printed as integers)."""
    a = m.cpu().numpy()
    return a.astype(np.int64) if np.all(np.mod(a, 1) == 0) else a


def nested(m: torch.Tensor) -> list[list[float | int | None]]:
    """A map as JSON-ready nested lists: integers as ints, NaN (not computed yet) as None."""
    return [
        [None if math.isnan(v) else int(v) if float(v).is_integer() else v for v in row]
        for row in m.tolist()
    ]

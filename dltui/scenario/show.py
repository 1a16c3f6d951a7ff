"""Show helpers that several scenarios share: numbers as text, and a 2-D classifier's picture.

    from dltui.scenario.show import decision_field, finite, num, terms, vec

- `num(v)`: one number for a math panel (fixed point when moderate, scientific otherwise);
  `terms(values)`: a sum written with its signs; `vec(x, fmt, brackets, bare)`: the numbers of
  a tensor, array or sequence, e.g. "[0.5000, 1.2500]", "(+0.1234, -5.678e-05)".
- `finite(a, bound)`: a NaN/inf-free copy clipped to ±bound, safe for a renderer after a blow-up.
- `decision_field(predict, grid, points, labels, device)`: the `field2d` data of a classifier
  on the plane: its output over grid × grid, the data points coloured by label, the 0.5 level.

Engine side only (it imports torch): `dltui.scenario` does not import it, so the UI never does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch

from dltui.scenario.base import to_numpy


def num(v: float) -> str:
    """A number for the math panel: fixed point when moderate, scientific when huge or tiny."""
    if not np.isfinite(v):
        return str(v)
    return f"{v:.4f}" if v == 0 or 1e-3 <= abs(v) < 1e5 else f"{v:.3g}"


def terms(values: list[float]) -> str:
    """a + b − c: a sum written with its signs, each term by `num`."""
    out = num(values[0])
    for v in values[1:]:
        out += f" − {num(-v)}" if v < 0 else f" + {num(v)}"
    return out


def vec(
    x: torch.Tensor | np.ndarray | Iterable[float],
    fmt: str | Callable[[float], str] = num,
    brackets: str = "[]",
    bare: bool = False,
) -> str:
    """The numbers of a tensor, array or sequence (flattened), comma-separated in brackets.

    `fmt` is a format spec ("g", "+.4f") or a function of one number (default `num`);
    `brackets` the pair around them ("()" for a point); `bare`: a single number goes without.
    """
    if isinstance(x, torch.Tensor):
        values = x.detach().cpu().reshape(-1).tolist()
    elif isinstance(x, np.ndarray):
        values = x.reshape(-1).tolist()
    else:
        values = list(x)
    show = fmt if callable(fmt) else (lambda v: format(v, fmt))
    body = ", ".join(show(v) for v in values)
    return body if bare and len(values) == 1 else f"{brackets[0]}{body}{brackets[1]}"


def finite(a: np.ndarray | float, bound: float = 1e15) -> np.ndarray:
    """NaN/inf-free copy clipped to ±bound, safe to hand to a renderer after a blow-up."""
    return np.clip(
        np.nan_to_num(np.asarray(a, float), nan=bound, posinf=bound, neginf=-bound), -bound, bound
    )


def decision_field(
    predict: Callable[[torch.Tensor], torch.Tensor],
    grid: np.ndarray,
    points: np.ndarray,
    labels: np.ndarray,
    device: torch.device,
) -> dict[str, Any]:
    """`field2d` data of a 2-D classifier: `predict` ((n, 2) points → n outputs in [0, 1]) over
    grid × grid under no_grad, the data `points` coloured by `labels`, the 0.5 level drawn."""
    gx, gy = np.meshgrid(grid, grid)
    plane = torch.tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=torch.float32, device=device)
    with torch.no_grad():
        field = predict(plane).reshape(len(grid), len(grid))
    return {
        "x": grid,
        "y": grid,
        "z": to_numpy(field),
        "points": points,
        "labels": np.asarray(labels).astype(int),
        "boundary": 0.5,
        "diverging": True,
        "zlabel": "output",  # the key says blue<0.5<red: what is below 0.5 is the output
        "xlabel": "x₁",  # the inputs' names on the slides
        "ylabel": "x₂",
    }

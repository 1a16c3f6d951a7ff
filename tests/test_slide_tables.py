"""Where the slides' code and their printed tables part (COURSE.md §7): linreg's data=2x is
the slide's code (y = 2x), while the default y = x gives the printed table."""

from __future__ import annotations

import pytest
import torch
from conftest import make_runner, records_of


def slide_code(epochs: int) -> list[tuple[float, float, float]]:
    """The slide's code as written: hours → points 2, 4, 6."""
    x_train = torch.FloatTensor([[1], [2], [3]])
    y_train = torch.FloatTensor([[2], [4], [6]])
    W = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([W, b], lr=0.01)
    out = []
    for _ in range(epochs):
        cost = torch.mean((x_train * W + b - y_train) ** 2)
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
        out.append((cost.item(), W.item(), b.item()))
    return out


def test_data_2x_is_the_slides_code_and_twice_the_printed_table():
    records = records_of(make_runner("linreg", "data=2x", steps=1001))
    assert [(r["loss"], r["W"], r["b"]) for r in records] == slide_code(1001)
    printed = make_runner("linreg", advance=1001).record()
    assert (printed["W"], printed["b"]) == (
        pytest.approx(0.985, abs=5e-4),
        pytest.approx(0.033, abs=5e-4),
    )
    assert records[-1]["W"] == pytest.approx(2 * printed["W"], rel=1e-5)
    assert records[-1]["b"] == pytest.approx(2 * printed["b"], rel=1e-5)


def test_data_2x_moves_the_picture():
    runner = make_runner("linreg", "data=2x", advance=1)
    panels = runner.frame().panels
    assert panels["surface"]["markers"] == [("minimum W=2, b=0", 2.0, 0.0)]
    assert panels["fit"]["y"].max() >= 6  # the point (3, 6) is on the plane
    assert "W = 2" in runner.scenario.caption

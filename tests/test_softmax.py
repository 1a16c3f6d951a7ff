"""Softmax and cross-entropy (COURSE.md §6): the lab loop's numbers, and the math panel's
−log p_true equal to what CrossEntropyLoss adds for the probe point."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from conftest import make_runner, records_of

from dltui.scenarios.softmax import blobs


def lab_losses(steps: int) -> list[float]:
    """Softmax regression as the lab writes it: seed 777, Linear, CrossEntropyLoss, SGD."""
    points, labels = blobs()
    x, y = torch.tensor(points), torch.tensor(labels)
    torch.manual_seed(777)
    model = torch.nn.Linear(2, 3)
    criterion = torch.nn.CrossEntropyLoss()  # softmax is internally computed
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(steps):
        cost = criterion(model(x), y)
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
        losses.append(cost.item())
    return losses


def test_losses_are_the_lab_loops():
    assert [r["loss"] for r in records_of(make_runner("softmax", steps=200))] == lab_losses(200)


@pytest.mark.parametrize("probe", [0, 57, 119])
def test_the_worked_point_is_what_cross_entropy_adds(probe):
    runner = make_runner("softmax", f"probe={probe}", advance=30)
    sc = runner.scenario
    with torch.no_grad():
        logits = sc.model(sc.X)
    term = F.cross_entropy(logits, sc.Y, reduction="none")[probe].item()
    w = sc.worked()
    assert float(w["p"].sum()) == pytest.approx(1.0)
    assert all(0 < p < 1 for p in w["p"].tolist())
    assert w["ce"] == pytest.approx(term, rel=1e-6)
    assert w["ce"] == pytest.approx(-math.log(torch.softmax(logits[probe], 0)[sc.Y[probe]].item()))
    text = runner.frame().panels["math"]["text"]
    assert f"CrossEntropyLoss on this point's logits: {term:.6f}" in text
    assert f"= {w['ce']:.6f}" in text
    mean = F.cross_entropy(logits, sc.Y, reduction="none").mean().item()
    assert f"over the 120 points = {mean:.6f}" in text
    rows = runner.frame().panels["probe"]["rows"]
    assert sum(r[3] for r in rows) == pytest.approx(1.0)
    assert [r[4] for r in rows].count(1.0) == 1


def test_the_record_carries_the_probes_term():
    runner = make_runner("softmax", advance=500)
    rec = runner.record()
    assert rec["probe_ce"] == pytest.approx(-math.log(rec["p_true"]), rel=1e-5)
    assert rec["accuracy"] >= 0.85  # three overlapping blobs: a few points stay across
    assert runner.press("tab") == "probe = 20"

"""Tests of the gradient-descent scenarios (gd, linreg, multivar): the lab's numbers, divergence.

The oracle is the lab's PyTorch loop written out here; the scenarios, run through the engine,
must produce the same numbers epoch by epoch (record k = epoch k − 1 of the lab).
"""

from __future__ import annotations

import json
import math

import pytest
import torch
from conftest import make_runner, records_of
from torch import optim

from dltui.cli import main
from dltui.registry import load

X = [[1.0], [2.0], [3.0]]
QUIZ_X = [[73, 80, 75], [93, 88, 93], [89, 91, 90], [96, 98, 100], [73, 66, 70]]
QUIZ_Y = [[152], [185], [180], [196], [142]]


# -- the lab loops (oracles) -----------------------------------------------------------------
def lab_gd(epochs: int, lr: float = 0.1) -> list[tuple[float, float, float]]:
    x_train, y_train = torch.FloatTensor(X), torch.FloatTensor(X)
    W = torch.zeros(1)
    out = []
    for _ in range(epochs):
        hypothesis = x_train * W
        cost = torch.mean((hypothesis - y_train) ** 2)
        gradient = 2 * torch.mean((W * x_train - y_train) * x_train)
        W -= lr * gradient
        out.append((cost.item(), W.item(), gradient.item()))
    return out


def lab_linreg(epochs: int) -> list[tuple[float, float, float]]:
    x_train, y_train = torch.FloatTensor(X), torch.FloatTensor(X)
    W = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = optim.SGD([W, b], lr=0.01)
    out = []
    for _ in range(epochs):
        hypothesis = x_train * W + b
        cost = torch.mean((hypothesis - y_train) ** 2)
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
        out.append((cost.item(), W.item(), b.item()))
    return out


def lab_multivar(epochs: int) -> list[tuple[float, list[float], float, list[float]]]:
    x_train, y_train = torch.FloatTensor(QUIZ_X), torch.FloatTensor(QUIZ_Y)
    W = torch.zeros((3, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = optim.SGD([W, b], lr=1e-5)
    out = []
    for _ in range(epochs):
        hypothesis = x_train.matmul(W) + b
        cost = torch.mean((hypothesis - y_train) ** 2)
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
        out.append(
            (
                cost.item(),
                W.detach().reshape(-1).tolist(),
                b.item(),
                hypothesis.detach().reshape(-1).tolist(),
            )
        )
    return out


# -- lab numbers ------------------------------------------------------------------------------
def test_gd_reproduces_the_lab():
    records, lab = records_of(make_runner("gd", steps=100)), lab_gd(100)
    assert len(records) == 100 == load("gd").steps
    for k in (0, 1, 2, 5, 10, 50, 99):
        assert (records[k]["loss"], records[k]["W"], records[k]["grad"]) == lab[k]
    assert records[0]["loss"] == pytest.approx(4.666667, abs=1e-6)
    assert records[0]["grad"] == pytest.approx(-28 / 3, rel=1e-6)
    assert records[0]["W"] == pytest.approx(0.933333, rel=1e-6)
    assert records[-1]["W"] == pytest.approx(1.0, abs=1e-6)


def test_cost_values_of_the_slides():
    gd = make_runner("gd").scenario
    cost = gd.cost_of([0.0, 1.0, 2.0])
    assert [round(float(c), 2) for c in cost] == [4.67, 0.0, 4.67]
    assert cost[1] == 0.0


@pytest.mark.parametrize("w0", [0.0, 0.5, 2.7, -1.0])
def test_formula_gradient_equals_autograd(w0):
    gd = make_runner("gd", w0=w0).scenario
    _, formula, auto = gd.gradients()
    assert formula.item() == pytest.approx(auto.item(), rel=1e-6, abs=1e-7)
    assert formula.item() == pytest.approx(28 / 3 * (w0 - 1), rel=1e-6, abs=1e-6)
    assert "autograd" in gd.math()


def test_linreg_reproduces_the_lab_table():
    records, lab = records_of(make_runner("linreg", steps=1001)), lab_linreg(1001)
    assert len(records) == 1001 == load("linreg").steps
    # The lab prints epochs 0, 100, ..., 1000: records 1, 101, ..., 1001.
    for epoch in range(0, 1001, 100):
        rec = records[epoch]
        assert rec["step"] == epoch + 1
        assert (rec["loss"], rec["W"], rec["b"]) == lab[epoch]
    first, last = records[0], records[-1]
    assert (round(first["W"], 3), round(first["b"], 3), round(first["loss"], 6)) == (
        0.093,
        0.04,
        4.666667,
    )
    assert (round(last["W"], 3), round(last["b"], 3), round(last["loss"], 6)) == (
        0.985,
        0.033,
        0.000158,
    )


def test_multivar_reproduces_the_lab_every_epoch():
    records, lab = records_of(make_runner("multivar", steps=21)), lab_multivar(21)
    assert len(records) == 21 == load("multivar").steps
    for rec, (cost, w, b, _) in zip(records, lab):
        assert rec["loss"] == cost
        assert [rec["w1"], rec["w2"], rec["w3"]] == w
        assert rec["b"] == b
    assert records[0]["loss"] == pytest.approx(29661.800781, rel=1e-7)
    # rel 2e-5, not 1e-6: after 21 epochs the cost's last digits depend on the CPU's float
    # kernels (AVX2 1.619046, AVX-512 1.619063); every epoch equals the lab code run here.
    assert records[-1]["loss"] == pytest.approx(1.619046, rel=2e-5)


def test_multivar_hypotheses_match_the_lab():
    runner = make_runner("multivar")
    lab = lab_multivar(21)
    for epoch in (0, 5, 20):
        while runner.step_count < epoch:
            runner.step(1)
        # The hypothesis of epoch k is computed from the parameters after k updates.
        h, cost, _, _ = runner.scenario.forward()
        assert h.reshape(-1).tolist() == lab[epoch][3]
        assert cost.item() == lab[epoch][0]
    rows = runner.scenario.view()["students"]["rows"]
    assert [r[4] for r in rows] == ["152.80", "183.67", "180.97", "197.07", "140.10"]


# -- divergence ------------------------------------------------------------------------------
def test_gd_too_large_lr_diverges_cleanly(capsys):
    assert main(["run", "gd", "--headless", "--set", "lr=0.5"]) == 0
    out, err = capsys.readouterr()
    last = json.loads(out.strip().splitlines()[-1])
    assert last["diverged"] is True
    step = last["diverged_at"]
    assert last["step"] == step < 20
    assert f"diverged at step {step}" in err
    assert abs(last["W"]) > 100 and last["loss"] > load("gd").diverge_above


def test_gd_lr_just_below_the_limit_converges_and_above_diverges():
    below = records_of(make_runner("gd", lr=0.2, steps=400))
    above = records_of(make_runner("gd", lr=0.23, steps=400))
    assert "diverged" not in below[-1] and below[-1]["W"] == pytest.approx(1.0, abs=1e-4)
    assert above[-1]["diverged"] is True


def test_divergence_view_is_drawable_and_reset_restores_w0():
    runner = make_runner("gd", lr=1.0, advance=50)
    assert runner.diverged_at is not None
    frame = runner.frame()
    curve = frame.panels["curve"]
    assert all(math.isfinite(curve[k]) for k in ("w", "cost", "slope"))
    assert "(off the plot)" in frame.panels["math"]["text"]
    runner.set_param("lr", 0.1)
    runner.reset()
    assert runner.step_count == 0 and runner.diverged_at is None
    assert runner.scenario.W.item() == 0.0
    runner.step(1)
    assert runner.record()["W"] == pytest.approx(0.933333, rel=1e-6)


def test_live_lr_change_takes_effect_next_step():
    runner = make_runner("linreg", advance=3)
    runner.scale_param("lr", 2.0)
    assert runner.scenario.optimizer.param_groups[0]["lr"] == 0.02
    gd = make_runner("gd")
    gd.scale_param("lr", 0.5)
    gd.step(1)
    assert gd.record()["W"] == pytest.approx(0.05 * 28 / 3, rel=1e-6)


def test_multivar_large_lr_diverges():
    records = records_of(make_runner("multivar", lr=1e-4, steps=50))
    assert records[-1]["diverged"] is True and records[-1]["step"] < 50


# -- the screens -----------------------------------------------------------------------------
@pytest.mark.parametrize("name,steps", [("gd", 3), ("linreg", 200), ("multivar", 5)])
def test_snapshot(snap_scenario, name, steps):
    assert snap_scenario(name, steps)


def test_snapshot_gd_diverging(snap_scenario):
    assert snap_scenario("gd", 4, "lr=0.25")

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
from torch.utils.data import DataLoader, Dataset

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
    assert runner.scenario.fits[0].optimizer.param_groups[0]["lr"] == 0.02
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


def test_snapshot_multivar_mini_batches(snap_scenario):
    """batch=2: the students' batch column, cost per update and per epoch, the next batch's
    math (epoch 5, its second batch next)."""
    assert snap_scenario("multivar", 13, "batch=2")


# -- batch size: full batch, mini-batches, one sample (COURSE.md §3, §6 "Batches") ---------
class CustomDataset(Dataset):
    """The course's mini-batch lab, as students write it."""

    def __init__(self):
        self.x_data = [[73, 80, 75], [93, 88, 93], [89, 91, 90], [96, 98, 100], [73, 66, 70]]
        self.y_data = [[152], [185], [180], [196], [142]]

    def __len__(self):
        return len(self.x_data)

    def __getitem__(self, idx):
        x = torch.FloatTensor(self.x_data[idx])
        y = torch.FloatTensor(self.y_data[idx])
        return x, y


def lab_minibatch(batch_size: int, epochs: int = 21):
    """The lab loop over a real DataLoader (W = zeros, b = 0 as multivar's); per update:
    (epoch, x, cost, W, b), and each epoch's avg_cost."""
    torch.manual_seed(777)
    dataloader = DataLoader(CustomDataset(), batch_size=batch_size, shuffle=True)
    W = torch.zeros((3, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = optim.SGD([W, b], lr=1e-5)
    updates, avg_costs = [], []
    for epoch in range(epochs):
        avg_cost = 0
        for x_train, y_train in dataloader:
            cost = torch.mean((x_train.matmul(W) + b - y_train) ** 2)
            optimizer.zero_grad()
            cost.backward()
            optimizer.step()
            avg_cost += cost / len(dataloader)
            updates.append((epoch, x_train, cost.item(), W.detach().reshape(-1).tolist(), b.item()))
        avg_costs.append(avg_cost.item())
    return updates, avg_costs


@pytest.mark.parametrize("batch, per_epoch", [(2, 3), (1, 5)])
def test_multivar_minibatches_are_a_real_dataloaders(batch, per_epoch):
    updates, avg_costs = lab_minibatch(batch)  # first: both draw from torch's global RNG
    runner = make_runner("multivar", f"batch={batch}")
    assert runner.limit == 21 * per_epoch
    for k, (epoch, x, cost, w, b) in enumerate(updates):
        if k % per_epoch == 0:  # this epoch's batches, listed when it starts
            listed = [bx for _, bx, _ in runner.scenario.batches]
            lab_x = [u[1] for u in updates[k : k + per_epoch]]
            assert all(torch.equal(a, c) for a, c in zip(listed, lab_x, strict=True))
        runner.step(1)
        rec = runner.record()
        assert rec["loss"] == cost and [rec["w1"], rec["w2"], rec["w3"]] == w and rec["b"] == b
        assert (rec["epoch"], rec["batch_index"]) == (epoch + 1, k % per_epoch + 1)
        if k % per_epoch == per_epoch - 1:
            assert rec["epoch_cost"] == avg_costs[epoch]
        else:
            assert "epoch_cost" not in rec
    assert runner.done


def epoch_costs(records: list[dict]) -> list[float]:
    return [r["epoch_cost"] for r in records if "epoch_cost" in r]


def test_minibatches_converge_in_fewer_epochs_and_then_stay_noisy():
    full = records_of(make_runner("multivar"))
    mini = epoch_costs(records_of(make_runner("multivar", "batch=2")))
    one = epoch_costs(records_of(make_runner("multivar", "batch=1")))
    assert set(full[-1]) == {"step", "loss", "w1", "w2", "w3", "b"}  # batch=5: as before
    assert mini[:3] == pytest.approx([14053.512, 398.373, 12.691], rel=1e-4)
    assert one[:3] == pytest.approx([9180.839, 27.168, 2.876], rel=1e-4)
    assert full[2]["loss"] > 20 * mini[2] > 20 * one[2]  # epoch 3: more updates went in
    assert min(mini[3:]) > 1.5 and max(mini[3:]) < 3  # then noise around the floor


def test_the_quiz_table_lists_this_epochs_batches_and_the_math_the_next_one():
    runner = make_runner("multivar", "batch=2", advance=4)  # epoch 2, batch 1 done
    view = runner.scenario.view()
    assert view["students"]["columns"][-1] == "batch"
    cells = [row[-1] for row in view["students"]["rows"]]
    assert sorted(c.removeprefix("▶") for c in cells) == ["1/3", "1/3", "2/3", "2/3", "3/3"]
    idx = [int(i) for i in runner.scenario.batches[1][0]]
    assert [i for i, c in enumerate(cells) if c.startswith("▶")] == sorted(idx)
    text = view["math"]["text"]
    who = ", ".join(str(i + 1) for i in idx)
    assert f"# Batch 2/3 of epoch 2: students {who}" in text
    assert "cost = 1/2 Σ" in text and "∂W = 2/2·Xᵀ(H − y)" in text
    line = next(p for p in runner.scenario.layout() if p.kind == "line")
    assert line.series == ("loss", "epoch_cost")
    full = make_runner("multivar", advance=4).scenario
    assert full.view()["math"]["text"].startswith("# H(X) = XW + b, row 1 (student 1)")
    assert "batch" not in full.view()["students"]["columns"][-1]


def test_minibatches_go_back_exactly():
    straight = make_runner("multivar", "batch=2", advance=20)
    at_20 = straight.record()
    straight.step(10)  # before the second run: each epoch draws from torch's global RNG
    at_30 = straight.record()
    runner = make_runner("multivar", "batch=2", advance=40)
    runner.goto(20)
    assert runner.record() == at_20
    runner.step(10)
    assert runner.record() == at_30

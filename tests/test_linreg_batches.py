"""linreg's batch size (COURSE.md §3, §6 "Batches"): `batch=3` is the full-batch lab, `batch=2|1`
the lab's loop over a real DataLoader, and `batch=3,2,1` one model per size side by side on one
cost surface, each exactly its own lab. The oracles are the lab's loops written out here."""

from __future__ import annotations

import pytest
import torch
from conftest import make_runner, records_of
from torch import optim
from torch.utils.data import DataLoader, Dataset

from dltui.cli import main

LR = 0.01


class CustomDataset(Dataset):
    """The mini-batch lab's Dataset, on the linear-regression data (x = y = [1, 2, 3])."""

    def __init__(self):
        self.x_data = [[1], [2], [3]]
        self.y_data = [[1], [2], [3]]

    def __len__(self):
        return len(self.x_data)

    def __getitem__(self, idx):
        x = torch.FloatTensor(self.x_data[idx])
        y = torch.FloatTensor(self.y_data[idx])
        return x, y


def lab(batch_size: int, epochs: int, lr: float = LR):
    """The lab's loop: the full batch as lab-02 writes it, smaller batches through a shuffled
    DataLoader (seed 777). Per update (epoch, x, cost, W, b); per epoch its avg_cost."""
    torch.manual_seed(777)
    x_train, y_train = torch.FloatTensor([[1], [2], [3]]), torch.FloatTensor([[1], [2], [3]])
    if batch_size >= 3:
        dataloader = [(x_train, y_train)]
    else:
        dataloader = DataLoader(CustomDataset(), batch_size=batch_size, shuffle=True)
    W = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = optim.SGD([W, b], lr=lr)
    updates, avg_costs = [], []
    for epoch in range(epochs):
        avg_cost = 0
        for x, y in dataloader:
            hypothesis = x * W + b
            cost = torch.mean((hypothesis - y) ** 2)
            optimizer.zero_grad()
            cost.backward()
            optimizer.step()
            avg_cost += cost / len(dataloader)
            updates.append((epoch, x, cost.item(), W.item(), b.item()))
        avg_costs.append(avg_cost.item())
    return updates, avg_costs


def test_batch_3_is_the_full_batch_lab_bit_for_bit():
    updates, _ = lab(3, 1001)
    records = records_of(make_runner("linreg", "batch=3"))
    assert len(records) == 1001
    assert [(r["loss"], r["W"], r["b"]) for r in records] == [u[2:] for u in updates]
    assert set(records[-1]) == {"step", "loss", "W", "b"}  # the lab's table, nothing added


@pytest.mark.parametrize("batch, per_epoch", [(2, 2), (1, 3)])
def test_mini_batches_are_the_labs_dataloader(batch, per_epoch):
    epochs = 30
    updates, avg_costs = lab(batch, epochs)  # first: both draw from a generator seeded 777
    runner = make_runner("linreg", f"batch={batch}", steps=epochs * per_epoch)
    assert make_runner("linreg", f"batch={batch}").limit == 1001 * per_epoch
    fit = runner.scenario.fits[0]
    for k, (epoch, x, cost, w, b) in enumerate(updates):
        if k % per_epoch == 0:  # this epoch's batches, listed when it starts, are the lab's
            lab_x = [u[1] for u in updates[k : k + per_epoch]]
            assert all(torch.equal(a[1], c) for a, c in zip(fit.batches, lab_x, strict=True))
        runner.step(1)
        rec = runner.record()
        assert (rec["loss"], rec["W"], rec["b"]) == (cost, w, b)
        assert (rec["epoch"], rec["batch_index"]) == (epoch + 1, k % per_epoch + 1)
        if k % per_epoch == per_epoch - 1:
            assert rec["epoch_cost"] == avg_costs[epoch]
        else:
            assert "epoch_cost" not in rec


def test_side_by_side_each_batch_size_is_its_own_lab():
    epochs = 20
    runner = make_runner("linreg", "batch=3,2,1", steps=3 * epochs)
    assert make_runner("linreg", "batch=3,2,1").limit == 3 * 1001  # a step: one of batch=1's
    records = records_of(runner)
    for size in (3, 2, 1):
        updates, avg_costs = lab(size, epochs)
        key = f"batch={size}"
        taken = [r for r in records if f"{key}/loss" in r]
        assert [(r[f"{key}/loss"], r[f"{key}/W"], r[f"{key}/b"]) for r in taken] == [
            u[2:] for u in updates
        ]
        assert [r[f"{key}/epoch_cost"] for r in records if f"{key}/epoch_cost" in r] == avg_costs


def test_larger_batches_spread_their_fewer_updates_over_each_epoch():
    records = records_of(make_runner("linreg", "batch=3,2,1", steps=6))
    steps = {k: [r["step"] for r in records if f"batch={k}/loss" in r] for k in (3, 2, 1)}
    assert steps == {3: [1, 4], 2: [1, 2, 4, 5], 1: [1, 2, 3, 4, 5, 6]}
    assert [r["epoch"] for r in records] == [1, 1, 1, 2, 2, 2]
    ends = [r["step"] for r in records if "batch=3/epoch_cost" in r]
    assert ends == [3, 6]
    for r in records:  # the header's loss: the highest cost of this step's updates
        assert r["loss"] == max(r[f"batch={k}/loss"] for k in (3, 2, 1) if f"batch={k}/loss" in r)
    assert all({"batch=3/W", "batch=2/W", "batch=1/W"} <= set(r) for r in records)


def test_each_paths_first_update_is_the_hand_computation():
    runner = make_runner("linreg", "batch=3,2,1")
    firsts = {fit.size: fit.batches[0] for fit in runner.scenario.fits}
    runner.step(1)
    rec = runner.record()
    for size, (idx, x, _) in firsts.items():
        xs = [float(v) for v in x.reshape(-1)]
        assert [i + 1.0 for i in idx] == xs  # x = the sample's number: [1], [2], [3]
        m = len(xs)
        # from W = b = 0 each H(xᵢ) − yᵢ = −xᵢ: ∂W = 2/m Σ −xᵢ·xᵢ, ∂b = 2/m Σ −xᵢ
        dw, db = -2 / m * sum(v * v for v in xs), -2 / m * sum(xs)
        assert rec[f"batch={size}/loss"] == pytest.approx(sum(v * v for v in xs) / m, rel=1e-6)
        assert rec[f"batch={size}/W"] == pytest.approx(-LR * dw, rel=1e-6)
        assert rec[f"batch={size}/b"] == pytest.approx(-LR * db, rel=1e-6)
    # the full batch: cost 14/3, ∂W = −28/3, ∂b = −4 → W = 0.09333, b = 0.04 (the lab's epoch 0)
    assert (rec["batch=3/W"], rec["batch=3/b"]) == (pytest.approx(0.28 / 3), pytest.approx(0.04))
    paths = {name: path for name, path in runner.frame().panels["surface"]["trajectories"]}
    assert paths["batch=1"][1].tolist() == pytest.approx([rec["batch=1/W"], rec["batch=1/b"]])


def test_smaller_batches_get_further_per_epoch_with_the_same_lr():
    last = records_of(make_runner("linreg", "batch=3,2,1", steps=3 * 30))[-1]  # 30 epochs

    def cost(k: int) -> float:  # over all three points, where batch=k's path is now
        w, b = last[f"batch={k}/W"], last[f"batch={k}/b"]
        return sum((w * x + b - x) ** 2 for x in (1, 2, 3)) / 3

    assert cost(3) > 1.5 * cost(2) and cost(2) > cost(1)  # after 30, 60 and 90 updates
    assert last["batch=3/W"] < last["batch=2/W"] < last["batch=1/W"]  # further down the valley
    assert last["batch=3/epoch_cost"] > 1.5 * max(
        last["batch=2/epoch_cost"], last["batch=1/epoch_cost"]
    )


def test_the_screen_of_several_batch_sizes():
    runner = make_runner("linreg", "batch=3,2,1", advance=4)  # epoch 2: each took its first
    kinds = [(p.kind, p.series) for p in runner.scenario.layout()]
    assert kinds == [
        ("field2d", ()),
        ("line", ("batch=3/loss", "batch=2/loss", "batch=1/loss")),
        ("line", ("batch=3/epoch_cost", "batch=2/epoch_cost", "batch=1/epoch_cost")),
        ("table", ()),
    ]
    panels = runner.frame().panels
    names = [name for name, _ in panels["surface"]["trajectories"]]
    assert names == ["batch=3", "batch=2", "batch=1"]  # the line panels' order: same colours
    rows = panels["fits"]["rows"]
    assert [r[0] for r in rows] == ["3", "2", "1"]
    full, two, one = (r[1] for r in rows)
    assert full == "[1, 2, 3]"  # its one update this epoch is taken: no ▶
    assert two.count("[") == 2 and one.count("[") == 3  # as many batches as updates an epoch
    assert two.index("▶") > 0 and one.index("▶") > 0  # the first of each is taken
    assert "a step is one update of batch=1 (3 an epoch)" in runner.scenario.caption


def test_one_mini_batch_size_writes_out_its_next_batch():
    runner = make_runner("linreg", "batch=2", advance=3)  # epoch 2, its first batch taken
    fit = runner.scenario.fits[0]
    idx, x, _ = fit.batches[1]
    text = runner.frame().panels["math"]["text"]
    assert text.splitlines()[0] == f"# Epoch 2: {fit.listing()} (m = {len(idx)})"
    assert "▶" + "[" + ", ".join(f"{float(v):g}" for v in x.reshape(-1)) + "]" in text
    line = next(p for p in runner.scenario.layout() if p.kind == "line")
    assert line.series == ("loss", "epoch_cost")
    assert "SGD, batch=2 (W, b)" in [n for n, _ in runner.frame().panels["surface"]["trajectories"]]


def test_the_learning_rate_reaches_every_model():
    runner = make_runner("linreg", "batch=3,2,1", advance=2)
    runner.scale_param("lr", 2.0)
    assert [f.optimizer.param_groups[0]["lr"] for f in runner.scenario.fits] == [0.02] * 3
    assert runner.frame().lr == 0.02


def test_several_batch_sizes_go_back_exactly():
    straight = make_runner("linreg", "batch=3,2,1", advance=20)
    at_20 = straight.record()
    straight.step(10)
    at_30 = straight.record()
    runner = make_runner("linreg", "batch=3,2,1", advance=40)
    runner.goto(20)
    assert runner.record() == at_20
    runner.step(10)
    assert runner.record() == at_30


def test_any_batch_size_blowing_up_stops_the_run():
    """lr=0.2 is past the full batch's limit (2/λmax = 0.18) but not batch=1's: the run stops
    as diverged when the full batch does, not when the last one left does."""
    records = records_of(make_runner("linreg", "batch=3,1", lr=0.2))
    last = records[-1]
    assert last["diverged"] is True and last["step"] == 112  # epoch 38
    assert last["loss"] == last["batch=3/loss"] > 1e7 and last["batch=1/loss"] < 1
    assert abs(last["batch=3/W"]) > 1000 and abs(last["batch=1/W"]) < 1


def test_a_batch_size_the_data_has_not_is_one_line(capsys):
    assert main(["run", "linreg", "--headless", "--set", "batch=4"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "batch='4' is not allowed" in err and "3, 2, 1" in err


def test_the_new_screen_snapshot(snap_scenario):
    assert snap_scenario("linreg", 90, "batch=3,2,1", "lr=0.06")

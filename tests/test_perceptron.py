"""The perceptron lab (COURSE.md §1): dltui's numbers are the plain PyTorch lab code's."""

from __future__ import annotations

import math

import pytest
import torch

from dltui.engine.runner import Runner
from dltui.scenario.params import Params
from dltui.registry import load

X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
XOR = [[0.0], [1.0], [1.0], [0.0]]


def lab_losses(steps: int, hidden: bool) -> list[float]:
    """The lab code as the course gives it: seed 777, layers in the lab's order, BCE, SGD lr 1."""
    torch.manual_seed(777)
    x, y = torch.FloatTensor(X), torch.FloatTensor(XOR)
    if hidden:
        linear1 = torch.nn.Linear(2, 2, bias=True)
        linear2 = torch.nn.Linear(2, 1, bias=True)
        model = torch.nn.Sequential(linear1, torch.nn.Sigmoid(), linear2, torch.nn.Sigmoid())
    else:
        linear = torch.nn.Linear(2, 1, bias=True)
        model = torch.nn.Sequential(linear, torch.nn.Sigmoid())
    criterion = torch.nn.BCELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        cost = criterion(model(x), y)
        cost.backward()
        optimizer.step()
        losses.append(cost.item())
    return losses


def run(name: str, steps: int, **values) -> Runner:
    cls = load(name)
    runner = Runner(cls, Params(cls.params, values), device="cpu", limit=steps)
    runner.losses = []
    while not runner.done:
        runner.step(1)
        runner.losses.append(runner.record()["loss"])
    return runner


def losses_of(runner: Runner) -> list[float]:
    return runner.losses


def test_xor_mlp_equals_the_lab_and_solves_xor():
    runner = run("xor", 10001)  # the lab's full run, every loss bit for bit
    assert losses_of(runner) == lab_losses(10001, hidden=True)
    assert runner.record() == {"step": 10001, "loss": pytest.approx(0.0012345, rel=1e-4),
                               "accuracy": 1.0}


def test_single_layer_xor_equals_the_lab_and_is_stuck_at_ln2():
    runner = run("xor", 2000, hidden=0)
    assert losses_of(runner) == lab_losses(2000, hidden=False)
    assert runner.record()["loss"] == pytest.approx(math.log(2), abs=1e-4)
    assert runner.record()["accuracy"] <= 0.75


@pytest.mark.parametrize("gate", ["and", "or", "nand"])
def test_linearly_separable_gates_are_learned(gate):
    runner = run(gate, 1000)
    losses = losses_of(runner)
    assert losses[-1] < losses[0] / 5
    assert runner.record()["accuracy"] == 1.0


def test_wide_deep_variant_and_other_activations_learn_xor():
    # The wide-deep sigmoid net needs ~5200 steps; tanh and ReLU hidden layers far fewer.
    for values, steps in (({"hidden": 10, "depth": 3}, 6000), ({"activation": "tanh"}, 500),
                          ({"activation": "relu", "hidden": 4}, 500)):
        runner = run("xor", steps, **values)
        assert runner.record()["accuracy"] == 1.0, values


def test_math_panel_shows_hand_backprop_equal_to_autograd():
    runner = run("xor", 10)
    text = runner.frame().panels["math"]["text"]
    for line in text.splitlines():
        if "by hand" in line and not line.startswith("#"):
            hand, auto = line.split("by hand")[1].split("autograd")
            assert hand.strip() == auto.strip()
    assert "autograd" in text and "loss = BCE" in text


def test_views_carry_the_four_points_and_truth_table():
    panels = run("xor", 3000).frame().panels
    assert panels["boundary"]["points"].shape == (4, 2)
    assert [row[2] for row in panels["truth"]["rows"]] == ["0", "1", "1", "0"]
    assert panels["truth"]["highlight"] == []
    assert not panels["boundary"]["z"].flags.writeable

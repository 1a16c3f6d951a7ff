"""The perceptron lab (COURSE.md §1): dltui's numbers are the plain PyTorch lab code's."""

from __future__ import annotations

import math
import re

import pytest
import torch
from conftest import make_runner, records_of

from dltui.engine.runner import Runner

X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
XOR = [[0.0], [1.0], [1.0], [0.0]]


def lab_model(hidden: bool) -> tuple[torch.nn.Module, list[torch.nn.Linear]]:
    """The lab's network, seeded as the lab seeds it; its Linear layers, first to last."""
    torch.manual_seed(777)
    if hidden:
        linear1 = torch.nn.Linear(2, 2, bias=True)
        linear2 = torch.nn.Linear(2, 1, bias=True)
        model = torch.nn.Sequential(linear1, torch.nn.Sigmoid(), linear2, torch.nn.Sigmoid())
        return model, [linear1, linear2]
    linear = torch.nn.Linear(2, 1, bias=True)
    return torch.nn.Sequential(linear, torch.nn.Sigmoid()), [linear]


def lab_losses(steps: int, hidden: bool, model: torch.nn.Module | None = None) -> list[float]:
    """The lab code as the course gives it: seed 777, layers in the lab's order, BCE, SGD lr 1."""
    if model is None:
        model, _ = lab_model(hidden)
    x, y = torch.FloatTensor(X), torch.FloatTensor(XOR)
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


def losses_of(runner: Runner) -> list[float]:
    """Step the run to its end; the loss recorded after each step (as the UI reads it)."""
    return [record["loss"] for record in records_of(runner)]


def test_xor_mlp_equals_the_lab_and_solves_xor():
    runner = make_runner("xor", steps=10001)  # the lab's full run, every loss bit for bit
    assert losses_of(runner) == lab_losses(10001, hidden=True)
    assert runner.record() == {
        "step": 10001,
        "loss": pytest.approx(0.0012345, rel=1e-4),
        "accuracy": 1.0,
    }


def test_single_layer_xor_equals_the_lab_and_is_stuck_at_ln2():
    runner = make_runner("xor", steps=2000, hidden=0)
    assert losses_of(runner) == lab_losses(2000, hidden=False)
    assert runner.record()["loss"] == pytest.approx(math.log(2), abs=1e-4)
    assert runner.record()["accuracy"] <= 0.75


@pytest.mark.parametrize("gate", ["and", "or", "nand"])
def test_linearly_separable_gates_are_learned(gate):
    runner = make_runner(gate, steps=1000)
    losses = losses_of(runner)
    assert losses[-1] < losses[0] / 5
    assert runner.record()["accuracy"] == 1.0


def test_wide_deep_variant_and_other_activations_learn_xor():
    # The wide-deep sigmoid net needs ~5200 steps; tanh and ReLU hidden layers far fewer.
    for values, steps in (
        ({"hidden": 10, "depth": 3}, 6000),
        ({"activation": "tanh"}, 500),
        ({"activation": "relu", "hidden": 4}, 500),
    ):
        runner = make_runner("xor", steps=steps, advance=steps, **values)
        assert runner.record()["accuracy"] == 1.0, values


NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def agrees(printed: str, value: float) -> bool:
    """`printed` is `value` rounded to the digits shown (a half unit of its last place)."""
    mantissa, _, exponent = printed.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return abs(float(printed) - value) <= 0.5 * 10.0 ** (int(exponent or 0) - decimals) * 1.0001


def test_math_panel_shows_hand_backprop_equal_to_autograd():
    """After 10 steps the panel's d_W by hand and autograd's are the lab's own gradients, at
    the printed precision: the numbers are checked, not the wording around them."""
    runner = make_runner("xor", steps=10, advance=10)
    text = runner.frame().panels["math"]["text"]
    model, linears = lab_model(hidden=True)
    lab_losses(10, hidden=True, model=model)  # the lab's net after the same 10 steps
    model.zero_grad()
    loss = torch.nn.BCELoss()(model(torch.FloatTensor(X)), torch.FloatTensor(XOR))
    loss.backward()
    assert f"{loss.item():.6f}" in text  # the loss of the shown forward pass
    lines = [line for line in text.splitlines() if "by hand" in line and "autograd" in line]
    assert [line.split()[0] for line in lines] == ["d_W2", "d_W1"], text
    for line, linear in zip(lines, reversed(linears)):
        hand, auto = line.split("by hand", 1)[1].split("autograd", 1)
        expected = linear.weight.grad.reshape(-1).tolist()  # (out, in) row by row
        for shown in (hand, auto):
            numbers = NUMBER.findall(shown)
            assert len(numbers) == len(expected), line
            assert all(agrees(n, v) for n, v in zip(numbers, expected)), (line, expected)
    assert "loss = BCE" in text


def test_math_and_info_say_how_the_slides_hand_backprop_relates_to_autograd(capsys):
    """COURSE.md §7: the slides' hand-written backprop sums d_W over the 4 samples (4×
    autograd's mean) and averages d_b. The panel's formula shows the 1/m its numbers carry, a
    line says the slide's d_W are 4× them, and `dltui info xor` says so too."""
    from dltui.cli import main

    runner = make_runner("xor", steps=10, advance=10)
    text = runner.frame().panels["math"]["text"]
    assert "d_l = (ŷ − y)/m, m = 4 (BCE∘σ, a mean)" in text
    assert "the slides' code sums d_W over the 4 inputs, no 1/m: 4× these" in text
    assert "it averages d_b, as autograd does" in text
    # The slide's code, as written, on the lab's net after the same 10 steps.
    model, (linear1, linear2) = lab_model(hidden=True)
    lab_losses(10, hidden=True, model=model)
    x, y = torch.FloatTensor(X), torch.FloatTensor(XOR)
    with torch.no_grad():
        l1 = x @ linear1.weight.T + linear1.bias
        a1 = torch.sigmoid(l1)
        y_pred = torch.sigmoid(a1 @ linear2.weight.T + linear2.bias)
        d_y_pred = (y_pred - y) / (y_pred * (1.0 - y_pred))  # the BCE's derivative
        d_l2 = d_y_pred * y_pred * (1 - y_pred)
        d_w2, d_b2 = a1.T @ d_l2, d_l2.mean(0)
        d_l1 = (d_l2 @ linear2.weight) * a1 * (1 - a1)
        d_w1, d_b1 = x.T @ d_l1, d_l1.mean(0)
    model.zero_grad()
    torch.nn.BCELoss()(model(x), y).backward()
    for slide, linear in ((d_w2, linear2), (d_w1, linear1)):
        torch.testing.assert_close(slide.T, 4 * linear.weight.grad)
    for slide, linear in ((d_b2, linear2), (d_b1, linear1)):
        torch.testing.assert_close(slide, linear.bias.grad)
    assert main(["info", "xor"]) == 0
    info = " ".join(capsys.readouterr().out.split())
    assert (
        "the slides' hand-written backprop sums d_W over the 4 samples (4× dltui's) "
        "and averages d_b (equal to dltui's)" in info
    )


def test_views_carry_the_four_points_and_truth_table():
    panels = make_runner("xor", steps=3000, advance=3000).frame().panels
    assert panels["boundary"]["points"].shape == (4, 2)
    assert [row[2] for row in panels["truth"]["rows"]] == ["0", "1", "1", "0"]
    assert panels["truth"]["highlight"] == []
    assert not panels["boundary"]["z"].flags.writeable

"""Hand-set weights on the gate and xor screens (COURSE.md §1): the slides' worked neuron
g(1 + 3·(−1) − 2·2) = g(−6) ≈ 0.0025, their hand-made XOR net, XOR = AND(NAND, OR) with steps,
and the keys that move a weight live."""

from __future__ import annotations

import pytest
import torch
from conftest import make_runner

from dltui.scenario.params import UsageError

X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


def outputs(runner) -> list[float]:
    return [float(row[3]) for row in runner.frame().panels["truth"]["rows"]]


def test_the_slides_worked_neuron_gives_g_of_minus_6():
    runner = make_runner("or", "train=off", "weights=course", advance=1)
    text = runner.frame().panels["math"]["text"]
    assert torch.sigmoid(torch.tensor(1 + 3 * -1 - 2 * 2.0)).item() == pytest.approx(
        0.0025, abs=5e-5
    )
    assert "ŷ = σ(3·(−1) − 2·2 + 1) = σ(−6) = 0.0025" in text
    assert "ŷ = σ(3x₁ − 2x₂ + 1)" in text
    lin = runner.scenario.linears[0]
    assert lin.weight.tolist() == [[3.0, -2.0]] and lin.bias.tolist() == [1.0]


def test_the_slides_hand_made_xor_net():
    runner = make_runner("xor", "train=off", "weights=course", advance=3)
    y1 = torch.sigmoid(X @ torch.tensor([5.0, 5.0]) - 8)
    y2 = torch.sigmoid(X @ torch.tensor([-7.0, -7.0]) + 3)
    z = torch.sigmoid(-11 * y1 - 11 * y2 + 6)
    assert outputs(runner) == pytest.approx(z.tolist(), abs=5e-5)
    assert [round(v) for v in z.tolist()] == [0, 1, 1, 0]
    assert runner.record()["accuracy"] == 1.0
    text = runner.frame().panels["math"]["text"]
    assert "y₁ = σ(5x₁ + 5x₂ − 8),  y₂ = σ(−7x₁ − 7x₂ + 3),  ŷ = σ(−11y₁ − 11y₂ + 6)" in text
    assert "x = (0, 0): y₁ = σ(−8) = 0.0003,  y₂ = σ(3) = 0.9526" in text  # "Sigmoid(−8) = 0"
    # No training: three forward passes leave the weights as set.
    assert runner.scenario.linears[1].weight.tolist() == [[-11.0, -11.0]]


def test_xor_from_nand_and_or_with_step_units():
    runner = make_runner("xor", "train=off", "weights=nand-or", "activation=step", advance=1)
    assert outputs(runner) == [0.0, 1.0, 1.0, 0.0]
    assert "loss" not in runner.record()  # a step's BCE is 0 or 100: none is shown
    text = runner.frame().panels["math"]["text"]
    assert "y₁ = step(−2x₁ − 2x₂ + 3),  y₂ = step(2x₁ + 2x₂ − 1)" in text
    assert "x = (1, 1): y₁ = step(−1) = 0,  y₂ = step(3) = 1,  ŷ = step(−1) = 0 → 0 ✓" in text


def test_keys_move_a_weight_live_and_reset_keeps_it():
    runner = make_runner("or", "train=off", "weights=1,1,-0.5", advance=1)
    assert outputs(runner)[0] < 0.5  # OR(0, 0) = 0
    runner.press("w")
    runner.press("w")  # the bias
    for _ in range(2):
        assert runner.press("up").startswith("ŷ b = ")
    assert runner.params["weights"] == "1,1,0.5"
    assert outputs(runner)[0] > 0.5  # the bias moved the line past (0, 0)
    runner.step(1)
    assert runner.record()["accuracy"] == 0.75
    runner.reset()
    assert runner.scenario.linears[0].bias.tolist() == [0.5]


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (("activation=step",), "activation=step has no gradient"),
        (("train=off", "weights=1,2"), "weights= has 2 numbers; this net has 3"),
        (("train=off", "weights=nand-or"), "weights=nand-or is for the 2-2-1 net"),
        (("train=off", "weights=a,b"), "weights='a,b': give numbers"),
    ],
)
def test_bad_hand_settings_are_one_clear_line(sets, message):
    with pytest.raises(UsageError, match=message):
        make_runner("and", *sets)


def test_training_from_hand_set_weights():
    """train=on (the default) with weights=…: SGD starts from the teacher's weights."""
    runner = make_runner("or", "weights=1,1,-0.5", advance=1)
    assert runner.scenario.linears[0].bias.item() != -0.5  # one update moved it
    assert runner.record()["loss"] == pytest.approx(
        torch.nn.BCELoss()(
            torch.sigmoid(X @ torch.tensor([1.0, 1.0]) - 0.5)[:, None],
            torch.tensor([[0.0], [1.0], [1.0], [1.0]]),
        ).item()
    )

"""Activation functions (COURSE.md §1, §4, §6): g′ equals the slides' formulas, the layer's
saturated and dead shares are what its pre-activations say, and a linear "activation" never
solves XOR while the rest of the gallery does."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conftest import make_runner

from dltui.scenarios.activations import ACTIVATIONS, derivative

Z = torch.linspace(-5, 5, 101)
SLIDES = {
    "sigmoid": lambda z: torch.sigmoid(z) * (1 - torch.sigmoid(z)),
    "tanh": lambda z: 1 - torch.tanh(z) ** 2,
    "relu": lambda z: (z > 0).float(),
    "leaky_relu": lambda z: torch.where(z > 0, 1.0, 0.01),
    "elu": lambda z: torch.where(z > 0, 1.0, torch.exp(z)),
    "softplus": torch.sigmoid,
    "softsign": lambda z: 1 / (1 + z.abs()) ** 2,
    "swish": lambda z: torch.sigmoid(z) * (1 + z * (1 - torch.sigmoid(z))),
    "gelu": lambda z: (
        0.5 * (1 + torch.erf(z / math.sqrt(2)))
        + z * torch.exp(-(z**2) / 2) / math.sqrt(2 * math.pi)
    ),
    "linear": torch.ones_like,
}


@pytest.mark.parametrize("name", sorted(SLIDES))
def test_autograds_derivative_is_the_slides_formula(name):
    z = Z[Z.abs() > 1e-3]  # ReLU's kink at 0 is a convention
    assert torch.allclose(derivative(ACTIVATIONS[name](), z), SLIDES[name](z), atol=1e-5)


def test_shares_are_what_the_layers_pre_activations_say():
    runner = make_runner("activations", "init_std=3", advance=10)
    sc = runner.scenario
    z = sc.linears[0](sc.X).detach()  # layer 1's pre-activations, computed here
    slope = torch.sigmoid(z) * (1 - torch.sigmoid(z))
    record = runner.record()
    assert record["saturated"] == pytest.approx(float((slope < 0.025).float().mean()))
    assert record["saturated"] > 0.1  # N(0, 3²) weights: a sixth of z on the flat tails
    assert record["dead"] == 0.0 and record["mean_slope"] == pytest.approx(float(slope.mean()))
    hist = runner.frame().panels["hist"]
    shares = hist["series"][0][1]
    assert shares.sum() == pytest.approx(1.0)
    assert len(hist["labels"]) == len(shares) == 14
    assert hist["labels"][0] == "<−6 s" and hist["labels"][7] == "0…1"


def test_a_large_lr_kills_relu_units():
    runner = make_runner("activations", "activation=relu", "lr=5", advance=300)
    sc = runner.scenario
    z = sc.linears[0](sc.X).detach()
    dead_units = float((z <= 0).all(0).float().mean())
    assert runner.record()["dead_units"] == pytest.approx(dead_units)
    assert dead_units >= 0.25  # dead on every point: no gradient ever reaches them again
    assert "dead units" in runner.frame().panels["math"]["text"]


def test_tab_shows_the_next_layer():
    runner = make_runner("activations", "depth=3", advance=1)
    assert runner.press("tab") == "showing layer 2's pre-activations"
    runner.press("tab")
    assert runner.press("tab") == "showing layer 1's pre-activations"


def test_linear_activations_never_solve_xor():
    """A stack of linear layers is one linear map: XOR stays at ln 2, whatever the size."""
    for sets, steps in (
        (("activation=linear",), 3000),
        (("activation=linear", "hidden=10", "depth=3"), 2000),
    ):
        runner = make_runner("xor", *sets, steps=steps, advance=steps)
        assert runner.record()["loss"] == pytest.approx(math.log(2), abs=1e-4), sets
        assert runner.record()["accuracy"] <= 0.75, sets


@pytest.mark.parametrize("activation", ["leaky_relu", "elu", "gelu"])
def test_the_rest_of_the_gallery_solves_xor(activation):
    runner = make_runner("xor", f"activation={activation}", steps=1000, advance=1000)
    assert runner.record()["accuracy"] == 1.0
    text = runner.frame().panels["math"]["text"]
    assert "by hand" in text  # the hand backprop uses autograd's g′ for these
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("d_W1"))
    hand, auto = line.split("by hand")[1].split("autograd")
    assert np.allclose(
        [float(v) for v in hand.strip(" []").split(",")],
        [float(v) for v in auto.strip(" []").split(",")],
        atol=2e-4,
    )

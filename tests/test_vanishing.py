"""Vanishing gradients (COURSE.md §4): a deep sigmoid net can't learn; ReLU+Kaiming, BatchNorm can.

The pinned figures are what the defaults give with seed 777 on the CPU (same seed ⇒ same
numbers). Tiny matmuls run faster on one thread than on two busy cores, so this file trains with
one torch thread and restores the setting afterwards.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import make_runner, records_of

from dltui.registry import load
from dltui.scenario.params import Params, UsageError
from dltui.scenarios.vanishing import DATA_SEED, N_TRAIN, parse_compare, spirals

Vanishing = load("vanishing")


pytestmark = pytest.mark.usefixtures("one_thread")


def lab_losses(steps: int, seed: int = 777) -> list[float]:
    """The plain PyTorch lab: 10 × Linear(32)+Sigmoid, Linear(32, 1), BCE, SGD(0.1), batch 32."""
    data = spirals(1400, 0.02, np.random.default_rng(DATA_SEED))
    x, y = (torch.tensor(a[:N_TRAIN]) for a in data)
    torch.manual_seed(seed)
    layers: list[torch.nn.Module] = []
    for fan_in in [2] + [32] * 9:
        layers += [torch.nn.Linear(fan_in, 32), torch.nn.Sigmoid()]
    model = torch.nn.Sequential(*layers, torch.nn.Linear(32, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = torch.Generator().manual_seed(seed)
    losses: list[float] = []
    while len(losses) < steps:
        order = torch.randperm(N_TRAIN, generator=batches)
        for start in range(0, N_TRAIN - 31, 32):
            idx = order[start : start + 32]
            loss = F.binary_cross_entropy_with_logits(model(x[idx]).squeeze(1), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses[:steps]


def test_losses_equal_the_plain_pytorch_lab():
    runner = make_runner("vanishing", steps=70)
    # 70 steps cross an epoch boundary (31 batches of 32 per epoch)
    losses = [record["loss"] for record in records_of(runner)]
    assert losses == pytest.approx(lab_losses(70), rel=1e-6)


def test_first_step_gradient_of_layer_1_is_a_billion_times_smaller():
    rec = make_runner("vanishing", steps=1, advance=1).record()
    norms = [rec[f"grad_norm/{k}"] for k in range(1, 12)]
    assert "grad_norm/12" not in rec
    assert norms == sorted(norms)  # every layer further from the output gets less
    assert norms[-1] / norms[0] > 1000
    assert rec["grad_norm/1"] == pytest.approx(5.8177e-10, rel=1e-3)
    assert rec["grad_norm/11"] == pytest.approx(0.49831, rel=1e-4)
    assert rec["loss"] == pytest.approx(0.73981, rel=1e-4)
    assert rec["test_accuracy"] == pytest.approx(0.52)


def test_sigmoid_stays_at_a_coin_toss_while_batchnorm_learns_the_spirals():
    rec = make_runner("vanishing", "compare=batchnorm", steps=2000, advance=2000).record()
    assert rec["test_accuracy"] < 0.7 and rec["cmp/test_accuracy"] > 0.9
    assert rec["test_accuracy"] == pytest.approx(0.52)
    assert rec["loss"] == pytest.approx(0.70218, rel=1e-3)
    assert rec["cmp/test_accuracy"] == pytest.approx(1.0)
    # Not pinned closer: 2000 steps of BatchNorm training amplify the last-bit differences of
    # CPU kernels (0.048 with AVX2 kernels, 0.058 and 0.071 on other machines).
    assert rec["cmp/loss"] < 0.1


def test_relu_with_kaiming_init_learns_the_spirals():
    runner = make_runner("vanishing", "activation=relu", "init=kaiming", steps=2000, advance=2000)
    rec = runner.record()
    assert rec["test_accuracy"] == pytest.approx(1.0)
    assert rec["loss"] < 1e-3


def test_compared_net_is_the_run_it_would_be_on_its_own():
    both, alone, first = (
        make_runner("vanishing", *sets, steps=60, advance=60).record()
        for sets in (
            ("compare=activation=relu+init=kaiming",),
            ("activation=relu", "init=kaiming"),
            (),
        )
    )
    assert {k: v for k, v in both.items() if not k.startswith("cmp/")} == first
    assert {k.removeprefix("cmp/"): v for k, v in both.items() if k.startswith("cmp/")} == {
        k: v for k, v in alone.items() if k != "step"
    }


def test_compare_syntax_and_clear_errors():
    p = Params(Vanishing.params)
    assert parse_compare("relu+kaiming", p) == {"activation": "relu", "init": "kaiming"}
    assert parse_compare("bn", p) == {"batchnorm": True}
    assert parse_compare("activation=tanh + depth=3 + lr=0.5", p) == {
        "activation": "tanh",
        "depth": 3,
        "lr": 0.5,
    }
    assert parse_compare("", p) == {}
    with pytest.raises(UsageError, match="cannot change 'batch'"):
        p.set_text("compare=batch=8")
    with pytest.raises(UsageError, match="not KEY=VALUE nor a shorthand"):
        p.set_text("compare=relux")
    with pytest.raises(UsageError, match="activation='swish' is not allowed"):
        p.set_text("compare=activation=swish")
    with pytest.raises(UsageError, match="batchnorm needs batch >= 2"):
        make_runner("vanishing", "batch=1", "compare=bn", steps=1, advance=1)


def test_bad_compare_on_the_command_line_is_one_line_and_exit_2():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dltui",
            "run",
            "vanishing",
            "--headless",
            "--steps",
            "1",
            "--set",
            "compare=depth=0",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "depth=0 is out of range" in proc.stderr


def test_tracked_layer_percentiles_follow_the_live_layer_param():
    runner = make_runner("vanishing", steps=10, advance=3)
    low = runner.record()
    assert low["pre/p15"] < low["pre/p50"] < low["pre/p85"]
    runner.set_param("layer", 40)  # clamped to the deepest hidden layer, 10
    runner.step(1)
    deep = runner.record()
    assert deep["pre/p15"] < deep["pre/p50"] < deep["pre/p85"]
    assert deep["pre/p50"] != pytest.approx(low["pre/p50"], abs=1e-2)


def test_live_lr_goes_to_both_nets_unless_compare_sets_its_own():
    runner = make_runner("vanishing", "compare=relu", steps=1, advance=1)
    runner.set_param("lr", 0.5)
    assert runner.scenario.cmp_optimizer.param_groups[0]["lr"] == 0.5
    runner = make_runner("vanishing", "compare=relu+lr=0.01", steps=1, advance=1)
    runner.set_param("lr", 0.5)
    assert runner.scenario.cmp_optimizer.param_groups[0]["lr"] == 0.01


def test_view_shows_both_nets_gradients_and_boundaries():
    runner = make_runner("vanishing", "compare=batchnorm", steps=5, advance=5)
    panels = runner.frame().panels
    bars = panels["grads"]
    assert bars["labels"] == [str(k) for k in range(1, 11)] + ["out"]
    assert [name for name, _ in bars["series"]] == ["sigmoid", "sigmoid+bn"]
    assert bars["log"] and all(len(v) == 11 for _, v in bars["series"])
    assert panels["boundary"]["z"].shape == panels["cmp_boundary"]["z"].shape == (61, 61)
    assert "10 factors σ′·W reach layer 1" in panels["math"]["text"]
    keys = {p.key for p in runner.scenario.layout()}
    assert {"grads", "boundary", "cmp_boundary", "math"} <= keys
    single = make_runner("vanishing", steps=1, advance=1)
    assert "cmp_boundary" not in {p.key for p in single.scenario.layout()}
    assert [n for n, _ in single.frame().panels["grads"]["series"]] == ["sigmoid"]
    deep = make_runner("vanishing", "depth=20", "compare=depth=3", steps=1, advance=1)
    deep = deep.frame().panels
    assert [len(v) for _, v in deep["grads"]["series"]] == [21, 21]  # aligned at the output
    assert "…" in deep["math"]["text"].splitlines()[1]


def test_snapshot_compare_relu_kaiming(snap_scenario):
    assert snap_scenario("vanishing", 200, "compare=relu+init=kaiming")


async def test_two_nets_get_square_boundaries_and_a_percentile_panel_each():
    """At 120×40 each boundary is about as tall in pixels (2 a text row) as it is wide: the
    spirals show, not a 5-row letterbox; and each net's three percentiles have a panel of their
    own, so neither net's curves hide under the other's."""
    from conftest import make_app, wait_for_step

    from dltui.ui.panel import PanelWidget

    app = make_app("vanishing", 2, ("compare=relu+init=kaiming",))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_step(pilot, 2)
        fields = [p for p in app.query(PanelWidget) if p.kind == "field2d"]
        assert len(fields) == 2
        for field in fields:
            width, height = field.content_size
            pixels_high = 2 * (height - 1)  # the last line is the axis ranges
            assert 0.8 <= pixels_high / width <= 1.25, (width, height)
        pre = [p.series for p in app.info.panels if p.kind == "line" and "pre/p50" in p.series[-2]]
        assert pre == [
            ("pre/p15", "pre/p50", "pre/p85"),
            ("cmp/pre/p15", "cmp/pre/p50", "cmp/pre/p85"),
        ]

"""Overfitting (COURSE.md §4, §6): with the defaults the big MLP really overfits (its validation
loss ends far above its lowest), early stopping names that step, and dropout (or L2) really
shrinks the gap between validation and training loss. Pinned numbers: seed 777 on the CPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import make_runner

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def dropout_run():
    """The defaults with compare=dropout, run to the end (1500 steps, ~8 s)."""
    return make_runner("overfit", "compare=dropout", advance=1500)


def test_defaults_overfit_and_dropout_shrinks_the_gap(dropout_run):
    rec = dropout_run.record()
    assert rec["step"] == 1500
    # the plain net: training loss near 0, validation 3.4× its lowest, reached at step 180
    assert rec["train_loss"] < 0.03
    assert rec["best_step"] == 180
    assert rec["best_val_loss"] == pytest.approx(0.33372, abs=1e-4)
    assert rec["val_loss"] == pytest.approx(1.1428, abs=1e-3)
    assert rec["val_loss"] > 3 * rec["best_val_loss"]
    gap = rec["val_loss"] - rec["train_loss"]
    # dropout p=0.5: the gap is 15× smaller, and it never climbs far from its lowest
    cmp_gap = rec["cmp/val_loss"] - rec["cmp/train_loss"]
    assert gap > 1.0 and cmp_gap < 0.1
    assert rec["cmp/val_loss"] < 1.1 * rec["cmp/best_val_loss"]
    # The dropout net's validation minimum is flat: which step holds it moves by one between
    # CPUs whose float kernels sum in another order (AVX2: 567, AVX-512: 566).
    assert 540 <= rec["cmp/best_step"] <= 600
    # early stopping keeps the step-180 weights: test loss 0.389 instead of 1.525 at the end
    assert rec["stopped_test_loss"] == pytest.approx(0.38947, abs=1e-4)
    assert rec["test_loss"] == pytest.approx(1.5247, abs=1e-2)  # CPU kernels: ±0.003
    assert rec["cmp/test_loss"] < 0.45


def test_early_stopping_keeps_the_weights_of_the_best_step(dropout_run):
    """best_step's val loss is measured at the weights of its forward pass: the weights after
    best_step − 1 updates, which is what a run stopped there holds."""
    stopped = make_runner("overfit", advance=179).record()
    assert stopped["test_loss"] == dropout_run.record()["stopped_test_loss"]


def test_the_plain_net_learns_the_flipped_points_the_dropout_net_does_not(dropout_run):
    sc = dropout_run.scenario
    flipped = torch.tensor(sc.flipped)
    assert 5 <= int(flipped.sum()) <= 10  # ~15% of 50
    agree = []
    for net in sc.nets:
        net.model.eval()
        with torch.no_grad():
            predicted = (net.model(sc.X).squeeze(1) > 0).float()
        agree.append(float((predicted == sc.Y)[flipped].float().mean()))
    assert agree[0] == 1.0  # every outlier fenced in by a wiggle of the boundary
    assert agree[1] < 0.5


def test_stop_here_marks_the_lowest_validation_loss(dropout_run):
    frame = dropout_run.frame()
    line = next(p for p in dropout_run.scenario.layout() if p.kind == "line")
    assert line.series == ("train_loss", "val_loss", "cmp/train_loss", "cmp/val_loss")
    best = int(dropout_run.record()["cmp/best_step"])
    assert frame.panels[line.key]["events"][:2] == ((180, "stop here"), (best, "stop (dropout)"))
    assert "plain: stop at 180, val 0.3337" in frame.panels["stop"]["text"]


def test_compare_trains_in_lockstep_and_leaves_the_first_net_alone():
    for sets in ((), ("batch=10",)):
        alone = make_runner("overfit", *sets, advance=30).record()
        both = make_runner("overfit", "compare=l2", *sets, advance=30)
        rec = both.record()
        assert {k: v for k, v in rec.items() if not k.startswith("cmp/")} == alone
    first = make_runner("overfit", "compare=l2", advance=1).record()
    assert first["cmp/loss"] == first["loss"]  # the same start weights, the same batch


def test_dropout_mask_is_a_masked_layer_of_about_p():
    runner = make_runner("overfit", "compare=dropout", advance=3)
    mask = runner.frame().panels["mask"]
    assert [t.split(":")[0] for t, _ in mask["matrices"]] == ["layer 1", "layer 2"]
    for title, m in mask["matrices"]:
        assert m.shape == (8, 16) and set(np.unique(m)) <= {-1.0, 0.0, 1.0}
        dropped, kept = int((m < 0).sum()), int((m > 0).sum())
        assert title.endswith(f"{dropped}/{dropped + kept} dropped")  # of the active units
        assert 0.3 < dropped / (dropped + kept) < 0.7  # p = 0.5 of the units a ReLU let through


def test_weight_decay_keeps_the_weights_small():
    bars = make_runner("overfit", "compare=l2", advance=300).frame().panels["weights"]
    (_, plain), (name, l2) = bars["series"]
    assert name == "L2 0.01" and np.all(l2 < plain)


def test_snapshot(snap_scenario):
    assert snap_scenario("overfit", 300, "compare=dropout")

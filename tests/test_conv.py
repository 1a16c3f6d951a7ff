"""Convolution arithmetic (COURSE.md §5, §6): the course's worked example and size cases, and every
map equal to torch.nn.functional's conv2d / max_pool2d / avg_pool2d."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from conftest import make_runner

from dltui.cli import main
from dltui.scenario.params import UsageError

COURSE_OUTPUT = [[8, 9, 8], [8, 5, 9], [6, 5, 5]]


def test_course_example_headless_record_carries_the_output(capsys):
    assert main(["run", "conv", "--headless"]) == 0
    final = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert final["step"] == 9  # one position per step
    assert final["output"] == COURSE_OUTPUT
    assert (final["out_h"], final["out_w"]) == (3, 3)
    assert final["value"] == 5


def test_the_courses_second_example():
    runner = make_runner("conv", "preset=course2", advance=9)
    assert runner.record()["output"] == [[12, 12, 17], [10, 17, 19], [9, 6, 14]]


def test_the_output_fills_in_one_position_per_step():
    runner = make_runner("conv", advance=2)
    rec = runner.record()
    assert rec["output"] == [[8, 9, None], [None] * 3, [None] * 3]
    text = runner.frame().panels["products"]["text"]
    assert "2·1 + 3·0 + 0·1" in text and text.endswith("= 9")  # out[0,1]: the course's 9
    grid = runner.frame().panels["input"]["text"].splitlines()
    assert grid[3] == "  1  0┃1 5 1┃0"  # the window at rows 0..2, cols 1..3


def run_to_end(*sets: str):
    runner = make_runner("conv", *sets)
    runner.step(runner.limit)
    return runner


@pytest.mark.parametrize(
    "sets",
    [
        ("input=7x9", "kernel=3", "stride=2", "padding=1", "filter=random"),
        ("input=8", "kernel=4", "stride=1", "padding=0", "pooling=max", "pool=2"),
        ("input=6x10", "kernel=2", "stride=2", "padding=2", "pooling=avg", "pool=3"),
        ("preset=lab-cnn",),
    ],
)
def test_maps_equal_torch_conv2d_and_pooling(sets):
    runner = run_to_end(*sets)
    sc, rec = runner.scenario, runner.record()
    p = sc.p
    expected = F.conv2d(sc.x[None, None], sc.f[None, None], stride=p.stride, padding=p.padding)
    assert torch.equal(sc.out, expected[0, 0])
    assert rec["output"] == expected[0, 0].tolist()
    assert (rec["out_h"], rec["out_w"]) == tuple(expected.shape[2:])
    if p.pooling != "none":
        pool = F.max_pool2d if p.pooling == "max" else F.avg_pool2d
        pooled = pool(expected, p.pool)[0, 0]
        assert torch.allclose(sc.pooled, pooled)
        assert torch.allclose(torch.tensor(rec["pooled"], dtype=pooled.dtype), pooled)
        assert runner.step_count == sc.out.numel() + pooled.numel()


@pytest.mark.parametrize(
    ("preset", "shape", "formula"),
    [
        ("227-11-4", (55, 55), "(227 − 11 + 0)/4 + 1 = 55  → 55×55"),
        ("64-7-2", (29, 29), "(64 − 7 + 0)/2 + 1 = 29.5 → 29  → 29×29"),
        ("32x64-5", (28, 60), "cols (64 − 5 + 0)/1 + 1 = 60  → 28×60"),
        ("lab-cnn", (28, 28), "pool 2: (14 − 2 + 0)/2 + 1 = 7 → 64×7×7 = 3136"),
        ("28-5-pool2", (24, 24), "max pool 2×2, stride 2: (24 − 2 + 0)/2 + 1 = 12  → 12×12"),
    ],
)
def test_presets_give_the_courses_sizes(preset, shape, formula):
    runner = make_runner("conv", f"preset={preset}", advance=1)
    sc = runner.scenario
    assert (sc.out_h, sc.out_w) == shape
    assert formula in runner.frame().panels["size"]["text"]
    assert runner.limit == sc.out_h * sc.out_w + sc.pool_h * sc.pool_w
    if preset == "lab-cnn":
        assert (sc.pool_h, sc.pool_w) == (14, 14)
        assert "→ 32 maps 28×28" in runner.frame().panels["size"]["text"]


def test_pooling_steps_write_out_their_window():
    runner = make_runner("conv", "pooling=max", "pool=2", advance=10)  # 9 conv + 1 pool
    text = runner.frame().panels["products"]["text"]
    assert "max(8, 9, 8, 5)" in text and text.endswith("= 9")
    assert runner.record()["pooled"] == [[9]]
    avg = make_runner("conv", "pooling=avg", advance=10).frame().panels["products"]["text"]
    assert "= 30/4" in avg and avg.endswith("= 7.50")


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (("kernel=7",), "kernel=7 does not fit the 5×5 input"),
        (("input=abc",), "input='abc': use 'course'"),
        (("filter=course2", "kernel=2"), "filter=course2 is 3×3"),
        (("pooling=max", "pool=4"), "pool=4 is larger than the 3×3 output map"),
        (("preset=nope",), "preset='nope' is not allowed"),
    ],
)
def test_bad_settings_are_one_clear_line(sets, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        make_runner("conv", *sets)


def test_snapshot(snap_scenario):
    assert snap_scenario("conv", 5, "padding=1")

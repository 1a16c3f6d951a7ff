"""The optimizer race: update rules against hand implementations, landscapes against finite
differences, the ravine lesson, divergence marking, params and their errors, a snapshot."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conftest import make_runner

from dltui.cli import main
from dltui.engine.runner import Runner
from dltui.scenario.params import UsageError
from dltui.scenarios.landscapes import LANDSCAPES, grid

NAMES = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")


def racer(run: Runner, name: str):
    return next(r for r in run.scenario.racers if r.name == name)


# -- the update rules, written out by hand (COURSE.md §3 and the torch docs) ---------------
GRADS = {
    "ravine": lambda p: np.array([0.05 * p[0], 10.0 * p[1]]),
    "rosenbrock": lambda p: np.array(
        [-2 * (1 - p[0]) - 400 * p[0] * (p[1] - p[0] ** 2), 200 * (p[1] - p[0] ** 2)]
    ),
}


def hand(name: str, grad, x0, lr: float, steps: int, constants: str = "torch") -> np.ndarray:
    x = np.array(x0, dtype=float)
    v, r, m, s, u = np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(2)
    course = constants == "course"
    out = [x.copy()]
    for t in range(1, steps + 1):
        g = grad(x)
        if name == "sgd":
            x = x - lr * g
        elif name == "momentum":  # the course's v ← αv − ε∇f, x ← x + v, with v = −ε·buffer
            v = 0.9 * v - lr * g
            x = x + v
        elif name == "nesterov":  # torch: b ← μb + g; x ← x − lr(g + μb)
            r = 0.9 * r + g
            x = x - lr * (g + 0.9 * r)
        elif name == "adagrad":  # the course: Δθ = −ε/(δ+√r) ⊙ g, δ = 1e-7
            r = r + g * g
            x = x - lr * g / ((1e-7 if course else 1e-10) + np.sqrt(r))
        elif name == "adadelta":  # torch (Zeiler 2012): ρ = 0.9, δ = 1e-6
            r = 0.9 * r + 0.1 * g * g
            delta = np.sqrt(u + 1e-6) / np.sqrt(r + 1e-6) * g
            u = 0.9 * u + 0.1 * delta * delta
            x = x - lr * delta
        elif name == "rmsprop" and course:  # the course: Δθ = −ε/√(δ+r) ⊙ g, δ = 1e-6, ρ 0.9
            r = 0.9 * r + 0.1 * g * g
            x = x - lr * g / np.sqrt(1e-6 + r)
        elif name == "rmsprop":
            r = 0.99 * r + 0.01 * g * g
            x = x - lr * g / (np.sqrt(r) + 1e-8)
        else:
            m = 0.9 * m + 0.1 * g
            s = 0.999 * s + 0.001 * g * g
            m_hat, s_hat = m / (1 - 0.9**t), s / (1 - 0.999**t)
            x = x - lr * m_hat / (np.sqrt(s_hat) + 1e-8)
        out.append(x.copy())
    return np.array(out)


@pytest.mark.parametrize("landscape", sorted(GRADS))
def test_first_positions_equal_hand_written_updates(landscape):
    run = make_runner("optimizers", f"landscape={landscape}")
    run.step(6)
    ls = LANDSCAPES[landscape]
    for name in NAMES:
        r = racer(run, name)
        expected = hand(name, GRADS[landscape], ls.start, ls.lrs[name], 6)
        np.testing.assert_allclose(r.path[: r.n], expected, rtol=1e-10, atol=1e-13, err_msg=name)
        assert run.record()[f"{name}/x"] == pytest.approx(expected[-1][0], rel=1e-10)


@pytest.mark.parametrize("constants", ["torch", "course"])
@pytest.mark.parametrize("landscape", sorted(GRADS))
def test_adadelta_and_the_course_constants_equal_their_formulas(landscape, constants):
    """Adadelta (optimizers=…,adadelta) and, with constants=course, Adagrad's and RMSProp's
    updates as the course's formulas write them, computed by hand for six steps."""
    names = ("adagrad", "adadelta", "rmsprop")
    run = make_runner(
        "optimizers",
        f"landscape={landscape}",
        f"optimizers={','.join(names)}",
        f"constants={constants}",
    )
    run.step(6)
    ls = LANDSCAPES[landscape]
    for name in names:
        r = racer(run, name)
        expected = hand(name, GRADS[landscape], ls.start, ls.lrs[name], 6, constants)
        np.testing.assert_allclose(r.path[: r.n], expected, rtol=1e-10, atol=1e-13, err_msg=name)


@pytest.mark.parametrize("constants", ["torch", "course"])
def test_the_course_constants_differ_from_torchs_where_the_formulas_do(constants):
    """The default is torch's own optimizers, step for step; course constants move Adagrad
    (δ 1e-7) a little and RMSProp (ρ 0.9, δ inside the root) a lot."""
    names = ("adagrad", "adadelta", "rmsprop")
    run = make_runner(
        "optimizers",
        "landscape=ravine",
        f"optimizers={','.join(names)}",
        f"constants={constants}",
    )
    run.step(20)
    ls = LANDSCAPES["ravine"]
    for name in names:
        w = torch.tensor(ls.start, dtype=torch.float64, requires_grad=True)
        opt = {
            "adagrad": torch.optim.Adagrad,
            "adadelta": torch.optim.Adadelta,
            "rmsprop": torch.optim.RMSprop,
        }[name]([w], lr=ls.lrs[name])
        for _ in range(20):
            opt.zero_grad()
            ls(w[0], w[1]).backward()
            opt.step()
        same = racer(run, name).w.tolist() == w.tolist()
        assert same == (constants == "torch" or name == "adadelta"), name


def test_adadelta_state_and_math_and_the_course_rmsprop_math():
    run = make_runner(
        "optimizers", "landscape=ravine", "optimizers=sgd,adam,adadelta", "selected=adadelta"
    )
    assert run.limit == 300 and [r.name for r in run.scenario.racers] == ["sgd", "adam", "adadelta"]
    assert run.scenario.lr_of("adadelta") == 1.0  # torch's default on every landscape
    run.step(3)
    r = racer(run, "adadelta")
    s = r.optimizer.state[r.w]
    row = run.frame().panels["racers"]["rows"][2]
    assert row[0] == "Adadelta" and row[-1] == (
        f"r=({s['square_avg'][0].item():+.4g}, {s['square_avg'][1].item():+.4g})  "
        f"u=({s['acc_delta'][0].item():+.4g}, {s['acc_delta'][1].item():+.4g})"
    )
    text = run.scenario.view()["math"]["text"]
    assert "Adadelta, step 3: lr 1, ρ 0.9, δ 1e-06" in text
    assert "Δ = √(u+δ)/√(r+δ)⊙g" in text and "u ← ρu + (1−ρ)Δ⊙Δ" in text
    assert "x ← x − lr·Δ" in text
    run = make_runner(
        "optimizers", "constants=course", "selected=rmsprop", "landscape=ravine", advance=2
    )
    text = run.scenario.view()["math"]["text"]
    assert "RMSProp, step 2: lr 0.02, ρ 0.9, δ 1e-06 (the course's)" in text
    assert "x ← x − lr·g/√(δ+r)" in text
    run.set_param("selected", "adagrad")
    assert "Adagrad, step 2: lr 0.5, δ 1e-07 (the course's)" in run.scenario.view()["math"]["text"]
    default = make_runner("optimizers", "selected=rmsprop", "landscape=ravine", advance=2)
    assert "RMSProp, step 2: lr 0.02, ρ 0.99, δ 1e-08\n" in default.scenario.view()["math"]["text"]


def test_adam_state_in_table_is_bias_corrected():
    run = make_runner("optimizers", "landscape=ravine", "optimizers=adam")
    run.step(3)
    row = run.frame().panels["racers"]["rows"][0]
    assert row[0] == "Adam" and row[-1].startswith("m̂=(") and "v̂=(" in row[-1]
    state = run.scenario.state(racer(run, "adam"))
    np.testing.assert_allclose(state["m̂"], np.array(state["m"]) / (1 - 0.9**3))
    np.testing.assert_allclose(state["v̂"], np.array(state["v"]) / (1 - 0.999**3))


# -- the landscapes ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(LANDSCAPES))
def test_landscape_gradient_matches_finite_differences(name):
    ls = LANDSCAPES[name]
    rng = np.random.default_rng(0)
    for _ in range(5):
        x0 = rng.uniform(*ls.xlim)
        y0 = rng.uniform(*ls.ylim)
        w = torch.tensor([x0, y0], dtype=torch.float64, requires_grad=True)
        ls(w[0], w[1]).backward()
        h = 1e-6
        f = lambda a, b: ls(
            torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)
        ).item()
        fd = [(f(x0 + h, y0) - f(x0 - h, y0)) / (2 * h), (f(x0, y0 + h) - f(x0, y0 - h)) / (2 * h)]
        np.testing.assert_allclose(w.grad.numpy(), fd, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", sorted(LANDSCAPES))
def test_declared_minima_are_minima(name):
    ls = LANDSCAPES[name]
    for label, mx, my in ls.minima:
        assert ls.xlim[0] < mx < ls.xlim[1] and ls.ylim[0] < my < ls.ylim[1], label
        w = torch.tensor([mx, my], dtype=torch.float64, requires_grad=True)
        value = ls(w[0], w[1])
        value.backward()
        assert w.grad.norm().item() < 1e-8, label
        for angle in np.linspace(0, 2 * np.pi, 8, endpoint=False):
            dx, dy = 1e-3 * np.cos(angle), 1e-3 * np.sin(angle)
            neighbour = ls(
                torch.tensor(mx + dx, dtype=torch.float64),
                torch.tensor(my + dy, dtype=torch.float64),
            )
            assert value.item() <= neighbour.item(), label


def test_grid_is_computed_once_and_read_only():
    run = make_runner("optimizers", steps=5)
    first = run.frame().panels["landscape"]
    run.step(2)
    second = run.scenario.view()["landscape"]
    assert first["z"] is second["z"] is grid("rosenbrock")[2]
    assert not first["z"].flags.writeable and first["log"] is True
    assert [t[0] for t in second["trajectories"]] == list(NAMES)
    assert second["markers"] == [("min (1,1)", 1.0, 1.0), ("start", -1.2, 1.0, "○")]


# -- the lessons ------------------------------------------------------------------------------
def test_ravine_momentum_and_adam_beat_sgd_after_300_steps():
    run = make_runner("optimizers", "landscape=ravine")
    assert run.limit == 300
    run.step(300)
    rec = run.record()
    dist = {n: math.hypot(rec[f"{n}/x"], rec[f"{n}/y"]) for n in NAMES}
    assert dist["momentum"] < dist["sgd"] and dist["adam"] < dist["sgd"]
    assert dist["sgd"] == pytest.approx(0.2988, abs=1e-3)  # still crawling along the valley
    assert dist["adam"] < 1e-4


@pytest.mark.parametrize("name", sorted(LANDSCAPES))
def test_every_racer_makes_progress_with_the_default_rates(name):
    run = make_runner("optimizers", f"landscape={name}", steps=300)
    start = LANDSCAPES[name].start
    start_loss = LANDSCAPES[name](torch.tensor(start[0]), torch.tensor(start[1])).item()
    run.step(300)
    rec = run.record()
    assert "diverged" not in rec
    for n in NAMES:
        assert rec[f"{n}/loss"] < 0.8 * start_loss, n


def test_a_diverging_racer_is_marked_and_the_others_go_on():
    run = make_runner("optimizers", "landscape=ravine", "lr.sgd=100", steps=50)
    run.step(50)
    assert run.step_count == 50 and run.diverged_at is None
    sgd = racer(run, "sgd")
    assert sgd.diverged_at is not None and sgd.diverged_at < 50
    assert sgd.n == sgd.diverged_at  # the start plus one point per good step: the path stops
    rec = run.record()
    assert rec["sgd/loss"] is None and rec["adam/loss"] < 1.0
    table = run.frame().panels["racers"]
    assert table["rows"][0][-1] == f"diverged at step {sgd.diverged_at}"
    assert table["highlight"] == [0]
    run.set_param("selected", "sgd")
    assert f"diverged at step {sgd.diverged_at}" in run.scenario.view()["math"]["text"]


# -- params -----------------------------------------------------------------------------------
def test_per_optimizer_lr_override_and_global_scale():
    run = make_runner("optimizers", "lr.adam=0.05")
    lrs = {r.name: r.optimizer.param_groups[0]["lr"] for r in run.scenario.racers}
    assert lrs["adam"] == 0.05 and lrs["sgd"] == LANDSCAPES["rosenbrock"].lrs["sgd"]
    run.scale_param("lr", 0.5)  # the `[` key
    assert racer(run, "adam").optimizer.param_groups[0]["lr"] == 0.025
    assert racer(run, "sgd").optimizer.param_groups[0]["lr"] == 0.001
    run.set_param("lr.sgd", 0.004)
    assert racer(run, "sgd").optimizer.param_groups[0]["lr"] == 0.002


def test_start_point_and_optimizer_subset():
    run = make_runner("optimizers", "start=-1.5,2", "optimizers=adam,sgd", steps=10)
    assert [r.name for r in run.scenario.racers] == ["adam", "sgd"]
    assert racer(run, "adam").path[0].tolist() == [-1.5, 2.0]
    line = next(p for p in run.scenario.layout() if p.kind == "line")
    assert line.series == ("adam/loss", "sgd/loss")
    assert line.options == {"logy": True, "ema": 0.0}
    run.step(10)
    assert set(run.record()) == {
        "step",
        "loss",
        "adam/loss",
        "adam/x",
        "adam/y",
        "sgd/loss",
        "sgd/x",
        "sgd/y",
    }


@pytest.mark.parametrize(
    "assignment, message",
    [
        ("optimizers=foo", "optimizers='foo' is not allowed; choose from: sgd, momentum"),
        ("start=1", "start needs 2 comma-separated numbers, got '1'"),
        ("landscape=moon", "landscape='moon' is not allowed; choose one of: ravine"),
        ("lr.adam=-1", "lr.adam=-1.0 is out of range"),
    ],
)
def test_bad_values_give_clear_errors(assignment, message, capsys):
    assert main(["run", "optimizers", "--headless", "--set", assignment]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_start_far_outside_the_window_is_refused():
    with pytest.raises(UsageError, match="too far from the rosenbrock window"):
        make_runner("optimizers", "start=1000,0")


def test_noise_is_seeded_and_changes_the_path():
    a = make_runner("optimizers", "noise=0.5", "landscape=saddle", steps=20)
    b = make_runner("optimizers", "noise=0.5", "landscape=saddle", steps=20)
    c = make_runner("optimizers", "landscape=saddle", steps=20)
    for r in (a, b, c):
        r.step(20)
    assert a.record() == b.record() != c.record()


def test_selected_optimizer_drives_the_math_panel():
    run = make_runner("optimizers", "landscape=ravine", steps=5)
    run.step(3)
    text = run.scenario.view()["math"]["text"]
    assert "Adam, step 3" in text and "m̂ = m/(1−β₁ᵗ)" in text
    run.set_param("selected", "momentum")
    text = run.scenario.view()["math"]["text"]
    assert "Momentum, step 3: lr 0.02, μ 0.9" in text and "v ← μv + g" in text
    v = racer(run, "momentum").optimizer.state[racer(run, "momentum").w]["momentum_buffer"]
    assert f"{v[0].item():+.4g}" in text


def test_snapshot(snap_scenario):
    assert snap_scenario("optimizers", 100, "landscape=ravine")


def test_snapshot_with_adadelta(snap_scenario):
    """Adadelta joins the race: its path, its r and u in the table, its update in the math."""
    assert snap_scenario(
        "optimizers", 100, "optimizers=sgd,adam,adadelta", "selected=adadelta", "landscape=ravine"
    )


def test_snapshot_with_the_course_constants(snap_scenario):
    """constants=course: RMSProp's ρ 0.9 and δ inside the root, in its math and its path."""
    assert snap_scenario("optimizers", 100, "constants=course", "selected=rmsprop")


def test_a_long_race_keeps_a_bounded_trail_that_still_starts_and_ends_right():
    from dltui.scenarios.optimizers import MAX_PATH, PATH_CAPACITY, Racer

    racer = Racer("sgd", torch.tensor([0.0, 0.0]), 0.1, noise_seed=0)
    for k in range(1, 50_000):
        racer.add_point([float(k), 0.0])
    assert len(racer.path) == PATH_CAPACITY and racer.n <= PATH_CAPACITY  # no doubling
    trail = racer.trajectory()
    assert len(trail) <= MAX_PATH + 1
    assert trail[-1].tolist() == [49_999.0, 0.0] and trail[0, 0] < 10
    assert np.all(np.diff(trail[:, 0]) > 0)  # still in order


# -- the screen: the selected racer, the start, a live landscape (issue 12, item 16) ----------
def test_the_selected_racer_is_marked_in_the_table_and_on_the_map():
    run = make_runner("optimizers", steps=5, advance=2)
    view = run.scenario.view()
    assert view["racers"]["selected"] == NAMES.index("adam")
    assert view["landscape"]["selected"] == "adam"
    assert run.press("tab") == "selected = sgd"  # wraps round to the first racer
    view = run.scenario.view()
    assert view["racers"]["selected"] == 0 and view["landscape"]["selected"] == "sgd"


def test_switching_the_landscape_live_restarts_the_racers_at_its_start():
    run = make_runner("optimizers", advance=10)
    assert run.press("L") == "landscape = saddle"  # the next landscape after rosenbrock
    start = LANDSCAPES["saddle"].start
    for r in run.scenario.racers:
        assert r.path[: r.n].tolist() == [list(start)]
        assert all(float(s.get("step", 0)) == 0 for s in r.optimizer.state.values())
    view = run.scenario.view()["landscape"]
    assert view["z"] is grid("saddle")[2] and ("start", *start, "○") in view["markers"]
    assert view["title"] == "Landscape: saddle (log-spaced contours)"
    assert run.events == [(10, "landscape=saddle")]  # marked on the loss curves
    run.step(5)
    fresh = make_runner("optimizers", "landscape=saddle", advance=5)
    same = {k: v for k, v in fresh.record().items() if k != "step"}
    assert {k: v for k, v in run.record().items() if k != "step"} == same


def test_rastrigin_at_120x40_is_a_field_not_a_checkerboard_of_contours():
    """Rastrigin's ripples are 5-7 pixels wide in the 58×21 landscape panel of a 120×40
    screen: twelve log levels there put a contour on 92% of the pixels. Only the levels the
    pixels can show are drawn, so most pixels show the field's own colour."""
    from rich.console import Console

    from dltui.render import render
    from dltui.render.colors import SEQUENTIAL

    run = make_runner("optimizers", "landscape=rastrigin", steps=1)
    text = render("field2d", run.scenario.view()["landscape"], 58, 21, {})
    palette = {c.lower() for c in SEQUENTIAL}
    pixels = [
        color.triplet.hex
        for row in text.split("\n")[:18]
        for seg in row.render(Console())
        if seg.text == "▀" * len(seg.text) and seg.style
        for color in (seg.style.color, seg.style.bgcolor)
        for _ in seg.text
        if color is not None and color.triplet
    ]
    assert len(pixels) > 1500
    contour = sum(p not in palette for p in pixels) / len(pixels)
    assert contour < 0.5, f"{contour:.0%} of the pixels are contour lines"


def test_a_live_landscape_restarts_the_schedule_and_its_marks_with_the_race():
    run = make_runner("optimizers", "schedule=multistep:30,80", steps=300, advance=50)
    loss = ",".join(f"{n}/loss" for n in NAMES)
    assert run.scenario.view()[loss]["events"] == [(30, "×0.1"), (80, "×0.1")]
    run.set_param("landscape", "ravine")
    assert run.scenario.view()[loss]["events"] == [(80, "×0.1"), (130, "×0.1")]
    assert racer(run, "adam").optimizer.param_groups[0]["lr"] == LANDSCAPES["ravine"].lrs["adam"]


def test_adadelta_and_the_course_rmsprop_go_back_exactly():
    sets = ("optimizers=adagrad,adadelta,rmsprop", "constants=course")
    straight = make_runner("optimizers", *sets, steps=40, advance=15)
    runner = make_runner("optimizers", *sets, steps=40, advance=40)
    runner.goto(15)
    assert runner.record() == straight.record()
    runner.step(25)
    straight.step(25)
    assert runner.record() == straight.record()

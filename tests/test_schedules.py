"""Learning-rate schedules (COURSE.md §3, §6): the `schedule` param of the optimizer race and of
mnist gives the lr sequence of torch.optim.lr_scheduler's own classes, the course's
MultiStepLR(milestones=[30, 80]) turns 0.05 into 0.005 and 0.0005, and the lr panel sits
beside the loss with the milestones marked."""

from __future__ import annotations

import pytest
import torch
from conftest import make_runner, records_of

from dltui.cli import main
from dltui.scenario.params import UsageError
from dltui.scenario.schedules import Schedule

RACE = ("landscape=ravine", "optimizers=sgd", "lr.sgd=0.05")


def torch_lrs(make, steps: int, losses: list[float] | None = None) -> list[float]:
    """The lr of each epoch under a torch scheduler, stepped once an epoch."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.05)
    scheduler = make(opt)
    lrs = []
    for epoch in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()  # the epoch's training (no gradients here: the weights stay)
        scheduler.step(*([losses[epoch]] if losses else []))
    return lrs


S = torch.optim.lr_scheduler


@pytest.mark.parametrize(
    ("spec", "make"),
    [
        ("multistep:30,80", lambda o: S.MultiStepLR(o, milestones=[30, 80], gamma=0.1)),
        ("multistep:10,20:0.5", lambda o: S.MultiStepLR(o, milestones=[10, 20], gamma=0.5)),
        ("step:7", lambda o: S.StepLR(o, step_size=7, gamma=0.1)),
        ("exp:0.95", lambda o: S.ExponentialLR(o, gamma=0.95)),
        ("cosine:40", lambda o: S.CosineAnnealingLR(o, T_max=40)),
        ("plateau:3", lambda o: S.ReduceLROnPlateau(o, factor=0.1, patience=3)),
    ],
)
def test_race_lr_sequence_equals_torchs_scheduler(spec, make):
    records = records_of(make_runner("optimizers", *RACE, f"schedule={spec}", steps=100))
    losses = [r["sgd/loss"] for r in records] if spec.startswith("plateau") else None
    assert [r["sgd/lr"] for r in records] == torch_lrs(make, 100, losses)


def test_the_courses_multistep_gives_0_05_then_0_005_then_0_0005():
    records = records_of(make_runner("optimizers", *RACE, "schedule=multistep:30,80", steps=100))
    lrs = [r["sgd/lr"] for r in records]
    assert lrs[:30] == [0.05] * 30  # epochs 0..29
    assert lrs[30:80] == pytest.approx([0.005] * 50)  # 30 <= epoch < 80
    assert lrs[80:] == pytest.approx([0.0005] * 20)  # epoch >= 80


def test_race_shows_the_lr_beside_the_loss_with_the_milestones_and_constant_twins():
    runner = make_runner(
        "optimizers", *RACE, "schedule=multistep:30,80", "twins=on", steps=100, advance=100
    )
    sc = runner.scenario
    panels = sc.layout()
    kinds = [(p.kind, p.title.split()[0]) for p in panels]
    assert kinds[1:3] == [("line", "Loss"), ("line", "Learning")]  # the lr right of the loss
    assert sc.columns == 3 and panels[2].series == ("sgd/lr", "sgd:const/lr")
    assert panels[1].series == ("sgd/loss", "sgd:const/loss")
    frame = runner.frame()
    assert frame.panels[panels[2].key]["events"] == ((30, "×0.1"), (80, "×0.1"))
    rec = runner.record()
    assert rec["sgd:const/lr"] == 0.05 and rec["sgd/lr"] == pytest.approx(0.0005)
    # the twin is the run without a schedule, step for step
    alone = make_runner("optimizers", *RACE, steps=100, advance=100).record()
    assert rec["sgd:const/loss"] == alone["sgd/loss"]
    assert rec["sgd/loss"] != alone["sgd/loss"]


def test_a_live_lr_change_keeps_the_schedules_cut():
    runner = make_runner("optimizers", *RACE, "schedule=multistep:30,80", advance=40)
    opt = runner.scenario.racers[0].optimizer
    assert opt.param_groups[0]["lr"] == pytest.approx(0.005)
    runner.scale_param("lr", 2)  # the `]` key: base 0.1, still cut by 10 after epoch 30
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01)
    runner.step(50)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.001)


def test_without_a_schedule_the_race_is_unchanged():
    runner = make_runner("optimizers", steps=3, advance=3)
    assert not any(k.endswith("/lr") for k in runner.record())
    assert [p.kind for p in runner.scenario.layout()] == ["field2d", "line", "text", "table"]
    assert runner.scenario.columns == 2


def test_mnist_schedule_steps_each_epoch_with_the_courses_numbers():
    pytest.importorskip("sklearn")
    runner = make_runner(
        "mnist",
        "dataset=digits",
        "model=linear",
        "lr=0.05",
        "epochs=3",
        "batch_size=300",
        "schedule=multistep:1,2",
    )
    records = records_of(runner)
    per_epoch = {r["epoch"]: r["lr"] for r in records}
    assert per_epoch == pytest.approx({1.0: 0.05, 2.0: 0.005, 3.0: 0.0005})
    batches = runner.scenario.batches_per_epoch
    lr_panel = next(p for p in runner.scenario.layout() if p.series == ("lr",))
    assert runner.frame().panels[lr_panel.key]["events"] == (
        (batches, "×0.1"),
        (2 * batches, "×0.1"),
    )
    titles = [p.title.split()[0] for p in runner.scenario.layout()[:2]]
    assert titles == ["Loss", "Learning"]


@pytest.mark.parametrize(
    ("text", "canonical"),
    [("", "constant"), ("MultiStep:30,80", "multistep:30,80"), ("step:10:0.5", "step:10:0.5")],
)
def test_schedule_spelling(text, canonical):
    assert Schedule.parse(text).text == canonical


@pytest.mark.parametrize(
    "text", ["linear", "multistep:80,30", "multistep:", "step:0", "exp:1.5", "exp:x", "cosine:0"]
)
def test_bad_schedules_are_refused(text):
    with pytest.raises(UsageError, match="schedule="):
        Schedule.parse(text)


def test_bad_schedule_on_the_command_line_is_one_line_and_exit_2(capsys):
    assert main(["run", "optimizers", "--headless", "--set", "schedule=step:x"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [err] and "schedule='step:x'" in err


def test_twins_without_a_schedule_are_refused():
    with pytest.raises(UsageError, match="twins=on races constant-lr twins beside a schedule"):
        make_runner("optimizers", "twins=on")


def test_snapshot(snap_scenario):
    assert snap_scenario(
        "optimizers", 100, *RACE, "optimizers=sgd,adam", "schedule=multistep:30,80", "twins=on"
    )

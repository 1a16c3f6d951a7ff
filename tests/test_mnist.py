"""The CNN lab (COURSE.md §5): dltui's losses are the DataLoader lab loop's, the digits reach the
lab's accuracy, the panels carry feature maps of the right shapes, and a run with no data (or no
GPU) is one clear line and exit code 2. No network: digits and generated IDX files only."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from conftest import make_runner
from torch.utils.data import DataLoader, TensorDataset

from dltui import cli
from dltui.engine.runner import Runner
from dltui.registry import load
from dltui.scenario import data
from dltui.scenario.params import UsageError
from dltui.scenarios.mnist import CNN

Mnist = load("mnist")


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    """A fake wall clock (10 ms a call) so images/s, and so the screen, are the same each run."""
    ticks = itertools.count()
    monkeypatch.setattr(Mnist, "clock", staticmethod(lambda: next(ticks) * 0.01))


def losses_of(runner: Runner) -> list[float]:
    return list(runner.history.snapshot(max_points=None)["loss"][1])


def lab_losses(model: torch.nn.Module, optimizer, X, Y, batch_size: int, steps: int):
    """The lab's loop: TensorDataset + DataLoader(shuffle=True, drop_last=True)."""
    loader = DataLoader(TensorDataset(X, Y), batch_size=batch_size, shuffle=True, drop_last=True)
    criterion = torch.nn.CrossEntropyLoss()
    losses: list[float] = []
    while len(losses) < steps:
        for X_batch, Y_batch in loader:
            optimizer.zero_grad()
            cost = criterion(model(X_batch), Y_batch)
            cost.backward()
            optimizer.step()
            losses.append(cost.item())
            if len(losses) == steps:
                break
    return losses


def test_cnn_is_the_labs_and_its_losses_are_the_dataloader_loops():
    # 5 batches an epoch: 7 steps cross an epoch
    runner = make_runner("mnist", dataset="digits", batch_size=300, steps=7, advance=7)
    sc = runner.scenario
    torch.manual_seed(777)
    model = CNN()  # the lab's class, layer for layer
    lab = lab_losses(
        model, torch.optim.Adam(model.parameters(), lr=1e-3), sc.train_x, sc.train_y, 300, 7
    )
    assert losses_of(runner) == lab
    assert runner.params["lr"] == 1e-3  # lr=0 means the lab's


def test_linear_model_is_the_softmax_lab():
    # 15 batches an epoch: 3 epochs
    runner = make_runner("mnist", dataset="digits", model="linear", steps=32, advance=32)
    sc = runner.scenario
    torch.manual_seed(777)
    linear = torch.nn.Linear(784, 10, bias=True)
    model = torch.nn.Sequential(torch.nn.Flatten(), linear)
    lab = lab_losses(
        model, torch.optim.SGD(linear.parameters(), lr=0.1), sc.train_x, sc.train_y, 100, 32
    )
    assert losses_of(runner) == lab
    assert lab[-1] < lab[0] / 2


def test_records_and_test_accuracy_at_each_epoch_end():
    runner = make_runner("mnist", dataset="digits", model="linear", epochs=2)
    assert runner.limit == 2 * 15  # epochs × batches per epoch (1500 // 100)
    runner.step(runner.limit)
    steps, values = runner.history.snapshot(max_points=None)["test_accuracy"]
    assert list(steps) == [15, 30]
    rec = runner.record()
    assert {"loss", "accuracy", "epoch", "images_per_s", "test_accuracy"} <= set(rec)
    assert rec["epoch"] == 2 and rec["test_accuracy"] > 0.8
    assert values[-1] == rec["test_accuracy"]
    assert rec["images_per_s"] > 0


def test_view_has_the_feature_maps_filters_probabilities_and_confusion():
    runner = make_runner("mnist", dataset="digits", batch_size=300, epochs=1, steps=5, advance=5)
    panels = runner.frame().panels
    ((_, probe),) = panels["probe"]["images"]
    assert probe.shape == (28, 28)
    assert [m.shape for _, m in panels["conv1"]["images"]] == [(14, 14)] * 32
    assert [m.shape for _, m in panels["conv2"]["images"]] == [(7, 7)] * 64
    assert [m.shape for _, m in panels["filters"]["images"]] == [(3, 3)] * 32
    ((_, probs),) = panels["probs"]["series"]
    assert probs.shape == (10,) and probs.sum() == pytest.approx(1, abs=1e-5)
    ((_, confusion),) = panels["confusion"]["matrices"]
    assert confusion.shape == (10, 10) and confusion.sum() == 297  # the whole test set
    assert "images/s" in panels["throughput"]["text"]
    # The live `probe` param picks another test image.
    runner.set_param("probe", 3)
    ((title3, probe3),) = runner.frame().panels["probe"]["images"]
    assert title3.startswith("#3") and not np.array_equal(probe, probe3)
    assert {p.key for p in runner.scenario.layout()} >= {
        "probe",
        "conv1",
        "conv2",
        "filters",
        "probs",
        "confusion",
        "throughput",
    }


def test_confusion_colours_show_the_mistakes_and_t_tests_mid_epoch():
    runner = make_runner("mnist", dataset="digits", batch_size=300, epochs=2)  # 5 batches/epoch
    runner.step(3)
    assert runner.frame().panels["confusion"]["matrices"] == []  # untested: "no data yet"
    runner.step(2)  # the end of epoch 1
    view = runner.frame().panels["confusion"]
    ((title, confusion),) = view["matrices"]
    mistakes = confusion.sum() - np.trace(confusion)
    assert title == f"epoch 1: {mistakes} wrong"
    # Colours saturate at the largest mistake, not at the diagonal's hundreds.
    assert view["vmax"] == (confusion - np.diag(np.diag(confusion))).max() < np.trace(confusion)
    runner.step(2)  # mid-epoch 2: the `t` key tests now, without taking a step
    message = runner.press("t")
    assert runner.step_count == 7 and message.startswith("test accuracy ")
    assert message.endswith("after 7 batches")
    ((title, confusion),) = runner.frame().panels["confusion"]["matrices"]
    assert title.startswith("step 7: ")
    assert f"{confusion.trace() / 297:.2%}" in message


def test_eta_counts_to_the_runs_own_limit():
    runner = make_runner("mnist", dataset="digits", steps=4, advance=4)  # of the scenario's 225
    assert runner.done and "ETA 0:00" in runner.frame().panels["throughput"]["text"]


def test_runs_on_idx_files_from_data_dir(tmp_path):
    folder = tmp_path / "FashionMNIST" / "raw"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 200), ("t10k", 50)):
        data.write_idx(
            folder / f"{prefix}-images-idx3-ubyte.gz",
            rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
        )
        data.write_idx(folder / f"{prefix}-labels-idx1-ubyte", np.arange(n, dtype=np.uint8) % 10)
    runner = make_runner(
        "mnist", dataset="fashion-mnist", data_dir=str(tmp_path), epochs=1, steps=2, advance=2
    )
    assert runner.limit == 2 and runner.record()["test_accuracy"] is not None
    assert "Boot" in runner.frame().panels["probs"]["labels"][9]


@pytest.mark.slow
def test_digits_reach_95_percent_in_the_labs_15_epochs():
    runner = make_runner("mnist", dataset="digits")
    assert runner.limit == 15 * 15
    runner.step(runner.limit)
    rec = runner.record()
    assert rec["test_accuracy"] >= 0.95
    assert rec["test_accuracy"] == pytest.approx(287 / 297, abs=2 / 297)  # seeded: 96.6 %


# -- clear errors --------------------------------------------------------------------------
def cli_error(capsys, *argv: str) -> str:
    assert cli.main(list(argv)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_device_cuda_without_a_gpu_is_exit_2(capsys):
    err = cli_error(
        capsys, "run", "mnist", "--headless", "--device", "cuda", "--set", "dataset=digits"
    )
    assert "CUDA is not available" in err


def test_amp_needs_cuda(capsys):
    err = cli_error(
        capsys,
        "run",
        "cnn",
        "--headless",
        "--device",
        "cpu",
        "--set",
        "dataset=digits",
        "--set",
        "amp=bf16",
    )
    assert "amp=bf16 needs a CUDA device" in err


def test_offline_with_nothing_on_disk_names_the_three_ways_out(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DLTUI_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    err = cli_error(capsys, "run", "mnist", "--headless", "--device", "cpu")
    for way in ("dltui data mnist", "--set data_dir=", "--set dataset=digits"):
        assert way in err
    with pytest.raises(UsageError):
        data.load("fashion-mnist")


def test_mnist_screen(snap_scenario):
    assert snap_scenario("mnist", 5, "dataset=digits", "batch_size=300", "epochs=1")


def test_mnist_softmax_math_screen(snap_scenario):
    """math=on: the probe's logits, e^z, e^z/Σe^z and −log p_true in place of the bars, after
    one epoch (its lab line and test accuracy in the throughput panel)."""
    assert snap_scenario("mnist", 15, "dataset=digits", "math=on")


def test_images_per_s_leaves_out_the_time_the_run_stood_paused(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(Mnist, "clock", staticmethod(lambda: now[0]))
    runner = make_runner("mnist", "dataset=digits", "batch_size=10")
    for _ in range(10):
        runner.step(1)
        now[0] += 0.1  # 10 images in 0.1 s: 100 images/s
    now[0] += 120.0  # the lecturer talks for two minutes, then steps on
    for _ in range(3):
        runner.step(1)
        now[0] += 0.1
        assert runner.scenario.throughput() == pytest.approx(100.0, rel=0.15)


async def test_softmax_regression_shows_all_ten_class_templates_at_120x40():
    """The ten 28×28 templates are the linear model's picture: at 120×40 all ten show, each
    under its class name (one row by two columns showed three and "+7 more")."""
    from conftest import make_app, wait_for_step

    from dltui.ui.panel import PanelWidget

    app = make_app("mnist", 2, ("dataset=digits", "model=linear"))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_step(pilot, 2)
        templates = next(p for p in app.query(PanelWidget) if p.key == "filters")
        text = templates.render().plain
        assert "more" not in text
        lines = [ln.split() for ln in text.split("\n")]
        titles = [t for ln in lines if ln and all(t.isdigit() for t in ln) for t in ln]
        assert titles == [str(k) for k in range(10)], text
        assert {p.key for p in app.query(PanelWidget)} >= {"probe", "probs", "confusion", "loss"}


def test_feature_maps_keep_a_gap_between_rows_of_tiles():
    """64 layer-2 maps of 7×7 in the 58×10 panel of a 120×40 screen: every row of tiles ends in
    an empty pixel row, so the maps read as tiles and do not stack into one block."""
    from rich.console import Console

    from dltui.render.images import render_images

    maps = [("", np.random.default_rng(k).random((7, 7))) for k in range(64)]
    text = render_images({"images": maps}, 58, 10)
    console = Console()
    filled = []  # per pixel row: does any tile draw there? (▀: fg on top, bg below; ▄: below)
    for line in text.split("\n")[:-1]:  # the last line says "+n more"
        cells = [(ch, line.get_style_at_offset(console, i)) for i, ch in enumerate(line.plain)]
        filled.append(any(ch == "▀" for ch, _ in cells))
        filled.append(any(ch == "▄" or (ch == "▀" and st.bgcolor) for ch, st in cells))
    rows = "".join("#" if f else "." for f in filled).strip(".")
    assert len([run for run in rows.split(".") if run]) >= 2, rows  # rows of tiles, apart


# -- the probe's softmax written out, the lab's avg_cost (issue 16, items 1 and 9) --------
@pytest.mark.parametrize("model", ["cnn", "linear"])
def test_probe_math_is_what_cross_entropy_adds_for_that_image(model):
    runner = make_runner("mnist", "dataset=digits", f"model={model}", "math=on", "probe=3")
    runner.step(20)
    scenario = runner.scenario
    panel = next(p for p in scenario.layout() if p.key == "probs")
    assert (panel.kind, panel.title) == ("text", "Softmax and cross-entropy of the probe")
    text = scenario.view()["probs"]["text"]
    x, label = scenario.test_x[3:4], int(scenario.test_y[3])
    with torch.no_grad():
        logits = scenario.model(x)
        per_image = torch.nn.CrossEntropyLoss(reduction="none")(logits, scenario.test_y[3:4])
    lines = text.splitlines()
    assert lines[0] == f"−log p_{label} = {per_image.item():.6f}"
    assert lines[1] == f"CrossEntropyLoss {per_image.item():.6f}"
    z = logits[0].double()
    p = torch.softmax(z, 0)
    rows = lines[4:]
    assert len(rows) == 10 and rows[label].endswith("←")
    for i, row in enumerate(rows):
        _, zi, ezi, pi = row.rstrip("←").split()
        assert float(zi) == pytest.approx(z[i].item(), abs=0.006)
        assert float(ezi) == pytest.approx(torch.exp(z[i]).item(), rel=6e-3)
        assert float(pi) == pytest.approx(p[i].item(), abs=6e-5)
    assert f"Σp {1:.4f}" in lines[2]
    default = make_runner("mnist", "dataset=digits").scenario  # math=off: the bars, as before
    assert next(p for p in default.layout() if p.key == "probs").kind == "bars"


def test_epoch_cost_is_the_labs_running_avg_cost():
    runner = make_runner("mnist", "dataset=digits", "model=linear")
    per_epoch = runner.scenario.batches_per_epoch
    records = []
    for _ in range(2 * per_epoch):
        runner.step(1)
        records.append(runner.record())
    for epoch in range(2):
        batch = records[epoch * per_epoch : (epoch + 1) * per_epoch]
        avg_cost = torch.zeros(())
        for rec in batch:  # the lab: avg_cost += cost / total_batch
            avg_cost = avg_cost + torch.tensor(rec["loss"]) / per_epoch
        assert batch[-1]["epoch_cost"] == avg_cost.item()
        assert all("epoch_cost" not in rec for rec in batch[:-1])


def test_lab_test_accuracy_is_the_notebooks_unscaled_test():
    runner = make_runner("mnist", "dataset=digits", "model=linear", "lab_test=on")
    runner.step(runner.scenario.batches_per_epoch)
    rec = runner.record()
    sc = runner.scenario
    with torch.no_grad():  # the notebook: X_test = mnist_test.test_data.float() (0-255)
        predicted = sc.model(sc.test_x * 255).argmax(1)
    assert rec["lab_test_accuracy"] == float((predicted == sc.test_y).float().mean())
    assert rec["lab_test_accuracy"] != rec["test_accuracy"]
    plain = make_runner("mnist", "dataset=digits", "model=linear", advance=sc.batches_per_epoch)
    assert "lab_test_accuracy" not in plain.record()


@pytest.mark.parametrize(
    "model, printed",
    [
        ("linear", "Epoch: 0001 cost = {:.9f}"),  # lab-07-4's print
        ("cnn", "[Epoch:    1] cost = {:.9}"),  # lab-11-1's print
    ],
)
def test_the_screen_prints_each_epoch_as_the_lab_does(model, printed):
    runner = make_runner("mnist", "dataset=digits", f"model={model}", "lab_test=on")
    per_epoch = runner.scenario.batches_per_epoch
    runner.step(per_epoch - 1)
    assert "cost =" not in runner.frame().panels["throughput"]["text"]  # no epoch done yet
    runner.step(1)
    rec = runner.record()
    text = runner.frame().panels["throughput"]["text"].splitlines()
    lab_line = printed.format(rec["epoch_cost"])
    assert lab_line in text
    assert f"test accuracy {rec['test_accuracy']:.2%}" in text
    assert f"lab's test (0-255 px) {rec['lab_test_accuracy']:.2%}" in text
    assert text.index(lab_line) == 2  # under the epoch, in view in a short panel (100x30)

"""The scenario API fails loudly: a user's scenario file with a mistake gets one clear line.

Each scenario here is written to disk and run the way a user runs it (`dltui run ./file.py`).
"""

from __future__ import annotations

import sys
import textwrap

import pytest

from dltui.cli import main
from dltui.engine.control import build_controller
from dltui.protocol import RunSpec, ScaleParam, Step
from dltui.ui.app import DltuiApp
from dltui.ui.link import InlineLink
from dltui.ui.panel import PanelWidget

HEADER = """
import torch
from dltui.scenario import Panel, Param, Scenario, to_numpy
"""

# One neuron on OR; the pieces under test are swapped in with str.replace.
GATE = (
    HEADER
    + """
class Gate(Scenario):
    name, title = "gate", "OR"
    steps = 40
    params = (Param("lr", 0.5, "learning rate", min=0, live=True),)
    panels = (Panel("line", "Loss", "loss"),
              Panel("field2d", "Decision boundary", "boundary"))
    records = {"loss": "BCE", "accuracy": "share right"}

    def setup(self):
        self.x = torch.tensor([[0., 0.], [0., 1.], [1., 0.], [1., 1.]])
        self.y = torch.tensor([[0.], [1.], [1.], [1.]])
        self.model = torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.Sigmoid())
        self.opt = torch.optim.SGD(self.model.parameters(), lr=self.p.lr)

    def step(self):
        out = self.model(self.x)
        loss = torch.nn.functional.binary_cross_entropy(out, self.y)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return {"loss": loss.detach(), "accuracy": ((out > 0.5) == (self.y > 0.5)).float().mean()}

    def view(self):
        g = torch.linspace(0, 1, 5)
        xy = torch.cartesian_prod(g, g)
        with torch.no_grad():
            z = self.model(xy).reshape(5, 5)
        return {"boundary": {"x": g.numpy(), "y": g.numpy(), "z": to_numpy(z),
                             "points": self.x.numpy(), "labels": self.y.reshape(-1).numpy()}}
"""
)


def write(tmp_path, source: str) -> str:
    path = tmp_path / "my_scenario.py"
    path.write_text(textwrap.dedent(source))
    return str(path)


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """Exit code, stdout, and the last line of stderr (after the headless banner), which must
    be the only error line and no traceback."""
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in err and err.count("error") <= 1, err
    return code, out, (err.strip().splitlines() or [""])[-1]


def test_the_correct_scenario_runs(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "run", write(tmp_path, GATE), "--headless")
    assert code == 0 and '"step": 40' in out.splitlines()[-1]


def test_an_optimizer_under_any_name_gets_the_live_lr_and_the_header_shows_it(tmp_path):
    ctl = build_controller(RunSpec(write(tmp_path, GATE), device="cpu", paused=True))
    ctl.handle(ScaleParam("lr", 2))
    assert ctl.runner.scenario.opt.param_groups[0]["lr"] == 1.0  # self.opt, not self.optimizer
    assert ctl.frame().lr == 1.0


def test_the_header_shows_the_lr_the_optimizer_really_has(tmp_path):
    # on_param overridden and the lr forgotten: the frame says what training really uses.
    source = GATE.replace(
        "    def view(self):",
        "    def on_param(self, name, value):\n        pass\n\n    def view(self):",
    )
    ctl = build_controller(RunSpec(write(tmp_path, source), device="cpu", paused=True))
    ctl.handle(ScaleParam("lr", 2))
    frame = ctl.frame()
    assert frame.params["lr"] == 1.0 and frame.lr == 0.5


def test_a_panel_key_typo_in_view_is_one_line_naming_panel_and_key(tmp_path, capsys):
    path = write(tmp_path, GATE.replace('return {"boundary":', 'return {"boundry":'))
    code, out, err = run_cli(capsys, "run", path, "--headless")
    assert code == 2 and out == ""
    assert err.startswith("dltui: error: Gate: panel")
    assert "panel 'Decision boundary' (field2d) wants its data under key 'boundary'" in err
    assert "did you mean 'boundry'?" in err


def test_an_unknown_field_in_panel_data_is_one_line(tmp_path, capsys):
    path = write(tmp_path, GATE.replace('"labels":', '"lables":'))
    code, _, err = run_cli(capsys, "run", path, "--headless")
    assert code == 2, err
    assert "unknown field 'lables'" in err and "did you mean 'labels'?" in err


def test_a_screenshot_of_a_broken_panel_exits_2_with_the_line(tmp_path, capsys):
    path = write(tmp_path, GATE.replace('return {"boundary":', 'return {"boundry":'))
    code, _, err = run_cli(
        capsys, "run", path, "--screenshot", str(tmp_path / "x.svg"), "--steps", "3"
    )
    assert code == 2 and "wants its data under key 'boundary'" in err
    assert not (tmp_path / "x.svg").exists()


async def test_the_live_ui_shows_the_mistake_on_the_panel(tmp_path):
    path = write(tmp_path, GATE.replace('"labels":', '"lables":'))
    app = DltuiApp(InlineLink(RunSpec(path, device="cpu", steps=3, paused=True)), run_to_limit=True)
    async with app.run_test(size=(120, 40)) as pilot:
        while app.frame is None or app.frame.step < 3:
            await pilot.pause(0.05)
        await pilot.pause()
        field = next(p for p in app.query(PanelWidget) if p.kind == "field2d")
        assert "unknown field 'lables' in view()['boundary']" in " ".join(
            field.render().plain.split()
        )
        assert app.frame.metrics["loss"] > 0  # the rest of the run goes on


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('"accuracy": ((out', '"acc": ((out'),
            "Gate.step() returned 'acc', which records does not declare (records: loss, accuracy)",
        ),
        (
            ('        return {"loss"', '        return [loss.detach()]\n        return {"loss"'),
            "Gate.step() must return a dict of metrics",
        ),
        (
            ('Panel("line", "Loss", "loss")', 'Panel("line", "Loss", "lsos")'),
            "line panel 'Loss' plots 'lsos', which records does not declare",
        ),
        (
            ('        return {"boundary":', '        return None\n        return {"boundary":'),
            "view() must return a dict of panel key -> data, got NoneType",
        ),
        (
            ('        return {"boundary":', '        return [1]\n        return {"boundary":'),
            "view() must return a dict of panel key -> data, got list",
        ),
    ],
)
def test_records_and_line_panels_are_checked(tmp_path, capsys, change, expected):
    source = GATE.replace(*change)
    assert source != GATE
    code, _, err = run_cli(capsys, "run", write(tmp_path, source), "--headless")
    assert code == 2 and expected in err, err


def test_record_patterns_declare_families_of_keys():
    from dltui.scenario import Scenario

    class Race(Scenario):
        records = {"loss": "", "<opt>/loss": "", "pre/p15, pre/p85": ""}

    assert Race.undeclared(["loss", "adam/loss", "pre/p15", "pre/p85"]) == []
    assert Race.undeclared(["adam/los", "pre/p50", "/loss"]) == ["adam/los", "pre/p50", "/loss"]


def test_a_lazy_metric_is_computed_only_when_captured_and_equals_the_eager_one(tmp_path):
    lazy = GATE.replace(
        '"accuracy": ((out > 0.5) == (self.y > 0.5)).float().mean()}',
        '"accuracy": lambda: self.count(out)}\n\n'
        "    calls = 0\n\n"
        "    def count(self, out):\n"
        "        type(self).calls += 1\n"
        "        return ((out > 0.5) == (self.y > 0.5)).float().mean()",
    )
    eager_path = write(tmp_path, GATE)
    eager_ctl = build_controller(RunSpec(eager_path, device="cpu", paused=True))
    lazy_dir = tmp_path / "lazy"
    lazy_dir.mkdir()
    lazy_ctl = build_controller(RunSpec(write(lazy_dir, lazy), device="cpu", paused=True))
    records = []
    for ctl in (eager_ctl, lazy_ctl):
        rows = []
        for _ in range(10):
            ctl.handle(Step(3))
            rows.append(ctl.runner.record())
        records.append(rows)
    assert records[0] == records[1]
    assert type(lazy_ctl.runner.scenario).calls == 10  # once per record, not per step (30)


def test_dltui_list_and_a_mistyped_name_import_no_torch():
    import subprocess

    code = (
        "import sys\nfrom dltui.cli import main\nmain(['list'])\n"
        "assert main(['run', 'xorr']) == 2\nassert 'torch' not in sys.modules, 'torch'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "xor" in done.stdout and "Did you mean xor" in done.stderr


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            (
                "        out = self.model(self.x)\n",
                "        out = self.model(self.x) / 0 + self.oops\n",
            ),
            "AttributeError: 'Gate' object has no attribute 'oops' (at my_scenario.py:",
        ),
        (
            ('return {"loss": loss.detach(),', 'return {"loss": torch.ones(3),'),
            "Gate.step() at step 1: 'loss' must be one real number; it is a tensor of shape (3,)",
        ),
        (
            ('return {"loss": loss.detach(),', 'return {"loss": 10 ** 400,'),
            "Gate.step() at step 1: 'loss' must be one real number; it is 1000",
        ),
        (
            ('return {"loss": loss.detach(),', 'return {"loss": 1j,'),
            "'loss' must be one real number; it is 1j",
        ),
        (
            ("        out = self.model(self.x)\n", "        raise SystemExit(3)\n"),
            "Gate.step() called sys.exit(3)",
        ),
        (
            ("    params = (Param(", '    params = ("notaparam", Param('),
            "Gate.params must be a tuple of Param(...) declarations; item 0 is 'notaparam'",
        ),
    ],
)
def test_a_failing_scenario_says_where_in_its_own_code(tmp_path, capsys, change, expected):
    source = GATE.replace(*change)
    assert source != GATE
    main(["run", write(tmp_path, source), "--headless"])
    err = capsys.readouterr().err
    assert expected in err, err
    assert "dltui/engine" not in err and len(err.splitlines()) <= 8, err


async def test_in_the_ui_a_failing_step_is_one_line_r_restarts_and_q_quits(tmp_path):
    source = GATE.replace(
        "        out = self.model(self.x)\n", "        out = self.model(self.x)\n        1 / 0\n"
    )
    link = InlineLink(RunSpec(write(tmp_path, source), device="cpu", paused=True))
    app = DltuiApp(link)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.2)
        await pilot.press("n")
        await pilot.pause(0.2)
        message = str(app.query_one("#message").render())
        assert (
            "The engine stopped (ZeroDivisionError: division by zero (at my_scenario.py:" in message
        )
        app.pump()
        app.pump()
        await pilot.press("r")
        await pilot.pause(0.2)
        assert app.info is not None  # a new run, at step 0
        await pilot.press("q")
    assert app.return_code == 0

"""The CLI contract, checked from outside: list, info, headless runs, and every error path."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from dltui.cli import main
from dltui.registry import builtins


def dltui(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dltui", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_list_shows_every_builtin(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in builtins():
        assert re.search(rf"^{re.escape(name)}\s", out, re.MULTILINE), name


def test_info_documents_params_and_records(capsys):
    assert main(["info", "xor"]) == 0
    out = capsys.readouterr().out
    assert "hidden" in out and "default 2" in out and "[0, 64]" in out
    assert "*lr" in out  # live-editable
    assert "accuracy" in out
    assert "keys on this scenario" in out  # xor's own: w ↑ ↓ move a hand-set weight
    assert "w                hand-set weights: pick the next weight" in out


def test_info_lists_the_scenarios_own_keys(capsys):
    """DESIGN.md: scenario-specific keys are documented in `info`."""
    assert main(["info", "cnn"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^  ←\s+previous test digit \(probe\)$", out, re.MULTILINE)
    assert re.search(r"^  t\s+test accuracy and confusion now", out, re.MULTILINE)
    assert main(["info", "race"]) == 0
    assert re.search(r"^  tab\s+", capsys.readouterr().out, re.MULTILINE)


def test_headless_prints_final_record_last_and_jsonl_every_k(capsys, tmp_path):
    path = tmp_path / "run.jsonl"
    assert (
        main(["run", "xor", "--headless", "--steps", "25", "--every", "10", "--jsonl", str(path)])
        == 0
    )
    captured = capsys.readouterr()
    final = json.loads(captured.out.strip().splitlines()[-1])
    assert final["step"] == 25 and set(final) == {"step", "loss", "accuracy"}
    steps = [json.loads(line)["step"] for line in path.read_text().splitlines()]
    assert steps == [10, 20, 25]
    assert "xor on cpu" in captured.err


def test_headless_divergence_is_recorded_and_named(capsys):
    assert main(["run", "xor", "--headless", "--set", "lr=1e6"]) == 0
    captured = capsys.readouterr()
    final = json.loads(captured.out.strip().splitlines()[-1])
    assert final["diverged"] is True and final["step"] == 2
    assert "diverged at step 2" in captured.err


ERRORS = [
    (["run", "xr"], "unknown scenario 'xr'. Did you mean xor"),
    (["run", "xor", "--headless", "--set", "hiden=3"], "unknown param 'hiden'"),
    (["run", "xor", "--headless", "--set", "hidden=x"], "not a valid int"),
    (["run", "xor", "--headless", "--set", "lr=-1"], "out of range"),
    (["run", "xor", "--headless", "--set", "lr"], "KEY=VALUE"),
    (["run", "missing_file.py"], "scenario file not found"),
    (["run", "xor", "--headless", "--device", "cuda"], "CUDA is not available"),
    (["run", "xor", "--headless", "--device", "tpu"], "is not one of auto, cpu"),
    (["run", "xor", "--speed", "fast"], "--speed must be a number or 'max'"),
    (["run", "xor", "--size", "big"], "--size must look like 120x40"),
    (["run", "xor", "--steps", "0"], "positive whole number"),
    (["run", "xor", "--jsonl", "x.jsonl"], "--jsonl needs --headless"),
    (["info", "nope"], "unknown scenario"),
    (["frobnicate"], "invalid choice"),
]


@pytest.mark.parametrize("args,expected", ERRORS, ids=[" ".join(a) for a, _ in ERRORS])
def test_errors_are_one_line_exit_2(args, expected, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert err.count("\n") == 1 and err.startswith("dltui: error: ")


def test_errors_from_a_real_process_have_no_traceback():
    done = dltui("run", "xor", "--headless", "--set", "activation=softmax")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        "dltui: error: activation='softmax' is not allowed; choose one of: sigmoid, tanh, "
        "relu, step, linear, leaky_relu, elu, gelu"
    )


def test_screenshot_writes_an_svg_of_the_ui(tmp_path):
    path = tmp_path / "xor.svg"
    done = dltui("run", "xor", "--steps", "50", "--screenshot", str(path), "--size", "100x30")
    assert done.returncode == 0, done.stderr
    svg = path.read_text()
    assert svg.startswith("<svg") and "Decision" in svg and "Truth" in svg


def test_a_screenshot_of_a_short_run_still_shows_the_keys(tmp_path):
    """A run that ends before the footer has laid out its keys waits for them: `?` and `q`
    are on every screen (a 5-step gd finished first, and the footer came out blank)."""
    path = tmp_path / "gd.svg"
    done = dltui("run", "gd", "--steps", "5", "--screenshot", str(path), "--size", "80x24")
    assert done.returncode == 0, done.stderr
    svg = path.read_text()
    assert "Help" in svg and "Quit" in svg

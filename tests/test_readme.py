"""The README's promises: its scenario example runs, and its commands are the ones CI runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

from dltui.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_write_your_own_scenario_example_runs_and_learns(tmp_path, capsys):
    section = README.split("## Write your own scenario", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    path = tmp_path / "my_scenario.py"
    path.write_text(code)
    assert main(["run", str(path), "--headless", "--jsonl", "-", "--every", "100"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["step"] for r in records] == [100, 200, 300]
    assert records[-1]["loss"] < 1e-4
    assert abs(records[-1]["w"] - 2) < 0.01 and abs(records[-1]["b"] - 1) < 0.01


def test_ci_runs_the_readme_commands():
    """Each command of the Quick start's install and test blocks (but the interactive `dltui
    run`) is a line .ci/run runs, in the README's order (CI may run more in between, e.g. the
    linter). The blocks before them (a venv, the CPU torch) prepare the machine."""
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    quick_start = README.split("## Quick start")[1].split("\n## ")[0]
    blocks = [
        b
        for b in re.findall(r"```sh\n(.*?)\n```", quick_start)
        if "pip install ." in b or "pytest" in b
    ]
    assert len(blocks) == 2
    for block in blocks:
        commands = [c for c in block.split(" && ") if not c.startswith("dltui run")]
        assert commands, block
        lines = [ci.index(c) if c in ci else -1 for c in commands]
        assert -1 not in lines and lines == sorted(lines), f"{block!r} is not what .ci/run runs"


def test_the_lecture_example_checks_clean_and_its_comments_are_its_command_lines(tmp_path, capsys):
    from dltui.lecture import load

    section = README.split("## Teaching with dltui", 1)[1].split("\n## ")[0]
    example = re.search(r"```toml\n(.*?)```", section, re.DOTALL).group(1)
    path = tmp_path / "my.toml"
    path.write_text(example)
    assert main(["lecture", str(path), "--check", "--device", "cpu"]) == 0, capsys.readouterr()
    said = re.findall(r"^\[\[scene\]\] +# = (.*)$", example, re.MULTILINE)
    assert said == [scene.command_line() for scene in load(path).scenes]

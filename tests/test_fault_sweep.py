"""The hostile user's sweep: every param of every built-in scenario given a bad value, every
kind of bad timed action and flag, each through the real command line. Each must be one line on
stderr naming the mistake, exit 2, no traceback, nothing on stdout, before any training.
"""

from __future__ import annotations

import pytest

from dltui.cli import main
from dltui.registry import builtins, load


def bad_values(param) -> list[str]:
    """Values a typo or a guess gives `param`, by its type."""
    default = param.default
    if isinstance(default, bool):
        return ["maybe"]
    if isinstance(default, tuple):
        return ["1", "a,b", "inf," * (len(default) - 1) + "inf"]
    if isinstance(default, (int, float)):
        out = ["abc", "1e999"] + (["2.5"] if isinstance(default, int) else ["nan"])
        if param.min is not None:
            out.append(str(param.min - 1))
        if param.max is not None:
            out.append(str(param.max * 10 + 1))
        return out
    if param.choices is not None:
        return ["nosuchchoice", ""]
    return ["!!bad value!!"]


def cases() -> list[tuple[str, list[str]]]:
    out = []
    for name in builtins():
        cls = load(name)
        out.append((name, ["--set", "nosuchparam=1"]))
        out.append((name, ["--set", cls.params[0].name if cls.params else "x"]))
        for param in cls.params:
            out += [(name, ["--set", f"{param.name}={v}"]) for v in bad_values(param)]
            if param.live:
                out.append((name, ["--at", f"5:{param.name}=abc"]))
            else:
                out.append((name, ["--at", f"5:{param.name}={param.format(param.default)}"]))
    return out


FLAGS = [
    ["--steps", "0"],
    ["--steps", "-3"],
    ["--seed", "x"],
    ["--seed", "1.5"],
    ["--device", "quantum"],
    ["--device", "cuda:99"],
    ["--speed", "-1"],
    ["--speed", "fast"],
    ["--every", "0"],
    ["--threads", "0"],
    ["--checkpoint-mb", "-1"],
    ["--at", "x:lr=1"],
    ["--at", "5"],
    ["--at", "5:rewind=9"],
    ["--at", "9999999:lr=1"],
    ["--at", "5:lr=1", "--at", "3:lr=2"],
    ["--at", "5:reset=1"],
    ["--start", "-1"],
    ["--start", "99999999"],
    ["--size", "80"],
    ["--nosuchflag"],
]


@pytest.mark.parametrize(
    ("name", "args"), cases(), ids=lambda v: " ".join(v) if isinstance(v, list) else v
)
def test_a_bad_param_value_is_one_line_and_exit_2(name, args, capsys):
    assert main(["run", name, "--headless", "--steps", "20", *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("dltui: error: "), err
    assert "Traceback" not in err


@pytest.mark.parametrize("args", FLAGS, ids=" ".join)
def test_a_bad_flag_is_one_line_and_exit_2(args, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shot = ["--screenshot", "x.svg"] if "--start" in args or "--size" in args else ["--headless"]
    assert main(["run", "xor", "--steps", "20", *shot, *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("dltui: error: "), err
    assert list(tmp_path.iterdir()) == []

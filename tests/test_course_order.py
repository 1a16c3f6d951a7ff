"""`dltui list` and the README's table follow the course (COURSE.md): perceptron → regression →
MLP and backprop → optimizers → deep nets → CNN, each scenario under its lesson."""

from __future__ import annotations

import re
from pathlib import Path

from dltui.cli import main
from dltui.registry import COURSE, MORE, builtins

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_builtin_has_its_lesson_in_the_courses_order():
    found = builtins()
    assert all(b.lesson != MORE for b in found.values()), [
        b.name for b in found.values() if b.lesson == MORE
    ]
    assert list(found) == [name for _, names in COURSE for name in names]
    assert list(found)[:4] == ["and", "or", "nand", "gd"]
    assert list(found)[-2:] == ["conv", "mnist"]


def test_list_prints_the_lessons_as_headings(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out.splitlines()
    headings = [line for line in out if re.match(r"\d\. ", line)]
    assert headings == [lesson for lesson, _ in COURSE]
    names = [line.split()[0] for line in out if line and not line[0].isspace()]
    assert [n for n in names if n in builtins()] == list(builtins())
    assert out.index("3. MLPs and backpropagation") < next(
        i for i, line in enumerate(out) if line.startswith("xor ")
    )


def test_the_readme_table_follows_the_same_order():
    table = README.split("## Scenarios", 1)[1].split("\n\n", 2)[2].split("\n\n", 1)[0]
    first_names = [m.group(1) for m in re.finditer(r"^\| `([a-z]+)`", table, re.MULTILINE)]
    expected = [n for _, names in COURSE for n in names if n not in ("or", "nand")]
    assert first_names == expected
    for lesson, _ in COURSE:
        assert f"| **{lesson}** | |" in table

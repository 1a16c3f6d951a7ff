"""Finding scenarios: built-in names (with aliases) and user files `path/to/file.py[:Class]`.

The built-ins are the Scenario classes in the `dltui.scenarios` package (the repo's top-level
scenarios/ folder). `builtins()` finds them by reading those modules' source (each class's
literal `name`, `title`, `description` and `aliases`) without importing them, so `dltui list`
and the errors for a mistyped name cost no torch. They come in the course's order (`COURSE`:
perceptron → regression → MLP and backprop → optimizers → deep nets → CNN), each with its lesson. `check_target` validates a target the same
way; `load` imports it and returns the Scenario subclass.
"""

from __future__ import annotations

import ast
import difflib
import importlib
import importlib.util
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import dltui.scenarios
from dltui.scenario.params import UsageError

if TYPE_CHECKING:
    from dltui.scenario.base import Scenario


COURSE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("1. The perceptron and logic gates", ("and", "or", "nand")),
    ("2. Gradient descent and regression", ("gd", "linreg", "multivar", "softmax")),
    ("3. MLPs and backpropagation", ("xor", "autograd")),
    ("4. Optimizers", ("optimizers",)),
    (
        "5. Deep nets: activations, vanishing gradients, regularisation",
        ("activations", "vanishing", "overfit"),
    ),
    ("6. CNNs", ("conv", "mnist")),
)
"""The course's lessons (COURSE.md), in its order, with the built-ins that teach each; a
built-in not named here comes last, under MORE."""
MORE = "More"


@dataclass(frozen=True)
class Builtin:
    """A built-in scenario as its source declares it."""

    name: str
    title: str
    description: str
    aliases: tuple[str, ...]
    module: str
    """Module name under dltui.scenarios."""
    cls: str
    lesson: str = MORE
    """The course lesson it belongs to (COURSE)."""


@cache
def builtins() -> dict[str, Builtin]:
    """Every built-in scenario by name, in the course's order (then the order of their
    modules and classes), each with its lesson."""
    found: dict[str, Builtin] = {}
    for path in sorted(Path(dltui.scenarios.__file__).parent.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in tree.body:
            attrs = _literal_attributes(node) if isinstance(node, ast.ClassDef) else {}
            if isinstance(attrs.get("name"), str) and attrs["name"]:
                found[attrs["name"]] = Builtin(
                    attrs["name"],
                    attrs.get("title", ""),
                    attrs.get("description", ""),
                    tuple(attrs.get("aliases", ())),
                    path.stem,
                    node.name,
                    LESSONS.get(attrs["name"], MORE),
                )
    order = {name: i for i, name in enumerate(n for _, names in COURSE for n in names)}
    return dict(sorted(found.items(), key=lambda item: order.get(item[0], len(order))))


LESSONS = {name: lesson for lesson, names in COURSE for name in names}


def _literal_attributes(node: ast.ClassDef) -> dict[str, object]:
    """`x = <literal>` and `a, b = <literal>, <literal>` in a class body, as values."""
    attrs: dict[str, object] = {}
    for stmt in node.body:
        if not isinstance(stmt, ast.Assign):
            continue
        for target in stmt.targets:
            names, values = [target], [stmt.value]
            if isinstance(target, ast.Tuple) and isinstance(stmt.value, ast.Tuple):
                names, values = target.elts, stmt.value.elts
            for name, value in zip(names, values):
                if isinstance(name, ast.Name):
                    try:
                        attrs[name.id] = ast.literal_eval(value)
                    except ValueError:
                        pass  # computed: not needed to list or find the class
    return attrs


def aliases() -> dict[str, str]:
    """alias -> name of every built-in."""
    return {alias: b.name for b in builtins().values() for alias in b.aliases}


def is_path(target: str) -> bool:
    return target.partition(":")[0].endswith(".py") or "/" in target or "\\" in target


def canonical(name: str) -> str:
    name = name.strip().lower()
    return aliases().get(name, name)


def check_target(target: str) -> None:
    """Raise UsageError if `target` names no built-in scenario or no existing .py file."""
    if is_path(target):
        path = Path(_split_path(target)[0])
        try:
            found = path.is_file()
        except OSError as exc:  # a name too long, a folder we may not enter
            raise UsageError(
                f"cannot read scenario file {str(path)[:80]}: {exc.strerror}"
            ) from None
        if not found:
            raise UsageError(f"scenario file not found: {path}")
        if path.suffix != ".py":
            raise UsageError(f"scenario file must be a .py file: {path}")
        return
    if canonical(target) not in builtins():
        names = sorted(set(builtins()) | set(aliases()))
        close = difflib.get_close_matches(target.lower(), names, n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(close)}?" if close else ""
        raise UsageError(
            f"unknown scenario {target!r}.{hint} Run 'dltui list' to see them all "
            "(or give a path/to/file.py)."
        )


def _split_path(target: str) -> tuple[str, str | None]:
    # "C:\\x.py" style drive letters keep their colon; a class name follows ".py:".
    head, sep, tail = target.rpartition(":")
    if sep and head.endswith(".py") and tail.isidentifier():
        return head, tail
    return target, None


def load(target: str) -> type[Scenario]:
    """Import a scenario by built-in name or path; raise UsageError with what to do."""
    check_target(target)
    if is_path(target):
        return _load_file(*_split_path(target))
    builtin = builtins()[canonical(target)]
    module = importlib.import_module(f"dltui.scenarios.{builtin.module}")
    return getattr(module, builtin.cls)


def _checked(cls: type[Scenario]) -> type[Scenario]:
    """The class, if its declarations have the types the engine reads; UsageError if not."""
    from dltui.scenario.panels import Panel
    from dltui.scenario.params import Param

    for attr, kind in (("params", Param), ("panels", Panel)):
        items = getattr(cls, attr)
        bad = next((i for i, item in enumerate(items) if not isinstance(item, kind)), None)
        if not isinstance(items, (tuple, list)) or bad is not None:
            what = f"item {bad} is {items[bad]!r}" if bad is not None else f"it is {items!r}"
            raise UsageError(
                f"{cls.__name__}.{attr} must be a tuple of {kind.__name__}(...) "
                f"declarations; {what}"
            )
    if not isinstance(cls.records, dict):
        raise UsageError(f"{cls.__name__}.records must be a dict of key -> meaning")
    return cls


def _load_file(path_text: str, class_name: str | None) -> type[Scenario]:
    from dltui.scenario import Scenario

    path = Path(path_text).resolve()
    module_name = f"dltui_user_{path.stem}_{abs(hash(str(path))) % 10**8}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot load {path_text} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look the module up here
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - the user's code: report it in one line
        del sys.modules[module_name]
        raise UsageError(f"{path_text} failed to import: {type(exc).__name__}: {exc}") from None
    found = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, Scenario) and obj.__module__ == module_name
    ]
    if class_name is not None:
        obj = getattr(module, class_name, None)
        if not (isinstance(obj, type) and issubclass(obj, Scenario)):
            names = ", ".join(c.__name__ for c in found) or "none"
            raise UsageError(
                f"{path_text} has no Scenario class {class_name!r}; scenario classes: {names}"
            )
        return _checked(obj)
    if len(found) == 1:
        return _checked(found[0])
    if not found:
        raise UsageError(f"{path_text} defines no subclass of dltui.scenario.Scenario")
    names = ", ".join(c.__name__ for c in found)
    raise UsageError(
        f"{path_text} defines several scenarios ({names}); pick one with {path_text}:ClassName"
    )

"""Finding scenarios: built-in names (with aliases) and user files `path/to/file.py[:Class]`.

`check_target` validates a target without importing it (so the UI process can refuse a typo
before anything imports torch); `load` imports it and returns the Scenario subclass.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from dltui.params import UsageError

if TYPE_CHECKING:
    from dltui.scenario import Scenario

# name -> "module:Class" under the dltui.scenarios package (the repo's scenarios/ folder).
BUILTINS: dict[str, str] = {
    "and": "perceptron:AndGate",
    "or": "perceptron:OrGate",
    "nand": "perceptron:NandGate",
    "xor": "perceptron:Xor",
    "optimizers": "optimizers:Optimizers",
    "mnist": "mnist:Mnist",
    "gd": "gradient_descent:GradientDescent",
    "linreg": "linear_regression:LinearRegression",
    "multivar": "linear_regression:MultivariableRegression",
    "vanishing": "vanishing:Vanishing",
}

ALIASES: dict[str, str] = {
    "perceptron": "and",
    "mlp": "xor",
    "race": "optimizers",
    "cnn": "mnist",
    "gradient-descent": "gd",
    "multivariable": "multivar",
}


def is_path(target: str) -> bool:
    return target.partition(":")[0].endswith(".py") or "/" in target or "\\" in target


def canonical(name: str) -> str:
    name = name.strip().lower()
    return ALIASES.get(name, name)


def check_target(target: str) -> None:
    """Raise UsageError if `target` names no built-in scenario or no existing .py file."""
    if is_path(target):
        path = Path(_split_path(target)[0])
        if not path.is_file():
            raise UsageError(f"scenario file not found: {path}")
        if path.suffix != ".py":
            raise UsageError(f"scenario file must be a .py file: {path}")
        return
    if canonical(target) not in BUILTINS:
        names = sorted(set(BUILTINS) | set(ALIASES))
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
    module_name, _, class_name = BUILTINS[canonical(target)].partition(":")
    module = importlib.import_module(f"dltui.scenarios.{module_name}")
    return getattr(module, class_name)


def builtin_classes() -> list[type[Scenario]]:
    return [load(name) for name in BUILTINS]


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
    except Exception as exc:  # the user's code: report it in one line
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
        return obj
    if len(found) == 1:
        return found[0]
    if not found:
        raise UsageError(f"{path_text} defines no subclass of dltui.scenario.Scenario")
    names = ", ".join(c.__name__ for c in found)
    raise UsageError(
        f"{path_text} defines several scenarios ({names}); pick one with {path_text}:ClassName"
    )

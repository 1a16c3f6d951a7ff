"""Typed scenario parameters: declaration, parsing of `--set KEY=VALUE`, validation.

A scenario declares `Param`s; the CLI, the headless runner and the UI's live controls all go
through `Param.parse` / `Param.check`, so every path reports the same clear errors.
Nothing here imports torch or textual.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


class UsageError(Exception):
    """A mistake in what the user asked for: shown as one line, exit code 2."""


@dataclass(frozen=True)
class Param:
    """One setting of a scenario.

    The type comes from the default: bool, int, float, str, or a tuple of floats
    (written `a,b` on the command line). `choices` restricts str values; with `multi=True` the
    value is a comma list whose items must each be a choice. `live` params can change while a
    run is going (the UI's `[`/`]` keys change `lr`); the others need a reset. A `display`
    param changes only what is shown (which image, which racer), not training, so changing it
    marks no event on the loss curves. `label` is how the header names the value when it is
    not what it seems (the race's `lr` is a scale on every racer's own: "lr ×").
    """

    name: str
    default: Any
    help: str = ""
    choices: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    live: bool = False
    multi: bool = False
    display: bool = False
    label: str = ""

    @property
    def type_name(self) -> str:
        if isinstance(self.default, tuple):
            return f"{len(self.default)} floats"
        if self.multi:
            return "list"
        return type(self.default).__name__

    def parse(self, text: str) -> Any:
        """Turn command-line text into a checked value; raise UsageError if it is wrong."""
        text = text.strip()
        kind = type(self.default)
        try:
            if kind is bool:
                low = text.lower()
                if low in ("1", "true", "yes", "on"):
                    value: Any = True
                elif low in ("0", "false", "no", "off"):
                    value = False
                else:
                    raise ValueError
            elif kind is int:
                value = int(text)
            elif kind is float:
                value = float(text)
            elif kind is tuple:
                value = tuple(float(part) for part in text.split(","))
            else:
                value = text
        except ValueError:
            raise UsageError(
                f"{self.name}={text!r} is not a valid {self.type_name}"
                f" (example: {self.name}={self.format(self.default)})"
            ) from None
        return self.check(value)

    def check(self, value: Any) -> Any:
        """Validate an already typed value; raise UsageError if it is out of range."""
        if isinstance(self.default, tuple):
            unset = all(math.isnan(v) for v in (*self.default, *value))  # "nan,nan": the default
            if len(value) != len(self.default) or not (
                unset or all(math.isfinite(v) for v in value)
            ):
                raise UsageError(
                    f"{self.name} needs {len(self.default)} comma-separated numbers, got "
                    f"{self.format(value)!r}"
                )
            return tuple(value)
        if isinstance(value, float) and not math.isfinite(value):
            raise UsageError(f"{self.name} must be a finite number, got {value}")
        if self.min is not None and value < self.min or self.max is not None and value > self.max:
            raise UsageError(f"{self.name}={value} is out of range {self.range_text()}")
        if self.choices is not None:
            items = [v.strip() for v in value.split(",")] if self.multi else [value]
            bad = [v for v in items if v not in self.choices]
            if bad or not items or items == [""]:
                raise UsageError(
                    f"{self.name}={value!r} is not allowed; choose "
                    f"{'from' if self.multi else 'one of'}: {', '.join(self.choices)}"
                )
            value = ",".join(items) if self.multi else value
        return value

    def range_text(self) -> str:
        if self.choices is not None:
            return ("any of " if self.multi else "") + "|".join(self.choices)
        if self.min is None and self.max is None:
            return ""
        lo = "-inf" if self.min is None else f"{self.min:g}"
        hi = "inf" if self.max is None else f"{self.max:g}"
        return f"[{lo}, {hi}]"

    @staticmethod
    def exact(value: Any) -> str:
        """`value` as `--set` text that parses back to exactly the same value (floats in
        their shortest round-trip form, where `format` rounds for the eye)."""
        if isinstance(value, tuple):
            return ",".join(Param.exact(float(v)) for v in value)
        if isinstance(value, bool):
            return "on" if value else "off"
        if isinstance(value, float):
            short = f"{value:g}"
            return short if float(short) == value or math.isnan(value) else repr(value)
        return str(value)

    @staticmethod
    def format(value: Any) -> str:
        if isinstance(value, tuple):
            return ",".join(f"{v:g}" for v in value)
        if isinstance(value, float):
            return f"{value:g}"
        return str(value)


class Params:
    """The current values of a scenario's params: `p.lr`, `p["lr.adam"]`."""

    def __init__(self, declared: Iterable[Param], values: dict[str, Any] | None = None):
        self._declared = {p.name: p for p in declared}
        self._values = {name: p.default for name, p in self._declared.items()}
        for name, value in (values or {}).items():
            self[name] = value

    def declared(self, name: str) -> Param:
        if name not in self._declared:
            known = ", ".join(self._declared) or "(this scenario has no params)"
            close = difflib.get_close_matches(name, list(self._declared), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise UsageError(f"unknown param {name!r}.{hint} Valid params: {known}")
        return self._declared[name]

    def __getitem__(self, name: str) -> Any:
        self.declared(name)
        return self._values[name]

    def __setitem__(self, name: str, value: Any) -> None:
        self._values[name] = self.declared(name).check(value)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        values = self._values  # the fast path: scenarios read self.p.lr every step
        if name in values:
            return values[name]
        try:
            return self[name]
        except UsageError as exc:
            raise AttributeError(str(exc)) from None

    def set_text(self, assignment: str) -> None:
        """Apply one `KEY=VALUE` from the command line."""
        key, sep, text = assignment.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set needs KEY=VALUE, got {assignment!r}")
        param = self.declared(key.strip())
        self._values[param.name] = param.parse(text)

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    def copy(self) -> Params:
        return Params(self._declared.values(), self._values)

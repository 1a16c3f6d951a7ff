"""dltui: train neural networks live in the terminal and see what learning does inside them.

`dltui.watch(model, optimizer)` shows your own training script's run in `dltui watch
train.py` (and does nothing under plain `python train.py`); see `dltui.engine.watch`.
Importing dltui imports neither torch nor textual: `watch` imports the engine when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dltui.engine.watch import Live

__version__ = "0.1.0"


def watch(model: Any, optimizer: Any, **options: Any) -> Live:
    """Hook `optimizer`'s steps and `model`'s layers for `dltui watch`; returns the `Live`
    whose `log(loss=..., acc=...)` adds scalars. A no-op outside `dltui watch` unless
    `$DLTUI_JSONL` names a file to write records to."""
    from dltui.engine.watch import watch as _watch

    return _watch(model, optimizer, **options)

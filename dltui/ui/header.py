"""The header line: what a lecturer reads out (step, status, lr, loss) always fits the width.

`header_text` is pure (a RunInfo, a Frame and a width in, a Rich Text out), so every width
can be tested without a terminal. Parts are laid out left to right; when the line is too
long the least needed give way first: the steps/s rate, the device, the speed, then the
title shrinks to the scenario's short name and finally goes. Step, status, lr and loss stay.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from dltui import protocol as p

STATUS_STYLE = {
    "running": ("▶ running", "bold green"),
    "paused": ("⏸ paused", "bold yellow"),
    "done": ("✔ done", "bold cyan"),
    "diverged": ("✖ diverged", "bold red"),
}


@dataclass
class Part:
    text: str
    style: str = ""
    drop: int = 0
    """Order of giving way when the line is too long: 1 first; 0 never."""


def header_text(
    info: p.RunInfo | None,
    frame: p.Frame | None,
    width: int,
    live: bool = True,
    held: bool = False,
) -> Text:
    """The header for `width` columns; `live` shows the measured steps/s while running;
    `held`: frames are held back because the terminal's link has not drained (⇣ link)."""
    title = info.title if info else "dltui"
    short = info.name if info else "dltui"
    parts = [Part(f" {title} ", "bold", drop=5)]
    if frame is None:
        if info:
            parts.append(Part(f"│ {info.device} │ loading…", "dim"))
        return _fit(parts, width, short)
    label, style = STATUS_STYLE.get(frame.status, (frame.status, "bold"))
    if frame.status == "diverged":
        label = f"✖ diverged at step {frame.diverged_at}"
    parts.append(Part(f"│ step {frame.step:,}/{frame.limit:,} "))
    parts.append(Part(f"│ {label} ", style))
    speed = "max" if frame.speed is None else f"{frame.speed:g}/s"
    parts.append(Part(f"│ speed {speed} ", drop=3))
    if frame.status == "running" and live:
        parts.append(Part(f"({frame.steps_per_s:,.0f} steps/s) ", "dim", drop=1))
    if frame.lr is not None:  # what the optimizers really hold
        parts.append(Part(f"│ lr {frame.lr:.4g} "))
    elif (lr := frame.params.get("lr")) is not None:
        label = next((q.label for q in info.params if q.name == "lr"), "") if info else ""
        parts.append(Part(f"│ {label or 'lr '}{lr:.4g} "))
    loss = frame.metrics.get("loss")
    if loss is not None:
        parts.append(Part(f"│ loss {loss:.4g} "))
    parts.append(Part(f"│ {frame.device}" + (" " if held else ""), "dim", drop=2))
    if held:  # goes after the rate, the device and the speed: it says why the picture lags
        parts.append(Part("│ ⇣ link", "bold magenta", drop=4))
    return _fit(parts, width, short)


def _fit(parts: list[Part], width: int, short: str) -> Text:
    def length() -> int:
        return sum(len(part.text) for part in parts)

    for level in range(1, 6):
        if length() <= width:
            break
        if level == 4:  # the title shrinks to the scenario's name before it goes (and ⇣ link)
            parts[0].text = f" {short} "
            if length() <= width:
                break
        parts[:] = [part for part in parts if part.drop != level]
    line = Text()
    for part in parts:
        line.append(part.text, style=part.style)
    line.truncate(width)
    return line

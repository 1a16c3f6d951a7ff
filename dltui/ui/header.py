"""The header line: what a lecturer reads out (step, status, lr, loss) always fits the width.

`header_text` is pure (a RunInfo, a Frame and a width in, a Rich Text out), so every width
can be tested without a terminal. Parts are laid out left to right; when the line is too
long the least needed give way first: the steps/s rate, the device, the speed, then the
title shrinks to the scenario's short name and finally goes. Step, status, lr and loss stay.
A lecture puts its scene counter ("3/8") first, and its presentation view reads
`presentation_header`: the counter, the title, step, lr and loss, what a class reads.
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
    scene: str = "",
) -> Text:
    """The header for `width` columns; `live` shows the measured steps/s while running;
    `held`: frames are held back because the terminal's link has not drained (⇣ link);
    `scene`: a lecture's scene counter, first and never dropped."""
    title = info.title if info else "dltui"
    short = info.name if info else "dltui"
    parts = _scene_part(scene) + [Part(f" {title} ", "bold", drop=5)]
    short = None if scene else short  # a lecture's title is the scene's: cut, not swapped
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
    parts += _lr_and_loss(info, frame)
    parts.append(Part(f"│ {frame.device}" + (" " if held else ""), "dim", drop=2))
    if held:  # goes after the rate, the device and the speed: it says why the picture lags
        parts.append(Part("│ ⇣ link", "bold magenta", drop=4))
    return _fit(parts, width, short)


def presentation_header(
    info: p.RunInfo | None, frame: p.Frame | None, width: int, scene: str
) -> Text:
    """A lecture's header for the class: scene counter, title, step, lr and loss (and a
    divergence, which is a lesson too); no status, speed or device."""
    title = info.title if info else "dltui"
    parts = _scene_part(scene) + [Part(f" {title} ", "bold", drop=5)]
    if frame is not None:
        parts.append(Part(f"│ step {frame.step:,} "))
        if frame.status == "diverged":
            parts.append(Part(f"│ ✖ diverged at step {frame.diverged_at} ", "bold red"))
        parts += _lr_and_loss(info, frame)
    return _fit(parts, width, None)


def _scene_part(scene: str) -> list[Part]:
    return [Part(f" {scene} ", "bold reverse")] if scene else []


def _lr_and_loss(info: p.RunInfo | None, frame: p.Frame) -> list[Part]:
    parts = []
    if frame.lr is not None:  # what the optimizers really hold
        parts.append(Part(f"│ lr {frame.lr:.4g} "))
    elif (lr := frame.params.get("lr")) is not None:
        label = next((q.label for q in info.params if q.name == "lr"), "") if info else ""
        parts.append(Part(f"│ {label or 'lr '}{lr:.4g} "))
    loss = frame.metrics.get("loss")
    if loss is not None:
        parts.append(Part(f"│ loss {loss:.4g} "))
    return parts


def _fit(parts: list[Part], width: int, short: str | None) -> Text:
    """Drop parts by their `drop` level until the line fits; before the title goes it shrinks
    to `short` (the scenario's name), or with `short` None is cut to the room left."""

    def length() -> int:
        return sum(len(part.text) for part in parts)

    for level in range(1, 6):
        if length() <= width:
            break
        if level == 4:  # the title shrinks before it goes (and ⇣ link)
            for part in parts:
                if part.drop == 5:
                    room = width - (length() - len(part.text))
                    part.text = f" {short} " if short is not None else _cut(part.text, room)
            if length() <= width:
                break
        parts[:] = [part for part in parts if part.drop != level]
    line = Text()
    for part in parts:
        line.append(part.text, style=part.style)
    line.truncate(width)
    return line


def _cut(text: str, room: int) -> str:
    """` title ` cut to `room` columns with an ellipsis ("" when too little is left)."""
    if len(text) <= room:
        return text
    return text[: room - 2].rstrip() + "… " if room >= 8 else ""

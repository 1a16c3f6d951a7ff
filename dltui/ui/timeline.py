"""The timeline line: where you are in the run, how far it has gone, where its branches start.

`timeline_text` is pure (a Frame, the ghosts and a width in; a Rich Text out, or None while
there is nothing to say: before any going back or branching the line takes no row). The bar spans
steps 0 to the run's limit (or further, where a branch went past it): ━ up to the step shown, ┄
from there to the furthest step this branch reached (you went back), ─ the rest; ● is now, ┬ a
branch point or reset.
"""

from __future__ import annotations

from rich.text import Text

from dltui import protocol as p

NOW, DONE, AHEAD, REST, FORK = "●", "━", "┄", "─", "┬"


def timeline_text(frame: p.Frame | None, ghosts: tuple[p.Ghost, ...], width: int) -> Text | None:
    if frame is None or (frame.head <= frame.step and not ghosts):
        return None
    span = max(frame.limit, frame.head, frame.step, 1)
    lead = f" step {frame.step:,} "
    if frame.head > frame.step:
        lead += f"(went back from {frame.head:,}) "
    forks = [g for g in ghosts if g.step > 0]
    tail = f" {len(ghosts)} ghost{'s' if len(ghosts) != 1 else ''} · c hides"
    if forks:
        tail = f" ┬ {forks[-1].mark}" + tail
    bar_width = width - len(lead) - len(tail) - 1
    if bar_width < 10:  # narrow: keep the numbers, drop the bar
        tail = ""
        bar_width = width - len(lead) - 1
    line = Text(lead, style="bold")
    if bar_width >= 10:
        line.append_text(_bar(frame.step, frame.head, span, [g.step for g in forks], bar_width))
    line.append(tail, style="#b39ddb")
    line.truncate(width)
    return line


def _bar(step: int, head: int, span: int, forks: list[int], width: int) -> Text:
    def cell(at: int) -> int:
        return min(width - 1, round(at / span * (width - 1)))

    now, reached = cell(step), cell(max(head, step))
    chars = [DONE if i < now else AHEAD if i <= reached else REST for i in range(width)]
    styles = ["green" if i < now else "yellow" if i <= reached else "dim" for i in range(width)]
    for at in forks:
        chars[cell(at)], styles[cell(at)] = FORK, "#b39ddb"
    chars[now], styles[now] = NOW, "bold green"
    bar = Text()
    for char, style in zip(chars, styles, strict=True):
        bar.append(char, style=style)
    return bar

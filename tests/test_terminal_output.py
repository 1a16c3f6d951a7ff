"""What goes to the terminal: only the cells that change (the screen mirror, checked against a
terminal emulator), the shortest style codes, and frames held while the terminal has not taken
what it was sent (its answers to the cursor-position probe, on a fake clock)."""

from __future__ import annotations

import random

import pyte
from conftest import make_app, wait_for_step
from test_bandwidth import Clock
from textual import events

from dltui import protocol as p
from dltui.ui.budget import KEY_WINDOW, WINDOW, Backlog
from dltui.ui.mirror import ScreenMirror
from dltui.ui.output import PROBE, TerminalOutput
from dltui.ui.sgr import PLAIN, Style, apply, blank, delta

SIZE = (120, 40)
SYNC = ("\x1b[?2026h", "\x1b[?2026l")


def look(screen: pyte.Screen) -> list[list[tuple]]:
    """What each cell shows: a half block with both halves one colour is a space of that colour,
    and a space shows no foreground, unless underlined or struck through."""
    rows = []
    for y in range(screen.lines):
        row = []
        for x in range(screen.columns):
            c = screen.buffer[y][x]
            fg, bg = (c.bg, c.fg) if c.reverse else (c.fg, c.bg)
            char = " " if c.data in "▀▄" and fg == bg else c.data
            if char == " " and not (c.underscore or c.strikethrough):
                row.append((" ", bg))
            else:
                row.append((char, fg, bg, c.bold, c.italics, c.underscore, c.strikethrough))
        rows.append(row)
    return rows


class Terminal:
    """A pyte screen fed one update at a time."""

    def __init__(self) -> None:
        self.screen = pyte.Screen(*SIZE)
        self.stream = pyte.Stream(self.screen)
        self.bytes = 0

    def feed(self, data: str) -> list[list[tuple]]:
        self.stream.feed(data)
        self.bytes += len(data.encode())
        return look(self.screen)


def mirrored(updates: list[str], seed: int = 0) -> tuple[Terminal, Terminal]:
    """Each update as Textual wrote it, and through a mirror (cut into writes of random
    length, as a driver may pass them on), to two terminals that must look the same after each."""
    rng = random.Random(seed)
    direct, through, mirror = Terminal(), Terminal(), ScreenMirror()
    for i, update in enumerate(updates):
        cuts = sorted(rng.sample(range(1, len(update)), min(3, len(update) - 1)))
        pieces = [update[a:b] for a, b in zip([0, *cuts], [*cuts, len(update)])]
        sent = "".join(mirror.feed(piece) for piece in pieces)
        assert through.feed(sent) == direct.feed(update), f"update {i} looks different"
    return direct, through


# -- styles -----------------------------------------------------------------------------
RED_ON_BLUE = Style(frozenset(), "38;2;200;0;0", "48;2;0;0;200")


def test_a_new_background_alone_costs_only_its_own_codes():
    to_green = RED_ON_BLUE._replace(bg="48;2;0;200;0")
    assert delta(RED_ON_BLUE, to_green) == ("\x1b[48;2;0;200;0m", to_green)
    bold = RED_ON_BLUE._replace(attrs=frozenset({"1"}))
    assert delta(RED_ON_BLUE, bold)[0] == "\x1b[1m"
    # bold must go: there is no shorter way than a reset and the whole style
    assert delta(bold, RED_ON_BLUE)[0] == "\x1b[0;38;2;200;0;0;48;2;0;0;200m"
    assert delta(None, PLAIN)[0] == "\x1b[0m"  # an unknown style is always set whole


def test_styles_parse_as_textual_writes_them_and_unknown_codes_are_not_guessed():
    assert apply(PLAIN, "1;38;2;200;0;0;48;5;17") == Style(
        frozenset({"1"}), "38;2;200;0;0", "48;5;17"
    )
    assert apply(RED_ON_BLUE, "0") == PLAIN
    assert apply(RED_ON_BLUE, "39;49") == PLAIN
    assert apply(PLAIN, "22") is None  # an "off" code: not modelled
    assert apply(None, "31") is None  # on top of an unknown style, still unknown
    assert apply(None, "0;31") == Style(frozenset(), "31", "")


def test_cells_that_look_alike_compare_equal():
    same = Style(frozenset(), "38;2;9;9;9", "48;2;9;9;9")
    assert blank("▀", same) == (" ", Style(frozenset(), "", "48;2;9;9;9"))
    assert blank(" ", RED_ON_BLUE) == blank(" ", RED_ON_BLUE._replace(fg="31"))
    assert blank("▀", RED_ON_BLUE) == ("▀", RED_ON_BLUE)
    reverse = RED_ON_BLUE._replace(attrs=frozenset({"7"}))
    assert blank(" ", reverse) == (" ", reverse)  # reversed, a space shows its foreground
    assert delta(blank(" ", RED_ON_BLUE)[1], reverse, True)[0] == "\x1b[7;38;2;200;0;0m"
    assert blank("▀", Style(frozenset(), "31", "41"))[0] == " "  # 16 colours: red on red


# -- the mirror -------------------------------------------------------------------------
def cell(color: int) -> str:
    return f"\x1b[38;2;{color};0;0;48;2;0;0;{color}m▀\x1b[0m"


def test_an_unchanged_screen_costs_nothing_and_a_changed_cell_only_itself():
    rows = [[cell((x * 7 + y) % 256) for x in range(120)] for y in range(40)]
    full = "".join(f"\x1b[{y + 1};1H" + "".join(r) for y, r in enumerate(rows))
    rows[20][60] = cell(255)  # one cell changes colour, and one gets a glyph
    rows[20][61] = "\x1b[1;38;2;255;255;255;48;2;0;0;61m●\x1b[0m"
    again = "".join(f"\x1b[{y + 1};1H" + "".join(r) for y, r in enumerate(rows))
    mirror = ScreenMirror()
    direct, through = mirrored([full, full, again])
    assert through.bytes < direct.bytes / 2.5
    mirror.feed(full)
    assert mirror.feed(full) == ""
    sent = mirror.feed(again)
    assert 0 < len(sent.encode()) < 400  # a move, two colours, the changed cells


STYLES = [
    *(f"38;2;{r};0;0;48;2;0;0;{r}" for r in (0, 90, 180)),  # truecolor half blocks
    "38;2;5;5;5;48;2;5;5;5",  # both halves one colour
    "1;97;40", "2;37;40", "3;97", "4;31;44", "7;90;40", "9;32", "38;5;17;48;5;17", "36;46", "",
]  # fmt: skip
CHARS = " ▀▄ab●⣀─"


def random_update(rng: random.Random) -> str:
    """Runs of styled text at random places, in Textual's form (a move, then each run as
    ESC[codes]m text ESC[0m; line feeds between spans, none on the last row: there a line
    feed would scroll the screen, which Textual never does)."""
    spans = []
    for _ in range(rng.randint(1, 12)):
        y, x = rng.randrange(39), rng.randrange(110)
        span = f"\x1b[{y + 1};{x + 1}H"
        while x < 120 and rng.random() < 0.8:
            n = min(rng.randint(1, 12), 120 - x)
            codes = rng.choice(STYLES)
            text = "".join(rng.choice(CHARS) for _ in range(n))
            span += f"\x1b[{codes}m{text}\x1b[0m" if codes else text
            x += n
        spans.append(span)
    return SYNC[0] + "\n".join(spans) + SYNC[1]


def test_random_updates_look_the_same_through_the_mirror():
    rng = random.Random(7)
    base = "".join(f"\x1b[{y + 1};1H" + "\x1b[40m" + " " * 120 + "\x1b[0m" for y in range(40))
    mirrored([base] + [random_update(rng) for _ in range(300)], seed=7)


async def test_what_the_app_writes_shows_the_same_through_the_mirror_in_fewer_bytes():
    """The real app, stepped and paused and its help opened: every update as Textual writes
    it (the compositor's own output), with and without the mirror, on a terminal emulator."""
    app = make_app("xor", steps=10001, run_to_limit=False)
    updates: list[str] = []
    display = app._display

    def capture(screen, renderable) -> None:
        if renderable is not None:
            updates.append(SYNC[0] + renderable.render_segments(app.console) + SYNC[1])
        display(screen, renderable)

    app._display = capture
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_step(pilot, 0)
        for step in range(1, 9):
            await pilot.press("n")
            await wait_for_step(pilot, step)
        await pilot.press("N")
        await wait_for_step(pilot, 18)
        await pilot.press("question_mark")  # a screen over the screen, then back
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert len(updates) > 10
    direct, through = mirrored(updates, seed=1)
    assert "step 18/10,001" in "".join(c[0] for c in look(through.screen)[0])
    assert through.bytes < 0.6 * direct.bytes, (through.bytes, direct.bytes)


def test_what_the_mirror_does_not_model_passes_through_and_is_sent_again_later():
    plain = "\x1b[5;1H\x1b[38;2;1;2;3mhello world\x1b[0m"
    updates = [
        plain,
        "\x1b[5;3H\x1b[22;38;2;9;9;9mXY\x1b[0m",  # an "off" code: the style is not modelled
        plain,  # ...so hello world goes again, whole
        "\x1b[6;1H\x1b[38;2;1;2;3m中文 wide\x1b[0m",  # wide characters
        "\x1b[6;1H\x1b[38;2;1;2;3mabcdef\x1b[0m",
        "\x1b[2J",  # erasing: nothing on screen is known any more
        plain,
        "\x1b[7;1Habc\nde",  # text after a line feed, with no move: sent as it came
        "\x1b]8;;https://example.org\x1b\\\x1b[5;1Hlink\x1b]8;;\x1b\\",  # a hyperlink
        plain,
    ]
    mirrored(updates)
    mirror = ScreenMirror()
    for update in updates[:5]:
        mirror.feed(update)
    assert "hello world" in mirror.feed("\x1b[2J" + plain)


def test_a_write_cut_inside_an_escape_sequence_waits_for_the_rest():
    mirror = ScreenMirror()
    assert mirror.feed("\x1b[5;1H\x1b[38;2;1;2") == ""
    assert mirror.feed(";3mA") == "\x1b[5;1H\x1b[0;38;2;1;2;3mA"


def test_the_bell_rings_without_sending_the_screen_again():
    mirror = ScreenMirror()
    update = "\x1b[1;1H\x1b[1mtitle\x1b[0m"
    mirror.feed(update)
    assert mirror.feed("\x07" + update) == "\x07"


def test_after_a_reset_everything_is_sent_again():
    mirror = ScreenMirror()
    update = "\x1b[1;1H\x1b[1mtitle\x1b[0m"
    mirror.feed(update)
    assert mirror.feed(update) == ""
    mirror.reset()  # a resize
    assert "title" in mirror.feed(update)


# -- back-pressure ----------------------------------------------------------------------
def test_frames_wait_while_the_terminal_has_not_taken_a_window_of_bytes():
    clock = Clock()
    backlog = Backlog(window=1000, timeout=2.0, clock=clock)
    backlog.wrote(5000)
    backlog.asked()
    assert not backlog.holds()  # the terminal has never answered: the budget alone paces
    backlog.answered()
    backlog.wrote(900)
    backlog.asked()
    assert not backlog.holds()  # 900 bytes on their way: within the window
    backlog.wrote(300)
    backlog.asked()
    assert backlog.in_flight == 1200 and backlog.holds()
    clock.now = 1.0
    backlog.answered()  # the terminal took the first 900
    assert backlog.in_flight == 300 and not backlog.holds()


def test_a_terminal_that_stops_answering_is_waited_for_at_most_the_timeout():
    clock = Clock()
    backlog = Backlog(window=100, timeout=2.0, clock=clock)
    backlog.asked()
    backlog.answered()
    backlog.wrote(500)
    backlog.asked()
    clock.now = 1.9
    assert backlog.holds()
    clock.now = 2.1
    assert not backlog.holds()  # silent too long: no longer waited for
    backlog.wrote(500)
    backlog.asked()
    assert not backlog.holds()
    backlog.answered()  # ...until it answers again
    backlog.wrote(500)
    backlog.asked()
    assert backlog.holds()


class FakeDriver:
    def __init__(self) -> None:
        self.written: list[str] = []

    def write(self, data: str) -> None:
        self.written.append(data)


def test_each_update_that_wrote_something_asks_the_terminal_once():
    clock = Clock()
    output, driver = TerminalOutput(0, clock=clock), FakeDriver()
    output.attach(driver)
    driver.write("\x1b[1;1Hx" * 5000)  # what Textual writes goes through the mirror
    output.displayed()
    output.displayed()  # an update that wrote nothing: no second question
    assert driver.written[-1] == PROBE and driver.written.count(PROBE) == 1
    assert not output.holds()  # no answer yet: the terminal may not answer at all
    output.answered()
    driver.write("\x1b[2;1H" + "y" * (WINDOW + 1))
    output.displayed()
    assert output.holds()
    output.answered()
    assert not output.holds()


async def test_the_app_holds_frames_until_the_terminal_answers_and_keys_only_when_far_behind():
    app = make_app("xor", steps=10001, run_to_limit=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_step(pilot, 0)
        app.command(p.Toggle())
        await pilot.pause(0.2)
        backlog = app.output.backlog
        backlog.asked()
        app.post_message(events.CursorPosition(0, 0))  # the terminal's answer
        await pilot.pause()
        assert backlog.answering and not backlog.probes
        backlog.wrote(WINDOW + 1)
        backlog.asked()
        app._dirty = False
        assert not app._wants_frame() and app.held_by_link
        assert "⇣ link" in str(app.query_one("#header").render())
        app._dirty = True  # a key was pressed: its frame is asked for at once
        assert app._wants_frame()
        backlog.wrote(KEY_WINDOW)
        backlog.asked()
        assert not app._wants_frame()  # ...unless it would only queue behind a long backlog
        backlog.answered()
        backlog.answered()
        assert app._wants_frame()

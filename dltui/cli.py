"""The `dltui` command: list, info, run (UI, headless, screenshot). See DESIGN.md's CLI contract.

Every user mistake is one line on stderr and exit code 2, never a traceback. `run` with the UI
checks the target without importing torch, opens the UI at once and lets the engine's child
process import torch in parallel.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from dltui.scenario.params import UsageError

if TYPE_CHECKING:
    from dltui.protocol import RunSpec

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not usage + error
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _speed(text: str) -> float | None | str:
    if text == "default":  # argparse passes the default through here too
        return text
    if text.strip().lower() == "max":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--speed must be a number or 'max', got {text!r}")
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError("--speed must be positive (steps per second) or 'max'")
    return value


MAX_SIZE = (1000, 500)


def _size(text: str) -> tuple[int, int]:
    cols, sep, rows = text.lower().partition("x")
    if not (sep and cols.isascii() and cols.isdigit() and rows.isascii() and rows.isdigit()):
        raise argparse.ArgumentTypeError(f"--size must look like 120x40, got {text!r}")
    if not (20 <= int(cols) <= MAX_SIZE[0] and 10 <= int(rows) <= MAX_SIZE[1]):
        raise argparse.ArgumentTypeError(
            f"--size {text}: columns must be 20–{MAX_SIZE[0]} and rows 10–{MAX_SIZE[1]}"
        )
    return int(cols), int(rows)


def _positive(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return int(text)


def _whole(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"expected a whole number (0 or more), got {text!r}")
    return int(text)


def _number(lo: float, hi: float, not_a_number: str, out_of_range: str):
    """An argparse type: a float in [lo, hi] (nan refused), each mistake one line."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{not_a_number}, got {text!r}") from None
        if not lo <= value <= hi:  # nan too
            raise argparse.ArgumentTypeError(f"{out_of_range}, got {text!r}")
        return value

    return parse


_fps = _number(1, 60, "--fps must be a number", "--fps must be between 1 and 60")
_kbps = _number(
    0,
    1 << 20,
    "--bandwidth must be a number",
    "--bandwidth must be KB/s between 0 (no limit) and 1048576",
)
_megabytes = _number(0, 1 << 20, "must be a number of megabytes", "must be between 0 and 1048576")


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed must be a whole number, got {text!r}") from None
    if not -(2**63) <= value < 2**63:
        raise argparse.ArgumentTypeError(f"--seed must fit in 64 bits (±9.2e18), got {text}")
    return value


def _output(path: str, flag: str, suffix: str | None = None) -> None:
    """Refuse an output path that cannot be written, before any training starts."""
    if not path:
        raise UsageError(f"{flag} needs a file name")
    target = Path(path)
    if suffix and target.suffix.lower() != suffix:
        raise UsageError(
            f"{flag} {path}: the file is written as {suffix[1:].upper()}; give it a {suffix} name"
        )
    if target.is_dir():
        raise UsageError(f"{flag} {path} is a directory; give a file name")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"{flag} {path}: there is no folder {folder}")
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise UsageError(f"{flag} {path}: no permission to write there")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="dltui", description="Train neural networks live in the terminal.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("list", help="list the built-in scenarios")
    info = sub.add_parser("info", help="show a scenario's params and record keys")
    info.add_argument("target", help="scenario name or path/to/file.py[:Class]")
    data = sub.add_parser("data", help="download a dataset (mnist, fashion-mnist) once")
    data.add_argument("dataset", choices=("mnist", "fashion-mnist"))
    data.add_argument("--dir", dest="data_dir", help="where to put it (default: user cache)")
    run = sub.add_parser("run", help="run a scenario (live UI unless --headless/--screenshot)")
    run.add_argument("target", help="scenario name or path/to/file.py[:Class]")
    run.add_argument("--seed", type=_seed, help="random seed (default: the lab's)")
    run.add_argument("--device", default="auto", help="auto|cpu|cuda|cuda:N|mps")
    run.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a param (repeatable); see 'dltui info TARGET'",
    )
    run.add_argument("--steps", type=_positive, help="stop after N steps (default: the lab's)")
    run.add_argument("--paused", action="store_true", help="open the UI paused")
    run.add_argument(
        "--start",
        type=_whole,
        metavar="STEP",
        help="open the UI (or take --screenshot) at this step, the steps before it (and the --at "
        "actions up to it) taken first",
    )
    run.add_argument(
        "--threads",
        type=_positive,
        help="torch CPU threads (default: 1 for the small scenarios, torch's own for the CNN)",
    )
    run.add_argument(
        "--speed", type=_speed, default="default", help="steps per second in the UI, or 'max'"
    )
    run.add_argument(
        "--at",
        action="append",
        default=[],
        metavar="STEP:ACTION",
        help="a timed action: STEP:lr=0.5 (any live param), STEP:rewind=K or STEP:reset "
        "(repeatable)",
    )
    run.add_argument(
        "--checkpoint-mb",
        type=_megabytes,
        default=256,
        metavar="MB",
        help="time travel's memory for checkpoints (default 256; 0 turns it off)",
    )
    run.add_argument(
        "--fps",
        type=_fps,
        help="at most N frames a second in the UI (default: 10 over SSH, else as CPU allows)",
    )
    run.add_argument(
        "--bandwidth",
        type=_kbps,
        default=64,
        metavar="KBPS",
        help="KB a second the UI may send its terminal on average (default 64; 0: no limit)",
    )
    run.add_argument("--headless", action="store_true", help="no UI; final record on stdout")
    run.add_argument("--jsonl", metavar="FILE|-", help="write records as JSON lines")
    run.add_argument(
        "--every",
        type=_positive,
        metavar="K",
        help="with --jsonl: record every K steps (and the last)",
    )
    run.add_argument(
        "--screenshot",
        metavar="FILE.svg",
        help="render the UI after --steps steps to an SVG and exit",
    )
    run.add_argument(
        "--size",
        type=_size,
        default=(120, 40),
        metavar="COLSxROWS",
        help="terminal size for --screenshot (default 120x40)",
    )
    _add_watch(sub)
    _add_serve(sub, run)
    _add_lecture(sub)
    return parser


def _add_lecture(sub: argparse._SubParsersAction) -> None:
    lecture = sub.add_parser(
        "lecture", help="present a lecture: a file of scenes, each a run (dltui lecture course)"
    )
    lecture.add_argument("file", help="lecture.toml, or a built-in lecture's name (course)")
    mode = lecture.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="check the file, one line a mistake")
    mode.add_argument(
        "--headless", action="store_true", help="each scene to its start; a JSON line a scene"
    )
    mode.add_argument(
        "--screenshot", metavar="DIR", help="save each scene as it opens, an SVG a scene, in DIR"
    )
    mode.add_argument(
        "--notes",
        action="store_true",
        help="the presenter's notes, following the lecture shown in another terminal",
    )
    lecture.add_argument(
        "--present", action="store_true", help="open in the presentation view (p toggles it)"
    )
    lecture.add_argument(
        "--scene",
        type=_positive,
        metavar="N",
        help="open at scene N (with --check, --headless, --screenshot: only scene N)",
    )
    lecture.add_argument("--device", default="auto", help="auto|cpu|cuda|cuda:N|mps")
    lecture.add_argument(
        "--size",
        type=_size,
        default=(120, 40),
        metavar="COLSxROWS",
        help="terminal size for --screenshot (default 120x40)",
    )
    lecture.add_argument("--fps", type=_fps, help="at most N frames a second (as dltui run)")
    lecture.add_argument(
        "--bandwidth", type=_kbps, default=64, metavar="KBPS", help="as dltui run (default 64)"
    )


def cmd_lecture(args: argparse.Namespace) -> int:
    from dltui.lecture import LectureError, load, read, resolve

    batch = args.check or args.headless or args.screenshot is not None
    lecture = (read if batch else load)(resolve(args.file))  # load: LectureError, no torch
    count = len(lecture.scenes)
    if args.scene is not None and args.scene > count:
        raise UsageError(f"--scene {args.scene}: {lecture.name} has {count} scenes")
    only = args.scene
    if args.notes:
        _need_terminal()
        from dltui.ui.notes import run_notes

        return run_notes(lecture)
    if batch:
        if args.screenshot is not None:
            _folder(args.screenshot, "--screenshot")
        from dltui.engine.lecture import check, run_headless

        if mistakes := check(lecture, args.device, only):  # every one, a line each
            raise LectureError(mistakes)
        if args.check:
            print(f"{lecture.name}: {count} scenes, no mistakes found")
            return 0
        if args.headless:
            return run_headless(lecture, args.device, only)
        from dltui.ui.lecture_app import screenshots

        for path in screenshots(
            lecture, args.screenshot, args.size, args.present, only, args.device
        ):
            print(path)
        return 0
    _need_terminal()
    from dltui.ui.budget import default_fps
    from dltui.ui.lecture_app import run_lecture

    fps = args.fps if args.fps is not None else default_fps(dict(os.environ))
    first = (args.scene or 1) - 1
    return run_lecture(lecture, first, args.present, args.device, fps, args.bandwidth)


def _need_terminal() -> None:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "a lecture and its notes need a terminal on stdin and stdout; without one use "
            "--check, --headless or --screenshot DIR"
        )


def _folder(path: str, flag: str) -> None:
    """A folder to write into, made if missing (its parent must exist)."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{flag} {path} is a file; give a folder")
    if not folder.exists():
        if not folder.parent.is_dir():
            raise UsageError(f"{flag} {path}: there is no folder {folder.parent}")
        try:
            folder.mkdir()
        except OSError as exc:
            raise UsageError(f"{flag} {path}: cannot make it ({exc.strerror})") from None
    if not os.access(folder, os.W_OK):
        raise UsageError(f"{flag} {path}: no permission to write there")


def _add_serve(sub: argparse._SubParsersAction, run: argparse.ArgumentParser) -> None:
    from dltui.serve import add_parser

    add_parser(sub, run)


def cmd_serve(args: argparse.Namespace, argv: list[str]) -> int:
    from dltui.serve import cmd_serve as serve

    return serve(args, sys.argv[1:] if argv is None else argv)


def _add_watch(sub: argparse._SubParsersAction) -> None:
    watch = sub.add_parser(
        "watch",
        help="run your own training script under the UI (it calls dltui.watch(model, optimizer))",
    )
    watch.add_argument("--headless", action="store_true", help="no UI; final record on stdout")
    watch.add_argument("--jsonl", metavar="FILE", help="with --headless: records as JSON lines")
    watch.add_argument("--every", type=_positive, metavar="K", help="a record every K steps")
    watch.add_argument(
        "--log", metavar="FILE", help="the script's output (default: ./dltui-watch-NAME.log)"
    )
    watch.add_argument("--paused", action="store_true", help="hold the script's first step")
    watch.add_argument("script", help="path/to/train.py")
    watch.add_argument("args", nargs=argparse.REMAINDER, help="the script's own arguments")


def cmd_watch(args: argparse.Namespace) -> int:
    if not Path(args.script).is_file():
        raise UsageError(f"no such script: {args.script}")
    if args.every is not None and not args.jsonl:
        raise UsageError("--every needs --jsonl (it sets how often a record is written)")
    if args.jsonl is not None:
        if not args.headless:
            raise UsageError("--jsonl needs --headless")
        _output(args.jsonl, "--jsonl")
    if args.headless:
        from dltui.engine.launcher import run_headless

        return run_headless(args.script, args.args, args.jsonl, args.every or 1)
    from dltui.ui.watch_app import default_log_path, run_watch

    log = args.log or default_log_path(args.script)
    _output(log, "--log")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "the live UI needs a terminal on stdin and stdout; for a run without one use "
            "dltui watch --headless --jsonl FILE SCRIPT"
        )
    return run_watch(args.script, args.args, log, paused=args.paused)


def cmd_list() -> int:
    from dltui.registry import builtins

    found = builtins().values()
    width = max(len(b.name) for b in found)
    lesson = None
    for b in found:  # in the course's order, under its lessons' headings
        if b.lesson != lesson:
            print(("\n" if lesson is not None else "") + b.lesson)
            lesson = b.lesson
        alias_text = f"  (alias: {', '.join(b.aliases)})" if b.aliases else ""
        print(f"{b.name:<{width}}  {b.title}\n{'':<{width}}  {b.description}{alias_text}")
    return 0


def cmd_info(target: str) -> int:
    from dltui.registry import load
    from dltui.scenario.base import key_label

    cls = load(target)
    print(f"{cls.name or cls.__name__}: {cls.title or cls.name}")
    print(f"  {cls.description}")
    print(f"  {cls.caption}")
    threads = "torch's own count of" if cls.threads is None else f"{cls.threads}"
    plural = "s" if cls.threads != 1 else ""
    print(f"  seed {cls.seed}, {cls.steps} steps by default, on {threads} CPU thread{plural}")
    print("\nparams (--set KEY=VALUE; * = live-editable while running):")
    for p in cls.params:
        live = "*" if p.live else " "
        print(
            f" {live}{p.name:<14} {p.type_name:<7} default {p.format(p.default):<10} "
            f"{p.range_text():<22} {p.help}"
        )
    if cls.keys:
        print("\nkeys on this scenario's screen (besides those in '?'):")
        for key, (moves, _, what) in cls.keys.items():
            print(f"  {key_label(key):<16} {what} ({moves})")
    print("\nrecord keys (--headless / --jsonl):")
    print(f"  {'step':<16} updates done so far (1-based)")
    for key, meaning in cls.records.items():
        print(f"  {key:<16} {meaning}")
    print(f"  {'branch':<16} which branch of the run (with --at, or after going back)")
    print(
        "\ntime travel (b, B, g, home; --at STEP:ACTION headless): exact all the way back to"
        "\n  step 0, as replay from checkpoints; --checkpoint-mb (default 256) bounds their"
        "\n  memory, so going far back in a long run replays longer, never less exactly."
        "\n  Live params replayed by --at and branches: "
        + (", ".join(p.name for p in cls.params if p.live and not p.display) or "none")
    )
    return 0


def run_spec(args: argparse.Namespace) -> RunSpec:
    """The run a `dltui run` command line asks for (a lecture's scene holds the same)."""
    from dltui.protocol import RunSpec

    return RunSpec(
        target=args.target,
        sets=tuple(args.sets),
        seed=args.seed,
        device=args.device,
        steps=args.steps,
        speed=args.speed,
        paused=args.paused,
        threads=args.threads,
        at=tuple(args.at),
        checkpoint_mb=args.checkpoint_mb,
        start=args.start or 0,
    )


def cmd_run(args: argparse.Namespace) -> int:
    from dltui.registry import check_target

    check_target(args.target)
    if args.every is not None and not args.jsonl:
        raise UsageError("--every needs --jsonl (it sets how often a record is written)")
    if args.jsonl is not None and args.jsonl != "-":
        _output(args.jsonl, "--jsonl")
    if args.screenshot is not None:
        if args.headless:
            raise UsageError("--screenshot draws the UI; leave out --headless")
        _output(args.screenshot, "--screenshot", ".svg")
    if args.start is not None and args.headless:
        raise UsageError("--start opens the UI at a step; a headless run records every step")
    spec = run_spec(args)
    if args.jsonl is not None and not args.headless:
        raise UsageError("--jsonl needs --headless")
    if args.headless or args.screenshot:  # in this process: torch's threads as the engine's
        from dltui.engine.control import threads_of
        from dltui.engine.headless import run_headless
        from dltui.ui.app import screenshot

        with threads_of(spec) as spec:
            if args.headless:
                return run_headless(spec, jsonl=args.jsonl, every=args.every or 1)
            return screenshot(spec, args.screenshot, args.size)
    from dltui.serve import under_textual_serve  # a browser tab: the web driver, no tty
    from dltui.ui.app import run_app

    if not (sys.stdin.isatty() and sys.stdout.isatty()) and not under_textual_serve():
        raise UsageError(
            "the live UI needs a terminal on stdin and stdout; for a run without "
            "one use --headless (or --screenshot FILE.svg)"
        )
    from dltui.ui.budget import default_fps

    fps = args.fps if args.fps is not None else default_fps(dict(os.environ))
    return run_app(spec, fps=fps, bandwidth_kbps=args.bandwidth)


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "list":
            return cmd_list()
        if args.command == "info":
            return cmd_info(args.target)
        if args.command == "data":
            from dltui.scenario.data import cmd_data

            return cmd_data(args.dataset, args.data_dir)
        if args.command == "watch":
            return cmd_watch(args)
        if args.command == "serve":
            return cmd_serve(args, argv)
        if args.command == "lecture":
            return cmd_lecture(args)
        return cmd_run(args)
    except UsageError as exc:
        for line in str(exc).splitlines() or [""]:  # a lecture's mistakes: a line each
            print(f"dltui: error: {line}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `dltui run X --headless --jsonl - | head -1`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # noqa: BLE001 - a scenario's own bug: where in its code, not 30 lines of ours
        from dltui.scenario.base import describe_failure

        print(f"dltui: the scenario failed: {describe_failure(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

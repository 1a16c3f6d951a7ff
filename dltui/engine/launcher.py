"""The child process of `dltui watch`, and its headless form: the user's script as __main__.

`python -m dltui.engine.launcher SCRIPT [ARGS...]` runs SCRIPT with `runpy` (sys.argv and
sys.path[0] as `python SCRIPT ARGS` sets them). `dltui watch` starts it with stdout and stderr
on the run's log file and `$DLTUI_WATCH` naming the UI's socket, which `dltui.watch()` finds;
a traceback is printed without this module's frames, and the exit code is the script's
(1 for an exception, 130 for ctrl+c / SIGINT). Importing this module costs no torch: the UI
names the environment variables from here.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import traceback

ENV_SOCKET = "DLTUI_WATCH"
"""Path of the UI's unix socket, set by `dltui watch` for the script it runs."""
ENV_JSONL = "DLTUI_JSONL"
"""A file for JSON-lines records; works for `python train.py` too."""
ENV_EVERY = "DLTUI_EVERY"
"""With DLTUI_JSONL: a record every this many optimizer steps (default 1)."""
ENV_PAUSED = "DLTUI_WATCH_PAUSED"
"""1: the script's first optimizer step waits for space or n."""
ENV_HEADLESS = "DLTUI_WATCH_HEADLESS"
"""Set by `dltui watch --headless`: keep the latest values for the final record."""
HINT = "add `import dltui` and `dltui.watch(model, optimizer)` after building them"


def run_script(path: str, args: list[str]) -> int:
    """Run a script as `python path args...` would, in this process; return its exit code."""
    sys.argv = [path, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as exc:
        return _exit_code(exc.code)
    except KeyboardInterrupt as exc:
        _print_traceback(exc, path)
        return 130
    except BaseException as exc:  # noqa: BLE001 - the script's own failure: its traceback
        _print_traceback(exc, path)
        return 1
    return 0


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # sys.exit("message") prints it, as Python does
    return 1


def _print_traceback(exc: BaseException, path: str) -> None:
    """The traceback from the script's first frame on (not runpy's nor ours); none for a
    script that does not compile (a SyntaxError names its file and line itself)."""
    script = os.path.abspath(path)
    tb = exc.__traceback__
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) != script:
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb)
    sys.stderr.flush()


def run_headless(script: str, args: list[str], jsonl: str | None, every: int) -> int:
    """`dltui watch --headless`: the script here, records to `jsonl`, the final record as
    the last line on stdout; the exit code is the script's."""
    os.environ[ENV_HEADLESS] = "1"
    if jsonl:
        os.environ[ENV_JSONL] = jsonl
        os.environ[ENV_EVERY] = str(every)
    code = run_script(script, args)
    live = sys.modules.get("dltui.engine.watch")
    current = live.current() if live is not None else None
    if current is None:
        print(f"dltui: {script} never called dltui.watch(): no records; {HINT}", file=sys.stderr)
        return code
    current.close()
    sys.stdout.flush()
    print(json.dumps(current.final), flush=True)
    return code


def main() -> None:
    if len(sys.argv) < 2:
        print("usage: python -m dltui.engine.launcher SCRIPT [ARGS...]", file=sys.stderr)
        sys.exit(2)
    code = run_script(sys.argv[1], sys.argv[2:])
    sys.stdout.flush()
    sys.exit(code)


if __name__ == "__main__":
    main()

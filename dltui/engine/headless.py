"""Headless runs: the engine in-process, JSONL records, progress on stderr, final JSON on stdout.

The same Runner the UI drives, so anything visible is reproducible here. Contract: the last
line on stdout is the final record; `--jsonl FILE|-` writes one record every K steps and always
the last; progress goes to stderr at most once a second.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from typing import IO

from dltui.engine.control import build_runner
from dltui.protocol import RunSpec
from dltui.scenario.params import UsageError


def _fmt_record(rec: dict) -> str:
    shown = [f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in rec.items()]
    return " ".join(shown)


def run_headless(
    spec: RunSpec,
    jsonl: str | None = None,
    every: int = 1,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    runner = build_runner(spec)
    sink: IO[str] | None = None
    if jsonl == "-":
        sink = out
    elif jsonl:
        try:
            sink = open(jsonl, "w", encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise UsageError(f"--jsonl {jsonl}: cannot write it ({exc.strerror})") from None
    name = runner.cls.name or runner.cls.__name__
    print(f"dltui: {name} on {runner.device}, {runner.limit} steps, seed {runner.seed}", file=err)
    last_progress = time.perf_counter()
    try:
        runner.step(1)
        runner.check_view()  # a mistake in view() is one line now, not after the run
        while True:
            if sink and (runner.step_count % every == 0 or runner.done):
                rec = runner.record()
                if not (sink is out and runner.done):
                    _write(sink, json.dumps(rec) + "\n", jsonl, runner.step_count)
            if runner.done:
                runner.fire_script()  # an action at the last step (a rewind) goes on
                if runner.done:
                    break
                continue
            now = time.perf_counter()
            if now - last_progress >= 1.0:
                last_progress = now
                print(f"  {_fmt_record(runner.record())}", file=err, flush=True)
            # Step to the next record boundary (or in chunks when no JSONL is written).
            runner.step(every - runner.step_count % every if sink else 1000)
    except BaseException:
        if sink is not None and sink is not out:
            with contextlib.suppress(OSError):  # the first error is the one to report
                sink.close()
        raise
    if sink is not None and sink is not out:
        _close(sink, jsonl, runner.step_count)
    final = runner.record()
    if runner.diverged_at is not None:
        print(f"dltui: {runner.message()}", file=err)
    else:
        print(f"dltui: done. {_fmt_record(final)}", file=err)
    out.write(json.dumps(final) + "\n")
    out.flush()
    return 0


def _write(sink: IO[str], line: str, path: str | None, step: int) -> None:
    try:
        sink.write(line)
    except BrokenPipeError:
        raise  # the reader went away (`| head`): the CLI stops quietly
    except OSError as exc:
        raise UsageError(
            f"--jsonl {path}: writing failed at step {step} ({exc.strerror})"
        ) from None


def _close(sink: IO[str], path: str | None, step: int) -> None:
    if sink.closed:
        return
    try:
        sink.close()  # a full disk shows here, when the last records are flushed
    except OSError as exc:
        raise UsageError(
            f"--jsonl {path}: writing failed at step {step} ({exc.strerror})"
        ) from None

"""Headless runs: the engine in-process, JSONL records, progress on stderr, final JSON on stdout.

The same Runner the UI drives, so anything visible is reproducible here. Contract: the last
line on stdout is the final record; `--jsonl FILE|-` writes one record every K steps and always
the last; progress goes to stderr at most once a second.
"""

from __future__ import annotations

import json
import sys
import time
from typing import IO

from dltui.engine.control import build_runner
from dltui.protocol import RunSpec


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
        sink = open(jsonl, "w", encoding="utf-8")  # noqa: SIM115 - closed below
    name = runner.cls.name or runner.cls.__name__
    print(f"dltui: {name} on {runner.device}, {runner.limit} steps, seed {runner.seed}",
          file=err)
    last_progress = time.perf_counter()
    checked_view = False
    try:
        while not runner.done:
            # Step to the next record boundary (or in chunks when no JSONL is written).
            chunk = every - runner.step_count % every if sink else 1000
            runner.step(1 if not checked_view else chunk)
            if not checked_view:  # a mistake in view() is one line now, not after the run
                runner.check_view()
                checked_view = True
            now = time.perf_counter()
            if sink and (runner.step_count % every == 0 or runner.done):
                rec = runner.record()
                if not (sink is out and runner.done):
                    sink.write(json.dumps(rec) + "\n")
            if now - last_progress >= 1.0:
                last_progress = now
                print(f"  {_fmt_record(runner.record())}", file=err, flush=True)
    finally:
        if sink is not None and sink is not out:
            sink.close()
    final = runner.record()
    if runner.diverged_at is not None:
        print(f"dltui: {runner.message()}", file=err)
    else:
        print(f"dltui: done. {_fmt_record(final)}", file=err)
    out.write(json.dumps(final) + "\n")
    out.flush()
    return 0

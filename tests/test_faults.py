"""Bad command lines and bad places to write: one line on stderr, exit 2, before any training."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dltui.cli import main


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--jsonl", "nodir/x.jsonl", "--headless"], "there is no folder nodir"),
        (["--jsonl", ".", "--headless"], "is a directory"),
        (["--jsonl", "", "--headless"], "--jsonl needs a file name"),
        (["--every", "3", "--headless"], "--every needs --jsonl"),
        (["--seed", str(2**64), "--headless"], "--seed must fit in 64 bits"),
        (["--seed", str(-(2**63) - 1), "--headless"], "--seed must fit in 64 bits"),
        (["--speed", "nan"], "--speed must be positive"),
        (["--speed", "inf"], "--speed must be positive"),
        (["--size", "99999x99999", "--screenshot", "x.svg"], "columns must be 20–1000"),
        (["--screenshot", "x.png"], "give it a .svg name"),
        (["--screenshot", "x.svg", "--headless"], "leave out --headless"),
        (["--steps", "x"], "expected a positive whole number, got 'x'"),
        ([], "the live UI needs a terminal"),  # pytest's stdin is not one
    ],
)
def test_bad_run_options_are_one_line_and_exit_2(args, expected, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "xor", "--steps", "5", *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and expected in err, err
    assert "_positive" not in err and list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_is_one_line(capsys):
    assert main(["run", "xor", "--headless", "--steps", "5", "--jsonl", "/dev/full"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "dltui: error: --jsonl /dev/full: writing failed at step 5 " \
                      "(No space left on device)"


def test_a_reader_that_goes_away_ends_the_run_quietly():
    pipeline = f"{sys.executable} -m dltui run xor --headless --jsonl - | head -1"
    done = subprocess.run(["bash", "-c", f"set -o pipefail; {pipeline}"], capture_output=True,
                          text=True, timeout=120)
    assert done.stdout.startswith('{"step": 1,') and "Traceback" not in done.stderr

"""Faults a hostile user can cause: bad command lines, bad places to write, damaged data and
broken downloads. Each is one clear line (exit 2), nothing half-written is left behind."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import os
import struct
import subprocess
import sys
import typing

import numpy as np
import pytest

from dltui.cli import main
from dltui.scenario import data


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
    assert (
        err[-1] == "dltui: error: --jsonl /dev/full: writing failed at step 5 "
        "(No space left on device)"
    )


def test_a_reader_that_goes_away_ends_the_run_quietly():
    pipeline = f"{sys.executable} -m dltui run xor --headless --steps 2000 --jsonl - | head -1"
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {pipeline}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stdout.startswith('{"step": 1,') and "Traceback" not in done.stderr


# -- data on disk and downloads --------------------------------------------------------------
STEMS = data.FILES


def write_set(folder, train_x=None, train_y=None, test_x=None, test_y=None):
    """Four IDX files in `folder`; any of them replaced by what a test passes."""
    rng = np.random.default_rng(0)
    arrays = [
        train_x if train_x is not None else rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        train_y if train_y is not None else rng.integers(0, 10, 20).astype(np.uint8),
        test_x if test_x is not None else rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
        test_y if test_y is not None else rng.integers(0, 10, 10).astype(np.uint8),
    ]
    folder.mkdir(parents=True, exist_ok=True)
    for stem, array in zip(STEMS, arrays):
        data.write_idx(folder / stem, array)
    return str(folder)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"test_y": np.array([1, 2, 255] * 3 + [0], np.uint8)}, "labels outside 0–9"),
        ({"train_x": np.zeros((20, 27, 27), np.uint8)}, "not 28×28 bytes"),
        (
            {"test_x": np.zeros((0, 28, 28), np.uint8), "test_y": np.zeros(0, np.uint8)},
            "holds no examples",
        ),
        ({"test_y": np.zeros(9, np.uint8)}, "10 images do not match"),
    ],
)
def test_damaged_data_is_one_line_naming_the_file(tmp_path, change, expected):
    with pytest.raises(data.DataError, match=expected):
        data.load("mnist", write_set(tmp_path / "d", **change))


def test_a_header_that_announces_too_much_is_refused_before_reading(tmp_path):
    path = tmp_path / "x-idx4-ubyte"
    path.write_bytes(bytes([0, 0, 8, 4]) + struct.pack(">4I", 65536, 65536, 65536, 65536))
    with pytest.raises(data.DataError, match="announces 18,446,744,073,709,551,616 bytes"):
        data.read_idx(path)


def test_a_gzip_that_inflates_past_its_header_is_not_read_whole(tmp_path):
    path = tmp_path / "bomb-idx1-ubyte.gz"
    with gzip.open(path, "wb") as fh:  # says 4 bytes, inflates to 32 MB
        fh.write(bytes([0, 0, 8, 1]) + struct.pack(">I", 4) + bytes(32 << 20))
    with pytest.raises(data.DataError, match="longer than its header says \\(5 data bytes"):
        data.read_idx(path)


def test_a_folder_that_cannot_be_searched_is_one_line():
    with pytest.raises(data.DataError, match="cannot look into .*File name too long"):
        data.find("mnist", "x" * 5000)


class Reply(io.BytesIO):
    headers: typing.ClassVar[dict] = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@pytest.mark.parametrize(
    "fault", [http.client.IncompleteRead(b"ab", 10), http.client.BadStatusLine("SSH-2.0-OpenSSH")]
)
def test_a_broken_transfer_tries_the_next_mirror(tmp_path, fault):
    body = gzip.compress(b"whatever")
    good = dict.fromkeys(data.DATASETS["mnist"].md5, hashlib.md5(body).hexdigest())
    asked = []

    def opener(url, timeout):
        asked.append(url)
        if len(asked) % 2:  # every first mirror fails
            raise fault
        return Reply(body)

    info = data.Dataset("t", "T", "T", ("http://one/", "http://two/"), good, ("0",))
    data.DATASETS["t"] = info
    try:
        folder = data.download("t", str(tmp_path / "d"), opener=opener, err=io.StringIO())
    finally:
        del data.DATASETS["t"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(good)
    assert [u.split("/")[2] for u in asked[:2]] == ["one", "two"]


def test_an_interrupted_download_leaves_no_file_no_part_and_no_folder(tmp_path):
    class Interrupted(Reply):
        def read(self, n=-1):
            raise KeyboardInterrupt  # ctrl+c, or SIGTERM through `dltui data`'s handler

    with pytest.raises(KeyboardInterrupt):
        data.download(
            "mnist", str(tmp_path / "d"), opener=lambda u, timeout: Interrupted(), err=io.StringIO()
        )
    assert not (tmp_path / "d").exists()


def test_the_defaults_that_info_prints_are_accepted(capsys):
    assert main(["run", "optimizers", "--set", "start=nan,nan", "--headless", "--steps", "2"]) == 0


def test_a_scenario_path_that_cannot_be_read_is_one_line(capsys):
    assert main(["run", "x" * 5000 + ".py", "--headless"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "File name too long" in err


def test_live_changes_kept_are_bounded():
    from dltui.engine.control import build_controller
    from dltui.engine.rewind import MAX_EVENTS
    from dltui.protocol import RunSpec, ScaleParam

    ctl = build_controller(RunSpec("xor", device="cpu", paused=True))
    for i in range(MAX_EVENTS * 3):
        ctl.handle(ScaleParam("lr", 2.0 if i % 2 else 0.5))
    assert len(ctl.frame().events) == MAX_EVENTS


async def test_s_in_a_folder_that_cannot_be_written_keeps_the_run(monkeypatch):
    from dltui.protocol import RunSpec
    from dltui.ui.app import DltuiApp
    from dltui.ui.link import InlineLink

    app = DltuiApp(InlineLink(RunSpec("xor", device="cpu", paused=True)))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        monkeypatch.setattr(os, "getcwd", lambda: "/nonexistent/folder")
        await pilot.press("s")
        await pilot.pause(0.1)
        assert "could not save the screenshot" in str(app.query_one("#message").render())
        await pilot.press("n")
        await pilot.pause(0.2)
        assert app.frame.step == 1  # the run goes on

"""The live UI in a real pseudo-terminal: SIGHUP, SIGTERM and a terminal that goes away end it
as q does (issue 11): it exits, the terminal is given back as it was, no engine is left behind."""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import time

import pytest

LEAVE_ALT_SCREEN = b"\x1b[?1049l"


def start() -> tuple[subprocess.Popen, int]:
    """`dltui run xor` in an 80×24 pty, as a terminal emulator would start it (without making
    the pty its controlling terminal: no SIGHUP when the other end closes)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dltui.cli", "run", "xor", "--device", "cpu"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    return proc, master


def read(master: int, until, timeout: float = 60.0) -> bytes:
    """What the app writes, until `until(everything so far)` or the timeout."""
    seen = b""
    deadline = time.monotonic() + timeout
    while not until(seen) and time.monotonic() < deadline:
        if select.select([master], [], [], 0.1)[0]:
            try:
                seen += os.read(master, 65536)
            except OSError:  # the app closed its end
                break
    return seen


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def gone(pids: list[int], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(os.path.exists(f"/proc/{pid}") for pid in pids):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM])
def test_a_hang_up_or_terminate_signal_ends_the_ui_as_q_does(sig):
    proc, master = start()
    try:
        assert b"step" in read(master, lambda seen: b"step" in seen)
        engines = children(proc.pid)
        assert engines, "the engine runs in a child process"
        proc.send_signal(sig)
        tail = read(master, lambda seen: proc.poll() is not None, timeout=15)
        assert proc.wait(5) == 0
        assert LEAVE_ALT_SCREEN in tail  # the terminal is given back
        assert gone(engines)
    finally:
        proc.kill()
        os.close(master)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_terminal_that_goes_away_without_a_signal_ends_the_ui():
    """Before, Textual's input thread read end-of-file at 100 % of a core for good."""
    proc, master = start()
    try:
        assert b"step" in read(master, lambda seen: b"step" in seen)
        engines = children(proc.pid)
        os.close(master)
        master = -1
        proc.wait(15)
        assert gone(engines)
    finally:
        proc.kill()
        if master >= 0:
            os.close(master)

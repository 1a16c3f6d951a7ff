"""The live UI in a pseudo-terminal, for the benchmarks that read what it writes.

`spawn(name, extra, src)` starts `dltui run NAME --device cpu` (MNIST on the 8×8 digits it
ships) in a 120×40 pty with TERM=xterm-256color and COLORTERM=truecolor, not over SSH; it
returns the process and the pty's master side. `answers(data)` is what a modern terminal
answers to the queries in `data`: Textual's question whether synchronized output is
supported (yes), and dltui's cursor-position probes (one answer each; the position is not read).
`stop(proc, master)` presses q and waits, killing the process group if it does not end.
"""

from __future__ import annotations

import fcntl
import os
import signal
import struct
import subprocess
import sys
import termios

SIZE = (120, 40)
SETS = {"mnist": ("--set", "dataset=digits")}
SYNC_QUERY, SYNC_REPLY = b"\x1b[?2026$p", b"\x1b[?2026;2$y"
SYNC_END = b"\x1b[?2026l"
PROBE, PROBE_REPLY = b"\x1b[6n", b"\x1b[1;1R"


def spawn(name: str, extra: list[str], src: str | None = None) -> tuple[subprocess.Popen, int]:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
    for name_ in ("NO_COLOR", "SSH_CONNECTION", "TEXTUAL_COLOR_SYSTEM"):
        env.pop(name_, None)
    if src:
        env["PYTHONPATH"] = src
    cmd = [sys.executable, "-m", "dltui.cli", "run", name, "--device", "cpu", *SETS.get(name, ())]
    proc = subprocess.Popen(
        [*cmd, *extra], stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    return proc, master


def answers(data: bytes) -> bytes:
    """The terminal's answers to the queries in `data` (a query cut across two reads is
    missed: the app does not wait for any one answer)."""
    return SYNC_REPLY * data.count(SYNC_QUERY) + PROBE_REPLY * data.count(PROBE)


def stop(proc: subprocess.Popen, master: int) -> None:
    try:
        os.write(master, b"q")
        proc.wait(5)
    except (OSError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        os.close(master)

"""The engine's child process: started from a RunSpec, driven by Commands, answering Messages.

`main` is the entry point the UI spawns (`dltui.ui.link.ProcessLink`) and `serve` its loop: it
answers commands within a few milliseconds, trains in between at the requested speed, and hands a
frame to its `Outbox` (a sender thread) whenever the UI asks for one, so neither side ever
waits on the other's end of the pipe. Importing this module costs no torch (the UI names `main`
to spawn it); `main` imports the rest of the engine in the child, and only then reads the run's
`RunSpec`, the first thing on the pipe: a child can be started before its run is known
(`dltui.ui.link.Spare`, one scene ahead in a lecture) and has paid for torch when it comes.
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING

from dltui.protocol import Crash, FrameMsg, Outbox, Quit, RunSpec, Step, WantFrame
from dltui.scenario.base import describe_failure

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from dltui.engine.control import Controller


def main(conn: Connection) -> None:
    """Entry point of the engine child process (spawned, so CUDA is safe): the engine is
    imported first, then the RunSpec to run is read off the pipe."""
    threading.Thread(target=_die_with_parent, args=(os.getppid(),), daemon=True).start()
    # OpenMP's threads keep their default wait (a short spin, then sleep). OMP_WAIT_POLICY=
    # PASSIVE (sleep at once) cost the CNN a quarter of its speed, headless and under the UI
    # (benchmarks/README.md); the UI keeps off training's cores by its budget (dltui.ui.app).
    import torch._dynamo  # noqa: F401 - what the first torch.optim optimizer imports (1.2 s here)

    from dltui.engine.control import start  # torch: in the child only, before the run is known

    try:
        spec: RunSpec = conn.recv()
    except (EOFError, OSError, KeyboardInterrupt):
        return  # a spare never given a run: the UI went away or closed it
    outbox = Outbox(conn, "engine")
    try:
        ctl, first = start(spec, own_process=True)
        outbox.put(first)
        if ctl is not None:
            serve(conn, ctl, outbox)
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        return  # the UI went away
    except Exception as exc:  # noqa: BLE001 - any failure becomes the UI's Crash message
        outbox.put(Crash(describe_failure(exc)))
    finally:
        outbox.close()


def serve(conn: Connection, ctl: Controller, outbox: Outbox) -> None:
    """Answer commands, train in between, send a frame when asked. Returns on Quit."""
    want_frame = False
    while True:
        # Block when idle; otherwise only peek at the pipe between slices of training.
        wait = 0.0 if want_frame else min(ctl.idle_time(), 0.5)
        stepping = False
        while conn.poll(wait):
            match conn.recv():
                case Quit():
                    return
                case WantFrame():
                    want_frame = True
                case command:
                    ctl.handle(command)
                    stepping = stepping or isinstance(command, Step)
            wait = 0.0
        if stepping or not want_frame:  # n's frame shows its step; any other goes out before
            ctl.advance(0.005)  # another step (a CNN's takes 50 ms): the state the keys made
        if want_frame:  # the UI asks for one at a time: at most one frame is in flight
            outbox.put(FrameMsg(ctl.frame()))
            want_frame = False


def _die_with_parent(parent: int) -> None:
    """Exit when the UI process is gone (killed, SIGTERM, a closed SSH session), even while
    the scenario's step() is stuck, instead of training on as an orphan."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)

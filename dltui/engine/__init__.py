"""The engine: the side of the pipe that imports torch and runs a scenario.

    runner.py   Runner: steps one scenario, finds its optimizers, checks what it returns,
                captures Frames and records (seeding, device, limit, live params, divergence)
    history.py  the bounded history of scalar metrics that line panels plot
    control.py  Controller: play / pause / step / speed over a Runner, driven by Commands
    child.py    the child process the UI spawns: builds the Controller, answers Commands
    headless.py --headless: the Runner in this process, JSONL records, the final record
    watch.py    dltui.watch(model, optimizer): a user's own script as the engine (optimizer
                hooks, sampled per-layer norms, frames for `dltui watch`, JSONL records)
    launcher.py the child process of `dltui watch`: the user's script as __main__ (runpy)

Nothing here imports textual, rich or plotext; this `__init__` imports nothing at all, so the
UI can name `dltui.engine.child.main` as the child's entry point without importing torch.
"""

"""Regenerate every SVG in screenshots/ by driving the real UI headless (`dltui run --screenshot`).

Run from the repo root: `python screenshots/generate.py` (optionally names to redo only those).
Each picture is deterministic: fixed seed, fixed step count, the engine paused at that step.
Lecture pictures are one scene of a lecture as it opens (`dltui lecture --screenshot DIR`).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

# file name -> arguments after `dltui run`
SHOTS: dict[str, list[str]] = {
    "xor.svg": ["xor", "--steps", "3000"],
    "xor-ghost.svg": ["xor", "--steps", "3000", "--at", "3000:rewind=1000", "--at", "3000:lr=4"],
    "xor-single-layer.svg": ["xor", "--set", "hidden=0", "--steps", "3000"],
    "xor-hand-set.svg": ["xor", "--set", "train=off", "--set", "weights=course", "--steps", "1"],
    "or-slide-neuron.svg": ["or", "--set", "train=off", "--set", "weights=course", "--steps", "1"],
    "and.svg": ["and", "--steps", "1000"],
    "or.svg": ["or", "--steps", "1000"],
    "nand.svg": ["nand", "--steps", "1000"],
    "activations.svg": ["activations", "--set", "init_std=3", "--steps", "300"],
    "activations-relu.svg": [
        "activations",
        *("--set", "activation=relu", "--set", "lr=5", "--steps", "300"),
    ],
    "vanishing.svg": ["vanishing", "--set", "compare=relu+init=kaiming", "--steps", "2000"],
    "vanishing-batchnorm.svg": ["vanishing", "--set", "compare=batchnorm", "--steps", "2000"],
    "gd.svg": ["gd", "--steps", "3"],
    "gd-overshoot.svg": ["gd", "--set", "lr=0.25", "--steps", "4"],
    "linreg.svg": ["linreg", "--steps", "1001"],
    "linreg-batches.svg": [
        "linreg",
        *("--set", "batch=3,2,1", "--set", "lr=0.06", "--steps", "90"),
    ],
    "multivar.svg": ["multivar", "--steps", "21"],
    "multivar-batch2.svg": ["multivar", "--set", "batch=2", "--steps", "12"],
    "softmax.svg": ["softmax", "--steps", "60"],
    "optimizers.svg": ["optimizers", "--set", "landscape=ravine", "--steps", "100"],
    "optimizers-rosenbrock.svg": ["optimizers", "--steps", "300"],
    "optimizers-schedule.svg": [
        "optimizers",
        *("--set", "landscape=ravine", "--set", "optimizers=sgd,adam", "--set", "lr.sgd=0.05"),
        *("--set", "schedule=multistep:30,80", "--set", "twins=on", "--steps", "100"),
    ],
    "optimizers-adadelta.svg": [
        "optimizers",
        *("--set", "optimizers=sgd,adam,adadelta", "--set", "selected=adadelta"),
        *("--set", "landscape=ravine", "--steps", "100"),
    ],
    "optimizers-course-rmsprop.svg": [
        "optimizers",
        *("--set", "constants=course", "--set", "selected=rmsprop", "--steps", "100"),
    ],
    "autograd.svg": ["autograd", "--steps", "3"],
    "autograd-chain.svg": ["autograd", "--set", "preset=chain", "--steps", "4"],
    "conv.svg": ["conv", "--steps", "5"],
    "conv-padding.svg": ["conv", "--set", "padding=1", "--set", "pooling=max", "--steps", "27"],
    "conv-lab-cnn.svg": ["conv", "--set", "preset=lab-cnn", "--steps", "800"],
    "overfit.svg": ["overfit", "--steps", "1500"],
    "overfit-dropout.svg": ["overfit", "--set", "compare=dropout", "--steps", "1500"],
    "mnist-digits-schedule.svg": [
        "mnist",
        *("--set", "dataset=digits", "--set", "model=linear", "--set", "lr=0.2"),
        *("--set", "schedule=step:3", "--steps", "150"),
    ],
    "mnist.svg": ["mnist", "--steps", "1200"],  # two epochs of the real MNIST
    "mnist-digits.svg": ["mnist", "--set", "dataset=digits", "--steps", "60"],
    "mnist-digits-math.svg": [
        "mnist",
        *("--set", "dataset=digits", "--set", "math=on", "--steps", "60"),
    ],
    "mnist-linear-digits.svg": [
        "mnist",
        "--set",
        "dataset=digits",
        "--set",
        "model=linear",
        "--steps",
        "150",
    ],
}
LECTURE_SHOTS: dict[str, tuple[list[str], int, str]] = {
    # the presentation view on a projector's 100x30: the course's scene 2
    "lecture-present.svg": (["course", "--present"], 2, "100x30"),
}
"""file name -> (arguments after `dltui lecture`, the scene, the size)."""
NEEDS_DATA = {"mnist.svg": "mnist"}
"""Pictures of a downloaded dataset: skipped, saying so, where it is not on disk."""


def main(names: list[str]) -> int:
    from dltui.scenario import data

    failed = 0
    for name, args in SHOTS.items():
        if names and name.removesuffix(".svg") not in names and name not in names:
            continue
        if name in NEEDS_DATA and data.find(NEEDS_DATA[name]) is None:
            print(f"skipped {name}: run 'dltui data {NEEDS_DATA[name]}' first", flush=True)
            continue
        cmd = [
            sys.executable,
            "-m",
            "dltui",
            "run",
            *args,
            "--device",
            "cpu",
            "--screenshot",
            str(HERE / name),
            "--size",
            "120x40",
        ]
        print("$", " ".join(cmd[1:]), flush=True)
        failed += subprocess.run(cmd, check=False).returncode != 0
    for name, (args, scene, size) in LECTURE_SHOTS.items():
        if names and name.removesuffix(".svg") not in names and name not in names:
            continue
        with tempfile.TemporaryDirectory() as folder:
            cmd = [
                *(sys.executable, "-m", "dltui", "lecture", *args, "--scene", str(scene)),
                *("--device", "cpu", "--screenshot", folder, "--size", size),
            ]
            print("$", " ".join(cmd[1:]), flush=True)
            done = subprocess.run(cmd, check=False, capture_output=True, text=True)
            failed += done.returncode != 0
            if done.returncode == 0:
                shutil.move(done.stdout.split()[-1], HERE / name)
            else:
                print(done.stderr, end="", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The mnist scenario on the real MNIST with the lab's settings, against the lab's own printout.

    python benchmarks/mnist_accuracy.py [--model cnn|linear] [--device cpu|cuda] [--epochs 15]
                                        [--dataset mnist|digits]

Needs the four MNIST files (`dltui data mnist`, or any folder via $DLTUI_DATA). Trains the
scenario headless and prints, per epoch, the lab's "avg_cost" (mean mini-batch loss) and dltui's
test accuracy, then the final test accuracy two ways:
  dltui  test images scaled to [0, 1], as the model was trained (what the UI shows)
  lab    `mnist_test.test_data.float()`: the lab code's own test, on unscaled 0..255 pixels
The second reproduces the accuracy the lab notebooks print (deeplearningzerotoall/PyTorch:
lab-07-4 softmax 0.8863, lab-11-1 CNN 0.9857); the first is the model's real accuracy.
A CNN epoch takes ~20 s on a 2-core CPU; the linear model's 15 epochs take seconds.
`--dataset digits` (scikit-learn's, no download) only checks that the script runs: the lab's
numbers are MNIST's.
"""

from __future__ import annotations

import argparse

import torch

from dltui.engine.runner import Runner
from dltui.registry import load
from dltui.scenario.params import Params

LAB_PRINTOUT = {  # the notebooks' printed epoch costs (first, last) and final accuracy
    "linear": ((0.535468459, 0.274440825), 0.8862999677658081),
    "cnn": ((0.22375311, 0.00632913783), 0.9856999516487122),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cnn", choices=("cnn", "linear"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--dataset", default="mnist", choices=("mnist", "digits"))
    args = parser.parse_args()
    mnist = load("mnist")
    runner = Runner(
        mnist,
        Params(mnist.params, {"model": args.model, "epochs": args.epochs, "dataset": args.dataset}),
        device=args.device,
    )
    sc = runner.scenario
    print(
        f"{args.dataset} {args.model} on {runner.device}: {args.epochs} epochs of "
        f"{sc.batches_per_epoch} batches, seed {runner.seed}"
    )
    total = torch.zeros((), device=runner.device)  # this epoch's summed batch losses
    lab_step = sc.step

    def step():  # the lab's `avg_cost += cost / total_batch`, kept on the device
        metrics = lab_step()
        total.add_(metrics["loss"])
        return metrics

    sc.step = step
    costs = []
    for epoch in range(1, args.epochs + 1):
        runner.step(sc.batches_per_epoch)
        costs.append(float(total) / sc.batches_per_epoch)
        total.zero_()
        rec = runner.record()
        print(
            f"  epoch {epoch:>2}  cost {costs[-1]:.9f}  test accuracy {rec['test_accuracy']:.4f}"
            f"  {rec['images_per_s']:,.0f} images/s",
            flush=True,
        )
    with torch.no_grad():
        accuracy = {
            name: (sc.model(X).argmax(1) == sc.test_y).float().mean().item()
            for name, X in (("dltui", sc.test_x), ("lab", sc.test_x * 255))
        }
    (first, last), lab_accuracy = LAB_PRINTOUT[args.model]
    print(
        f"epoch cost, first/last:     dltui {costs[0]:.4f} / {costs[-1]:.4f}   "
        f"lab notebook {first:.4f} / {last:.4f}"
    )
    print(f"test accuracy, scaled test: dltui {accuracy['dltui']:.4f}")
    print(
        f"test accuracy, lab's test:  dltui {accuracy['lab']:.4f}   lab notebook {lab_accuracy:.4f}"
    )


if __name__ == "__main__":
    main()

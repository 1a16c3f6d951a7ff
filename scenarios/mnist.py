"""CNNs on MNIST (COURSE.md §5): the lab's CNN (or softmax regression) with its feature maps.

The training loop is the lab's: `torch.manual_seed(777)`; layer1 = Conv2d(1,32,3,1,1)–ReLU–
MaxPool(2,2), layer2 = Conv2d(32,64,3,1,1)–ReLU–MaxPool(2,2), fc = Linear(7·7·64, 10) with
xavier_uniform_; CrossEntropyLoss, Adam lr 1e-3, batch 100, 15 epochs, shuffle, drop_last.
`model=linear` is the softmax-regression lab (Linear(784,10), SGD lr 0.1). One engine step is
one mini-batch.

The data pipeline is the lab's minus the DataLoader: the whole dataset goes to the device once
and batches are gathered there by index. Each epoch's order is drawn exactly as the lab's
DataLoader(shuffle=True) draws it (a seed from the global RNG, a CPU randperm), so on the CPU
the losses are the lab's to the last bit; the permutation crosses to the device once an epoch.
Losses and accuracies stay on the device; the engine reads them when it captures a frame.

Data: MNIST or Fashion-MNIST IDX files (see `dltui.data` for where they are looked for and
`dltui data mnist` to download them), or `dataset=digits`: the 8×8 digits shipped with dltui (UCI's, as scikit-learn has them), upsampled
to 28×28, for machines with no network.
"""

from __future__ import annotations

import functools
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dltui.scenario import Panel, Param, Scenario, UsageError, data, to_numpy
from dltui.scenario.schedules import Schedule, lr_beside_loss, lr_panel, schedule_param

LAB_LR = {"cnn": 1e-3, "linear": 0.1}
LAB_PRINT = {  # each lab notebook's line for an epoch's avg_cost (its epoch counted from 1)
    "cnn": "[Epoch: {epoch:>4}] cost = {cost:>.9}",  # lab-11-1
    "linear": "Epoch: {epoch:04d} cost = {cost:.9f}",  # lab-07-4
}
EVAL_BATCH = 1000


class CNN(nn.Module):
    """The lab's CNN, layer for layer (created in the lab's order, so seeded weights match)."""

    def __init__(self):
        super().__init__()
        self.layer1 = nn.Sequential(
            nn.Conv2d(1, 32, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.layer2 = nn.Sequential(
            nn.Conv2d(32, 64, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.fc = nn.Linear(7 * 7 * 64, 10, bias=True)
        nn.init.xavier_uniform_(self.fc.weight)

    def forward(self, x):
        out = self.layer1(x)
        out = self.layer2(out)
        out = out.view(out.size(0), -1)  # flatten for the fully connected layer
        return self.fc(out)


@functools.lru_cache(maxsize=1)
def device_dataset(name: str, data_dir: str | None, device: str) -> tuple:
    """Read a dataset and move it to the device once: a reset (r) reuses it, never re-reads
    the files. The tensors are only ever indexed (copies), never written."""
    if name == "digits":
        train_x, train_y, test_x, test_y = data.load_digits()
        classes = tuple("0123456789")
        train_x, test_x = (
            F.interpolate(
                torch.from_numpy(x)[:, None], size=(28, 28), mode="bilinear", align_corners=False
            )
            .clamp(0, 1)
            .to(device)
            for x in (train_x, test_x)
        )
    else:
        train_x, train_y, test_x, test_y = data.load(name, data_dir)
        classes = data.DATASETS[name].classes
        train_x, test_x = (
            torch.from_numpy(x).to(device)[:, None].float().div(255) for x in (train_x, test_x)
        )
    return (
        train_x,
        torch.from_numpy(train_y).to(device),
        test_x,
        torch.from_numpy(test_y).to(device),
        classes,
    )


PAUSE_GAP = 1.0
"""Seconds between two steps above which the run counts as paused (a batch takes ~30 ms)."""


class Mnist(Scenario):
    name, title = "mnist", "CNN on MNIST: feature maps, test accuracy, throughput"
    description = "The lab's CNN (or softmax regression) on MNIST, Fashion-MNIST or digits."
    caption = (
        "Each conv layer turns the digit into feature maps: 32 after layer1, 64 smaller, "
        "more abstract ones after layer2; the fc layer reads the last ones and votes."
    )
    aliases = ("cnn",)
    steps = 15 * 600  # the lab's 15 epochs of 600 batches; length() counts for other params
    speed = None
    prefers_gpu = True
    threads = None  # the CNN trains 1.8× faster on two threads than on one (2-core CPU)
    columns = 4
    # On this screen ←/→ browse the test digits (n still steps), as ConvNetJS users expect.
    keys = {
        "left": ("probe", -1, "previous test digit"),
        "right": ("probe", 1, "next test digit"),
        "t": ("test", 0, "test accuracy and confusion now"),
    }
    clock = staticmethod(time.perf_counter)
    """Wall clock for images/s (tests inject a fake one so screens are deterministic)."""
    records = {
        "loss": "cross-entropy of this mini-batch",
        "accuracy": "running training accuracy over this epoch's batches so far",
        "epoch": "epoch this batch belongs to (1-based)",
        "images_per_s": "training throughput, images per second (wall clock)",
        "test_accuracy": "accuracy on the whole test set (only at the end of each epoch)",
        "epoch_cost": "the mean of this epoch's batch losses (only at the end of each epoch): "
        "the lab's running avg_cost += cost / total_batch",
        "lr": "learning rate of this batch (only with a schedule)",
        "lab_test_accuracy": "with lab_test=on, at each epoch's end: the accuracy the lab "
        "notebook's own test code reports, which feeds unscaled 0-255 pixels to a model trained "
        "on 0-1 ones (mnist_test.test_data.float()); not the model's real test accuracy",
    }
    params = (
        Param(
            "model", "cnn", "the CNN lab or the softmax-regression lab", choices=("cnn", "linear")
        ),
        Param(
            "dataset",
            "mnist",
            "digits: 8×8 digits shipped with dltui, no download",
            choices=("mnist", "fashion-mnist", "digits"),
        ),
        Param("data_dir", "", "folder with the IDX files (default: see 'dltui data')"),
        Param("epochs", 15, "training epochs", min=1, max=1000),
        Param("batch_size", 100, "mini-batch size", min=1, max=60000),
        Param(
            "lr",
            0.0,
            "learning rate (0: the lab's, Adam 1e-3 / SGD 0.1)",
            min=0.0,
            max=10.0,
            live=True,
        ),
        Param(
            "probe",
            0,
            "index of the test image whose feature maps are shown (←/→)",
            min=0,
            max=69999,
            live=True,
            display=True,
        ),
        Param("amp", "off", "mixed precision on CUDA", choices=("off", "bf16", "fp16")),
        Param(
            "lab_test",
            "off",
            "also record the accuracy the lab's test code prints (unscaled pixels; one more "
            "pass over the test set an epoch)",
            choices=("off", "on"),
        ),
        Param(
            "math",
            False,
            "write the probe's softmax out in place of the probability bars: its ten logits "
            "z, e^z, e^z/Σe^z and −log p_true, what CrossEntropyLoss adds for it",
        ),
        schedule_param(),  # stepped at each epoch's end, as the course's loop does
    )

    # -- the lab code -------------------------------------------------------------------
    def setup(self) -> None:
        p = self.p
        if p.amp != "off" and self.device.type != "cuda":
            raise UsageError(
                f"amp={p.amp} needs a CUDA device (this run is on {self.device}); use amp=off"
            )
        if p.lr == 0:
            p["lr"] = LAB_LR[p.model]  # shown in the header and scaled by [ and ]
        self.load_data()
        on = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "digits": "digits"}[p.dataset]
        if p.model == "cnn":
            self.title = f"CNN on {on}: feature maps, test accuracy, throughput"
            self.model: nn.Module = CNN().to(self.device)
            self.optimizer = torch.optim.Adam(self.model.parameters(), lr=p.lr)
        else:
            self.title = f"Softmax regression on {on}: class weights"
            self.caption = (
                "One linear layer: each class scores the image with a 28×28 weight "
                "template (bright: ink that votes for it); softmax turns the ten "
                "scores into probabilities."
            )
            self.linear = nn.Linear(28 * 28, 10, bias=True)
            self.model = nn.Sequential(nn.Flatten(), self.linear).to(self.device)
            self.optimizer = torch.optim.SGD(self.model.parameters(), lr=p.lr)
        self.criterion = nn.CrossEntropyLoss()
        self.schedule = Schedule.parse(p.schedule).build([self.optimizer], p.epochs)
        self.epoch_loss = torch.zeros((), device=self.device)  # for schedule=plateau
        self.avg_cost = torch.zeros((), device=self.device)  # the lab's avg_cost
        self.amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(p.amp)
        self.scaler = torch.amp.GradScaler("cuda") if p.amp == "fp16" else None

        self.batches_per_epoch = len(self.train_y) // p.batch_size  # drop_last
        if self.batches_per_epoch == 0:
            raise UsageError(
                f"batch_size={p.batch_size} is larger than the {len(self.train_y)} training images"
            )
        self.epoch, self.batch = 0, self.batches_per_epoch  # the first step starts epoch 1
        self.correct = torch.zeros((), dtype=torch.int64, device=self.device)
        self.test_accuracy: torch.Tensor | None = None
        self.epoch_done: tuple[int, torch.Tensor] | None = None
        """The last finished epoch and its avg_cost, for the lab's printed line."""
        self.lab_accuracy: torch.Tensor | None = None
        """With lab_test=on: the last epoch's accuracy as the lab's test code measures it."""
        self.tested_at: int | None = None
        """Batches done when the test set was last evaluated (epoch ends, the `t` key)."""
        self.confusion = torch.zeros(10, 10, dtype=torch.int64, device=self.device)
        self.steps_done = 0
        self.images_per_s = 0.0
        self._mark = (self.clock(), 0)
        self._last_step = self._mark[0]

    def load_data(self) -> None:
        """The whole dataset on the device, as ToTensor() gives it: float in [0, 1]."""
        p = self.p
        (self.train_x, self.train_y, self.test_x, self.test_y, self.classes) = device_dataset(
            p.dataset, p.data_dir or None, str(self.device)
        )

    def epoch_order(self) -> torch.Tensor:
        """This epoch's shuffle, drawn as the lab's DataLoader(shuffle=True) draws it."""
        torch.empty((), dtype=torch.int64).random_()  # the loader iterator's base seed
        seed = int(torch.empty((), dtype=torch.int64).random_().item())  # RandomSampler's
        order = torch.randperm(len(self.train_y), generator=torch.Generator().manual_seed(seed))
        if self.device.type == "cuda":
            order = order.pin_memory()
        return order.to(self.device, non_blocking=True)

    def step(self) -> dict[str, torch.Tensor | float]:
        self._skip_pauses()
        if self.batch == self.batches_per_epoch:  # a new epoch: reshuffle
            self.epoch, self.batch = self.epoch + 1, 0
            self.order = self.epoch_order()
            self.correct.zero_()
            self.avg_cost = torch.zeros((), device=self.device)
        bs = self.p.batch_size
        idx = self.order[self.batch * bs : (self.batch + 1) * bs]
        X, Y = self.train_x[idx], self.train_y[idx]

        self.optimizer.zero_grad()
        with torch.autocast(self.device.type, self.amp_dtype, enabled=self.amp_dtype is not None):
            hypothesis = self.model(X)
            cost = self.criterion(hypothesis, Y)
        if self.scaler is not None:
            self.scaler.scale(cost).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            cost.backward()
            self.optimizer.step()

        self.batch += 1
        self.steps_done += 1
        # A new tensor, not +=: the captured metric of an earlier step must not change.
        self.avg_cost = self.avg_cost + cost.detach().float() / self.batches_per_epoch
        self.correct += (hypothesis.detach().argmax(1) == Y).sum()
        metrics: dict[str, torch.Tensor | float] = {
            "loss": cost.detach().float(),
            "accuracy": self.correct / (self.batch * bs),
            "epoch": float(self.epoch),
            "images_per_s": self.throughput(),
        }
        if self.batch == self.batches_per_epoch:
            metrics["test_accuracy"] = self.evaluate()
            metrics["epoch_cost"] = self.avg_cost
            self.epoch_done = (self.epoch, self.avg_cost)
            if self.p.lab_test == "on":
                self.lab_accuracy = metrics["lab_test_accuracy"] = self.lab_test_accuracy()
        if not self.schedule.constant:
            self.scheduled(metrics, cost)
        return metrics

    def scheduled(self, metrics: dict, cost: torch.Tensor) -> None:
        """This batch's lr; at an epoch's end the schedule steps (plateau: on its mean loss)."""
        metrics["lr"] = self.optimizer.param_groups[0]["lr"]
        self.epoch_loss += cost.detach().float()
        if self.batch == self.batches_per_epoch:
            self.schedule.step([float(self.epoch_loss) / self.batch])
            self.epoch_loss.zero_()

    def on_param(self, name: str, value) -> None:
        if name == "lr":  # under a schedule: the new base, cut as far as the schedule has
            self.schedule.set_base(self.optimizer, value)

    def evaluate(self) -> torch.Tensor:
        """Test accuracy and confusion matrix, batched under no_grad; stays on the device."""
        self.model.eval()
        confusion = torch.zeros(100, dtype=torch.int64, device=self.device)
        with torch.no_grad():
            for start in range(0, len(self.test_y), EVAL_BATCH):
                X = self.test_x[start : start + EVAL_BATCH]
                Y = self.test_y[start : start + EVAL_BATCH]
                predicted = self.model(X).argmax(1)
                confusion += torch.bincount(Y * 10 + predicted, minlength=100)
        self.model.train()
        self.confusion = confusion.reshape(10, 10)
        self.tested_at = self.steps_done
        self.test_accuracy = self.confusion.diagonal().sum() / len(self.test_y)
        return self.test_accuracy

    def lab_test_accuracy(self) -> torch.Tensor:
        """Test accuracy as the lab notebook's test code measures it: `test_data.float()`, the
        0-255 pixels unscaled, fed to the model trained on ToTensor's 0-1 (stays on the device)."""
        self.model.eval()
        correct = torch.zeros((), dtype=torch.int64, device=self.device)
        with torch.no_grad():
            for start in range(0, len(self.test_y), EVAL_BATCH):
                X = self.test_x[start : start + EVAL_BATCH] * 255
                correct += (
                    self.model(X).argmax(1) == self.test_y[start : start + EVAL_BATCH]
                ).sum()
        self.model.train()
        return correct / len(self.test_y)

    def action_test(self) -> str:
        """The `t` key: evaluate on the test set now, mid-epoch (shown, not recorded)."""
        accuracy = float(self.evaluate())
        return f"test accuracy {accuracy:.2%} after {self.steps_done:,} batches"

    def _skip_pauses(self) -> None:
        """A gap of over a second between steps is a pause (space, or a lecturer talking):
        images/s and the ETA count training time only, not the time the run stood still."""
        now = self.clock()
        gap = now - self._last_step
        if gap > PAUSE_GAP:
            t0, s0 = self._mark
            self._mark = (t0 + gap, s0)
        self._last_step = now

    def throughput(self) -> float:
        """Images per second over the last half second or more (host clock; no device sync)."""
        now = self.clock()
        t0, s0 = self._mark
        if now - t0 >= 0.5 or self.images_per_s == 0.0:
            if now > t0:
                self.images_per_s = (self.steps_done - s0) * self.p.batch_size / (now - t0)
            if now - t0 >= 0.5:
                self._mark = (now, self.steps_done)
        return self.images_per_s

    def length(self) -> int:
        return self.p.epochs * self.batches_per_epoch

    # -- what to show -------------------------------------------------------------------
    def layout(self) -> tuple[Panel, ...]:
        """The CNN: loss, accuracy and throughput on top, maps and filters below. The linear
        model: the ten 28×28 templates are the picture, so they take three columns of the two
        lower rows (all ten at 16 pixels at 120×40; one row and two columns showed three), and
        the loss shares the top row with the confusion matrix."""
        linear = self.p.model == "linear"
        probs = (
            Panel("text", "Softmax and cross-entropy of the probe", "probs")
            if self.p.math
            else Panel("bars", "Predicted probabilities", "probs")
        )
        top = (
            Panel(
                "line",
                "Loss per batch (cross-entropy)",
                "loss",
                col_span=1 if linear else 2,
                options={"ema": 0.98, "logy": True},
            ),
            Panel(
                "line",
                "Test accuracy per epoch",
                "test_accuracy",
                options={"ema": 0, "ylim": (0, 1)},
            ),
            Panel("text", "Throughput", "throughput"),
        )
        scheduled = not self.schedule.constant
        self.columns = 5 if linear and scheduled else 4  # the lr plot: a column of its own
        if scheduled:
            lr = lr_panel(("lr",))
            top = (top[0], lr, *top[1:]) if linear else lr_beside_loss(top, lr, self.columns)[0]
        if linear:
            return top + (
                Panel("heatmap", "Confusion (row = true)", "confusion"),
                Panel("images", "Probe (test image)", "probe"),
                Panel(
                    "images",
                    "Weights of the 10 classes (28×28 each)",
                    "filters",
                    col_span=self.columns - 1,
                    row_span=2,
                ),
                probs,
            )
        return top + (
            Panel("images", "Probe (test image)", "probe"),
            Panel("images", "layer1 output: 32 maps 14×14", "conv1", col_span=2),
            probs,
            Panel("images", "conv1 filters 3×3", "filters"),
            Panel("images", "layer2 output: 64 maps 7×7", "conv2", col_span=2),
            Panel("heatmap", "Confusion (row = true)", "confusion"),
        )

    def view(self) -> dict[str, dict]:
        k = self.p.probe % len(self.test_y)
        x, label = self.test_x[k : k + 1], int(self.test_y[k])
        with torch.no_grad():
            probs = torch.softmax(self.model(x).float(), 1)[0]
            out: dict[str, dict] = {
                "probe": {"images": [(f"#{k}: {self.classes[label]}", to_numpy(x[0, 0]))]},
                "probs": {
                    "labels": [
                        f"{c}{' ←' if i == label else ''}" for i, c in enumerate(self.classes)
                    ],
                    "series": [("p", to_numpy(probs))],
                },
                "confusion": self.confusion_view(),
                "throughput": {"text": self.throughput_text()},
            }
            if self.p.math:
                out["probs"] = {"text": self.probe_math(x, label)}
            if not self.schedule.constant:  # the lr drops, marked on the loss and lr plots
                marks = [
                    (m * self.batches_per_epoch, self.schedule.label())
                    for m in self.schedule.marks(self.p.epochs)
                ]
                out["loss"] = out["lr"] = {"events": marks}
            if self.p.model == "linear":
                w = self.linear.weight.reshape(10, 28, 28)
                out["filters"] = {
                    "images": [(c, to_numpy(w[i])) for i, c in enumerate(self.classes)],
                    "columns": 5,
                }
                return out
            maps1 = self.model.layer1(x)
            maps2 = self.model.layer2(maps1)
        filters = self.model.layer1[0].weight[:, 0]
        # Untitled tiles: at this size a title row costs more than the maps can spare.
        out["conv1"] = {"images": [("", to_numpy(m)) for m in maps1[0]]}
        out["conv2"] = {"images": [("", to_numpy(m)) for m in maps2[0]]}
        out["filters"] = {"images": [("", to_numpy(f)) for f in filters]}
        return out

    def probe_math(self, x: torch.Tensor, label: int) -> str:
        """The probe through the model, by hand: its logits z, e^z, p = e^z/Σe^z and
        −log p_true, beside what CrossEntropyLoss computes from the same logits. The sums
        first: a panel too small for the ten rows still shows them (z zooms it)."""
        logits = self.model(x).float()
        z = logits[0].double()  # in float64 e^z overflows only past z ≈ 709
        ez = torch.exp(z)
        p = ez / ez.sum()
        ce = float(-torch.log(p[label]))
        ce_torch = float(F.cross_entropy(logits, torch.tensor([label], device=logits.device)))
        lines = [
            f"−log p_{self.classes[label][:3]} = {ce:.6f}",
            f"CrossEntropyLoss {ce_torch:.6f}",
            f"Σe^z {float(ez.sum()):.4g}  Σp {float(p.sum()):.4f}",
            f"{'':3} {'z':>6} {'e^z':>8} {'e^z/Σ':>6}",
        ]
        for i, c in enumerate(self.classes):
            mark = "←" if i == label else ""
            lines.append(
                f"{c[:3]:>3} {float(z[i]):+6.2f} {float(ez[i]):8.2e} {float(p[i]):.4f}{mark}"
            )
        return "\n".join(lines)

    def confusion_view(self) -> dict:
        """The test confusion matrix, its colours scaled to the largest mistake: the diagonal
        (hundreds of right answers a class) saturates and the mistakes the net still makes
        (a 4 read as 9) stand out instead of vanishing next to it."""
        if self.tested_at is None:
            return {"matrices": []}  # "no data yet" until the first test
        confusion = to_numpy(self.confusion)
        mistakes = confusion - np.diag(np.diag(confusion))
        epoch, batch = divmod(self.tested_at, self.batches_per_epoch)
        when = f"epoch {epoch}" if batch == 0 else f"step {self.tested_at}"
        return {
            "matrices": [(f"{when}: {int(mistakes.sum())} wrong", confusion)],
            "vmax": int(mistakes.max()) or None,
            "row_labels": list(self.classes),
            "col_labels": list(self.classes),
        }

    def throughput_text(self) -> str:
        total = self.limit or self.length()
        done = self.steps_done
        in_epoch = self.batch if self.epoch else 0
        filled = int(20 * in_epoch / self.batches_per_epoch)
        eta = (total - done) * self.p.batch_size / self.images_per_s if self.images_per_s else 0
        lines = [
            f"{self.images_per_s:,.0f} images/s",
            f"epoch {max(self.epoch, 1)}/{self.p.epochs} {'█' * filled}{'·' * (20 - filled)}",
        ]
        if self.epoch_done is not None:  # the line the lab prints, to read its table off
            epoch, cost = self.epoch_done
            lines.append(LAB_PRINT[self.p.model].format(epoch=epoch, cost=float(cost)))
        if self.test_accuracy is not None:
            lines.append(f"test accuracy {float(self.test_accuracy):.2%}")
        if self.lab_accuracy is not None:
            lines.append(f"lab's test (0-255 px) {float(self.lab_accuracy):.2%}")
        lines += [
            f"batch {in_epoch}/{self.batches_per_epoch}  ETA {int(eta) // 60}:{int(eta) % 60:02d}",
            f"{self.p.dataset} · {self.p.model} · batch {self.p.batch_size} · amp {self.p.amp}",
            f"device {self.device}",
        ]
        if self.device.type == "cuda":
            lines[-1] += f" ({torch.cuda.get_device_name(self.device)})"
            peak = torch.cuda.max_memory_allocated(self.device) / 2**20
            lines.append(f"peak GPU memory {peak:,.0f} MiB")
        return "\n".join(lines)

"""The CNN lab as students write it, plus two lines: `import dltui` and `dltui.watch(...)`.

    python dltui/examples/train_cnn.py              # runs as it always did
    dltui watch dltui/examples/train_cnn.py         # the same run, live: pause, step, lr
    dltui watch --headless --jsonl run.jsonl dltui/examples/train_cnn.py --epochs 2

It trains on the 8x8 digits that ship with dltui, upsampled to 28x28 (no download), so it
runs offline; swap in torchvision's MNIST for the real lab.
"""

import argparse
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

import dltui
from dltui.scenario.data import load_digits

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=15)
parser.add_argument("--batch-size", type=int, default=100)
parser.add_argument("--lr", type=float, default=0.001)
args = parser.parse_args()

device = "cuda" if torch.cuda.is_available() else "cpu"
torch.manual_seed(777)
if device == "cuda":
    torch.cuda.manual_seed_all(777)

# -- data: 28x28 digits in [0, 1], as ToTensor() gives MNIST ---------------------------------
train_x, train_y, test_x, test_y = load_digits()


def to_28x28(x):
    x = torch.from_numpy(x)[:, None]
    return F.interpolate(x, size=(28, 28), mode="bilinear", align_corners=False).clamp(0, 1)


train_data = TensorDataset(to_28x28(train_x), torch.from_numpy(train_y))
test_X, test_Y = to_28x28(test_x).to(device), torch.from_numpy(test_y).to(device)
data_loader = DataLoader(train_data, batch_size=args.batch_size, shuffle=True, drop_last=True)


# -- the model: conv-relu-pool twice, then one fully connected layer ------------------------
class CNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = torch.nn.Sequential(
            torch.nn.Conv2d(1, 32, kernel_size=3, stride=1, padding=1),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.layer2 = torch.nn.Sequential(
            torch.nn.Conv2d(32, 64, kernel_size=3, stride=1, padding=1),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.fc = torch.nn.Linear(7 * 7 * 64, 10, bias=True)
        torch.nn.init.xavier_uniform_(self.fc.weight)

    def forward(self, x):
        out = self.layer1(x)
        out = self.layer2(out)
        out = out.view(out.size(0), -1)  # flatten for the fully connected layer
        return self.fc(out)


model = CNN().to(device)
criterion = torch.nn.CrossEntropyLoss().to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
live = dltui.watch(model, optimizer)  # the dltui line: nothing happens without `dltui watch`

# -- training ---------------------------------------------------------------------------------
total_batch = len(data_loader)
print(f"Learning started: {total_batch} batches an epoch, {args.epochs} epochs on {device}.")
start, start_cpu = time.perf_counter(), time.process_time()
for epoch in range(args.epochs):
    avg_cost = 0
    for X, Y in data_loader:
        X = X.to(device)
        Y = Y.to(device)

        optimizer.zero_grad()
        hypothesis = model(X)
        cost = criterion(hypothesis, Y)
        cost.backward()
        optimizer.step()

        avg_cost += cost.detach() / total_batch
        live.log(loss=cost)  # optional: any scalars, any cadence

    with torch.no_grad():
        accuracy = (model(test_X).argmax(1) == test_Y).float().mean()
    live.log(test_accuracy=accuracy)
    print(f"[Epoch: {epoch + 1:>4}] cost = {float(avg_cost):>.9} test accuracy = {accuracy:.4f}")

wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
print(f"Learning finished in {wall:.2f} s ({cpu:.2f} s of CPU)")

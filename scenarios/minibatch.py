"""The course's mini-batch lab (COURSE.md §6 "Batches"): its Dataset and its DataLoader's epochs.

- `CustomDataset`: `class CustomDataset(Dataset)` as the lab writes it (the quiz scores by
  default; linreg gives it x = [1, 2, 3] and its y), each item a FloatTensor pair (x, y).
- `Batches`: `DataLoader(dataset, batch_size, shuffle=True)`, an epoch at a time. The lab's
  `for x_train, y_train in dataloader:` draws its epoch's order from torch's global RNG when the
  loop starts; `epoch()` makes the same draws and returns the epoch's batches as a list of
  (indices, x, y), which time travel can copy (a live iterator may not be copyable). Each
  `Batches` draws from an RNG stream of its own that starts where torch's global one stood when
  it was made: a loader gets the lab's batches (seed 777) whatever other loaders beside it draw.
"""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset

QUIZ_X = [
    [73.0, 80.0, 75.0],
    [93.0, 88.0, 93.0],
    [89.0, 91.0, 90.0],
    [96.0, 98.0, 100.0],
    [73.0, 66.0, 70.0],
]
QUIZ_Y = [[152.0], [185.0], [180.0], [196.0], [142.0]]

Batch = tuple[list[int], torch.Tensor, torch.Tensor]
"""One mini-batch: the dataset indices in it, and its collated x and y."""


class CustomDataset(Dataset):
    """The data as the course's mini-batch lab writes it (rows of x, rows of y)."""

    def __init__(self, x_data: list[list[float]] = QUIZ_X, y_data: list[list[float]] = QUIZ_Y):
        self.x_data = x_data
        self.y_data = y_data

    def __len__(self):
        return len(self.x_data)

    def __getitem__(self, idx):
        x = torch.FloatTensor(self.x_data[idx])
        y = torch.FloatTensor(self.y_data[idx])
        return x, y


class Batches:
    """A shuffled DataLoader's batches, one epoch at a time, on `device`."""

    def __init__(self, dataset: Dataset, batch_size: int, device: torch.device):
        self.dataset, self.device = dataset, device
        self.loader = DataLoader(dataset, batch_size=batch_size, shuffle=True)
        self.per_epoch = len(self.loader)
        self.rng = torch.get_rng_state()  # this loader's stream starts where torch's stands

    def epoch(self) -> list[Batch]:
        """The next epoch's batches, as `for x, y in dataloader` would give them."""
        with torch.random.fork_rng(devices=[]):
            torch.set_rng_state(self.rng)
            torch.empty((), dtype=torch.int64).random_()  # iter(dataloader) draws its base seed,
            order = list(self.loader.batch_sampler)  # then RandomSampler its permutation's
            self.rng = torch.get_rng_state()
        collate = self.loader.collate_fn
        return [
            (
                [int(i) for i in idx],
                *(t.to(self.device) for t in collate([self.dataset[i] for i in idx])),
            )
            for idx in order
        ]

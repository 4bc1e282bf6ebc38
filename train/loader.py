"""Training batches: a DataLoader over packed spikes, sharded by a DistributedSampler.

The sampler shuffles with a generator seeded by (seed, epoch), so a resumed run sees the
batches of an uninterrupted one; with one process it is the whole set, with N each
process reads its 1/N of every epoch. Batches are unpacked in the loader's workers and
leave them as uint8, four times smaller than float, converted on the training device.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, DistributedSampler

from snn2fpga.train.data.packed import PackedSpikes
from snn2fpga.train.distributed import Placement


class PackedBatches(Dataset):
    """Indexed by a list of sample indices (from a BatchSampler): one whole batch per fetch."""

    def __init__(self, data: PackedSpikes) -> None:
        self.data = data

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        idx = np.asarray(index)
        return torch.from_numpy(self.data.spikes(idx)), torch.from_numpy(self.data.labels[idx])


def train_loader(data: PackedSpikes, batch_size: int, place: Placement, seed: int, workers: int) -> tuple[DataLoader, DistributedSampler]:
    """The loader of this process's share of each epoch (call sampler.set_epoch first) and its sampler."""
    dataset = PackedBatches(data)
    sampler = DistributedSampler(dataset, num_replicas=place.world, rank=place.rank, shuffle=True, seed=seed)
    loader = DataLoader(dataset, sampler=BatchSampler(sampler, batch_size, drop_last=False), batch_size=None,
                        num_workers=workers, pin_memory=place.device.type == "cuda", persistent_workers=workers > 0)
    return loader, sampler

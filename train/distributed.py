"""Where training runs: one device, one process or many (PyTorch DDP launched by torchrun).

torchrun sets WORLD_SIZE, RANK and LOCAL_RANK; `placement` reads them, joins the process
group (gloo on CPU, nccl on GPU) and gives each process its device. Rank 0 alone writes
checkpoints, metrics and plots; every rank trains on its DistributedSampler shard.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from snn2fpga.train.device import resolve_device


@dataclass(frozen=True)
class Placement:
    """This process's device, its rank and the number of training processes."""

    device: torch.device
    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        """Whether this process writes the run's files (rank 0)."""
        return self.rank == 0

    def barrier(self) -> None:
        """Wait for every process (nothing to wait for alone)."""
        if self.world > 1:
            dist.barrier()

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sum of `values` over all processes (for epoch loss and accuracy)."""
        if self.world == 1:
            return values
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return t.tolist()


class BatchSplitError(ValueError):
    """A global batch that cannot be split evenly over the training processes; gives the numbers."""


def per_process_batch(batch_size: int, world: int) -> int:
    """Samples per process of a --batch-size global batch; refused when it does not split evenly."""
    if world > batch_size:
        raise BatchSplitError(f"--batch-size {batch_size} is smaller than the {world} training processes: "
                              f"each process needs at least one sample per batch; use --batch-size ≥ {world} or fewer processes")
    if batch_size % world:
        raise BatchSplitError(f"--batch-size {batch_size} does not split evenly over {world} training processes "
                              f"({batch_size} = {batch_size // world} × {world} + {batch_size % world}); use a multiple of {world}")
    return batch_size // world


def placement(device: str, batch_size: int) -> Placement:
    """This process's Placement for `--device`, joining torchrun's process group when WORLD_SIZE > 1."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Placement(resolve_device(device))
    per_process_batch(batch_size, world)  # refuse before any process group exists
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    where = resolve_device(device)
    if where.type == "cuda":
        where = torch.device("cuda", local)
        torch.cuda.set_device(where)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if where.type == "cuda" else "gloo", rank=rank, world_size=world)
    return Placement(where, rank, world)


def leave(p: Placement) -> None:
    """Leave the process group at the end of a distributed run."""
    if p.world > 1 and dist.is_initialized():
        dist.destroy_process_group()

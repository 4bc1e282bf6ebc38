"""Binned spikes stored bit-packed (one bit per input, uint8 [n, T, ⌈N_in/8⌉]), read a batch at a time.

A dense uint8 tensor of 60,000 N-MNIST samples at T = 10, pool 2 (578 inputs) takes
347 MB, as float32 1.39 GB; packed it is 43.8 MB, and as a memory-mapped .npy file
(train/data/store.py) only the pages of the batches being read are in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PackedSpikes:
    """Bit-packed spikes and their labels; `bits` may be a read-only memmap."""

    bits: np.ndarray  # uint8 [n, T, ⌈n_in/8⌉], numpy's packbits order (big-endian bits along inputs)
    labels: np.ndarray  # int64 [n]
    n_in: int

    def __post_init__(self) -> None:
        if self.bits.ndim != 3 or self.bits.shape[2] != (self.n_in + 7) // 8 or len(self.labels) != len(self.bits):
            raise ValueError(f"packed spikes of shape {self.bits.shape} with {len(self.labels)} labels do not hold "
                             f"{self.n_in}-input samples")

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def steps(self) -> int:
        return int(self.bits.shape[1])

    def spikes(self, index: np.ndarray) -> np.ndarray:
        """The samples at `index`, unpacked: uint8 [len(index), T, n_in]."""
        return np.unpackbits(self.bits[np.asarray(index)], axis=-1, count=self.n_in)


def pack(x: np.ndarray, y: np.ndarray) -> PackedSpikes:
    """Dense binary spikes uint8 [n, T, n_in] and labels, packed in memory."""
    return PackedSpikes(np.packbits(np.asarray(x, dtype=np.uint8), axis=-1), np.asarray(y, dtype=np.int64), int(x.shape[2]))

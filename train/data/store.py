"""The binned-spike cache: one folder per (dataset, T, pool, files), bit-packed .npy files read memory-mapped.

Binning runs in a pool of processes (reading and binning one recording is independent of
every other); each worker bins a chunk of samples and returns it bit-packed, and the
parent writes the chunk into a memory-mapped .npy, so neither side ever holds the dense
dataset. The folder is built beside its final name and swapped in whole
(core.files.building_dir): a reader sees a complete cache or none.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Optional

import numpy as np

from snn2fpga.core.binning import bin_events, n_inputs
from snn2fpga.core.files import building_dir
from snn2fpga.train.data.packed import PackedSpikes

Samples = list[tuple[Path, int]]
Reader = Callable[[Path], np.ndarray]
DONE = "store.json"  # written last: the splits and input width the folder holds
CHUNK = 64  # samples per task: large enough to amortise the pickling, small enough to balance the workers


def default_jobs() -> int:
    """Binning processes when none is asked for: the CPUs this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _bin_chunk(paths: list[Path], read: Reader, sensor_size: tuple[int, int, int], steps: int, pool: int) -> np.ndarray:
    """Read and bin recordings, bit-packed: uint8 [len(paths), steps, ⌈n_in/8⌉]."""
    return np.stack([np.packbits(bin_events(read(p), sensor_size, steps, pool), axis=-1) for p in paths])


def _write_split(folder: Path, split: str, samples: Samples, read: Reader, sensor_size: tuple[int, int, int], steps: int,
                 pool: int, workers: Optional[ProcessPoolExecutor]) -> None:
    width = (n_inputs(sensor_size, pool) + 7) // 8
    bits = np.lib.format.open_memmap(folder / f"{split}_x.npy", mode="w+", dtype=np.uint8, shape=(len(samples), steps, width))
    chunks = [samples[i : i + CHUNK] for i in range(0, len(samples), CHUNK)]
    args = [([p for p, _ in c], read, sensor_size, steps, pool) for c in chunks]
    done = workers.map(_bin_chunk, *zip(*args)) if workers and args else (_bin_chunk(*a) for a in args)
    for i, packed in enumerate(done):
        bits[i * CHUNK : i * CHUNK + len(packed)] = packed
    bits.flush()
    del bits
    np.save(folder / f"{split}_y.npy", np.array([label for _, label in samples], dtype=np.int64))


def build_store(folder: Path, splits: dict[str, Samples], read: Reader, sensor_size: tuple[int, int, int], steps: int,
                pool: int, jobs: Optional[int] = None) -> None:
    """Bin every split's recordings into `folder` with `jobs` processes (default: every CPU; 1: in this process)."""
    chunks = sum(-(-len(samples) // CHUNK) for samples in splits.values())
    jobs = min(jobs or default_jobs(), chunks)  # a pool only where there are chunks to share
    with building_dir(folder) as work:
        workers = ProcessPoolExecutor(jobs) if jobs > 1 else None
        try:
            for split, samples in splits.items():
                _write_split(work, split, samples, read, sensor_size, steps, pool, workers)
        finally:
            if workers is not None:
                workers.shutdown(cancel_futures=True)
        (work / DONE).write_text(json.dumps({"splits": sorted(splits), "n_in": n_inputs(sensor_size, pool), "steps": steps}))


def open_store(folder: Path) -> Optional[dict[str, PackedSpikes]]:
    """Every split of a complete cache folder, memory-mapped read-only; None when it is absent or incomplete."""
    try:
        meta = json.loads((Path(folder) / DONE).read_text())
        return {s: PackedSpikes(np.load(folder / f"{s}_x.npy", mmap_mode="r"), np.load(folder / f"{s}_y.npy"), int(meta["n_in"]))
                for s in meta["splits"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None

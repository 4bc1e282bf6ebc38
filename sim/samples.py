"""Models and input samples for the testbenches and the batch run.

- `trained_model(dataset)`: `runs/<dataset>-ternary-ternary` through `export.resolve_model`,
  or, if that run does not exist, the default config on that dataset trained for one
  epoch into `build/sim/<dataset>-model` (a fresh clone: CI); `default_model()` is saccade-digits';
- `dataset_samples(model, n)`: the first n samples of the model's own held-out split (`export.test_split`);
- `file_samples(model, paths)`: event files of the model's dataset format, binned with its T and pool;
- `nmnist_samples(steps, pool, n)`: real N-MNIST recordings from `core.paths.shared_nmnist_dir()`.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from snn2fpga.core.paths import RUNS, shared_nmnist_dir
from snn2fpga.export import ResolvedModel, resolve_model, test_split
from snn2fpga.sim.design import BUILD_ROOT, locked


@dataclass
class Samples:
    """Binned input spikes with where each came from."""

    x: np.ndarray  # uint8 [n, T, N_in]
    truth: np.ndarray  # int64 [n], dataset labels (−1: unknown)
    tags: list[str]

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def __add__(self, other: "Samples") -> "Samples":
        return Samples(np.concatenate([self.x, other.x]), np.concatenate([self.truth, other.truth]), self.tags + other.tags)

    def first(self, n: int) -> "Samples":
        return Samples(self.x[:n], self.truth[:n], self.tags[:n])


def trained_model(dataset: str = "saccade-digits") -> ResolvedModel:
    """The trained ternary/ternary model of `dataset` (see the module doc)."""
    run = RUNS / f"{dataset}-ternary-ternary"
    fallback = BUILD_ROOT / f"{dataset}-model"
    fallback.parent.mkdir(parents=True, exist_ok=True)
    # pytest-xdist workers ask at once: one trains or exports (resolve_model writes model.qonnx), the others wait
    with locked(fallback):
        if (run / "model.pt").exists() or (run / "model.qonnx").exists():
            return resolve_model(run)
        if not (fallback / "model.pt").exists():
            cmd = [sys.executable, "-m", "snn2fpga", "train", "--quiet", "--dataset", dataset, "--out", str(fallback), "--epochs", "1"]
            subprocess.run(cmd, check=True)
        return resolve_model(fallback)


def default_model() -> ResolvedModel:
    """The default trained model: `trained_model("saccade-digits")`."""
    return trained_model("saccade-digits")


def dataset_samples(model: ResolvedModel, n: Optional[int] = None, data_dir: Optional[str] = None) -> Samples:
    """The first `n` (all if None) samples of the split the model was tested on."""
    ds = test_split(model, data_dir)
    n = len(ds.test_x) if n is None else min(n, len(ds.test_x))
    return Samples(ds.test_x[:n], ds.test_y[:n].astype(np.int64), [f"{ds.name} test #{i}" for i in range(n)])


def file_samples(model: ResolvedModel, paths: list[Path]) -> Samples:
    """Event files in the model's dataset's format, binned with its T and pool (labels unknown: −1)."""
    from snn2fpga.train.data import bin_files

    source = model.data
    if source is None:
        raise ValueError(f"{model.path}: records no dataset, so its event-file format and binning are unknown")
    x = bin_files(source.dataset, [Path(p) for p in paths], source.steps, source.pool)
    return Samples(x, np.full(len(paths), -1, dtype=np.int64), [f"file {p}" for p in paths])


def nmnist_available() -> bool:
    return (shared_nmnist_dir() / "Train").is_dir()


def nmnist_samples(steps: int, pool: int, n: int, spread: bool = True) -> Samples:
    """`n` real N-MNIST recordings, binned (contract encoding) with `steps` and `pool`.

    `spread`: evenly spaced over the sorted file list (every class), else the first n."""
    from snn2fpga.train.data import NMNIST_SENSOR, bin_events, list_nmnist, read_nmnist_bin

    root = shared_nmnist_dir()
    files = list_nmnist(root, "Train")
    if n > len(files):
        raise ValueError(f"{root}: only {len(files)} recordings, {n} asked for")
    pick = np.linspace(0, len(files) - 1, n).round().astype(int) if spread else np.arange(n)
    x = np.stack([bin_events(read_nmnist_bin(files[i][0]), NMNIST_SENSOR, steps, pool) for i in pick]) if n else np.zeros((0, steps, 0), np.uint8)
    truth = np.array([files[i][1] for i in pick], dtype=np.int64)
    tags = [f"nmnist {files[i][0].relative_to(root)}" for i in pick]
    return Samples(x, truth, tags)

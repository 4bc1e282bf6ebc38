"""`load_dataset`: a named event dataset as binned spike tensors, split into train and test.

Each dataset is one entry of DATASETS (how to list its files, its reader, sensor and
classes); adding one is one line there. Binned arrays are cached bit-packed under the
cache root (train/data/store.py: binned in parallel, read memory-mapped), keyed by
everything they depend on, so reruns are instant.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from snn2fpga.core.binning import bin_events, n_inputs
from snn2fpga.core.paths import cache_root
from snn2fpga.train.data.cifar10dvs import CIFAR10DVS_CLASSES, CIFAR10DVS_SENSOR, list_cifar10dvs, read_cifar10dvs
from snn2fpga.train.data.dvs_motions import DVS_MOTIONS_CLASSES, DVS_MOTIONS_SENSOR, dvs_motions_files
from snn2fpga.train.data.dvsgesture import DVS_POOL, DVSGESTURE_CLASSES, DVSGESTURE_SENSOR, dvsgesture_files, read_segment
from snn2fpga.train.data.ncars import NCARS_CLASSES, NCARS_POOL, NCARS_SENSOR, ncars_files, read_ncars_dat
from snn2fpga.train.data.nmnist import NMNIST_CLASSES, NMNIST_SENSOR, has_split, list_nmnist, read_nmnist_bin
from snn2fpga.train.data.packed import PackedSpikes
from snn2fpga.train.data.saccade_digits import ensure_saccade_digits, split_indices
from snn2fpga.train.data.static_digits import ensure_static_digits
from snn2fpga.train.data.shd import SHD_CLASSES, SHD_POOL, SHD_SENSOR, read_shd_sample, shd_files
from snn2fpga.train.data.store import build_store, open_store

BINNING_VERSION = 2  # bump when binned arrays change for the same files, to drop stale caches
Samples = list[tuple[Path, int]]


@dataclass
class EventDataset:
    """Binned spike tensors of one dataset, ready for training and for the hardware tests."""

    name: str
    train_x: np.ndarray  # uint8 [n_train, steps, n_in]
    train_y: np.ndarray  # int64 [n_train]
    test_x: np.ndarray  # uint8 [n_test, steps, n_in]
    test_y: np.ndarray  # int64 [n_test]
    sensor_size: tuple[int, int, int]  # (W, H, P) before pooling
    pool: int
    steps: int
    n_in: int
    classes: list[str]
    test_paths: list[str]  # where each test sample comes from (its event file, or file#index)


@dataclass(frozen=True)
class DataSource:
    """The data a run was trained and tested on: enough to rebuild its held-out split exactly.

    Recorded in a run's metrics.json and in its exported model (ExportMeta.data), so every
    later stage scores a model on the samples it was tested on, not on its training set.
    """

    dataset: str
    data_dir: Optional[str]  # absolute; None: the embedded dataset in the cache
    seed: int
    test_fraction: float
    steps: int  # T time bins
    pool: int  # spatial pooling factor

    def load(self) -> "EventDataset":
        """The binned dataset, split exactly as when the run was trained."""
        return load_dataset(self.dataset, self.data_dir, self.steps, self.pool, self.seed, self.test_fraction)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object, where: str) -> "DataSource":
        """Parse a recorded source; ValueError naming `where` and the field when one is missing or mistyped."""
        if not isinstance(data, dict):
            raise ValueError(f"{where}: data record must be an object, got {data!r}")
        kinds = {"dataset": str, "data_dir": (str, type(None)), "seed": int, "test_fraction": (int, float), "steps": int, "pool": int}
        for name, kind in kinds.items():
            if name not in data:
                raise ValueError(f"{where}: data record has no field {name!r}")
            if not isinstance(data[name], kind) or isinstance(data[name], bool):
                raise ValueError(f"{where}: data field {name!r} has the wrong type: {data[name]!r}")
        return cls(**{k: data[k] for k in kinds})


@dataclass(frozen=True)
class DatasetSpec:
    """How to find a dataset's files and read one; its sensor and class names."""

    files: Callable[[str | None, int, float], tuple[Samples, Samples]]  # (data_dir, seed, test_fraction)
    read: Callable[[Path], np.ndarray]
    sensor_size: tuple[int, int, int]
    classes: list[str]
    default_pool: int = 2  # spatial pooling when the user gives none: 34×34 → 17×17, 128×128 → 32×32 (4)


def holdout(samples: Samples, seed: int, test_fraction: float) -> tuple[Samples, Samples]:
    """Hold out a fixed, seeded, stratified `test_fraction` of samples as test."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    labels = np.array([label for _, label in samples], dtype=np.int64)
    classes, counts = np.unique(labels, return_counts=True)
    n_test = int(np.ceil(test_fraction * len(labels)))
    if len(labels) == 0 or counts.min() < 2 or min(n_test, len(labels) - n_test) < len(classes):
        where = Path(samples[0][0]).parent.parent if samples else "the dataset folder"
        smallest = f"; class {classes[counts.argmin()]} has {counts.min()}" if len(labels) else ""
        raise ValueError(f"{where}: {len(labels)} recordings in {len(classes)} classes are too few for a stratified "
                         f"hold-out of {test_fraction:g} (each class needs 2, each part one per class{smallest})")
    train, test = split_indices(labels, test_fraction, seed)
    return [samples[i] for i in train], [samples[i] for i in test]


def nmnist_files(data_dir: str | None, seed: int, test_fraction: float) -> tuple[Samples, Samples]:
    """N-MNIST layout: Train/ and Test/, or a seeded stratified hold-out of Train/ if no Test/."""
    if data_dir is None:
        raise ValueError("dataset 'nmnist' needs data_dir: the folder holding Train/ (and Test/)")
    root = Path(data_dir).resolve()
    train = list_nmnist(root, "Train")
    if has_split(root, "Test"):
        return train, list_nmnist(root, "Test")
    return holdout(train, seed, test_fraction)


def cifar10dvs_files(data_dir: str | None, seed: int, test_fraction: float) -> tuple[Samples, Samples]:
    """CIFAR10-DVS: one folder per class, no published split: a seeded stratified hold-out."""
    if data_dir is None:
        raise ValueError("dataset 'cifar10-dvs' needs data_dir: the folder holding airplane/ … truck/")
    return holdout(list_cifar10dvs(data_dir), seed, test_fraction)


def saccade_digits_files(data_dir: str | None, seed: int, test_fraction: float) -> tuple[Samples, Samples]:
    """The embedded dataset, generated into the cache (or data_dir) on first use; fixed split."""
    root = ensure_saccade_digits(Path(data_dir).resolve() if data_dir is not None else None)
    return list_nmnist(root, "Train"), list_nmnist(root, "Test")


def static_digits_files(data_dir: str | None, seed: int, test_fraction: float) -> tuple[Samples, Samples]:
    """The embedded rate-coded static digits, generated into the cache (or data_dir) on first use; fixed split."""
    root = ensure_static_digits(Path(data_dir).resolve() if data_dir is not None else None)
    return list_nmnist(root, "Train"), list_nmnist(root, "Test")


DATASETS: dict[str, DatasetSpec] = {
    "saccade-digits": DatasetSpec(saccade_digits_files, read_nmnist_bin, NMNIST_SENSOR, NMNIST_CLASSES),
    "static-digits": DatasetSpec(static_digits_files, read_nmnist_bin, NMNIST_SENSOR, NMNIST_CLASSES),
    "nmnist": DatasetSpec(nmnist_files, read_nmnist_bin, NMNIST_SENSOR, NMNIST_CLASSES),
    "dvs-motions": DatasetSpec(dvs_motions_files, read_segment, DVS_MOTIONS_SENSOR, DVS_MOTIONS_CLASSES, DVS_POOL),
    "dvsgesture": DatasetSpec(dvsgesture_files, read_segment, DVSGESTURE_SENSOR, DVSGESTURE_CLASSES, DVS_POOL),
    "ncars": DatasetSpec(ncars_files, read_ncars_dat, NCARS_SENSOR, NCARS_CLASSES, NCARS_POOL),
    "shd": DatasetSpec(shd_files, read_shd_sample, SHD_SENSOR, SHD_CLASSES, SHD_POOL),
    "cifar10-dvs": DatasetSpec(cifar10dvs_files, read_cifar10dvs, CIFAR10DVS_SENSOR, CIFAR10DVS_CLASSES, DVS_POOL),
}


def default_pool(name: str) -> int:
    """The pooling factor dataset `name` is binned with unless the user asks otherwise."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; supported: {', '.join(sorted(DATASETS))}")
    return DATASETS[name].default_pool


def _bin_all(samples: Samples, spec: DatasetSpec, steps: int, pool: int) -> tuple[np.ndarray, np.ndarray]:
    """Read and bin every sample: (x uint8 [n, steps, n_in], y int64 [n])."""
    x = np.zeros((len(samples), steps, n_inputs(spec.sensor_size, pool)), dtype=np.uint8)
    for i, (path, _) in enumerate(samples):
        x[i] = bin_events(spec.read(path), spec.sensor_size, steps, pool)
    return x, np.array([label for _, label in samples], dtype=np.int64)


def bin_files(name: str, paths: list[Path], steps: int, pool: int) -> np.ndarray:
    """Event files of dataset `name`'s format, read by its reader and binned: uint8 [n, steps, n_in]."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; supported: {', '.join(sorted(DATASETS))}")
    x, _ = _bin_all([(Path(p), -1) for p in paths], DATASETS[name], steps, pool)
    return x


def _cache_key(name: str, steps: int, pool: int, seed: int, train: Samples, test: Samples) -> str:
    """Hash of everything the binned arrays depend on, files by path, size and mtime."""

    def describe(samples: Samples) -> list:
        return [[str(p), label, os.stat(p).st_size, os.stat(p).st_mtime_ns] for p, label in samples]

    blob = json.dumps([BINNING_VERSION, name, steps, pool, seed, describe(train), describe(test)])
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


@dataclass
class PackedDataset:
    """A dataset's binned splits as memory-mapped bit-packed spikes (train/data/store.py), for training at scale."""

    train: PackedSpikes
    test: PackedSpikes
    classes: list[str]
    test_paths: list[str]


def load_packed(
    name: str, data_dir: str | None, steps: int, pool: int, seed: int = 0, test_fraction: float = 0.2, jobs: Optional[int] = None
) -> PackedDataset:
    """Dataset `name` binned (in `jobs` processes, once; then from the cache) and memory-mapped; see load_dataset."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; supported: {', '.join(sorted(DATASETS))}")
    if steps < 1 or pool < 1:
        raise ValueError(f"steps and pool must be positive integers, got steps={steps}, pool={pool}")
    spec = DATASETS[name]
    train, test = spec.files(data_dir, seed, test_fraction)
    folder = cache_root() / "binned" / f"{name}-T{steps}-k{pool}-{_cache_key(name, steps, pool, seed, train, test)}"
    splits = open_store(folder)
    if splits is None:
        build_store(folder, {"train": train, "test": test}, spec.read, spec.sensor_size, steps, pool, jobs)
        splits = open_store(folder)
    return PackedDataset(splits["train"], splits["test"], list(spec.classes), [str(p) for p, _ in test])


def load_dataset(
    name: str, data_dir: str | None, steps: int, pool: int, seed: int = 0, test_fraction: float = 0.2
) -> EventDataset:
    """Load dataset `name` binned into `steps` time steps with spatial pooling `pool`.

    `data_dir` is the dataset folder (required for every recorded dataset; for the
    embedded "saccade-digits" and "dvs-motions" it overrides the cache location). `seed` and `test_fraction` set the hold-out split of
    datasets that ship without a test split; the embedded dataset has its own fixed split.
    The arrays are dense; training at scale reads `load_packed` instead.
    """
    packed = load_packed(name, data_dir, steps, pool, seed, test_fraction)
    spec = DATASETS[name]
    return EventDataset(
        name=name,
        train_x=packed.train.spikes(np.arange(len(packed.train))),
        train_y=np.array(packed.train.labels),
        test_x=packed.test.spikes(np.arange(len(packed.test))),
        test_y=np.array(packed.test.labels),
        sensor_size=spec.sensor_size,
        pool=pool,
        steps=steps,
        n_in=n_inputs(spec.sensor_size, pool),
        classes=list(spec.classes),
        test_paths=packed.test_paths,
    )

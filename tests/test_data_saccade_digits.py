"""The embedded dataset saccade-digits: determinism, disjoint stratified split, plausible recordings.

The full dataset is the one users get: generated once into the cache (about half a minute
on one core), then reused by these tests and by training.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from snn2fpga.train.data import EventFileError, SaccadeConfig, ensure_saccade_digits, list_nmnist, read_nmnist_bin
from snn2fpga.train.data.emulator import pixel_thresholds
from snn2fpga.train.data.nmnist import NMNIST_SENSOR, encode_nmnist
from snn2fpga.train.data.saccade_digits import GENERATOR_VERSION, META_FILE, image_index, record_digit, saccade_offsets

CONFIG = SaccadeConfig()


@pytest.fixture(scope="module")
def root() -> Path:
    """The generated dataset in the cache (generated now if absent or stale)."""
    return ensure_saccade_digits(progress=False)


@pytest.fixture(scope="module")
def digits():
    """scikit-learn's digits."""
    from sklearn.datasets import load_digits

    return load_digits()


def recording(digits, index: int, repeat: int) -> bytes:
    """Regenerate one recording's file bytes from its seeds, as `generate` does."""
    thresholds = pixel_thresholds((34, 34), CONFIG.dvs, np.random.default_rng((CONFIG.seed, 1)))
    rng = np.random.default_rng((CONFIG.seed, 2, index, repeat))
    return encode_nmnist(record_digit(digits.images[index] / 16.0, CONFIG, thresholds, rng))


def test_recordings_are_deterministic_and_vary_by_seed(digits) -> None:
    a, b = recording(digits, 5, 0), recording(digits, 5, 0)
    assert a == b
    assert a != recording(digits, 5, 1)


def test_saccades_trace_a_closed_triangle() -> None:
    times = np.arange(0, 330_001, 1000.0)
    off = saccade_offsets(times, CONFIG, np.random.default_rng(0))
    assert np.allclose(off[0], off[-1])  # back where it started
    turns = np.flatnonzero(np.abs(np.diff(np.diff(off, axis=0), axis=0)).sum(axis=1) > 1e-9)
    assert 2 <= len(turns) <= 6  # three straight legs: direction changes only around two corners
    assert 3.0 < np.ptp(off[:, 0]) < 5.0  # the triangle's side, ± jitter


def test_generated_dataset_layout_split_and_metadata(root: Path, digits) -> None:
    meta = json.loads((root / META_FILE).read_text())
    assert meta["generator_version"] == GENERATOR_VERSION
    train, test = list_nmnist(root, "Train"), list_nmnist(root, "Test")
    train_images = {image_index(p) for p, _ in train}
    test_images = {image_index(p) for p, _ in test}
    assert not train_images & test_images
    assert train_images | test_images == set(range(len(digits.target)))
    assert len(train) == CONFIG.train_repeats * len(train_images) and len(test) == len(test_images)
    for path, label in train + test:
        assert digits.target[image_index(path)] == label
    total, held = Counter(digits.target.tolist()), Counter(label for _, label in test)
    for label, n in total.items():  # stratified ~20 % per class
        assert abs(held[label] - CONFIG.test_fraction * n) <= 1


def test_generated_files_are_reproducible_from_their_seeds(root: Path, digits) -> None:
    for path, _ in (list_nmnist(root, "Test")[7], list_nmnist(root, "Train")[29]):
        index, repeat = (int(part) for part in path.stem.split("_"))
        assert path.read_bytes() == recording(digits, index, repeat)


def test_recordings_look_like_nmnist(root: Path) -> None:
    counts, on = [], []
    for path, _ in list_nmnist(root, "Test")[::9] + list_nmnist(root, "Train")[::97]:
        ev = read_nmnist_bin(path, NMNIST_SENSOR)
        counts.append(len(ev))
        on.append(ev["p"].mean())
        assert 280_000 <= ev["t"][-1] <= 340_000  # three saccades of ~100 ms
        assert np.ptp(ev["x"]) >= 20 and np.ptp(ev["y"]) >= 20  # the digit is large
    assert 1_000 <= min(counts) and max(counts) <= 7_000
    assert 3_000 <= np.median(counts) <= 5_000
    assert 0.4 < np.mean(on) < 0.6


def test_ensure_reuses_and_refuses_foreign_folders(root: Path, tmp_path: Path) -> None:
    before = (root / META_FILE).stat().st_mtime_ns
    assert ensure_saccade_digits(root, progress=False) == root
    assert (root / META_FILE).stat().st_mtime_ns == before  # reused, not regenerated
    (tmp_path / "mine").mkdir()
    with pytest.raises(EventFileError, match="not a generated saccade-digits folder"):
        ensure_saccade_digits(tmp_path / "mine", progress=False)

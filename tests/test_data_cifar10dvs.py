"""CIFAR10-DVS: the AEDAT 2.0 reader on files built from the jAER specification, .aedat4, the layout, training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from format_bytes import AEDAT2_HEADER, T0, aedat2, aedat2_events, aedat31, aedat4, description, nmnist
from snn2fpga.train.data import EVENT_DTYPE, EventFileError
from snn2fpga.train.data.cifar10dvs import CIFAR10DVS_CLASSES, read_cifar10dvs
from snn2fpga.train.data.datasets import cifar10dvs_files

# (address, timestamp) words and the events the spec says they are: bit 0 = 1 OFF,
# column in bits 1–7 shown at x = 127 − column, row in bits 8–14 is y
WORDS = [(0x0000, 10), (0x7FFF, 11), (0x0102, 11), (0x4A37, 2**31 - 1)]
EVENTS = [(127, 0, 10, 1), (0, 127, 11, 0), (126, 1, 11, 1), (127 - 0x1B, 0x4A, 2**31 - 1, 0)]


def write(tmp_path: Path, data: bytes, name: str = "cifar10_cat_7.aedat") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_decodes_hand_built_words_exactly(tmp_path: Path) -> None:
    events = read_cifar10dvs(write(tmp_path, aedat2(WORDS)))
    assert events.dtype == EVENT_DTYPE
    assert events.tolist() == EVENTS


def test_tonic_reads_the_same_words(tmp_path: Path) -> None:
    """tonic's AEDAT 2.0 reader (header skip, big-endian words) is an independent decode of the container."""
    from tonic.io import get_aer_events_from_file, read_aedat_header_from_file

    path = write(tmp_path, aedat2(WORDS))
    version, start, _ = read_aedat_header_from_file(str(path))
    theirs = get_aer_events_from_file(str(path), version, start)
    assert (version, start) == (2.0, len(AEDAT2_HEADER))
    assert list(zip(theirs["address"].tolist(), theirs["timeStamp"].tolist())) == WORDS


def test_reads_the_aedat4_mirror_too(tmp_path: Path) -> None:
    events = [(T0, 0, 0, True), (T0 + 4, 127, 127, False)]
    path = write(tmp_path, aedat4(events, description=description((128, 128))), "cat_7.aedat4")
    assert read_cifar10dvs(path).tolist() == [(0, 0, T0, 1), (127, 127, T0 + 4, 0)]
    other = write(tmp_path, aedat4(events, description=description((346, 260))), "big.aedat4")
    with pytest.raises(EventFileError, match="346x260 sensor, not 128x128"):
        read_cifar10dvs(other)


START = len(AEDAT2_HEADER)


@pytest.mark.parametrize(
    ("data", "words", "offset"),
    [
        (aedat2(WORDS)[:-5], "truncated: 3 stray bytes after 3 events", START + 24),
        (aedat2([(0x8000, 5)]), "address 0x00008000: bits above 14 set", START),
        (aedat2([(1, 5), (0x10001, 6)]), "bits above 14", START + 8),
        (aedat2([(1, 2**31)]), "negative", START),
        (aedat2([(1, 9), (1, 8)]), "goes back from 9 to 8", START + 8),
        (AEDAT2_HEADER, "empty sample", START),
        (b"#!AER-DAT2.0\r\n# created", "header line never ends", 14),
        (nmnist([(3, 4, 100, 1)]), "not an AEDAT 2.0 file: it has no AEDAT 2.0 signature", 0),
        (aedat31([(1, 1, 5, 1)]), "not an AEDAT 2.0 file: it looks like AEDAT 3.1", 0),
    ],
)
def test_bad_file_raises_naming_file_and_offset(tmp_path: Path, data: bytes, words: str, offset: int) -> None:
    path = write(tmp_path, data)
    with pytest.raises(EventFileError, match=words) as err:
        read_cifar10dvs(path)
    assert err.value.path == str(path) and err.value.offset == offset


def standin(root: Path, per_class: int, seed: int = 0) -> Path:
    """A CIFAR10-DVS folder in the published layout: class c moves a blob along row 12·c."""
    rng = np.random.default_rng(seed)
    for label, name in enumerate(CIFAR10DVS_CLASSES):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            k = 80
            x = rng.integers(0, 128, k)
            y = np.clip(12 * label + rng.integers(-3, 4, k), 0, 127)
            t = np.sort(rng.integers(0, 1_300_000, k))
            events = zip(x.tolist(), y.tolist(), t.tolist(), rng.integers(0, 2, k).tolist())
            (root / name / f"cifar10_{name}_{i}.aedat").write_bytes(aedat2_events(events))
    return root


def test_layout_holdout_and_a_wrong_folder(tmp_path: Path) -> None:
    standin(tmp_path / "CIFAR10DVS", 5)
    (tmp_path / "CIFAR10DVS" / "cat" / "notes.txt").write_text("not a recording")
    train, test = cifar10dvs_files(str(tmp_path), seed=0, test_fraction=0.2)
    assert len(train) == 40 and len(test) == 10
    assert sorted(label for _, label in test) == list(range(10))  # stratified: one per class
    assert all(p.parent.name == CIFAR10DVS_CLASSES[label] for p, label in train + test)
    assert cifar10dvs_files(str(tmp_path / "CIFAR10DVS"), seed=0, test_fraction=0.2) == (train, test)
    (tmp_path / "other" / "airplane").mkdir(parents=True)
    with pytest.raises(EventFileError, match="not a CIFAR10-DVS folder: expected class folders airplane, .*; found airplane"):
        cifar10dvs_files(str(tmp_path / "other"), 0, 0.2)


def test_trains_one_epoch_on_a_standin_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from snn2fpga.train.config import TrainConfig
    from snn2fpga.train.pipeline import run_training

    monkeypatch.setenv("SNN2FPGA_CACHE", str(tmp_path / "cache"))
    root = standin(tmp_path / "c10", 4)
    cfg = TrainConfig(dataset="cifar10-dvs", data_dir=str(root), hidden=[8], epochs=1, steps=4, batch_size=8, test_fraction=0.25)
    metrics = run_training(cfg, tmp_path / "run", progress=False)
    assert (metrics["n_in"], metrics["train_samples"], metrics["test_samples"]) == (2 * 32 * 32, 30, 10)
    assert metrics["golden_agrees_with_model"] and (tmp_path / "run" / "metrics.json").is_file()

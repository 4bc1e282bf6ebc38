"""SHD: the HDF5 reader on files in the published layout, declared sizes, bad files, the folder, training."""

from __future__ import annotations

import struct
import tracemalloc
from pathlib import Path

import h5py
import numpy as np
import pytest

from format_bytes import nmnist, shd
from snn2fpga.train.data import EVENT_DTYPE, EventFileError
from snn2fpga.train.data.shd import ShdSample, open_shd, read_shd_sample, shd_files

# (times in s — exact in float16 —, channels, label); the second sample's spikes are not in time order
SAMPLES = [
    ([0.0, 0.015625, 0.5, 1.25], [0, 699, 350, 1], 3),
    ([0.75, 0.25, 0.25, 0.125], [10, 20, 30, 40], 19),
]
# x = channel, y = 0, t = µs, p = 0; sorted by time, ties in file order
EVENTS = [
    [(0, 0, 0, 0), (699, 0, 15625, 0), (350, 0, 500000, 0), (1, 0, 1250000, 0)],
    [(40, 0, 125000, 0), (20, 0, 250000, 0), (30, 0, 250000, 0), (10, 0, 750000, 0)],
]


def test_decodes_samples_exactly_sorted_by_time(tmp_path: Path) -> None:
    path = shd(tmp_path / "shd_train.h5", SAMPLES)
    f = open_shd(path)
    assert len(f) == 2 and f.labels.tolist() == [3, 19]
    for i, want in enumerate(EVENTS):
        got = read_shd_sample(ShdSample(path, i))
        assert got.dtype == EVENT_DTYPE and got.tolist() == want


@pytest.mark.parametrize(
    "options",
    [{"chunks": (1,)}, {"chunks": (2,), "compression": "gzip"}, {"times_dtype": "float32", "units_dtype": "int32"}],
)
def test_other_layouts_and_dtypes_read_the_same(tmp_path: Path, options: dict) -> None:
    path = shd(tmp_path / "shd_test.h5", SAMPLES, **options)
    assert [open_shd(path).events(i).tolist() for i in range(2)] == EVENTS


def descriptor_offset(path: Path, name: str) -> int:
    """Where the raw variable-length descriptors of dataset `name` begin in the file."""
    with h5py.File(path, "r") as f:
        return f[name].id.get_offset()


def test_a_huge_declared_length_is_refused_before_allocating(tmp_path: Path) -> None:
    path = shd(tmp_path / "shd_train.h5", SAMPLES)
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, descriptor_offset(path, "spikes/times") + 16, 2**32 - 1)  # sample 1's length
    path.write_bytes(bytes(data))
    tracemalloc.start()
    with pytest.raises(EventFileError, match="sample 1: /spikes/times declares 4294967295 values"):
        open_shd(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1 << 20  # HDF5 itself would have allocated 8 GiB for this element


def build(tmp_path: Path, name: str, change) -> Path:
    """An SHD file of SAMPLES, then `change(h5py.File)` applied to it."""
    path = shd(tmp_path / f"{name}.h5", SAMPLES)
    with h5py.File(path, "a") as f:
        change(f)
    return path


def replace(name: str, data) -> object:
    def change(f: h5py.File) -> None:
        dtype = f[name].dtype
        del f[name]
        f.create_dataset(name, data=data, dtype=dtype)

    return change


def vlen_sample(name: str, index: int, values: list) -> object:
    def change(f: h5py.File) -> None:
        f[name][index] = np.asarray(values, dtype=h5py.check_vlen_dtype(f[name].dtype))

    return change


@pytest.mark.parametrize(
    ("change", "words", "sample"),
    [
        (lambda f: f.__delitem__("labels"), "not an SHD file: no dataset labels", None),
        (replace("labels", np.array([3, 20], np.uint16)), "sample 1 has label 20, outside 0..19", None),
        (replace("labels", np.array([3], np.uint16)), r"/spikes/times is .* expected 1 variable-length", None),
        (vlen_sample("spikes/units", 0, [0, 700, 1, 2]), "sample 0: spike 1 on channel 700, outside 0..699", 0),
        (vlen_sample("spikes/times", 1, [0.5, -0.25, 0.25, 0.125]), r"sample 1: spike 1 at -0.25 s", 1),
        (vlen_sample("spikes/times", 1, [0.5, np.nan, 0.25, 0.125]), r"sample 1: spike 1 at nan s", 1),
        (vlen_sample("spikes/units", 1, [1, 2]), "sample 1 has 4 times but 2 units", 1),
        (lambda f: [vlen_sample(n, 0, [])(f) for n in ("spikes/times", "spikes/units")], "sample 0 holds no spikes", 0),
    ],
)
def test_bad_contents_raise_naming_file_and_sample(tmp_path: Path, change, words: str, sample: int | None) -> None:
    path = build(tmp_path, "bad", change)
    with pytest.raises(EventFileError, match=words) as err:
        f = open_shd(path)
        f.events(sample)
    assert err.value.path == str(path)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (nmnist([(3, 4, 100, 1)]), "not an SHD \\(HDF5\\) file: it has no HDF5 signature"),
        (b"% Data file containing Event2D events.\n", "not an SHD \\(HDF5\\) file: it looks like Prophesee DAT"),
        (b"", "it is empty"),
    ],
)
def test_other_formats_are_named(tmp_path: Path, data: bytes, words: str) -> None:
    path = tmp_path / "shd_train.h5"
    path.write_bytes(data)
    with pytest.raises(EventFileError, match=words):
        open_shd(path)


def test_truncated_file_is_an_error(tmp_path: Path) -> None:
    path = shd(tmp_path / "shd_train.h5", SAMPLES)
    path.write_bytes(path.read_bytes()[:3000])
    with pytest.raises(EventFileError, match="HDF5|runs past"):
        open_shd(path).events(1)


def test_folder_layout_and_a_wrong_folder(tmp_path: Path) -> None:
    shd(tmp_path / "shd_train.h5", SAMPLES)
    shd(tmp_path / "shd_test.h5", SAMPLES[::-1])
    train, test = shd_files(str(tmp_path), 0, 0.2)
    assert [(str(s), label) for s, label in train] == [(f"{tmp_path}/shd_train.h5#0", 3), (f"{tmp_path}/shd_train.h5#1", 19)]
    assert [label for _, label in test] == [19, 3]
    (tmp_path / "gz").mkdir()
    (tmp_path / "gz" / "shd_train.h5.gz").write_bytes(b"")
    with pytest.raises(EventFileError, match="expected shd_train.h5 and shd_test.h5 .gunzip .*found shd_train.h5.gz"):
        shd_files(str(tmp_path / "gz"), 0, 0.2)
    with pytest.raises(ValueError, match="needs data_dir"):
        shd_files(None, 0, 0.2)


def standin(root: Path, n: int, seed: int = 0) -> Path:
    """shd_train.h5 and shd_test.h5 of `n` samples each: digit d excites channels near 35·d."""
    rng = np.random.default_rng(seed)
    for name in ("shd_train.h5", "shd_test.h5"):
        samples = []
        for i in range(n):
            label = i % 20
            k = int(rng.integers(30, 80))
            units = np.clip(35 * label + rng.integers(-10, 10, k), 0, 699)
            samples.append((np.sort(rng.random(k)).tolist(), units.tolist(), label))
        shd(root / name, samples)
    return root


def test_trains_one_epoch_on_standin_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from snn2fpga.train.config import TrainConfig
    from snn2fpga.train.pipeline import run_training

    monkeypatch.setenv("SNN2FPGA_CACHE", str(tmp_path / "cache"))
    root = standin(tmp_path / "shd", 40)
    cfg = TrainConfig(dataset="shd", data_dir=str(root), hidden=[8], epochs=1, steps=4, batch_size=8)
    metrics = run_training(cfg, tmp_path / "run", progress=False)
    assert (metrics["n_in"], metrics["train_samples"], metrics["test_samples"]) == (700, 40, 40)
    assert metrics["golden_agrees_with_model"] and (tmp_path / "run" / "metrics.json").is_file()

"""load_dataset: the registry, the fixed stratified hold-out, shapes, and the binned cache."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import snn2fpga.train.data.datasets as datasets
from snn2fpga.train.data import bin_events, load_dataset, make_events, read_nmnist_bin, write_nmnist_bin
from snn2fpga.train.data.saccade_digits import default_root

SHARED = default_root()  # the generated dataset in the user's cache, before tests redirect the cache


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Binned arrays go to a temporary cache root, so each test starts cold."""
    monkeypatch.setenv("SNN2FPGA_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def fake_nmnist(root: Path, splits: dict[str, dict[int, int]]) -> None:
    """Write a tiny N-MNIST tree: splits[split][label] = number of files, distinct events each."""
    for split, per_label in splits.items():
        for label, n in per_label.items():
            for i in range(n):
                ev = make_events([label, 33 - i], [i, 10], [1000 * i, 1000 * i + 500 + label], [1, 0])
                write_nmnist_bin(root / split / str(label) / f"{i:03d}.bin", ev)


def test_unknown_name_and_missing_data_dir() -> None:
    with pytest.raises(ValueError, match="supported: cifar10-dvs, dvs-motions, dvsgesture, ncars, nmnist, saccade-digits, shd"):
        load_dataset("mnist", None, steps=4, pool=2)
    with pytest.raises(ValueError, match="needs data_dir"):
        load_dataset("nmnist", None, steps=4, pool=2)
    assert {"nmnist", "saccade-digits"} <= set(datasets.DATASETS)


def test_uses_test_split_when_present(tmp_path: Path) -> None:
    fake_nmnist(tmp_path / "nm", {"Train": {0: 3, 4: 2}, "Test": {4: 1, 9: 2}})
    ds = load_dataset("nmnist", str(tmp_path / "nm"), steps=3, pool=1)
    assert ds.train_x.shape == (5, 3, 2312) and ds.test_x.shape == (3, 3, 2312)
    assert ds.train_y.tolist() == [0, 0, 0, 4, 4] and ds.test_y.tolist() == [4, 9, 9]
    rel = [Path(p).relative_to(tmp_path).as_posix() for p in ds.test_paths]
    assert rel == ["nm/Test/4/000.bin", "nm/Test/9/000.bin", "nm/Test/9/001.bin"]
    for x, path in zip(ds.test_x, ds.test_paths):
        assert np.array_equal(x, bin_events(read_nmnist_bin(path), (34, 34, 2), 3, 1))


def test_binned_cache_is_reused_and_invalidated(
    tmp_path: Path, private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_nmnist(tmp_path / "nm", {"Train": {1: 2, 2: 2}, "Test": {1: 1}})
    first = load_dataset("nmnist", str(tmp_path / "nm"), steps=5, pool=2)
    assert len(list((private_cache / "binned").glob("nmnist-T5-k2-*"))) == 1

    def no_binning(*args, **kwargs):
        raise AssertionError("binned again despite a valid cache")

    monkeypatch.setattr(datasets, "build_store", no_binning)
    again = load_dataset("nmnist", str(tmp_path / "nm"), steps=5, pool=2)
    for k in ("train_x", "train_y", "test_x", "test_y"):
        a, b = getattr(first, k), getattr(again, k)
        assert np.array_equal(a, b) and a.dtype == b.dtype
    with pytest.raises(AssertionError, match="binned again"):  # another T is another cache entry
        load_dataset("nmnist", str(tmp_path / "nm"), steps=6, pool=2)
    write_nmnist_bin(tmp_path / "nm" / "Test" / "1" / "000.bin", make_events([0], [0], [7], [0]))
    with pytest.raises(AssertionError, match="binned again"):  # a changed file is too
        load_dataset("nmnist", str(tmp_path / "nm"), steps=5, pool=2)


def test_nmnist_holdout_is_fixed_stratified_and_binned(real_nmnist) -> None:
    ds = load_dataset("nmnist", str(real_nmnist), steps=8, pool=2)
    assert (ds.name, ds.steps, ds.pool, ds.n_in, ds.sensor_size) == ("nmnist", 8, 2, 578, (34, 34, 2))
    assert ds.classes == [str(d) for d in range(10)]
    assert ds.train_x.shape == (800, 8, 578) and ds.test_x.shape == (200, 8, 578)
    assert ds.train_x.dtype == ds.test_x.dtype == np.uint8 and ds.train_y.dtype == np.int64
    assert set(np.unique(ds.train_x).tolist()) == {0, 1}
    assert len(ds.test_paths) == 200 and all(Path(p).is_file() for p in ds.test_paths)
    assert [int(Path(p).parent.name) for p in ds.test_paths] == ds.test_y.tolist()
    total = Counter(int(p.parent.name) for p in (real_nmnist / "Train").glob("*/*.bin"))
    held = Counter(ds.test_y.tolist())
    assert all(abs(held[c] - 0.2 * n) <= 1 for c, n in total.items())  # stratified
    # fixed: the same seed gives the same split, another seed another split
    same = load_dataset("nmnist", str(real_nmnist), steps=8, pool=2, seed=0)
    assert same.test_paths == ds.test_paths and np.array_equal(same.train_x, ds.train_x)
    other = load_dataset("nmnist", str(real_nmnist), steps=8, pool=2, seed=1)
    assert set(other.test_paths) != set(ds.test_paths)
    i = 17
    assert np.array_equal(ds.test_x[i], bin_events(read_nmnist_bin(ds.test_paths[i]), (34, 34, 2), 8, 2))


def test_saccade_digits_loads_with_its_fixed_split() -> None:
    ds = load_dataset("saccade-digits", str(SHARED), steps=10, pool=2)  # generated there if absent
    assert ds.train_x.shape[1:] == ds.test_x.shape[1:] == (10, 578)
    assert len(ds.test_y) == 360 and len(ds.train_y) == 3 * 1437
    assert sorted(Counter(ds.test_y.tolist()).values())[0] >= 35
    assert 0.02 < ds.train_x.mean() < 0.5


def test_a_damaged_cache_is_rebuilt_not_misread(tmp_path, monkeypatch):
    """A cache whose spikes are not packed for its input width, or that was never finished, is binned again."""
    root = tmp_path / "nm"
    for label in (0, 1):
        for i in range(5):
            ev = make_events([1, 2, 3 + label], [4, 5, 6], [0, 50, 100 + i], [1, 0, 1])
            write_nmnist_bin(root / "Train" / str(label) / f"{i}.bin", ev)
    monkeypatch.setenv("SNN2FPGA_CACHE", str(tmp_path / "cache"))
    fresh = load_dataset("nmnist", str(root), steps=3, pool=1)
    (folder,) = (tmp_path / "cache" / "binned").glob("nmnist-*")
    np.save(folder / "train_x.npy", fresh.train_x)  # unpacked: 8× too wide
    again = load_dataset("nmnist", str(root), steps=3, pool=1)
    assert np.array_equal(again.train_x, fresh.train_x) and np.array_equal(again.test_x, fresh.test_x)
    (folder / "store.json").unlink()  # as if the build had stopped half-way
    assert np.array_equal(load_dataset("nmnist", str(root), steps=3, pool=1).train_x, fresh.train_x)


def test_pool_defaults_to_the_datasets_own() -> None:
    """34×34 N-MNIST pools by 2, 128×128 DVS and 120×100 N-Cars by 4, SHD's 700 channels not at all."""
    import argparse

    from snn2fpga.train.cli import add_arguments
    from snn2fpga.train.config import TrainConfig

    names = ("saccade-digits", "nmnist", "dvs-motions", "dvsgesture", "ncars", "shd", "cifar10-dvs")
    assert [TrainConfig(dataset=d).pool for d in names] == [2, 2, 4, 4, 4, 1, 4]
    assert TrainConfig(dataset="dvs-motions", pool=8).pool == 8
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert parser.parse_args(["--dataset", "dvs-motions"]).pool is None  # resolved by TrainConfig


def test_parallel_binning_equals_serial_and_is_memory_mapped(tmp_path, monkeypatch):
    fake_nmnist(tmp_path / "nm", {"Train": {label: 20 for label in range(8)}, "Test": {1: 3}})  # 160: three chunks
    monkeypatch.setenv("SNN2FPGA_CACHE", str(tmp_path / "serial"))
    serial = datasets.load_packed("nmnist", str(tmp_path / "nm"), steps=4, pool=2, jobs=1)
    monkeypatch.setenv("SNN2FPGA_CACHE", str(tmp_path / "parallel"))
    parallel = datasets.load_packed("nmnist", str(tmp_path / "nm"), steps=4, pool=2, jobs=2)
    assert isinstance(parallel.train.bits, np.memmap) and parallel.train.bits.shape == (160, 4, (578 + 7) // 8)
    for a, b in ((serial.train, parallel.train), (serial.test, parallel.test)):
        assert np.array_equal(np.asarray(a.bits), np.asarray(b.bits)) and np.array_equal(a.labels, b.labels)
    paths = [p for p, _ in datasets.DATASETS["nmnist"].files(str(tmp_path / "nm"), 0, 0.2)[0]]
    assert np.array_equal(serial.train.spikes(np.arange(160)), datasets.bin_files("nmnist", paths, 4, 2))

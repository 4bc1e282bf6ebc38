"""from_tonic: tonic's own SHD dataset built from local files, a duck-typed dataset through a tonic
transform pipeline, audio events without y; all binned as load_dataset bins files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tonic

from format_bytes import shd
from snn2fpga.train.data import EVENT_DTYPE, EventDataset, bin_events, load_dataset, make_events
from snn2fpga.train.data.tonic_adapter import from_tonic

# spike times exact in float16 and in µs (multiples of 1/64 s), so tonic's float → int cast is exact
SAMPLES = {
    "shd_train.h5": [([k / 64 for k in (3, 1, 9, 9, 30)], [5, 699, 0, 8, 350], label) for label in range(6)],
    "shd_test.h5": [([0.5, 0.0625, 0.25], [1, 2, 690], 19), ([1.0, 0.125], [7, 7], 0)],
}


def test_tonic_shd_built_from_local_files_bins_like_load_dataset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SNN2FPGA_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(tonic.datasets.SHD, "download", lambda self: pytest.fail("tonic tried to download"))
    folder = tmp_path / "SHD"  # tonic's location_on_system: <save_to>/SHD
    for name, samples in SAMPLES.items():
        shd(folder / name, samples)
        (folder / f"{name}.zip").write_bytes(b"")  # tonic only checks that the archive is present
    train_set, test_set = tonic.datasets.SHD(str(tmp_path), train=True), tonic.datasets.SHD(str(tmp_path), train=False)
    ours = from_tonic(train_set, test_set, steps=5, pool=1)
    want = load_dataset("shd", str(folder), steps=5, pool=1)
    assert isinstance(ours, EventDataset) and (ours.name, ours.n_in, ours.sensor_size) == ("SHD", 700, (700, 1, 1))
    for k in ("train_x", "train_y", "test_x", "test_y"):
        assert np.array_equal(getattr(ours, k), getattr(want, k)), k
    assert ours.train_x.sum() > 0 and ours.classes[:2] == ["zero", "one"] and ours.classes[19] == "neun"
    assert ours.test_paths == ["SHD[0]", "SHD[1]"]


class Duck:
    """Indexable, sized, with sensor_size: all from_tonic may assume of a dataset."""

    def __init__(self, items: list, sensor_size: tuple[int, int, int], transform=None) -> None:
        self.items, self.sensor_size, self.transform = items, sensor_size, transform

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        events, label = self.items[i]
        return (self.transform(events) if self.transform else events), label


def cluster(seed: int, n: int = 300) -> np.ndarray:
    """N-MNIST-like events: a dense stroke plus isolated noise events far away in time or space."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.integers(10, 14, n), [0, 33, 20]])
    y = np.concatenate([rng.integers(10, 14, n), [33, 0, 30]])
    t = np.concatenate([np.sort(rng.integers(0, 10_000, n)), [50_000, 60_000, 70_000]])
    return make_events(x, y, t, rng.integers(0, 2, n + 3))


def test_a_tonic_transform_pipeline_runs_before_the_projects_binning() -> None:
    items = [(cluster(s), s % 3) for s in range(6)]
    pipeline = tonic.transforms.Compose([tonic.transforms.Denoise(filter_time=2000), tonic.transforms.MergePolarities()])
    data = from_tonic(Duck(items, (34, 34, 2), pipeline), Duck(items[:2], (34, 34, 2), pipeline), steps=4, pool=2)
    assert data.n_in == 578 and data.train_y.tolist() == [0, 1, 2, 0, 1, 2] and data.classes == ["0", "1", "2"]
    for (events, _), x in zip(items, data.train_x):
        kept = pipeline(events)
        assert 0 < len(kept) < len(events)  # Denoise dropped the isolated events
        assert np.array_equal(x, bin_events(kept.astype(EVENT_DTYPE), (34, 34, 2), 4, 2))
        assert not x[:, 289:].any()  # MergePolarities: every spike on the OFF half


def test_polarities_orders_and_audio_events_are_normalised() -> None:
    ev = np.zeros(3, dtype=[("x", "<i2"), ("y", "<i2"), ("t", "<f8"), ("p", "?")])
    ev["x"], ev["y"], ev["t"], ev["p"] = [1, 2, 3], [0, 1, 2], [30.0, 10.0, 20.0], [True, False, True]  # unsorted
    signed = ev.astype([("x", "<i8"), ("y", "<i8"), ("t", "<i8"), ("p", "<i8")])
    signed["p"] = [1, -1, 1]
    audio = np.zeros(2, dtype=[("t", "<i8"), ("x", "<i8"), ("p", "<i8")])  # tonic's SHD order, p = 1
    audio["t"], audio["x"], audio["p"] = [0, 9], [699, 4], [1, 1]
    d = from_tonic(Duck([(ev, 0), (signed, 1)], (4, 3, 2)), Duck([], (4, 3, 2)), steps=3)
    want = bin_events(make_events([2, 3, 1], [1, 2, 0], [10, 20, 30], [0, 1, 1]), (4, 3, 2), 3)
    assert np.array_equal(d.train_x[0], want) and np.array_equal(d.train_x[1], want)
    a = from_tonic(Duck([(audio, 0)], (700, 1, 1)), Duck([(audio, 0)], (700, 1, 1)), steps=2)
    assert [np.flatnonzero(row).tolist() for row in a.train_x[0]] == [[699], [4]]


def test_bad_datasets_are_refused() -> None:
    ev = make_events([0], [0], [0], [0])
    with pytest.raises(ValueError, match="needs a sensor_size"):
        from_tonic([(ev, 0)], [(ev, 0)], steps=2)
    with pytest.raises(ValueError, match="sensor sizes differ"):
        from_tonic(Duck([(ev, 0)], (34, 34, 2)), Duck([(ev, 0)], (128, 128, 2)), steps=2)
    named = Duck([(ev, 3)], (34, 34, 2))
    named.classes = ["a", "b"]
    with pytest.raises(ValueError, match="labels span 0..3, but Duck names 2 classes"):
        from_tonic(named, Duck([(ev, 0)], (34, 34, 2)), steps=2)
    with pytest.raises(ValueError, match="fields x and t"):
        from_tonic(Duck([(np.zeros(1, [("a", "<i8")]), 0)], (34, 34, 2)), Duck([], (34, 34, 2)), steps=2)

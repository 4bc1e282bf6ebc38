"""The embedded DVS dataset dvs-motions: determinism, split, round trips, motions, binned shape.

A small configuration checks determinism and that each label shows its motion; the full
default dataset is the one users get: generated once into the cache (about a minute on
one core), then reused by these tests and by training.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from snn2fpga.train.data import EventFileError, bin_events, n_inputs
from snn2fpga.train.data import datasets as D
from snn2fpga.train.data.aedat import encode_aedat31, read_aedat31
from snn2fpga.train.data.dvs_motions import (
    DVS_MOTIONS_CLASSES,
    DVS_MOTIONS_SENSOR,
    GENERATOR_VERSION,
    META_FILE,
    NAME,
    MotionsConfig,
    dvs_motions_files,
    ensure_dvs_motions,
    generate,
    plan,
    record,
    recording_name,
)
from snn2fpga.train.data.dvsgesture import read_labels, read_segment, split_segments
from snn2fpga.train.data.emulator import pixel_thresholds

SMALL = MotionsConfig(
    users=3, test_users=1, lightings=("lab", "dim"), gesture_us=(300_000, 400_000), pause_us=(100_000, 150_000)
)
N_CLASSES = len(DVS_MOTIONS_CLASSES)


def folder_bytes(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.iterdir())}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("small") / NAME
    return ensure_dvs_motions(root, SMALL, progress=False)


@pytest.fixture(scope="module")
def full() -> Path:
    """The default dataset in the cache (generated now if absent or stale)."""
    return ensure_dvs_motions(progress=False)


def test_same_seed_same_bytes_other_seed_other_bytes(small: Path, tmp_path: Path) -> None:
    generate(tmp_path / "again", SMALL, progress=False)
    first, again = folder_bytes(small), folder_bytes(tmp_path / "again")
    assert first == again
    assert sum(name.endswith(".aedat") for name in first) == 6
    generate(tmp_path / "seed1", replace(SMALL, seed=1), progress=False)
    other = folder_bytes(tmp_path / "seed1")
    assert other.keys() == first.keys()
    assert all(other[n] != first[n] for n in first if n.endswith(".aedat"))


def test_layout_is_dvsgesture(small: Path) -> None:
    assert (small / "trials_to_train.txt").read_text() == "".join(
        f"{recording_name(u, li)}\n" for u in (1, 2) for li in ("lab", "dim")
    )
    assert (small / "trials_to_test.txt").read_text() == "user03_lab.aedat\nuser03_dim.aedat\n"
    rows = (small / "user01_lab_labels.csv").read_text().splitlines()
    assert rows[0] == "class,startTime_usec,endTime_usec" and len(rows) == 1 + N_CLASSES
    assert sorted(int(r.split(",")[0]) for r in rows[1:]) == list(range(1, N_CLASSES + 1))
    meta = json.loads((small / META_FILE).read_text())
    assert meta["generator_version"] == GENERATOR_VERSION and meta["stats"]["gestures"] == 6 * N_CLASSES


def test_ensure_reuses_and_refuses_foreign_folders(small: Path, tmp_path: Path) -> None:
    stamp = os.stat(small / "user01_lab.aedat").st_mtime_ns
    assert ensure_dvs_motions(small, SMALL, progress=False) == small
    assert os.stat(small / "user01_lab.aedat").st_mtime_ns == stamp  # not regenerated
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(EventFileError, match="not a generated dvs-motions folder"):
        ensure_dvs_motions(tmp_path / "mine", SMALL, progress=False)


def _displacement(events: np.ndarray) -> np.ndarray:
    """Mean (x, y) of the last third of the events minus that of the first third."""
    t = events["t"]
    third = (t - t[0]) * 3 // (t[-1] - t[0] + 1)
    first, last = events[third == 0], events[third == 2]
    return np.array([last["x"].mean() - first["x"].mean(), last["y"].mean() - first["y"].mean()])


def _spin(events: np.ndarray) -> float:
    """Total turn (rad, > 0 clockwise with y down) of the ON events' doubled-angle mean about their centre."""
    on = events[events["p"] == 1]
    t = on["t"]
    window = (t - t[0]) * 20 // (t[-1] - t[0] + 1)
    z = np.exp(2j * np.arctan2(on["y"] - on["y"].mean(), on["x"] - on["x"].mean()))
    angle = np.array([np.angle(z[window == i].mean()) for i in range(20) if np.any(window == i)])
    return float(np.angle(np.exp(1j * np.diff(angle))).sum())


def test_every_label_shows_its_motion(small: Path) -> None:
    train, test = split_segments(small, N_CLASSES)
    assert len(train) == 4 * N_CLASSES and len(test) == 2 * N_CLASSES
    direction = {"swipe-left": (-1, 0), "swipe-right": (1, 0), "swipe-up": (0, -1), "swipe-down": (0, 1)}
    for segment, label in train + test:
        events = read_segment(segment)
        name = DVS_MOTIONS_CLASSES[label]
        if name in direction:
            along = np.array(direction[name])
            moved = _displacement(events)
            assert moved @ along > 35 and abs(moved @ along[::-1]) < 20, (segment, moved)
        elif name.startswith("zoom"):
            on = float((events["p"] == 1).mean())
            assert (on > 0.8) if name == "zoom-in" else (on < 0.2), (segment, on)
        else:
            spin = _spin(events)
            assert (spin > 3) if name == "rotate-clockwise" else (spin < -3), (segment, spin)


def test_default_plan_has_every_class_in_train_and_test() -> None:
    recordings = plan(MotionsConfig())
    classes = {split: Counter() for split in ("train", "test")}
    users = {split: set() for split in ("train", "test")}
    for split, user, _, order in recordings:
        assert sorted(order) == list(range(N_CLASSES))  # every gesture once per recording
        classes[split].update(order)
        users[split].add(user)
    assert not users["train"] & users["test"]
    assert classes["train"] == Counter({c: 36 * 4 for c in range(N_CLASSES)})
    assert classes["test"] == Counter({c: 12 * 4 for c in range(N_CLASSES)})


def test_default_dataset_split_and_statistics(full: Path) -> None:
    train, test = dvs_motions_files(None, seed=0, test_fraction=0.2)
    assert Counter(label for _, label in train) == Counter({c: 144 for c in range(N_CLASSES)})
    assert Counter(label for _, label in test) == Counter({c: 48 for c in range(N_CLASSES)})
    assert all(s.aedat.parent == full for s, _ in train + test)
    stats = json.loads((full / META_FILE).read_text())["stats"]
    assert stats["recordings"] == 192 and stats["gestures"] == 1536
    assert 1000 < stats["events_per_gesture_min"] and stats["events_per_gesture_max"] < 100_000


def test_default_recordings_round_trip(full: Path) -> None:
    config = MotionsConfig()
    thresholds = pixel_thresholds((128, 128), config.dvs, np.random.default_rng((config.seed, 1)))
    recordings = plan(config)
    late = next(r for r in recordings if _first_time(full / recording_name(r[1], r[2])) >= 2**31)
    picked = [recordings[0], recordings[-1], late]  # `late`: packets with eventTSOverflow ≥ 1
    for _, user, lighting, order in picked:
        path = full / recording_name(user, lighting)
        events, labels = record(user, lighting, order, config, thresholds)
        read = read_aedat31(path).events
        assert np.array_equal(read, events)
        header_comment = f"Generator: {NAME} v{GENERATOR_VERSION}, seed {config.seed}"
        assert encode_aedat31(events, comments=(header_comment,)) == path.read_bytes()
        segments = read_labels(path, N_CLASSES)
        assert [(s.label, s.start, s.end) for s in segments] == labels
        for s in segments[:3]:
            inside = events[(events["t"] >= s.start) & (events["t"] < s.end)]
            assert np.array_equal(read_segment(s), inside)


def _first_time(path: Path) -> int:
    return int(read_aedat31(path).events["t"][0])


def test_binned_shape_with_pool_4(full: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert n_inputs(DVS_MOTIONS_SENSOR, 4) == 2 * 32 * 32
    train, _ = dvs_motions_files(None, 0, 0.2)
    for steps in (10, 16):
        spikes = bin_events(read_segment(train[0][0]), DVS_MOTIONS_SENSOR, steps, 4)
        assert spikes.shape == (steps, 2 * 32 * 32) and spikes.any(axis=1).all()
    assert D.DATASETS[NAME].read is read_segment and D.default_pool(NAME) == 4
    ds = D.load_dataset(NAME, None, steps=12, pool=4)
    assert ds.train_x.shape == (1152, 12, 2048) and ds.test_x.shape == (384, 12, 2048)
    assert ds.classes == DVS_MOTIONS_CLASSES and ds.n_in == 2048
    assert sorted(set(ds.test_y.tolist())) == list(range(N_CLASSES))
    i = 7
    segment = next(s for s, _ in split_segments(ensure_dvs_motions(), N_CLASSES)[1] if str(s) == ds.test_paths[i])
    assert np.array_equal(ds.test_x[i], bin_events(read_segment(segment), DVS_MOTIONS_SENSOR, 12, 4))

"""N-MNIST reader, writer and lister: the real recordings, every kind of bad file, round trips."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from snn2fpga.train.data import (
    EVENT_DTYPE,
    EventFileError,
    list_nmnist,
    make_events,
    read_nmnist_bin,
    write_nmnist_bin,
)



def record(x: int, y: int, p: int, t: int) -> bytes:
    """One 40-bit N-MNIST event, assembled by hand."""
    return bytes([x, y, (p << 7) | (t >> 16), (t >> 8) & 0xFF, t & 0xFF])


GOOD = record(3, 4, 1, 100) + record(33, 0, 0, 70_000) + record(0, 33, 1, 2**23 - 1)


def test_decodes_hand_built_records(tmp_path: Path) -> None:
    f = tmp_path / "a.bin"
    f.write_bytes(GOOD)
    ev = read_nmnist_bin(f)
    assert ev.dtype == EVENT_DTYPE
    assert ev.tolist() == [(3, 4, 100, 1), (33, 0, 70_000, 0), (0, 33, 2**23 - 1, 1)]


@pytest.mark.parametrize(
    ("data", "words", "offset"),
    [
        (GOOD[:-2], "not a multiple of 5", 10),  # truncated inside the last event
        (GOOD + b"\x00", "not a multiple of 5", 15),  # one stray byte
        (b"\x01\x02\x03\x04\x05\x06\x07", "not a multiple of 5", 5),
        (b"", "empty sample", None),
        (record(34, 0, 1, 5), "outside the 34x34 sensor", 0),
        (GOOD + record(5, 34, 0, 2**23 - 1), "outside the 34x34 sensor", 15),
        (GOOD[:5] + record(1, 240, 0, 200), "outside the 34x34 sensor", 5),  # ATIS overflow marker
        (record(1, 1, 1, 500) + record(1, 1, 1, 499), "goes back", 5),  # wrapped or corrupt timestamps
    ],
)
def test_bad_file_raises_naming_file_and_offset(
    tmp_path: Path, data: bytes, words: str, offset: int | None
) -> None:
    f = tmp_path / "bad.bin"
    f.write_bytes(data)
    with pytest.raises(EventFileError, match=words) as err:
        read_nmnist_bin(f)
    assert str(f) in str(err.value)
    assert err.value.offset == offset
    if offset is not None:
        assert f"at byte {offset}" in str(err.value)


def test_missing_file_and_folders_raise_naming_them(tmp_path: Path) -> None:
    with pytest.raises(EventFileError, match="no such file") as err:
        read_nmnist_bin(tmp_path / "nope.bin")
    assert "nope.bin" in str(err.value)
    with pytest.raises(EventFileError, match="dataset folder not found") as err:
        list_nmnist(tmp_path / "absent")
    assert str(tmp_path / "absent") in str(err.value)
    (tmp_path / "Train").mkdir()
    with pytest.raises(EventFileError, match="split folder not found") as err:
        list_nmnist(tmp_path, "Test")
    assert str(tmp_path / "Test") in str(err.value)
    with pytest.raises(EventFileError, match="no .bin files"):
        list_nmnist(tmp_path, "Train")
    (tmp_path / "Train" / "ten").mkdir()
    with pytest.raises(EventFileError, match="unexpected folder") as err:
        list_nmnist(tmp_path, "Train")
    assert "ten" in str(err.value)


def test_round_trip_and_atomic_writer(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    n = 500
    t = np.sort(rng.integers(0, 2**23, n))
    ev = make_events(rng.integers(0, 34, n), rng.integers(0, 34, n), t, rng.integers(0, 2, n))
    f = tmp_path / "deep" / "x.bin"
    write_nmnist_bin(f, ev)
    assert f.stat().st_size == 5 * n
    assert np.array_equal(read_nmnist_bin(f), ev)
    assert [p.name for p in f.parent.iterdir()] == ["x.bin"]  # no temporary left behind
    too_late, too_wide, bad_p = ([0], [0], [2**23], [0]), ([256], [0], [0], [0]), ([0], [0], [0], [2])
    for bad in (make_events(*f) for f in (too_late, too_wide, bad_p)):
        with pytest.raises(EventFileError, match="cannot encode"):
            write_nmnist_bin(tmp_path / "bad.bin", bad)
    with pytest.raises(EventFileError, match="empty"):
        write_nmnist_bin(tmp_path / "bad.bin", make_events([], [], [], []))
    assert not (tmp_path / "bad.bin").exists()


def test_lister_sorted_by_label_then_name(tmp_path: Path) -> None:
    ev = make_events([1], [2], [3], [1])
    for rel in ("Train/7/b.bin", "Train/7/a.bin", "Train/0/z.bin", "Train/0/notes.txt", "Test/3/c.bin"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        write_nmnist_bin(tmp_path / rel, ev) if rel.endswith(".bin") else (tmp_path / rel).write_text("x")
    got = [(p.relative_to(tmp_path).as_posix(), label) for p, label in list_nmnist(tmp_path, "Train")]
    assert got == [("Train/0/z.bin", 0), ("Train/7/a.bin", 7), ("Train/7/b.bin", 7)]
    assert [label for _, label in list_nmnist(tmp_path, "Test")] == [3]


def test_real_layout_checksums_and_first_samples(real_nmnist) -> None:
    samples = list_nmnist(real_nmnist, "Train")
    assert len(samples) == 1000
    by_id = {p.stem: label for p, label in samples}
    assert [by_id[f"{i:05d}"] for i in (1, 2, 3, 4)] == [5, 0, 4, 1]  # MNIST's first four digits
    sums = dict(line.split()[::-1] for line in (real_nmnist / "SHA256SUMS").read_text().splitlines())
    for path, label in samples[::50]:
        assert path.parent.name == str(label)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sums[f"{label}/{path.name}"]


def test_real_recordings_match_the_documented_facts(real_nmnist) -> None:
    samples = list_nmnist(real_nmnist, "Train")
    for path, _ in samples[::7]:  # 143 files across every class
        ev = read_nmnist_bin(path)
        assert path.stat().st_size == 5 * len(ev)  # every record decoded, none dropped
        assert 1_069 <= len(ev) <= 7_152
        assert ev["x"].min() >= 0 and ev["x"].max() <= 33 and ev["y"].min() >= 0 and ev["y"].max() <= 33
        assert np.all(np.diff(ev["t"]) >= 0)
        assert 296_841 <= ev["t"][-1] <= 336_040
        assert 0.4 < ev["p"].mean() < 0.6


def test_real_recordings_decode_as_tonic_does(real_nmnist) -> None:
    tonic_io = pytest.importorskip("tonic.io")
    for path, _ in list_nmnist(real_nmnist, "Train")[::97]:
        ours = read_nmnist_bin(path)
        theirs = tonic_io.read_mnist_file(str(path), dtype=EVENT_DTYPE)
        assert np.array_equal(ours, theirs)

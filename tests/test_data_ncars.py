"""N-Cars: the Prophesee DAT reader on files built from the format specification, the layout, training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from format_bytes import DAT_HEADER, dat, nmnist
from snn2fpga.train.data import EVENT_DTYPE, EventFileError
from snn2fpga.train.data.ncars import ncars_files, read_ncars_dat

EVENTS = [(0, 0, 5, 1), (119, 99, 6, 0), (60, 7, 6, 1), (3, 98, 2**32 - 1, 0)]  # (x, y, t, p): corners, equal t, top t


def write(tmp_path: Path, data: bytes, name: str = "obj_004396_td.dat") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("etype", [0, 12])  # Event2D and EventCD share the layout
def test_decodes_hand_built_file_exactly(tmp_path: Path, etype: int) -> None:
    events = read_ncars_dat(write(tmp_path, dat(EVENTS, etype=etype)))
    assert events.dtype == EVENT_DTYPE
    assert events.tolist() == EVENTS


def test_an_independent_decoder_agrees(tmp_path: Path) -> None:
    """expelliarmus (C, Prophesee's DAT layout) reads the same events from the same bytes."""
    from expelliarmus import Wizard

    path = write(tmp_path, dat(EVENTS[:3]))
    theirs = Wizard(encoding="dat").read(path)
    assert [(int(e["x"]), int(e["y"]), int(e["t"]), int(e["p"])) for e in theirs] == EVENTS[:3]
    assert read_ncars_dat(path).tolist() == EVENTS[:3]


GOOD = dat(EVENTS)
START = sum(len(line) for line in DAT_HEADER) + 2  # first event


@pytest.mark.parametrize(
    ("data", "words", "offset"),
    [
        (GOOD[:-3], "truncated: 5 stray bytes after 3 events", START + 24),
        (dat([(120, 0, 1, 0)]), r"event 0 at \(x=120, y=0\) is outside the 120x100 sensor", START),
        (dat(EVENTS[:1] + [(1, 100, 9, 0)]), "outside the 120x100 sensor", START + 8),
        (dat([(1, 1, 1, 2)]), "polarity 2", START),
        (dat([(1, 1, 9, 0), (1, 1, 8, 0)]), "goes back from 9 to 8", START + 8),
        (dat(EVENTS, size=16), "size 16", START - 2),
        (dat(EVENTS, etype=1), "event type 1", START - 2),
        (dat([]), "empty sample", START),
        (b"".join(DAT_HEADER)[:-1], "header line never ends", len(DAT_HEADER[0] + DAT_HEADER[1])),
        (b"".join(DAT_HEADER) + b"\x00", "ends before the event type and size", START - 2),
        (nmnist([(3, 4, 100, 1)]), "not a Prophesee DAT \\(N-Cars\\) file: it has no Prophesee DAT signature", 0),
        (b"#!AER-DAT2.0\r\n" + bytes(8), "not a Prophesee DAT .* it looks like AEDAT 2.0", 0),
        (b"", "it is empty", 0),
    ],
)
def test_bad_file_raises_naming_file_and_offset(tmp_path: Path, data: bytes, words: str, offset: int) -> None:
    path = write(tmp_path, data)
    with pytest.raises(EventFileError, match=words) as err:
        read_ncars_dat(path)
    assert err.value.path == str(path) and err.value.offset == offset


def standin(root: Path, per_class: dict[str, int], seed: int = 0) -> Path:
    """A small N-Cars folder in the published layout: cars are a bright block, background is noise."""
    rng = np.random.default_rng(seed)
    for split, n in per_class.items():
        for label, name in enumerate(("background", "cars")):
            for i in range(n):
                k = int(rng.integers(40, 120))
                x = rng.integers(30, 70, k) if label else rng.integers(0, 120, k)
                y = rng.integers(30, 60, k) if label else rng.integers(0, 100, k)
                t = np.sort(rng.integers(0, 100_000, k))
                events = zip(x.tolist(), y.tolist(), t.tolist(), rng.integers(0, 2, k).tolist())
                write_to = root / f"n-cars_{split}" / name
                write_to.mkdir(parents=True, exist_ok=True)
                (write_to / f"obj_{i:06d}_td.dat").write_bytes(dat(events))
    return root


def test_layout_lists_both_splits_and_names_a_wrong_folder(tmp_path: Path) -> None:
    standin(tmp_path / "Prophesee_Dataset_n_cars", {"train": 3, "test": 2})
    for data_dir in (tmp_path, tmp_path / "Prophesee_Dataset_n_cars"):  # the folder or its parent
        train, test = ncars_files(str(data_dir), 0, 0.2)
        assert [label for _, label in train] == [0, 0, 0, 1, 1, 1] and len(test) == 4
        assert [p.parent.name for p, _ in test] == ["background"] * 2 + ["cars"] * 2
    (tmp_path / "wrong" / "Train").mkdir(parents=True)
    with pytest.raises(EventFileError, match="not an N-Cars folder: expected n-cars_train/ and n-cars_test/.*found Train"):
        ncars_files(str(tmp_path / "wrong"), 0, 0.2)
    (tmp_path / "half" / "n-cars_train" / "car").mkdir(parents=True)
    (tmp_path / "half" / "n-cars_test").mkdir(parents=True)
    with pytest.raises(EventFileError, match="expected background/ and cars/; found car"):
        ncars_files(str(tmp_path / "half"), 0, 0.2)
    with pytest.raises(ValueError, match="needs data_dir"):
        ncars_files(None, 0, 0.2)


def test_trains_one_epoch_on_a_standin_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from snn2fpga.train.config import TrainConfig
    from snn2fpga.train.pipeline import run_training

    monkeypatch.setenv("SNN2FPGA_CACHE", str(tmp_path / "cache"))
    root = standin(tmp_path / "ncars", {"train": 12, "test": 4})
    cfg = TrainConfig(dataset="ncars", data_dir=str(root), hidden=[8], epochs=1, steps=4, batch_size=8)
    metrics = run_training(cfg, tmp_path / "run", progress=False)
    assert (metrics["n_in"], metrics["train_samples"], metrics["test_samples"]) == (2 * 25 * 30, 24, 8)
    assert metrics["golden_agrees_with_model"] and (tmp_path / "run" / "metrics.json").is_file()

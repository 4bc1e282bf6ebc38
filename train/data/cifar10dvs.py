"""CIFAR10-DVS (Li et al. 2017): 10,000 DVS128 recordings of moving CIFAR-10 images, a folder per class.

    <data-dir>/airplane/cifar10_airplane_0.aedat … <data-dir>/truck/…
    (figshare: airplane.zip … truck.zip, each unpacked into the same folder)

The published recordings are AEDAT 2.0 (jAER, DVS128: `train.data.aedat2`); tonic's
mirror converted them to AEDAT 4.0 `.aedat4` (`train.data.aedat4`). Both are read, the
decoder chosen by the file's signature. No test split is published: `load_dataset`
holds out a seeded, stratified fraction.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np

from snn2fpga.train.data.aedat2 import decode_aedat2
from snn2fpga.train.data.aedat4 import decode_aedat4
from snn2fpga.core.events import EventFileError, read_bytes
from snn2fpga.train.data.sniff import HEAD_BYTES, sniff_format

CIFAR10DVS_SENSOR: tuple[int, int, int] = (128, 128, 2)
CIFAR10DVS_CLASSES: list[str] = [
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
]  # fmt: skip
SUFFIXES = (".aedat", ".aedat4")


def read_cifar10dvs(path: str | PathLike[str]) -> np.ndarray:
    """The events of one recording, AEDAT 2.0 or 4.0; EventFileError on any defect."""
    path = Path(path)
    data = read_bytes(path)
    if sniff_format(data[:HEAD_BYTES]) != "AEDAT 4.0":
        return decode_aedat2(data, path)  # which names any other format it finds
    events, sensor_size = decode_aedat4(data, path)
    if sensor_size != CIFAR10DVS_SENSOR:
        raise EventFileError(path, f"AEDAT 4.0 event stream of a {sensor_size[0]}x{sensor_size[1]} sensor, not 128x128")
    return events


def find_root(data_dir: str | PathLike[str]) -> Path:
    """The folder holding the ten class folders: `data_dir` or a folder inside it."""
    root = Path(data_dir).expanduser().resolve()
    if not root.is_dir():
        raise EventFileError(root, "dataset folder not found")
    for candidate in (root, *sorted(p for p in root.iterdir() if p.is_dir())):
        if all((candidate / name).is_dir() for name in CIFAR10DVS_CLASSES):
            return candidate
    found = ", ".join(sorted(p.name for p in root.iterdir())[:12]) or "nothing"
    raise EventFileError(
        root,
        f"not a CIFAR10-DVS folder: expected class folders {', '.join(CIFAR10DVS_CLASSES)} "
        f"(here or one level down); found {found}",
    )


def list_cifar10dvs(data_dir: str | PathLike[str]) -> list[tuple[Path, int]]:
    """(file, label) of every `<class>/*.aedat` or `*.aedat4` recording, by class then name."""
    root = find_root(data_dir)
    samples = [
        (f, label)
        for label, name in enumerate(CIFAR10DVS_CLASSES)
        for f in sorted((root / name).iterdir())
        if f.suffix in SUFFIXES and f.is_file()
    ]
    if not samples:
        raise EventFileError(root, f"no {' or '.join(SUFFIXES)} files in the class folders")
    return samples

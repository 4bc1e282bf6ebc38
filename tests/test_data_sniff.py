"""Every reader sniffs its format first: a file of another format is named as such, never decoded."""

from __future__ import annotations

from pathlib import Path

import pytest

from format_bytes import T0, aedat2_events, aedat4, aedat31, dat, nmnist, shd
from snn2fpga.train.data import EventFileError
from snn2fpga.train.data.aedat import read_aedat31, read_aedat4
from snn2fpga.train.data.cifar10dvs import read_cifar10dvs
from snn2fpga.train.data.ncars import read_ncars_dat
from snn2fpga.train.data.nmnist import read_nmnist_bin
from snn2fpga.train.data.shd import open_shd
from snn2fpga.train.data.sniff import sniff_format

EVENTS = [(3, 4, 100, 1), (5, 6, 200, 0)]
FILES = {  # name: (bytes builder, what sniff_format calls it)
    "nmnist": (lambda tmp: nmnist(EVENTS), None),
    "aedat2": (lambda tmp: aedat2_events(EVENTS), "AEDAT 2.0"),
    "aedat31": (lambda tmp: aedat31(EVENTS), "AEDAT 3.1"),
    "aedat4": (lambda tmp: aedat4([(T0, 3, 4, True)]), "AEDAT 4.0"),
    "dat": (lambda tmp: dat(EVENTS), "Prophesee DAT"),
    "hdf5": (lambda tmp: shd(tmp / "x.h5", [([0.5], [3], 1)]).read_bytes(), "HDF5"),
}
READERS = {  # name: (reader, the words of its refusal, the formats it reads)
    "nmnist": (read_nmnist_bin, "not an N-MNIST .bin file", {"nmnist"}),
    "aedat31": (read_aedat31, "not an AEDAT 3.1 file", {"aedat31"}),
    "aedat4": (read_aedat4, "not an AEDAT 4.0 file", {"aedat4"}),
    "ncars": (read_ncars_dat, r"not a Prophesee DAT \(N-Cars\) file", {"dat"}),
    "shd": (open_shd, r"not an SHD \(HDF5\) file", {"hdf5"}),
    "cifar10dvs": (read_cifar10dvs, "not an AEDAT 2.0 file", {"aedat2", "aedat4"}),
}
PAIRS = [(r, f) for r in READERS for f in FILES if f not in READERS[r][2]]


@pytest.mark.parametrize(("reader", "fmt"), PAIRS)
def test_a_file_of_another_format_is_named(tmp_path: Path, reader: str, fmt: str) -> None:
    build, sniffed = FILES[fmt]
    path = tmp_path / f"sample.{fmt}"
    path.write_bytes(build(tmp_path))
    read, refusal, _ = READERS[reader]
    looks = f"it looks like {sniffed} " if sniffed else "it has no .* signature"
    with pytest.raises(EventFileError, match=f"{refusal}: {looks}") as err:
        read(path)
    assert err.value.path == str(path) and err.value.offset == 0


def test_the_issue_example_ncars_dat_given_to_the_nmnist_reader(tmp_path: Path) -> None:
    """It was decoded as events and reported as 'event 0 at (x=37, y=32) is outside the 34x34 sensor'."""
    path = tmp_path / "obj_004396_td.dat"
    path.write_bytes(dat(EVENTS))
    with pytest.raises(EventFileError) as err:
        read_nmnist_bin(path)
    assert str(err.value) == (
        f"{path} at byte 0: not an N-MNIST .bin file: it looks like Prophesee DAT "
        "(first line '% Data file containing Event2D events.')"
    )


@pytest.mark.parametrize(
    ("head", "name"),
    [
        (b"#!AER-DAT3.1\r\n#Format: RAW\r\n", "AEDAT 3.1"),
        (b"#!AER-DAT2.0\n", "AEDAT 2.0"),
        (b"#!AER-DAT4.0\r\n\x00", "AEDAT 4.0"),
        (b"% Height 240\n% Width 304\n\x00\x08", "Prophesee DAT"),
        (b"% camera_integrator_name Prophesee\n% evt 2.0\n% end\n", "Prophesee RAW (EVT)"),
        (b"\x89HDF\r\n\x1a\n\x00", "HDF5"),
        (b"PK\x03\x04", "ZIP archive"),
        (b"\x1f\x8b\x08", "gzip archive"),
        (b"\x93NUMPY\x01\x00", "NumPy .npy"),
        (bytes([3, 4, 0x80, 0, 100]), None),
        (b"", None),
    ],
)
def test_sniff_format_names_signatures(head: bytes, name: str | None) -> None:
    assert sniff_format(head) == name

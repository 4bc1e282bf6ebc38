"""AEDAT 3.1 and 4.0 readers, the 3.1 writer and the DvsGesture layout, on files built byte by byte.

Every file here is assembled with struct.pack from the formats' specifications (libcaer
`events/common.h` and `events/polarity.h` for 3.1; the DV flatbuffers schemas
`ioheader.fbs` and `events.fbs` for 4.0; tests/format_bytes.py), never by the project's writer.
"""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import numpy as np
import pytest

import aedat
import zstandard

from format_bytes import (
    AEDAT31_HEADER,
    DESCRIPTION,
    T0,
    aedat4,
    compress,
    description,
    event_packet,
    ioheader,
    packet,
    polarity,
)
from snn2fpga.train.data import EVENT_DTYPE, EventFileError, make_events
from snn2fpga.train.data import datasets as D
from snn2fpga.train.data.aedat import (
    AedatWarning,
    decode_aedat31,
    encode_aedat31,
    read_aedat,
    read_aedat4,
    read_aedat31,
    write_aedat31,
)
from snn2fpga.train.data.dvsgesture import (
    DVSGESTURE_CLASSES,
    dvsgesture_files,
    read_labels,
    read_segment,
    split_segments,
)

# ---------------------------------------------------------------- AEDAT 3.1, by hand

HEADER = AEDAT31_HEADER

P1 = packet(
    [
        polarity(0, 0, 1, 10),
        polarity(127, 127, 0, 20),
        polarity(5, 6, 1, 25, valid=0),  # invalidated by a filter: skipped
        polarity(64, 3, 0, 2**31 - 1),  # largest 31-bit timestamp
    ]
)
P2 = packet([polarity(1, 2, 1, 5), polarity(3, 4, 0, 100)], overflow=1)  # t = 2^31 + ts
GOOD = HEADER + P1 + P2
GOOD_EVENTS = [(0, 0, 10, 1), (127, 127, 20, 0), (64, 3, 2**31 - 1, 0), (1, 2, 2**31 + 5, 1), (3, 4, 2**31 + 100, 0)]


def write(tmp_path: Path, data: bytes, name: str = "user01_led.aedat") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_good_file_decodes_exactly_with_overflow_timestamps(tmp_path: Path) -> None:
    f = write(tmp_path, GOOD)
    with pytest.warns(AedatWarning, match="1 polarity events marked invalid"):
        rec = read_aedat31(f)
    assert rec.events.dtype == EVENT_DTYPE
    assert rec.events.tolist() == GOOD_EVENTS
    assert rec.sensor_size == (128, 128, 2) and rec.invalid == 1 and rec.skipped == {}


def test_clean_file_reads_without_warnings(tmp_path: Path) -> None:
    f = write(tmp_path, HEADER + P2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_aedat31(f).events.tolist() == GOOD_EVENTS[3:]


def test_unknown_event_types_are_skipped_counted_and_warned_once(tmp_path: Path) -> None:
    special = packet([struct.pack("<Ii", 0x10, 7)] * 3, etype=0)  # special events (type 0), 8 bytes each
    odd = packet([bytes(12)] * 2, etype=42, size=12)  # a type this reader does not know, 12-byte events
    f = write(tmp_path, HEADER + special + packet([polarity(0, 0, 1, 10), polarity(127, 127, 0, 20)]) + odd + P2)
    with pytest.warns(AedatWarning) as caught:
        rec = read_aedat31(f)
    assert len(caught) == 1  # one warning for the whole file
    message = str(caught[0].message)
    assert str(f) in message and "3 events of type 0" in message and "2 events of type 42" in message
    assert rec.skipped == {0: 3, 42: 2}
    assert rec.events.tolist() == GOOD_EVENTS[:2] + GOOD_EVENTS[3:]


def test_events_outside_128x128_raise_with_offset(tmp_path: Path) -> None:
    for x, y in ((128, 5), (5, 128), (300, 0)):
        data = HEADER + packet([polarity(1, 1, 1, 1), polarity(x, y, 0, 2)])
        f = write(tmp_path, data)
        with pytest.raises(EventFileError, match="outside the 128x128 sensor") as err:
            read_aedat31(f)
        assert err.value.offset == len(HEADER) + 28 + 8 and str(f) in str(err.value)
        assert f"byte {len(HEADER) + 36}" in str(err.value)
    # the same event fits a larger sensor when the caller says so
    rec = decode_aedat31(HEADER + packet([polarity(300, 200, 1, 2)]), "big.aedat", sensor_size=(346, 260, 2))
    assert rec.events.tolist() == [(300, 200, 2, 1)]


@pytest.mark.parametrize(
    ("cut", "offset"),
    [
        (len(GOOD) - 3, len(HEADER) + len(P1)),  # inside the last packet's events
        (len(HEADER) + len(P1) + 28, len(HEADER) + len(P1)),  # header complete, events missing
        (len(HEADER) + len(P1) + 10, len(HEADER) + len(P1)),  # inside a packet header
    ],
)
def test_truncated_packet_raises_naming_file_and_offset(tmp_path: Path, cut: int, offset: int) -> None:
    f = write(tmp_path, GOOD[:cut])
    with pytest.raises(EventFileError, match="truncated packet") as err:
        read_aedat31(f)
    assert err.value.offset == offset and err.value.path == str(f)


def test_missing_end_header_raises(tmp_path: Path) -> None:
    head = b"#!AER-DAT3.1\r\n#Format: RAW\r\n"
    f = write(tmp_path, head + P1)  # packets straight after the header lines
    with pytest.raises(EventFileError, match="without #!END-HEADER") as err:
        read_aedat31(f)
    assert err.value.offset == len(head)
    f = write(tmp_path, head + b"#Source 1: DVS128")  # header never closed, file ends
    with pytest.raises(EventFileError, match="END-HEADER") as err:
        read_aedat31(f)
    assert err.value.offset == len(head)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"#!AER-DAT2.0\r\n" + bytes(8), "not an AEDAT 3.1 file: it looks like AEDAT 2.0"),
        (b"\x00\x01garbage", "not an AEDAT 3.1 file: it has no AEDAT 3.1 signature"),
        (HEADER + packet([polarity(1, 1, 1, 1) + bytes(4)], size=12), "eventSize 12"),
        (HEADER + packet([polarity(1, 1, 1, 1)], capacity=2), "eventCapacity 2"),
        (HEADER + packet([polarity(1, 1, 1, 9), polarity(1, 1, 1, 8)]), "goes back"),
        (HEADER + packet([polarity(1, 1, 1, -5)]), "negative"),
    ],
)
def test_corrupt_files_raise(tmp_path: Path, data: bytes, words: str) -> None:
    f = write(tmp_path, data)
    with pytest.raises(EventFileError, match=words) as err:
        read_aedat31(f)
    assert str(f) in str(err.value)


def test_writer_round_trips_and_keeps_packets_within_one_overflow(tmp_path: Path) -> None:
    t = np.array([0, 5, 2**31 - 2, 2**31 - 1, 2**31, 2**31 + 7, 3 * 2**31 + 1])
    events = make_events(np.arange(7) * 18, np.arange(7) * 3, t, np.arange(7) % 2)
    data = encode_aedat31(events, packet_events=3)
    assert decode_aedat31(data).events.tolist() == events.tolist()
    pos, headers = data.index(b"#!END-HEADER\r\n") + 14, []
    while pos < len(data):  # walk the packets by the spec
        head = struct.unpack_from("<hhiiiiii", data, pos)
        words = np.frombuffer(data, "<u4", count=2 * head[6], offset=pos + 28).reshape(-1, 2)
        headers.append((head[4], len(words)))
        assert head[0] == 1 and head[2] == 8 and head[3] == 4 and head[5] == head[6] == head[7]
        assert np.all(words[:, 0] & 1) and np.all(words[:, 1] < 2**31)
        pos += 28 + 8 * head[6]
    assert headers == [(0, 3), (0, 1), (1, 2), (3, 1)]
    write_aedat31(tmp_path / "w.aedat", events)
    assert read_aedat31(tmp_path / "w.aedat").events.tolist() == events.tolist()
    with pytest.raises(EventFileError, match="sorted"):
        write_aedat31(tmp_path / "bad.aedat", events[::-1])


# ---------------------------------------------------------------- DvsGesture layout

LABELS = "class,startTime_usec,endTime_usec\n"


def recording(times: range) -> bytes:
    """An AEDAT 3.1 recording with one event per timestamp, x = y = index % 128."""
    events = [polarity(i % 128, i % 128, i % 2, t) for i, t in enumerate(times)]
    return HEADER + b"".join(packet(events[i : i + 40]) for i in range(0, len(events), 40))


def gesture_folder(root: Path, labels: dict[str, str] | None = None) -> Path:
    """A small DvsGesture folder: two recordings, their labels and the trial lists."""
    root.mkdir(parents=True, exist_ok=True)
    labels = labels or {}
    (root / "user01_led.aedat").write_bytes(recording(range(1000, 11000, 100)))
    (root / "user01_led_labels.csv").write_text(labels.get("user01_led", LABELS + "3,2000,5000\n11,6000,9000\n"))
    (root / "user24_natural.aedat").write_bytes(recording(range(0, 50000, 500)))
    (root / "user24_natural_labels.csv").write_text(labels.get("user24_natural", LABELS + "1,0,20000\r\n"))
    (root / "trials_to_train.txt").write_text("user01_led.aedat\n")
    (root / "trials_to_test.txt").write_text("user24_natural.aedat\n\n")
    return root


def test_dvsgesture_segments_split_and_events(tmp_path: Path) -> None:
    gesture_folder(tmp_path / "DvsGesture")
    for data_dir in (tmp_path, tmp_path / "DvsGesture"):  # the folder itself or its parent
        train, test = dvsgesture_files(str(data_dir), seed=0, test_fraction=0.2)
        assert [label for _, label in train] == [2, 10] and [label for _, label in test] == [0]
    seg = train[0][0]
    assert str(seg).endswith("user01_led.aedat#2000-5000")
    events = read_segment(seg)
    assert events["t"].tolist() == list(range(2000, 5000, 100))  # start ≤ t < end
    assert read_segment(test[0][0])["t"].tolist() == list(range(0, 20000, 500))


def test_dvsgesture_through_load_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = gesture_folder(tmp_path / "DvsGesture")
    monkeypatch.setenv("SNN2FPGA_CACHE", str(tmp_path / "cache"))
    assert D.DATASETS["dvsgesture"].files is dvsgesture_files and D.default_pool("dvsgesture") == 4
    ds = D.load_dataset("dvsgesture", str(root), steps=5, pool=4)
    assert ds.train_x.shape == (2, 5, 2 * 32 * 32) and ds.test_x.shape == (1, 5, 2048)
    assert ds.train_y.tolist() == [2, 10] and ds.classes == DVSGESTURE_CLASSES
    assert ds.test_paths == [f"{root / 'user24_natural.aedat'}#0-20000"]
    again = D.load_dataset("dvsgesture", str(root), steps=5, pool=4)  # from the binned cache
    assert np.array_equal(again.train_x, ds.train_x)


@pytest.mark.parametrize(
    ("csv", "words", "line"),
    [
        (LABELS + "3,2000,5000\n3,20x0,5000\n", "unreadable row", 2),
        (LABELS + "3,2000\n", "unreadable row", 1),
        (LABELS + "12,2000,5000\n", "class 12 outside 1..11", 1),
        (LABELS + "0,2000,5000\n", "class 0 outside", 1),
        (LABELS + "3,5000,5000\n", "empty or negative", 1),
        ("label,start,end\n3,2000,5000\n", "header", 0),
        (LABELS, "no labelled segments", None),
    ],
)
def test_unreadable_labels_raise_naming_file_and_row(tmp_path: Path, csv: str, words: str, line: int | None) -> None:
    root = gesture_folder(tmp_path, {"user01_led": csv})
    with pytest.raises(EventFileError, match=words) as err:
        split_segments(root)
    assert err.value.path == str(root / "user01_led_labels.csv")
    lines = csv.encode().splitlines(keepends=True)
    assert err.value.offset == (None if line is None else sum(len(x) for x in lines[:line]))


@pytest.mark.parametrize("row", ["3,500,5000", "3,9000,12000", "3,20000,30000", "3,1050,1100"])
def test_labels_not_matching_recording_raise_on_read(tmp_path: Path, row: str) -> None:
    # the recording spans 1000..10900 µs: segments reaching outside it, or holding no events
    csv = LABELS + "1,2000,3000\n" + row + "\n"
    root = gesture_folder(tmp_path, {"user01_led": csv})
    train, _ = split_segments(root)
    read_segment(train[0][0])
    with pytest.raises(EventFileError, match="outside recording|holds no events") as err:
        read_segment(train[1][0])
    assert err.value.path == str(root / "user01_led_labels.csv")
    assert err.value.offset == len(LABELS) + len("1,2000,3000\n")
    assert "user01_led.aedat" in str(err.value)


def test_trial_lists_are_checked(tmp_path: Path) -> None:
    root = gesture_folder(tmp_path)
    (root / "trials_to_test.txt").write_text("user24_natural.aedat\nuser99_lab.aedat\n")
    with pytest.raises(EventFileError, match="user99_lab.aedat") as err:
        split_segments(root)
    assert err.value.offset == len("user24_natural.aedat\n")
    (root / "trials_to_test.txt").write_text("user01_led.aedat\n")
    with pytest.raises(EventFileError, match="both train and test"):
        split_segments(root)
    (tmp_path / "empty").mkdir()
    with pytest.raises(EventFileError, match="not a DvsGesture folder"):
        dvsgesture_files(str(tmp_path / "empty"), 0, 0.2)
    with pytest.raises(EventFileError, match="not found"):
        dvsgesture_files(str(tmp_path / "nowhere"), 0, 0.2)
    with pytest.raises(ValueError, match="needs data_dir"):
        dvsgesture_files(None, 0, 0.2)
    assert [s.label for s in read_labels(root / "user01_led.aedat")] == [2, 10]


# ---------------------------------------------------------------- AEDAT 4.0, by hand


def test_aedat4_decodes_events_and_sensor_size_from_the_file(tmp_path: Path) -> None:
    f = write(tmp_path, aedat4([(T0, 1, 2, True), (T0 + 5, 345, 259, False)], [(T0 + 9, 10, 20, True)]), "dv.aedat4")
    for reader in (read_aedat4, read_aedat):
        rec = reader(f)
        assert rec.sensor_size == (346, 260, 2)
        assert rec.events.dtype == EVENT_DTYPE
        assert rec.events.tolist() == [(1, 2, T0, 1), (345, 259, T0 + 5, 0), (10, 20, T0 + 9, 1)]
    with pytest.raises(EventFileError, match="not an AEDAT 3.1 file: it looks like AEDAT 4.0"):
        read_aedat31(f)


def test_aedat4_bad_files_raise(tmp_path: Path) -> None:
    good = aedat4([(T0, 1, 2, True)])
    head = 14 + 4 + len(ioheader(DESCRIPTION))  # where the first packet begins
    huge_header = good[:14] + struct.pack("<i", 2**31 - 1) + good[18:]
    huge_packet = good[:head] + struct.pack("<ii", 0, 2**31 - 1) + good[head + 8 :]
    huge_vector = good.replace(struct.pack("<I", 1) + struct.pack("<q", T0), struct.pack("<I", 2**30) + struct.pack("<q", T0))
    many = event_packet([(T0 + i, i % 128, i % 100, True) for i in range(500)])
    cut = {c: compress(many, c)[: len(compress(many, c)) // 2] for c in (1, 3)}
    cut_lz4, cut_zstd = (aedat4(compression=c) + struct.pack("<iI", 0, len(cut[c])) + cut[c] for c in (1, 3))
    bomb = zstandard.ZstdCompressor().compress(bytes(2_000_000))  # expands > 256×
    bomb = aedat4(compression=3) + struct.pack("<iI", 0, len(bomb)) + bomb
    cases = {
        "outside": (aedat4([(T0, 346, 2, True)]), "outside the 346x260 sensor", head),
        "negative": (aedat4([(-1, 1, 1, True)]), "negative", head),
        "truncated": (good[:-6], "packet declares 48 bytes, 42 remain", head),
        "magic": (b"#!AER-DAT3.1\r\n" + good[14:], "not an AEDAT 4.0 file", 0),
        "backwards": (aedat4([(T0 + 9, 1, 1, True)], [(T0, 1, 1, True)]), "goes back", head + 8 + 48),
        "header size": (huge_header, "IOHeader declares 2147483647 bytes", 14),
        "packet size": (huge_packet, "packet declares 2147483647 bytes", head),
        "vector length": (huge_vector, "vector of 1073741824 × 16 bytes runs past", head),
        "stream": (aedat4([(T0, 1, 2, True)], stream=5), "stream 5, which the IOHeader does not describe", head),
        "xml": (aedat4([(T0, 1, 2, True)], description="<dv><node"), "not XML", 18),
        "size": (aedat4([(T0, 1, 2, True)], description=DESCRIPTION.replace(">346<", ">²<")), r"size \[None, 260\]", 18),
        "id": (aedat4(description=DESCRIPTION.replace('name="0"', f'name="{"1" * 5000}"')), "no numeric id", 18),
        "no events": (aedat4(description=DESCRIPTION), "holds no events", None),
        "compression": (aedat4([(T0, 1, 2, True)], compression=7), "compression 7 unknown", 18),
        "cut LZ4 frame": (cut_lz4, "cut short", head),
        "cut Zstd frame": (cut_zstd, "size prefix does not match", head),
        "bomb": (bomb, "expands more than 256×", head),
    }
    for name, (data, words, offset) in cases.items():
        f = write(tmp_path, data, f"{name}.aedat4")
        with pytest.raises(EventFileError, match=words) as err:
            read_aedat4(f)
        assert err.value.path == str(f) and err.value.offset == offset, name
    with pytest.raises(EventFileError, match="no such file"):
        read_aedat4(tmp_path / "missing.aedat4")


@pytest.mark.parametrize("compression", [0, 1, 2, 3, 4])
def test_aedat4_compressed_packets_and_other_streams_match_an_independent_decoder(tmp_path: Path, compression: int) -> None:
    """LZ4 and Zstd packets decode, packets of other streams are skipped; the `aedat` package agrees."""
    events = [[(T0 + 1000 * k + 3 * i, (7 * i) % 128, (5 * k) % 96, bool(i % 2)) for i in range(50)] for k in range(3)]
    head = ioheader(description((128, 96), {1: "FRME"}), compression)
    data = b"#!AER-DAT4.0\r\n" + struct.pack("<I", len(head)) + head
    for chunk in events:
        body = compress(event_packet(chunk), compression)
        data += struct.pack("<iI", 0, len(body)) + body
        data += struct.pack("<iI", 1, 12) + bytes(12)  # a frame packet: not read
    f = write(tmp_path, data, "c.aedat4")
    rec = read_aedat4(f)
    want = [(x, y, t, int(on)) for chunk in events for t, x, y, on in chunk]
    assert rec.sensor_size == (128, 96, 2) and rec.events.tolist() == want
    clean = write(tmp_path, aedat4(*events, description=description((128, 96)), compression=compression), "clean.aedat4")
    assert read_aedat4(clean).events.tolist() == want
    independent = np.concatenate([p["events"] for p in aedat.Decoder(clean) if "events" in p])  # the package
    assert [(int(e["x"]), int(e["y"]), int(e["t"]), int(e["on"])) for e in independent] == want

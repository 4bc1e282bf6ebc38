"""Every reader under hypothesis: generated and damaged files give the right events or EventFileError.

Each input starts from a file built by tests/format_bytes.py from drawn events — which
may lie outside the sensor or go back in time — and may then be cut (to nothing, too),
bit-flipped, given another format's header, overwritten with junk, or given a huge
declared size (a packet, header or element length set to its type's maximum). The rule:

- an undamaged file of valid events decodes to exactly those events;
- an undamaged file of invalid events raises EventFileError;
- a damaged file gives valid events or EventFileError;
- EventFileError names one of the input's files and, if it has one, an offset inside it;
- any other exception, or a run over HANG_SECONDS, fails; so does a traced-memory peak
  (tracemalloc: Python and numpy) above 4 MiB + 64 × the input's real size.

CI (`pytest tests`) runs 1,000 inputs in all, split evenly over the seven readers and
seeded (derandomize), so every run tries the same inputs. The full campaign is

    SNN2FPGA_FUZZ_EXAMPLES=10000 python -m pytest tests/test_data_fuzz.py

which also writes build/fuzz/<reader>.json: inputs tried, decoded, refused, the largest
traced peak, the largest growth of the process's peak RSS (C allocations included: HDF5,
LZ4, Zstd), the slowest input. README.md quotes its figures.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import struct
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from format_bytes import (
    AEDAT31_HEADER,
    DAT_HEADER,
    T0,
    aedat2,
    aedat31,
    compress,
    dat,
    description,
    dvs128_address,
    event_packet,
    ioheader,
    nmnist,
    shd,
)
from snn2fpga.train.data import EVENT_DTYPE, EventFileError
from snn2fpga.train.data.aedat import AedatWarning, read_aedat4, read_aedat31
from snn2fpga.train.data.cifar10dvs import read_cifar10dvs
from snn2fpga.train.data.dvsgesture import read_labels, read_segment
from snn2fpga.train.data.ncars import read_ncars_dat
from snn2fpga.train.data.nmnist import read_nmnist_bin
from snn2fpga.train.data.shd import open_shd

FUZZ_ENV = "SNN2FPGA_FUZZ_EXAMPLES"
TOTAL = int(os.environ.get(FUZZ_ENV, "1000"))
READERS = ["nmnist", "aedat31", "aedat4", "dvsgesture", "ncars", "shd", "cifar10dvs"]
HANG_SECONDS = 10.0
REPORT = Path(__file__).resolve().parents[1] / "build" / "fuzz"
HEADS = [
    b"#!AER-DAT2.0\r\n",
    b"#!AER-DAT3.1\r\n",
    b"#!AER-DAT4.0\r\n",
    b"#!AER-DAT9.9\r\n",
    b"% Data file containing Event2D events.\n",
    b"\x89HDF\r\n\x1a\n",
    b"PK\x03\x04",
    b"#",
    b"% ",
    bytes(8),
]
MAX = {"<i": 2**31 - 1, "<I": 2**32 - 1, "B": 255}  # the "huge declared size" written into a field
_names = itertools.count()  # every input gets fresh file names: readers cache by path, size and mtime


def examples(reader: str) -> int:
    """This reader's share of TOTAL inputs."""
    share, extra = divmod(TOTAL, len(READERS))
    return share + (READERS.index(reader) < extra)


@dataclass
class Case:
    """One input: its files, the events it should decode to (None: damaged), whether it must be refused."""

    files: dict[str, bytes]  # name → bytes (SHD: written by h5py first, then read back)
    want: list | None  # per-sample [(x, y, t, p), …] lists, when the files are undamaged
    invalid: bool  # undamaged but invalid: must raise EventFileError
    fields: list[tuple[str, int, str]] = field(default_factory=list)  # (file, offset, struct format) of declared sizes


# ---------------------------------------------------------------- drawn events and damage


@st.composite
def events(draw, width: int, height: int, t0: int = 1000, max_n: int = 24, dt: int = 500) -> list[tuple[int, int, int, int]]:
    """1..max_n time-sorted (x, y, t, p) events inside a width × height sensor, t from t0."""
    n = draw(st.integers(1, max_n))
    xs = draw(st.lists(st.integers(0, width - 1), min_size=n, max_size=n))
    ys = draw(st.lists(st.integers(0, height - 1), min_size=n, max_size=n))
    ps = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    ts = t0 + np.cumsum(draw(st.lists(st.integers(0, dt), min_size=n, max_size=n)))
    return [(x, y, int(t), p) for x, y, t, p in zip(xs, ys, ts, ps)]


@st.composite
def spoil(draw, evs: list, width: int, height: int, top: int, low: int = 0) -> tuple[list, bool]:
    """Maybe make the events invalid: one coordinate outside the sensor (up to `top`, or below
    `low`), or a last event earlier than the one before. Returns (events, invalid)."""
    kind = draw(st.sampled_from(["none", "none", "outside", "backwards"]))
    evs = list(evs)
    if kind == "outside":
        i = draw(st.integers(0, len(evs) - 1))
        x, y, t, p = evs[i]
        on_x = draw(st.booleans())
        beyond = st.integers(width if on_x else height, top)
        bad = draw(st.one_of(beyond, st.integers(low, -1)) if low < 0 else beyond)
        evs[i] = (bad, y, t, p) if on_x else (x, bad, t, p)
    elif kind == "backwards":
        x, y, t, p = evs[-1]
        evs.append((x, y, t - draw(st.integers(1, min(t, 1000))), p))
    return evs, kind != "none"


OP = st.one_of(
    st.tuples(st.just("cut"), st.floats(0, 1)),
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(0, 7)),
    st.tuples(st.just("head"), st.sampled_from(HEADS)),
    st.tuples(st.just("junk"), st.floats(0, 1), st.binary(min_size=1, max_size=32)),
    st.tuples(st.just("huge"), st.integers(0, 1000)),
)
DAMAGE = st.one_of(st.just([]), st.lists(st.tuples(st.integers(0, 1), OP), min_size=1, max_size=3))


def damage(case: Case, ops: list) -> Case:
    """Apply (file index, op) damage to the case's files; a damaged case has no expected events."""
    if not ops:
        return case
    files = dict(case.files)
    names = list(files)
    for which, op in ops:
        name = names[which % len(names)]
        data = bytearray(files[name])
        kind, *args = op
        if kind == "cut":
            del data[int(args[0] * len(data)) :]
        elif kind == "flip" and data:
            data[min(int(args[0] * len(data)), len(data) - 1)] ^= 1 << args[1]
        elif kind == "head":
            data[: len(args[0])] = args[0]
        elif kind == "junk":
            at = int(args[0] * len(data))
            data[at : at + len(args[1])] = args[1]
        elif kind == "huge" and case.fields:
            target, offset, fmt = case.fields[args[0] % len(case.fields)]
            if offset + struct.calcsize(fmt) <= len(files[target]):
                name, data = target, bytearray(files[target])
                struct.pack_into(fmt, data, offset, MAX[fmt])
        files[name] = bytes(data)
    return Case(files, None, False, case.fields)


# ---------------------------------------------------------------- the cases of each format


@st.composite
def nmnist_case(draw) -> Case:
    evs, invalid = draw(spoil(draw(events(34, 34)), 34, 34, 255))
    return Case({"a.bin": nmnist(evs)}, [evs], invalid)


@st.composite
def aedat31_case(draw) -> Case:
    evs, invalid = draw(spoil(draw(events(128, 128)), 128, 128, 2**15 - 1))
    per = draw(st.integers(1, 8))
    data = aedat31(evs, per_packet=per)
    starts = range(len(AEDAT31_HEADER), len(data), 28 + 8 * per)
    fields = [("a.aedat", s + k, "<i") for s in starts for k in (4, 20, 24)]  # eventSize, eventCapacity, eventNumber
    return Case({"a.aedat": data}, [evs], invalid, fields)


@st.composite
def aedat4_case(draw) -> Case:
    width, height = draw(st.sampled_from([(64, 48), (346, 260), (128, 128)]))
    evs, invalid = draw(spoil(draw(events(width, height, t0=T0)), width, height, 2**15 - 1, low=-(2**15)))
    compression = draw(st.sampled_from([0, 0, 1, 3]))
    cuts = sorted(set(draw(st.lists(st.integers(1, len(evs)), max_size=2))) | {len(evs)})
    head = ioheader(description((width, height)), compression)
    data = b"#!AER-DAT4.0\r\n" + struct.pack("<I", len(head)) + head
    fields = [("a.aedat4", 14, "<i")]
    for a, b in zip([0, *cuts[:-1]], cuts):
        body = compress(event_packet([(t, x, y, bool(p)) for x, y, t, p in evs[a:b]]), compression)
        fields.append(("a.aedat4", len(data) + 4, "<i"))
        if not compression:
            fields.append(("a.aedat4", len(data) + 8 + 28, "<I"))  # the events vector's length
        data += struct.pack("<iI", 0, len(body)) + body
    return Case({"a.aedat4": data}, [evs], invalid, fields)


LABELS_HEADER = b"class,startTime_usec,endTime_usec\n"


@st.composite
def dvsgesture_case(draw) -> Case:
    evs = draw(events(128, 128, max_n=30))
    t = [e[2] for e in evs]
    rows, want = [], []
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(evs) - 1))
        j = draw(st.integers(i, len(evs) - 1))
        start, end = t[i], t[j] + 1
        rows.append((draw(st.integers(1, 11)), start, end))
        want.append([e for e in evs if start <= e[2] < end])
    kind = draw(st.sampled_from(["none", "none", "class", "empty", "beyond"]))
    if kind == "class":
        rows[0] = (draw(st.sampled_from([0, 12, 99])), *rows[0][1:])
    elif kind == "empty":
        rows[0] = (rows[0][0], rows[0][2], rows[0][1])  # start ≥ end
    elif kind == "beyond":
        rows[0] = (rows[0][0], rows[0][1], t[-1] + 2 + draw(st.integers(0, 10**12)))
    csv = LABELS_HEADER + b"".join(b"%d,%d,%d\n" % row for row in rows)
    return Case({"u.aedat": aedat31(evs, per_packet=7), "u_labels.csv": csv}, want, kind != "none")


@st.composite
def ncars_case(draw) -> Case:
    evs, invalid = draw(spoil(draw(events(120, 100)), 120, 100, 2**14 - 1))
    return Case({"a.dat": dat(evs)}, [evs], invalid, [("a.dat", sum(map(len, DAT_HEADER)) + 1, "B")])  # event size


@st.composite
def cifar10dvs_case(draw) -> Case:
    evs = draw(events(128, 128))
    words = [(dvs128_address(x, y, p), t) for x, y, t, p in evs]
    kind = draw(st.sampled_from(["none", "none", "address", "backwards", "negative"]))
    i = draw(st.integers(0, len(words) - 1))
    if kind == "address":  # bits above 14: another kind of event
        words[i] = (words[i][0] | (1 << draw(st.integers(15, 31))), words[i][1])
    elif kind == "backwards":
        words.append((words[-1][0], words[-1][1] - draw(st.integers(1, 1000))))
    elif kind == "negative":
        words[i] = (words[i][0], 2**31 + draw(st.integers(0, 2**31 - 1)))
    return Case({"a.aedat": aedat2(words)}, [evs], kind != "none")


@st.composite
def shd_case(draw) -> tuple[list, list, str]:
    """(samples for format_bytes.shd, the events they should decode to, how they were spoiled, dataset layout)."""
    n = draw(st.integers(1, 3))
    samples, want = [], []
    for _ in range(n):
        k = draw(st.integers(1, 12))
        ticks = draw(st.lists(st.integers(0, 1000), min_size=k, max_size=k))  # 1/64 s: exact in float16
        units = draw(st.lists(st.integers(0, 699), min_size=k, max_size=k))
        samples.append(([tick / 64 for tick in ticks], units, draw(st.integers(0, 19))))
        order = np.argsort(ticks, kind="stable")
        want.append([(units[j], 0, ticks[j] * 15625, 0) for j in order])
    kind = draw(st.sampled_from(["none", "none", "outside", "negative", "label", "mismatch", "declared"]))
    times, units, label = samples[0]
    if kind == "outside":
        samples[0] = (times, [draw(st.integers(700, 65535))] + units[1:], label)
    elif kind == "negative":
        samples[0] = ([-draw(st.integers(1, 1000)) / 64] + times[1:], units, label)
    elif kind == "label":
        samples[0] = (times, units, draw(st.integers(20, 65535)))
    elif kind == "mismatch":
        samples[0] = (times, units + [1], label)
    layout = draw(st.sampled_from([{}, {}, {"chunks": (1,)}, {"chunks": True, "compression": "gzip"}]))
    return samples, want, kind, layout


# ---------------------------------------------------------------- running one input


class Hang(BaseException):
    """An input ran longer than HANG_SECONDS (BaseException: no reader's except clause swallows it)."""


def _status(key: str) -> int:
    """A /proc/self/status figure in bytes (VmRSS, VmHWM)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key))


@dataclass
class Stats:
    inputs: int = 0
    decoded: int = 0
    refused: int = 0
    peak_traced_bytes: int = 0
    peak_rss_growth_bytes: int = 0
    slowest_seconds: float = 0.0
    largest_input_bytes: int = 0
    messages: dict[str, int] = field(default_factory=dict)  # first words of each refusal: what was caught


def run_one(stats: Stats, paths: list[Path], read: Callable[[], list[tuple[np.ndarray, tuple[int, int, int]]]]):
    """Run `read` under the hang timer, tracemalloc and a reset peak-RSS counter; record and return its outcome."""
    size = sum(p.stat().st_size for p in paths)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS
    rss = _status("VmRSS")
    tracemalloc.start()
    start = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
    try:
        outcome = read()
    except EventFileError as err:
        outcome = err
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        seconds = time.perf_counter() - start
        traced = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    stats.inputs += 1
    stats.peak_traced_bytes = max(stats.peak_traced_bytes, traced)
    stats.peak_rss_growth_bytes = max(stats.peak_rss_growth_bytes, _status("VmHWM") - rss)
    stats.slowest_seconds = max(stats.slowest_seconds, seconds)
    stats.largest_input_bytes = max(stats.largest_input_bytes, size)
    assert traced <= 4 * 2**20 + 64 * size, f"traced peak {traced} bytes for a {size}-byte input"
    if isinstance(outcome, EventFileError):
        stats.refused += 1
        words = " ".join(outcome.reason.split()[:3])
        stats.messages[words] = stats.messages.get(words, 0) + 1
        assert outcome.path in {str(p) for p in paths}, outcome
        by_path = {str(p): p.stat().st_size for p in paths}
        assert outcome.offset is None or 0 <= outcome.offset <= by_path[outcome.path], outcome
    else:
        stats.decoded += 1
    return outcome


def assert_valid(decoded: list[tuple[np.ndarray, tuple[int, int, int]]], allow_empty: bool = False) -> None:
    """Decoded events of a damaged input must still be events: in the sensor, in time order."""
    for events, (width, height, polarities) in decoded:
        assert events.dtype == EVENT_DTYPE and (allow_empty or len(events) > 0)
        assert np.all((events["x"] >= 0) & (events["x"] < width) & (events["y"] >= 0) & (events["y"] < height))
        assert np.all((events["p"] >= 0) & (events["p"] < polarities)) and np.all(np.diff(events["t"]) >= 0)


def check(case: Case, outcome, allow_empty: bool = False) -> None:
    """The rule of the module docstring, for one input's outcome."""
    if isinstance(outcome, EventFileError):
        assert case.want is None or case.invalid, f"a valid, undamaged input was refused: {outcome}"
        return
    assert not case.invalid or case.want is None, "an invalid input was accepted"
    if case.want is not None:
        assert [e.tolist() for e, _ in outcome] == case.want
    assert_valid(outcome, allow_empty)


# ---------------------------------------------------------------- the readers


def read_with(reader: str, paths: dict[str, Path]) -> Callable[[], list]:
    """The call that reads one input with `reader`: [(events, sensor size), …] per sample."""
    if reader == "nmnist":
        return lambda: [(read_nmnist_bin(paths["a.bin"]), (34, 34, 2))]
    if reader == "aedat31":

        def aedat31_read():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", AedatWarning)
                rec = read_aedat31(paths["a.aedat"])
            return [(rec.events, rec.sensor_size)]

        return aedat31_read
    if reader == "aedat4":
        return lambda: [(rec.events, rec.sensor_size) for rec in [read_aedat4(paths["a.aedat4"])]]
    if reader == "dvsgesture":

        def segments():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", AedatWarning)
                return [(read_segment(s), (128, 128, 2)) for s in read_labels(paths["u.aedat"])]

        return segments
    if reader == "ncars":
        return lambda: [(read_ncars_dat(paths["a.dat"]), (120, 100, 2))]
    if reader == "cifar10dvs":
        return lambda: [(read_cifar10dvs(paths["a.aedat"]), (128, 128, 2))]

    def samples():
        f = open_shd(paths["shd.h5"])
        return [(f.events(i), (700, 1, 1)) for i in range(len(f))]

    return samples


def shd_input(path: Path, samples: list, want: list, kind: str, layout: dict) -> Case:
    """Write the SHD case's file with h5py; its declared-size fields are the raw element lengths."""
    shd(path, samples, **layout)
    if kind == "declared":  # a labels dataset declaring 2^40 entries, never written
        with h5py.File(path, "a") as f:
            del f["labels"]
            f.create_dataset("labels", shape=(2**40,), dtype="uint16")
    with h5py.File(path, "r") as f:
        offsets = [f[name].id.get_offset() for name in ("spikes/times", "spikes/units")]
    fields = [("shd.h5", off + 16 * i, "<I") for off in offsets for i in range(len(samples)) if off is not None]
    return Case({"shd.h5": path.read_bytes()}, want, kind != "none", fields)


STRATEGIES = {
    "nmnist": nmnist_case(),
    "aedat31": aedat31_case(),
    "aedat4": aedat4_case(),
    "dvsgesture": dvsgesture_case(),
    "ncars": ncars_case(),
    "cifar10dvs": cifar10dvs_case(),
    "shd": shd_case(),
}


@pytest.fixture
def hang_alarm():
    """SIGALRM raises Hang while a fuzz test runs."""

    def alarm(signum, frame):
        raise Hang(f"an input ran longer than {HANG_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    yield
    signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("reader", READERS)
def test_reader_survives_generated_and_damaged_files(reader: str, tmp_path_factory, hang_alarm) -> None:
    folder = tmp_path_factory.mktemp(f"fuzz-{reader}")
    stats = Stats()

    @settings(
        max_examples=examples(reader),
        derandomize=True,
        database=None,
        deadline=timedelta(seconds=5),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(drawn=STRATEGIES[reader], ops=DAMAGE)
    def fuzz(drawn, ops) -> None:
        here = folder / str(next(_names))
        here.mkdir()
        case = damage(shd_input(here / "shd.h5", *drawn) if reader == "shd" else drawn, ops)
        paths = {name: here / name for name in case.files}
        for name, data in case.files.items():
            paths[name].write_bytes(data)
        outcome = run_one(stats, list(paths.values()), read_with(reader, paths))
        check(case, outcome, allow_empty=reader == "aedat31")
        for path in paths.values():
            path.unlink()
        here.rmdir()

    fuzz()
    assert stats.inputs >= examples(reader) and stats.decoded and stats.refused
    if FUZZ_ENV in os.environ:
        REPORT.mkdir(parents=True, exist_ok=True)
        (REPORT / f"{reader}.json").write_text(json.dumps(vars(stats), indent=2) + "\n")

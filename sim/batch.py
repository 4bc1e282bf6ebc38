"""Many samples through the RTL in one Verilator process (`snn2fpga sim-batch`, sim/cli.py).

The design is driven by `sim/harness.cpp` (a Verilator C++ model, no Python in
the loop; same protocol and cycle definition as the cocotb testbench), and every sample
is checked by `sim.reference.compare`: each layer's spikes per step, counts, class and
the cycle count (= the cycle model back to back, ≥ it under stalls). Prints `N passed, M
failed` and writes `build/<name>/sim-batch.json`.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path
from typing import Optional

import numpy as np

from snn2fpga.sim.design import Design, build_harness
from snn2fpga.sim.reference import Expectations, Report, SampleRecord, compare

MAGIC_IN, MAGIC_OUT = 0x494E4E53, 0x4F4E4E53


def write_input(path: Path, expect: Expectations, max_cycles: np.ndarray, samples: Optional[range] = None) -> None:
    """The harness input of `samples` (default all): header, then per sample its cycle limit and per step k + addresses."""
    samples = range(len(expect)) if samples is None else samples
    words = [MAGIC_IN, len(samples), expect.steps]
    for i in samples:
        words.append(int(max_cycles[i]))
        for addrs in expect.input_words(i):
            words.append(len(addrs))
            words.extend(addrs)
    Path(path).write_bytes(np.asarray(words, dtype="<u4").tobytes())


def read_output(path: Path, n_taps: int, n_classes: int) -> list[SampleRecord]:
    """Parse the harness output into one `SampleRecord` per sample."""
    data = np.frombuffer(Path(path).read_bytes(), dtype="<u4")
    if data.size < 2 or data[0] != MAGIC_OUT:
        raise ValueError(f"{path}: not a harness output file")
    pos, records = 2, []
    for _ in range(int(data[1])):
        status, cycles, label = (int(v) for v in data[pos : pos + 3])
        pos += 3
        counts = [int(v) for v in data[pos : pos + n_classes]]
        pos += n_classes
        layers, eos_edges = [], []
        for _ in range(n_taps):
            k = int(data[pos])
            words = data[pos + 1 : pos + 1 + 2 * k].reshape(k, 2)
            pos += 1 + 2 * k
            steps, current, edges = [], [], []
            for w, edge in words:
                if w >> 31:
                    steps.append(current)
                    edges.append(int(np.int32(edge)))
                    current = []
                else:
                    current.append(int(w))
            if current:
                steps.append(current)
            layers.append(steps)
            eos_edges.append(edges)
        ok = status == 0
        records.append(SampleRecord(layers, counts, label, cycles if ok else None, eos_edges, "" if ok else "timeout"))
    return records


def run_harness(
    design: Design, expect: Expectations, stall_in: float = 0.0, stall_out: float = 0.0, max_gap: int = 3, seed: int = 1,
    jobs: int = 1,
) -> tuple[list[SampleRecord], float, str]:
    """Simulate every sample of `expect` in `jobs` harness processes, each a contiguous share of the
    samples (stall seed `seed` + its index); (records in sample order, seconds the simulation took, stderr)."""
    exe = build_harness(design)
    stalled = stall_in > 0 or stall_out > 0
    limit = expect.cycles * (20 if stalled else 2) + 2000
    shares = [r for r in _shares(len(expect), jobs) if len(r)]
    with tempfile.TemporaryDirectory(prefix="sim-batch-") as tmp:
        procs = []
        t0 = time.perf_counter()
        for j, share in enumerate(shares):
            inp, out = Path(tmp) / f"in{j}.bin", Path(tmp) / f"out{j}.bin"
            write_input(inp, expect, limit, share)
            cmd = [str(exe), str(inp), str(out), "--stall-in", str(stall_in), "--stall-out", str(stall_out),
                   "--max-gap", str(max_gap), "--seed", str(seed + j)]
            procs.append((subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True), out))
        errors = [(p.communicate()[1], p.returncode) for p, _ in procs]
        wall = time.perf_counter() - t0
        for err, code in errors:
            if code != 0:
                raise RuntimeError(f"harness failed ({code}): {err.strip()}")
        records = [r for _, out in procs for r in read_output(out, len(design.manifest.taps), design.manifest.n_classes)]
    return records, wall, "\n".join(err.strip() for err, _ in errors if err.strip())


def _shares(n: int, jobs: int) -> list[range]:
    """`n` samples split into `jobs` contiguous ranges whose sizes differ by at most one."""
    bounds = [n * j // jobs for j in range(jobs + 1)]
    return [range(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def check(expect: Expectations, records: list[SampleRecord], stalled: bool) -> Report:
    report = Report()
    for i, seen in enumerate(records):
        found = compare(expect, i, seen, cycles="lower_bound" if stalled else "exact", check_timing=not stalled)
        report.add(i, found, seen.cycles, int(expect.cycles[i]))
    return report

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

import numpy as np

from snn2fpga.sim.design import Design, build_harness
from snn2fpga.sim.reference import Expectations, Report, SampleRecord, compare

MAGIC_IN, MAGIC_OUT = 0x494E4E53, 0x4F4E4E53


def write_input(path: Path, expect: Expectations, max_cycles: np.ndarray) -> None:
    """The harness input: header, then per sample its cycle limit and per step k + addresses."""
    words = [MAGIC_IN, len(expect), expect.steps]
    for i in range(len(expect)):
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
    design: Design, expect: Expectations, stall_in: float = 0.0, stall_out: float = 0.0, max_gap: int = 3, seed: int = 1
) -> tuple[list[SampleRecord], float, str]:
    """Simulate every sample of `expect`; (records, seconds the simulation took, harness stderr)."""
    exe = build_harness(design)
    stalled = stall_in > 0 or stall_out > 0
    limit = expect.cycles * (20 if stalled else 2) + 2000
    with tempfile.TemporaryDirectory(prefix="sim-batch-") as tmp:
        inp, out = Path(tmp) / "in.bin", Path(tmp) / "out.bin"
        write_input(inp, expect, limit)
        cmd = [str(exe), str(inp), str(out), "--stall-in", str(stall_in), "--stall-out", str(stall_out), "--max-gap", str(max_gap), "--seed", str(seed)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"harness failed ({proc.returncode}): {proc.stderr.strip()}")
        records = read_output(out, len(design.manifest.taps), design.manifest.n_classes)
    return records, wall, proc.stderr.strip()


def check(expect: Expectations, records: list[SampleRecord], stalled: bool) -> Report:
    report = Report()
    for i, seen in enumerate(records):
        found = compare(expect, i, seen, cycles="lower_bound" if stalled else "exact", check_timing=not stalled)
        report.add(i, found, seen.cycles, int(expect.cycles[i]))
    return report

"""What the RTL must do, per sample, and the comparison with what it did (no simulator needed).

`Expectations` holds, for a batch of samples, the input spikes and everything the golden
model (`train.golden.GoldenNetwork.run`) and the cycle model (`rtl.cycle_model`) say the
design must produce: every layer's spikes per time step, the counts, the class and the
cycles (first input word accepted → `done` sampled high), plus the per-step event times
of the cycle model. It is written to an .npz file that the cocotb testbench (running
inside the simulator) and the Verilator batch harness read back.

`SampleRecord` is what a testbench observed for one sample; `compare` turns the two into
a list of `Mismatch`es, each naming the sample, step, layer and neuron with expected vs
seen. Importable and testable on its own: `from sim.reference import Expectations, compare`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from snn2fpga.core.files import write_json, write_npz
from snn2fpga.rtl.cycle_model import CycleParams, acc_work, schedule, spike_counts
from snn2fpga.core.golden import GoldenNetwork

CYCLE_CHECKS = ("exact", "lower_bound", "none")


@dataclass
class Expectations:
    """Inputs and golden expectations of B samples through one design (T steps, L layers)."""

    inputs: np.ndarray  # uint8 [B, T, N_in]
    spikes: list[np.ndarray]  # per layer, uint8 [B, T, N_l]
    counts: np.ndarray  # int64 [B, C]
    labels: np.ndarray  # int64 [B]
    cycles: np.ndarray  # int64 [B], the cycle model (exact when back to back)
    eos_times: np.ndarray  # int64 [B, T, L]: edge (from the first input word) each layer's eos leaves
    tags: list[str]  # where each sample came from, e.g. "saccade-digits test #3"
    truth: np.ndarray  # int64 [B], the dataset label (-1 if none); for reports only
    ordered: list[bool] = field(default_factory=list)  # per layer: addresses leave in increasing order (dense)

    @classmethod
    def from_golden(
        cls,
        network: GoldenNetwork,
        inputs: np.ndarray,
        params: CycleParams,
        tags: Optional[Sequence[str]] = None,
        truth: Optional[Sequence[int]] = None,
    ) -> "Expectations":
        """Run the golden model and the cycle model on `inputs` [B, T, N_in]."""
        inputs = np.ascontiguousarray(np.asarray(inputs, dtype=np.uint8))
        if inputs.ndim != 3:
            raise ValueError(f"inputs must be [B, T, N_in], got {inputs.shape}")
        result = network.run(inputs)
        counts = spike_counts(inputs, result)
        work = acc_work(params, inputs, result)
        sched = [schedule(params, c, w) for c, w in zip(counts, work)]
        cycles = np.array([s.cycles for s in sched], dtype=np.int64)
        eos = np.stack([s.emit_end for s in sched]) if sched else np.zeros((0, inputs.shape[1], len(network.layers)), np.int64)
        n = inputs.shape[0]
        return cls(
            inputs=inputs,
            spikes=[s.astype(np.uint8) for s in result.spikes],
            counts=result.counts.astype(np.int64),
            labels=result.label.astype(np.int64),
            cycles=cycles.astype(np.int64),
            eos_times=eos.astype(np.int64),
            tags=list(tags) if tags is not None else [f"sample {i}" for i in range(n)],
            truth=np.asarray(truth if truth is not None else [-1] * n, dtype=np.int64),
            # a conv core leaves its addresses in sweep order and a pool in first-hit order (rtl/conv.py, rtl/pool.py)
            ordered=[layer.kind == "dense" for layer in network.layers],
        )

    def __post_init__(self) -> None:
        if not self.ordered:
            self.ordered = [True] * len(self.spikes)

    # ---- shape ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def steps(self) -> int:
        return int(self.inputs.shape[1])

    @property
    def n_layers(self) -> int:
        return len(self.spikes)

    def input_words(self, i: int) -> list[list[int]]:
        """Sample i as AER addresses per step, increasing (what the driver sends before each eos)."""
        return [np.flatnonzero(row).tolist() for row in self.inputs[i]]

    def expected_addresses(self, i: int, layer: int) -> list[list[int]]:
        return [np.flatnonzero(row).tolist() for row in self.spikes[layer][i]]

    def subset(self, index: Sequence[int]) -> "Expectations":
        index = list(index)
        return Expectations(
            inputs=self.inputs[index],
            spikes=[s[index] for s in self.spikes],
            counts=self.counts[index],
            labels=self.labels[index],
            cycles=self.cycles[index],
            eos_times=self.eos_times[index],
            tags=[self.tags[i] for i in index],
            truth=self.truth[index],
            ordered=list(self.ordered),
        )

    # ---- file ----------------------------------------------------------------------------
    def save(self, path: Path) -> Path:
        """Write an .npz (spike tensors bit-packed) atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {
            "inputs": np.packbits(self.inputs, axis=-1),
            "shape": np.array([len(self), self.steps, self.inputs.shape[2]] + [s.shape[2] for s in self.spikes], dtype=np.int64),
            "counts": self.counts,
            "labels": self.labels,
            "cycles": self.cycles,
            "eos_times": self.eos_times,
            "tags": np.array(self.tags, dtype=str),
            "truth": self.truth,
            "ordered": np.array(self.ordered, dtype=bool),
        }
        for l, s in enumerate(self.spikes):
            arrays[f"spikes{l}"] = np.packbits(s, axis=-1)
        write_npz(path, arrays)
        return path

    @classmethod
    def load(cls, path: Path) -> "Expectations":
        with np.load(Path(path), allow_pickle=False) as z:
            shape = [int(v) for v in z["shape"]]
            _, _, n_in, *widths = shape
            return cls(
                inputs=np.unpackbits(z["inputs"], axis=-1, count=n_in),
                spikes=[np.unpackbits(z[f"spikes{l}"], axis=-1, count=w) for l, w in enumerate(widths)],
                counts=z["counts"].astype(np.int64),
                labels=z["labels"].astype(np.int64),
                cycles=z["cycles"].astype(np.int64),
                eos_times=z["eos_times"].astype(np.int64),
                tags=[str(t) for t in z["tags"]],
                truth=z["truth"].astype(np.int64),
                ordered=[bool(v) for v in z["ordered"]] if "ordered" in z.files else [],
            )


@dataclass
class SampleRecord:
    """What a testbench saw for one sample.

    layers[l]: the words of tap l split into steps at each eos word (addresses in arrival
    order; an unfinished step at the end is kept as a last, partial entry); eos_edges[l]:
    the clock edge each of those eos words moved on, counted from the edge that moved the
    sample's first input word (None if not recorded); counts/label: the ports after
    `done`; cycles: first input word → first edge with `done` high (None: never done).
    """

    layers: list[list[list[int]]]
    counts: list[int]
    label: int
    cycles: Optional[int]
    eos_edges: Optional[list[list[int]]] = None
    note: str = ""  # e.g. "timeout after 50000 cycles"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Mismatch:
    """One difference between the RTL and the golden / cycle model."""

    sample: int  # index into the Expectations
    tag: str  # where the sample came from
    what: str  # "spike", "order", "steps", "address", "count", "label", "cycles", "timing", "done", "protocol"
    expected: object
    seen: object
    step: Optional[int] = None
    layer: Optional[int] = None
    neuron: Optional[int] = None

    def __str__(self) -> str:
        where = [f"sample {self.sample} ({self.tag})"]
        if self.step is not None:
            where.append(f"step {self.step}")
        if self.layer is not None:
            where.append(f"layer {self.layer}")
        if self.neuron is not None:
            where.append(f"{'class' if self.what == 'count' else 'neuron'} {self.neuron}")
        return f"{', '.join(where)}: {self.what} expected {self.expected}, seen {self.seen}"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["text"] = str(self)
        return d


def compare(
    expect: Expectations,
    index: int,
    seen: SampleRecord,
    cycles: str = "exact",
    check_timing: bool = False,
) -> list[Mismatch]:
    """Every difference between sample `index`'s expectations and what was seen, earliest
    (step, then layer, then neuron) first.

    Per layer and step: the set of spiking neurons (one Mismatch per neuron that differs),
    addresses in range and strictly increasing (dense layers; conv and pool layers: each at
    most once, in any order), exactly T steps; then the counts per
    class, the label and the cycles (`cycles`: "exact", "lower_bound" — seen ≥ model —
    or "none"); with `check_timing`, each eos word's edge against the cycle model too.
    """
    if cycles not in CYCLE_CHECKS:
        raise ValueError(f"cycles={cycles!r}; choose one of {', '.join(CYCLE_CHECKS)}")
    tag = expect.tags[index]
    out: list[Mismatch] = []

    def add(what, expected, got, step=None, layer=None, neuron=None):
        out.append(Mismatch(index, tag, what, expected, got, step, layer, neuron))

    if seen.cycles is None:
        add("done", "done after the last step", seen.note or "never done")
    elif seen.note:
        add("protocol", "clean handshakes", seen.note)
    for l in range(expect.n_layers):
        want_steps = expect.expected_addresses(index, l)
        n_neurons = expect.spikes[l].shape[2]
        got_steps = seen.layers[l] if l < len(seen.layers) else []
        if len(got_steps) != expect.steps:
            add("steps", expect.steps, len(got_steps), layer=l)
        for t in range(max(expect.steps, len(got_steps))):
            got = got_steps[t] if t < len(got_steps) else []
            if t >= expect.steps:
                if got:
                    add("spike", "no step", f"extra step with {len(got)} spikes", step=t, layer=l)
                continue
            if expect.ordered[l]:
                for a, b in zip(got, got[1:]):
                    if b <= a:
                        add("order", "increasing addresses", f"{a} then {b}", step=t, layer=l, neuron=b)
            else:  # any order, each address at most once
                times = Counter(got)
                for a in sorted(a for a, k in times.items() if k > 1):
                    add("order", "each address once a step", f"{times[a]} times", step=t, layer=l, neuron=a)
            bad = [a for a in got if not 0 <= a < n_neurons]
            for a in bad:
                add("address", f"< {n_neurons}", a, step=t, layer=l, neuron=a)
            want, have = set(want_steps[t]), set(got) - set(bad)
            for n in sorted(want ^ have):
                add("spike", int(n in want), int(n in have), step=t, layer=l, neuron=n)
    want_counts = expect.counts[index].tolist()
    for c, (w, g) in enumerate(zip(want_counts, list(seen.counts) + [None] * len(want_counts))):
        if w != g:
            add("count", w, g, layer=expect.n_layers - 1, neuron=c)
    if int(expect.labels[index]) != seen.label:
        add("label", int(expect.labels[index]), seen.label)
    want_cycles = int(expect.cycles[index])
    if seen.cycles is not None:
        if cycles == "exact" and seen.cycles != want_cycles:
            add("cycles", want_cycles, seen.cycles)
        elif cycles == "lower_bound" and seen.cycles < want_cycles:
            add("cycles", f">= {want_cycles}", seen.cycles)
    if check_timing and seen.eos_edges is not None:
        for l, edges in enumerate(seen.eos_edges):
            for t, edge in enumerate(edges[: expect.steps]):
                want = int(expect.eos_times[index, t, l])
                if edge != want:
                    add("timing", f"eos at edge {want}", f"edge {edge}", step=t, layer=l)
    # earliest first: the first step, the lowest layer is where a fault shows first
    big = 1 << 30
    out.sort(key=lambda m: (m.step if m.step is not None else big, m.layer if m.layer is not None else big, m.neuron if m.neuron is not None else -1))
    return out


@dataclass
class Report:
    """Outcome of many samples: pass/fail per sample, the mismatches, cycle statistics."""

    samples: int = 0
    failed: list[int] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)
    cycles_seen: list[int] = field(default_factory=list)
    cycles_model: list[int] = field(default_factory=list)

    def add(self, index: int, found: list[Mismatch], seen_cycles: Optional[int], model_cycles: int) -> None:
        self.samples += 1
        if found:
            self.failed.append(index)
            self.mismatches.extend(found)
        if seen_cycles is not None:
            self.cycles_seen.append(int(seen_cycles))
            self.cycles_model.append(int(model_cycles))

    @property
    def passed(self) -> int:
        return self.samples - len(self.failed)

    def summary(self) -> str:
        return f"{self.passed} passed, {len(self.failed)} failed"

    def cycle_stats(self) -> dict:
        seen = np.array(self.cycles_seen, dtype=np.int64)
        model = np.array(self.cycles_model, dtype=np.int64)
        if seen.size == 0:
            return {"n": 0}
        diff = seen - model
        return {
            "n": int(seen.size),
            "mean": float(seen.mean()),
            "min": int(seen.min()),
            "max": int(seen.max()),
            "total": int(seen.sum()),
            "model_mean": float(model.mean()),
            "equal_to_model": int((diff == 0).sum()),
            "max_abs_diff": int(np.abs(diff).max()),
            "mean_excess": float(diff.mean()),
        }

    def describe(self, limit: int = 20) -> str:
        lines = [self.summary()]
        lines += [f"  {m}" for m in self.mismatches[:limit]]
        if len(self.mismatches) > limit:
            lines.append(f"  … {len(self.mismatches) - limit} more mismatches")
        return "\n".join(lines)

    def to_dict(self, limit: int = 200) -> dict:
        return {
            "samples": self.samples,
            "passed": self.passed,
            "failed": len(self.failed),
            "failed_samples": self.failed,
            "mismatches": len(self.mismatches),
            "mismatch_list": [m.to_dict() for m in self.mismatches[:limit]],
            "cycles": self.cycle_stats(),
        }

    def write(self, path: Path, **extra) -> None:
        write_json(Path(path), {**self.to_dict(), **extra})

"""Cycle model of the generated top (docs/rtl.md, "Cycle model").

What is counted: clock cycles from the cycle the first input word of a sample is
accepted on `i_stream` (cycle 0) to the first cycle `done` is high. Exact when the
input is offered back to back (a word always valid once the previous was taken) and
`o_stream` is always ready; a lower bound under any stalls (stalls only delay
handshakes, they never skip work).

Per layer l: R_l = ⌈N_l / P_l⌉ rows, C_l sweep cycles per row (1 when every lane has its
LIF unit; ⌈P_l / Q_l⌉ + 1 with Q_l < P_l units, rtl/layer.py); per step t: s_l(t) input
spikes (s_0 = the sample's input spikes, s_l = k_{l−1} for l ≥ 1) and k_l(t) output
spikes. Events of step t:

    a_l(t)  first word accepted by layer l
            a_0(0) = 0,  a_0(t) = E_0(t−1) + 1
            a_l(t) = max(f_{l−1}(t), E_l(t−1) + 1)            (l ≥ 1; E_l(−1) = −∞)
    e_l(t)  = a_l(t) + s_l(t)·R_l                             eos accepted (ACC: R_l a spike)
    f_l(t)  = e_l(t) + R_l·C_l + k_l(t) + SWEEP_OVERHEAD      first output word valid
    E_l(t)  = a_{l+1}(t) + k_l(t)·R_{l+1}                      eos leaves layer l
    E_L−1(t) = f_L−1(t) + k_L−1(t)                            (o_stream always ready)

    cycles per sample = E_{L−1}(T−1) + 1.

`schedule()` returns a, e, f, E as a `StepSchedule`: accumulate_start, accumulate_end,
emit_start, emit_end.

Only spike counts enter: the spike buffer decouples a layer's sweep from its consumer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence, Union

import numpy as np

if TYPE_CHECKING:
    from snn2fpga.core.golden import GoldenNetwork
    from snn2fpga.rtl.manifest import Manifest

# eos accepted at e → sweep issues row 0 at e+1, processes it at e+2, … the last
# buffer write, the EMIT state one cycle later, the first word valid one after that.
SWEEP_OVERHEAD = 4
# after its eos word leaves, a layer is back in ACC (ready for the next step) a cycle later
REARM = 1
# after reset or `clear` falls: a layer clears R + 2 cycles; the input waits for all
CLEAR_OVERHEAD = 2


@dataclass(frozen=True)
class CycleParams:
    """What the cycle model needs: rows per layer (R_l = ⌈N_l / P_l⌉), the step count, and
    sweep cycles per row (C_l: 1 when each lane has its LIF unit, ⌈P_l / Q_l⌉ + 1 with Q_l < P_l)."""

    rows: tuple[int, ...]
    steps: int
    row_cycles: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not self.row_cycles:
            object.__setattr__(self, "row_cycles", (1,) * len(self.rows))
        if len(self.row_cycles) != len(self.rows):
            raise ValueError(f"row_cycles {self.row_cycles} and rows {self.rows} must have one entry per layer")

    @classmethod
    def from_network(cls, network, lanes: int, steps: int, units: int | None = None) -> "CycleParams":
        lanes_l = [min(lanes, layer.n_out) for layer in network.layers]
        rows = tuple(-(-layer.n_out // p) for layer, p in zip(network.layers, lanes_l))
        slices = [1 if units is None else -(-p // min(units, p)) for p in lanes_l]
        return cls(rows, steps, tuple(1 if s == 1 else s + 1 for s in slices))

    @classmethod
    def from_manifest(cls, manifest: "Manifest") -> "CycleParams":
        """The cycle model of a generated design (its manifest checked it on read)."""
        return manifest.cycle_model

    def to_dict(self) -> dict:
        return {
            "rows": list(self.rows),
            "row_cycles": list(self.row_cycles),
            "steps": self.steps,
            "sweep_overhead": SWEEP_OVERHEAD,
            "rearm": REARM,
            "clear_overhead": CLEAR_OVERHEAD,
        }

    def clear_cycles(self) -> int:
        """Cycles from `clear` (or reset) falling to the first cycle `i_stream.ready` can be high."""
        return max(self.rows) + CLEAR_OVERHEAD


@dataclass(frozen=True, eq=False)
class StepSchedule:
    """Event times of one sample, int arrays [T, L] (step t, layer l), in cycles from the first
    input word accepted (the module docstring's a, e, f, E)."""

    accumulate_start: np.ndarray  # a_l(t): first word of step t accepted by layer l (ACC)
    accumulate_end: np.ndarray  # e_l(t): its eos accepted; the sweep follows
    emit_start: np.ndarray  # f_l(t): after the sweep, its first output word valid (EMIT)
    emit_end: np.ndarray  # E_l(t): its eos word taken by layer l+1 (or o_stream)

    def __post_init__(self) -> None:
        shape = np.shape(self.accumulate_start)
        for name in ("accumulate_start", "accumulate_end", "emit_start", "emit_end"):
            value = getattr(self, name)
            if not isinstance(value, np.ndarray) or value.ndim != 2 or value.shape != shape or value.dtype.kind != "i":
                got = f"{type(value).__name__} {np.shape(value)}"
                raise ValueError(f"schedule field '{name}' must be an int array [T, L] of accumulate_start's shape {shape}, got {got}")

    @property
    def cycles(self) -> int:
        """Cycles of the sample: first input word accepted → first cycle `done` is high."""
        return int(self.emit_end[-1, -1] + 1)


def schedule(params: CycleParams, counts: np.ndarray) -> StepSchedule:
    """Event times of one sample: counts int [T, L+1] (column 0 input spikes, column l+1
    layer l's spikes)."""
    counts = np.asarray(counts, dtype=np.int64)
    rows, row_cycles = params.rows, params.row_cycles
    n_layers = len(rows)
    if counts.ndim != 2 or counts.shape[1] != n_layers + 1:
        raise ValueError(f"spike counts must be [T, {n_layers + 1}] (input, then each layer), got {counts.shape}")
    steps = counts.shape[0]
    a, e, f, E = (np.zeros((steps, n_layers), dtype=np.int64) for _ in range(4))
    for t in range(steps):
        for l in range(n_layers):
            if l == 0:
                a[t, 0] = 0 if t == 0 else E[t - 1, 0] + REARM
            else:
                a[t, l] = f[t, l - 1] if t == 0 else max(f[t, l - 1], E[t - 1, l] + REARM)
                E[t, l - 1] = a[t, l] + counts[t, l] * rows[l]
            e[t, l] = a[t, l] + counts[t, l] * rows[l]
            f[t, l] = e[t, l] + rows[l] * row_cycles[l] + counts[t, l + 1] + SWEEP_OVERHEAD
        E[t, -1] = f[t, -1] + counts[t, -1]
    return StepSchedule(accumulate_start=a, accumulate_end=e, emit_start=f, emit_end=E)


def sample_cycles(params: CycleParams, counts: np.ndarray) -> int:
    """Cycles of one sample (first input word accepted → first cycle `done` is high)."""
    return schedule(params, counts).cycles


def spike_counts(inputs: np.ndarray, result) -> np.ndarray:
    """[B, T, L+1] counts from input spikes [B, T, N_in] and a `GoldenResult`."""
    inputs = np.asarray(inputs)
    if inputs.ndim == 2:
        inputs = inputs[None]
    cols = [inputs.sum(axis=2)] + [s.sum(axis=2) for s in result.spikes]
    return np.stack(cols, axis=2).astype(np.int64)


def predict_cycles(
    model: Union["Manifest", CycleParams, "GoldenNetwork"],
    counts_or_result,
    *,
    lanes: int | None = None,
    steps: int | None = None,
    inputs: np.ndarray | None = None,
    units: int | None = None,
) -> np.ndarray:
    """Cycles per sample, one per sample.

    model: a `Manifest` (from `generate` or `Manifest.read`), a `CycleParams`, or a `GoldenNetwork`
    with `lanes` (and `steps`, else taken from the counts; `units` Q, default one per lane).
    counts_or_result: spike counts [B, T, L+1] or [T, L+1] (column 0 the input spikes
    per step, column l+1 layer l's spikes per step), or a `GoldenResult` with `inputs`
    [B, T, N_in] (the result alone does not hold the input spikes).
    """
    if hasattr(counts_or_result, "spikes"):
        if inputs is None:
            raise ValueError("a GoldenResult needs inputs= (the input spikes [B, T, N_in])")
        counts = spike_counts(inputs, counts_or_result)
    else:
        counts = np.asarray(counts_or_result, dtype=np.int64)
    if counts.ndim == 2:
        counts = counts[None]
    from snn2fpga.rtl.manifest import Manifest  # it imports this module

    if isinstance(model, CycleParams):
        params = model
    elif isinstance(model, Manifest):
        params = model.cycle_model
    else:
        if lanes is None:
            raise ValueError("a GoldenNetwork needs lanes= to predict cycles")
        params = CycleParams.from_network(model, lanes, steps or counts.shape[1], units)
    if counts.shape[1] != params.steps:
        raise ValueError(f"counts cover {counts.shape[1]} steps, the design runs {params.steps}")
    return np.array([sample_cycles(params, c) for c in counts], dtype=np.int64)


def step_cycles_closed_form(rows: Sequence[int], counts_step: Sequence[int], row_cycles: Sequence[int] = (1,)) -> int:
    """Cycles layer 0 spends on one step when no later layer holds it up (a_0(t+1) − a_0(t)):
    (s_0 + C_0)·R_0 + k_0·(1 + R_1) + SWEEP_OVERHEAD + REARM, with R_1 = 1 for a one-layer net."""
    r1 = rows[1] if len(rows) > 1 else 1
    s0, k0 = counts_step[0], counts_step[1]
    return (s0 + row_cycles[0]) * rows[0] + k0 * (1 + r1) + SWEEP_OVERHEAD + REARM

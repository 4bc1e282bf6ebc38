"""Cycle model of the generated top (docs/rtl.md, "Cycle model").

What is counted: clock cycles from the cycle the first input word of a sample is
accepted on `i_stream` (cycle 0) to the first cycle `done` is high. Exact when the
input is offered back to back (a word always valid once the previous was taken) and
`o_stream` is always ready; a lower bound under any stalls (stalls only delay
handshakes, they never skip work).

Per layer l: R_l rows swept (dense ⌈N_l / P_l⌉; conv ⌈C_out / P_l⌉·H_out·W_out; pool: the
D_l bitmap words its clear writes), C_l sweep cycles per row (1 when every lane has its
LIF unit; ⌈P_l / Q_l⌉ + 1 with Q_l < P_l units, rtl/layer.py); per step t: s_l(t) input
spikes (s_0 = the sample's input spikes, s_l = k_{l−1} for l ≥ 1), k_l(t) output spikes and
w_l(t) the cycles layer l spends on its s_l(t) input words, the sum over them of

    dense   G_l = ⌈N_l / P_l⌉                       (one weight row per row of lanes)
    conv    max(1, taps(a)·G_l), G_l = ⌈C_out / P_l⌉  (taps(a): kernel taps of input a whose
                                                      output position lies in the map, rtl/conv.py)
    pool    1

so w_l = s_l·G_l for dense and pool, and depends on *which* inputs spiked for conv
(`acc_work`). Events of step t:

    a_l(t)  first word accepted by layer l
            a_0(0) = 0,  a_0(t) = E_0(t−1) + 1
            a_l(t) = max(f_{l−1}(t), E_l(t−1) + 1)            (l ≥ 1; E_l(−1) = −∞)
    e_l(t)  = a_l(t) + w_l(t)                                 eos accepted (ACC)
    f_l(t)  = e_l(t) + R_l·C_l + k_l(t) + SWEEP_OVERHEAD      first output word valid (dense, conv)
            = e_l(t) + POOL_OVERHEAD                          (pool: no sweep)
    E_l(t)  = a_{l+1}(t) + w_{l+1}(t)                          eos leaves layer l
    E_L−1(t) = f_L−1(t) + k_L−1(t)                            (o_stream always ready)

    cycles per sample = E_{L−1}(T−1) + 1.

`schedule()` returns a, e, f, E as a `StepSchedule`: accumulate_start, accumulate_end,
emit_start, emit_end.

Only spike counts enter: the spike buffer decouples a layer's sweep from its consumer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, Sequence, Union

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
# pool: eos accepted at e → EMIT at e+1, the first word (or eos) valid at e+2
POOL_OVERHEAD = 2
# pool: its clear writes D bitmap words, one a cycle, from the cycle `clear` falls
POOL_CLEAR_OVERHEAD = 0
KINDS = ("dense", "conv", "pool")
BITMAP_WORD = 16  # B: bits per pool bitmap word (a power of two: an address's word and bit are its bits)


def bitmap_word_bits(n_out: int) -> int:
    """B for a pool of n_out outputs: BITMAP_WORD, or the smallest power of two ≥ n_out below it."""
    return min(BITMAP_WORD, 1 << max(0, (n_out - 1).bit_length()))


@dataclass(frozen=True)
class ConvGeometry:
    """What the cycle model needs of a conv layer: its input map, output map, kernel, stride, padding."""

    in_shape: tuple[int, int, int]  # C_in, H, W
    out_size: tuple[int, int]  # H_out, W_out
    kernel: tuple[int, int]
    stride: int
    padding: int

    def taps(self) -> np.ndarray:
        """Valid kernel taps of each input address [C_in·H·W]: taps whose output position is in the map."""
        (c, h, w), (ho, wo) = self.in_shape, self.out_size
        per_axis = []
        for size, size_out, k in ((h, ho, self.kernel[0]), (w, wo, self.kernel[1])):
            coord = np.arange(size)[:, None] + self.padding - np.arange(k)[None, :]  # S·o for each tap
            ok = (coord >= 0) & (coord % self.stride == 0) & (coord // self.stride < size_out)
            per_axis.append(ok.sum(axis=1))
        return np.broadcast_to(per_axis[0][:, None] * per_axis[1][None, :], (c, h, w)).reshape(-1)

    def to_dict(self) -> dict:
        return {"in_shape": list(self.in_shape), "out_size": list(self.out_size), "kernel": list(self.kernel),
                "stride": self.stride, "padding": self.padding}

    @classmethod
    def of(cls, layer) -> "ConvGeometry":
        out = layer.out_shape
        return cls(tuple(layer.in_shape.to_list()), (out.height, out.width), layer.kernel, layer.stride, layer.padding)


@dataclass(frozen=True)
class CycleParams:
    """What the cycle model needs: rows swept per layer (R_l), the step count, sweep cycles per
    row (C_l: 1 when each lane has its LIF unit, ⌈P_l / Q_l⌉ + 1 with Q_l < P_l), and for networks
    with conv or pool layers each layer's kind, its cycles per weight column (G_l) and, for a
    conv, its geometry. Dense-only: kinds, event_rows and convs may be left out."""

    rows: tuple[int, ...]
    steps: int
    row_cycles: tuple[int, ...] = ()
    kinds: tuple[str, ...] = ()
    event_rows: tuple[int, ...] = ()
    convs: tuple[Optional[ConvGeometry], ...] = ()

    def __post_init__(self) -> None:
        n = len(self.rows)
        defaults = {"row_cycles": (1,) * n, "kinds": ("dense",) * n, "event_rows": tuple(self.rows), "convs": (None,) * n}
        for name, value in defaults.items():
            if not getattr(self, name):
                object.__setattr__(self, name, value)
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} {getattr(self, name)} and rows {self.rows} must have one entry per layer")
        for l, (kind, conv) in enumerate(zip(self.kinds, self.convs)):
            if kind not in KINDS:
                raise ValueError(f"layer {l}: kind {kind!r}; choose one of {', '.join(KINDS)}")
            if (kind == "conv") != (conv is not None):
                raise ValueError(f"layer {l}: a conv layer needs its geometry, and only a conv layer has one")

    @property
    def layered(self) -> bool:
        """Any conv or pool layer (the manifest then records kinds, event_rows and convs)."""
        return any(k != "dense" for k in self.kinds)

    @classmethod
    def from_network(cls, network, lanes: int, steps: int, units: int | None = None) -> "CycleParams":
        from snn2fpga.core.golden import ConvLayer, PoolLayer
        from snn2fpga.rtl.point import layer_lanes

        rows, row_cycles, kinds, event_rows, convs = [], [], [], [], []
        for layer in network.layers:
            kinds.append(layer.kind)
            if isinstance(layer, PoolLayer):
                rows.append(-(-layer.n_out // bitmap_word_bits(layer.n_out)))
                row_cycles.append(1)
                event_rows.append(1)
                convs.append(None)
                continue
            conv = isinstance(layer, ConvLayer)
            channels = layer.out_shape.channels if conv else layer.n_out
            p = layer_lanes(layer, lanes)
            groups = -(-channels // p)
            positions = layer.out_shape.height * layer.out_shape.width if conv else 1
            slices = 1 if units is None else -(-p // min(units, p))
            rows.append(groups * positions)
            row_cycles.append(1 if slices == 1 else slices + 1)
            event_rows.append(groups)
            convs.append(ConvGeometry.of(layer) if conv else None)
        return cls(tuple(rows), steps, tuple(row_cycles), tuple(kinds), tuple(event_rows), tuple(convs))

    @classmethod
    def from_manifest(cls, manifest: "Manifest") -> "CycleParams":
        """The cycle model of a generated design (its manifest checked it on read)."""
        return manifest.cycle_model

    def to_dict(self) -> dict:
        d = {
            "rows": list(self.rows),
            "row_cycles": list(self.row_cycles),
            "steps": self.steps,
            "sweep_overhead": SWEEP_OVERHEAD,
            "rearm": REARM,
            "clear_overhead": CLEAR_OVERHEAD,
        }
        if self.layered:  # dense-only manifests keep their earlier layout
            d.update(kinds=list(self.kinds), event_rows=list(self.event_rows),
                     convs=[None if c is None else c.to_dict() for c in self.convs],
                     pool_overhead=POOL_OVERHEAD, pool_clear_overhead=POOL_CLEAR_OVERHEAD)
        return d

    def clear_cycles(self) -> int:
        """Cycles from `clear` (or reset) falling to the first cycle `i_stream.ready` can be high."""
        return max(r + (POOL_CLEAR_OVERHEAD if k == "pool" else CLEAR_OVERHEAD) for r, k in zip(self.rows, self.kinds))

    def input_costs(self) -> list[np.ndarray]:
        """Per layer, the ACC cycles of each of its input addresses (None: G_l for every input)."""
        return [None if conv is None else np.maximum(1, conv.taps() * g) for conv, g in zip(self.convs, self.event_rows)]


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


def schedule(params: CycleParams, counts: np.ndarray, work: np.ndarray | None = None) -> StepSchedule:
    """Event times of one sample: counts int [T, L+1] (column 0 input spikes, column l+1
    layer l's spikes); work int [T, L], the ACC cycles w_l(t) (`acc_work`), needed with a
    conv layer (without one it is counts × G_l)."""
    counts = np.asarray(counts, dtype=np.int64)
    rows, row_cycles = params.rows, params.row_cycles
    n_layers = len(rows)
    if counts.ndim != 2 or counts.shape[1] != n_layers + 1:
        raise ValueError(f"spike counts must be [T, {n_layers + 1}] (input, then each layer), got {counts.shape}")
    steps = counts.shape[0]
    if work is None:
        if "conv" in params.kinds:
            raise ValueError("a conv layer's cycles depend on which inputs spiked, not only how many: pass work= (acc_work)")
        work = counts[:, :-1] * np.asarray(params.event_rows, dtype=np.int64)
    work = np.asarray(work, dtype=np.int64)
    if work.shape != (steps, n_layers):
        raise ValueError(f"work must be [T, L] = {(steps, n_layers)}, got {work.shape}")
    a, e, f, E = (np.zeros((steps, n_layers), dtype=np.int64) for _ in range(4))
    for t in range(steps):
        for l in range(n_layers):
            if l == 0:
                a[t, 0] = 0 if t == 0 else E[t - 1, 0] + REARM
            else:
                a[t, l] = f[t, l - 1] if t == 0 else max(f[t, l - 1], E[t - 1, l] + REARM)
                E[t, l - 1] = a[t, l] + work[t, l]
            e[t, l] = a[t, l] + work[t, l]
            if params.kinds[l] == "pool":
                f[t, l] = e[t, l] + POOL_OVERHEAD
            else:
                f[t, l] = e[t, l] + rows[l] * row_cycles[l] + counts[t, l + 1] + SWEEP_OVERHEAD
        E[t, -1] = f[t, -1] + counts[t, -1]
    return StepSchedule(accumulate_start=a, accumulate_end=e, emit_start=f, emit_end=E)


def sample_cycles(params: CycleParams, counts: np.ndarray, work: np.ndarray | None = None) -> int:
    """Cycles of one sample (first input word accepted → first cycle `done` is high)."""
    return schedule(params, counts, work).cycles


def acc_work(params: CycleParams, inputs: np.ndarray, result) -> np.ndarray:
    """[B, T, L] ACC cycles w_l(t) from input spikes [B, T, N_in] and a `GoldenResult`: each layer's
    input spikes weighted by their cost (G_l each; conv: max(1, taps·G_l), `CycleParams.input_costs`)."""
    inputs = np.asarray(inputs)
    if inputs.ndim == 2:
        inputs = inputs[None]
    feeds = [inputs] + list(result.spikes[:-1])
    if len(feeds) != len(params.rows):
        raise ValueError(f"the result has {len(result.spikes)} layers, the cycle model {len(params.rows)}")
    out = []
    for x, cost, g in zip(feeds, params.input_costs(), params.event_rows):
        x = np.asarray(x, dtype=np.int64)
        out.append(x.sum(axis=2) * g if cost is None else x @ cost.astype(np.int64))
    return np.stack(out, axis=2)


def synaptic_ops(network, inputs: np.ndarray, result) -> np.ndarray:
    """[B, L] weights added per sample and layer: per input spike N (dense), valid taps × C_out (conv), none (pool)."""
    inputs = np.asarray(inputs)
    feeds = [inputs[None] if inputs.ndim == 2 else inputs] + list(result.spikes[:-1])
    out = []
    for f, layer in zip(feeds, network.layers):
        f = np.asarray(f, dtype=np.int64)
        if layer.kind == "conv":
            out.append((f @ ConvGeometry.of(layer).taps()).sum(axis=1) * layer.out_shape.channels)
        else:
            out.append(f.sum(axis=(1, 2)) * (layer.n_out if layer.kind == "dense" else 0))
    return np.stack(out, axis=1)


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
    [B, T, N_in] (the result alone does not hold the input spikes). A network with a conv
    layer needs the result: its cycles depend on which inputs spiked.
    """
    from snn2fpga.rtl.manifest import Manifest  # it imports this module

    result = counts_or_result if hasattr(counts_or_result, "spikes") else None
    if result is not None:
        if inputs is None:
            raise ValueError("a GoldenResult needs inputs= (the input spikes [B, T, N_in])")
        counts = spike_counts(inputs, result)
    else:
        counts = np.asarray(counts_or_result, dtype=np.int64)
    if counts.ndim == 2:
        counts = counts[None]

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
    if result is not None:
        work = acc_work(params, inputs, result)
        return np.array([sample_cycles(params, c, w) for c, w in zip(counts, work)], dtype=np.int64)
    return np.array([sample_cycles(params, c) for c in counts], dtype=np.int64)


def step_cycles_closed_form(rows: Sequence[int], counts_step: Sequence[int], row_cycles: Sequence[int] = (1,)) -> int:
    """Cycles layer 0 spends on one step when no later layer holds it up (a_0(t+1) − a_0(t)):
    (s_0 + C_0)·R_0 + k_0·(1 + R_1) + SWEEP_OVERHEAD + REARM, with R_1 = 1 for a one-layer net."""
    r1 = rows[1] if len(rows) > 1 else 1
    s0, k0 = counts_step[0], counts_step[1]
    return (s0 + row_cycles[0]) * rows[0] + k0 * (1 + r1) + SWEEP_OVERHEAD + REARM

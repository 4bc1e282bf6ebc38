"""The golden model: a whole network in the exact integer arithmetic of the contract.

A network is a chain of layers (DESIGN §7): dense (`QuantLayer`) and conv (`ConvLayer`)
layers feed LIF neurons; a `PoolLayer` ORs spikes over windows and has no state. Every
backend (QONNX execution, RTL simulation, HLS C simulation) is compared with
`GoldenNetwork.run`, spike for spike and step for step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

import numpy as np

from snn2fpga.core.contract import ContractError, LIFParams, lif_step, readout, weight_code_range, weight_codes_valid
from snn2fpga.core.maps import MapShape, conv_currents, conv_out_shape, pool_or, pool_out_shape


def _checked_bias(bias, n: int) -> np.ndarray:
    """An integer bias of n entries (zeros if None)."""
    bias = np.zeros(n, dtype=np.int64) if bias is None else np.asarray(bias, dtype=np.int64)
    if bias.shape != (n,):
        raise ContractError(f"bias shape {bias.shape} != ({n},)")
    return bias


def _check_codes(quant: str, weights: np.ndarray) -> None:
    if not weight_codes_valid(quant, weights):
        raise ContractError(f"weight codes outside the range of the {quant!r} quantizer")


@dataclass
class QuantLayer:
    """One fully connected layer followed by LIF neurons, in integer form."""

    weights: np.ndarray  # int64 [N, N_in], integer weight codes
    weight_quant: str  # "binary" | "ternary" | "int2".."int8"
    lif: LIFParams
    bias: np.ndarray = field(default=None)  # int64 [N]; zeros if None

    kind = "dense"

    def __post_init__(self) -> None:
        self.weights = np.asarray(self.weights, dtype=np.int64)
        if self.weights.ndim != 2:
            raise ContractError(f"weights must be 2-D [N, N_in], got shape {self.weights.shape}")
        self.bias = _checked_bias(self.bias, self.weights.shape[0])
        _check_codes(self.weight_quant, self.weights)

    @property
    def n_in(self) -> int:
        return self.weights.shape[1]

    @property
    def n_out(self) -> int:
        return self.weights.shape[0]

    def current(self, x: np.ndarray) -> np.ndarray:
        """I = W·s + b for input spikes [B, N_in]."""
        return x @ self.weights.T + self.bias

    def to_dict(self) -> dict:
        return {"kind": self.kind, "weights": self.weights.tolist(), "bias": self.bias.tolist(),
                "weight_quant": self.weight_quant, "lif": self.lif.to_dict()}


class _MapLayer:
    """What a conv and a pool layer share: sizes from their input and output maps (C·H·W)."""

    @property
    def n_in(self) -> int:
        return self.in_shape.size

    @property
    def n_out(self) -> int:
        return self.out_shape.size


@dataclass
class ConvLayer(_MapLayer):
    """A 2-D convolution (zero padding, one stride for both axes) followed by LIF neurons (DESIGN §7)."""

    weights: np.ndarray  # int64 [C_out, C_in, K_h, K_w]
    weight_quant: str
    lif: LIFParams
    in_shape: MapShape
    stride: int = 1
    padding: int = 0
    bias: np.ndarray = field(default=None)  # int64 [C_out], one per output channel; zeros if None

    kind = "conv"

    def __post_init__(self) -> None:
        self.weights = np.asarray(self.weights, dtype=np.int64)
        if self.weights.ndim != 4:
            raise ContractError(f"conv weights must be 4-D [C_out, C_in, K_h, K_w], got shape {self.weights.shape}")
        if not isinstance(self.in_shape, MapShape):
            self.in_shape = MapShape(*self.in_shape)
        if self.weights.shape[1] != self.in_shape.channels:
            raise ContractError(f"conv weights take {self.weights.shape[1]} channels but the input map is {self.in_shape}")
        self.out_shape = conv_out_shape(self.in_shape, self.weights.shape[0], self.kernel, self.stride, self.padding)
        self.bias = _checked_bias(self.bias, self.weights.shape[0])
        _check_codes(self.weight_quant, self.weights)

    @property
    def kernel(self) -> tuple[int, int]:
        return int(self.weights.shape[2]), int(self.weights.shape[3])

    def current(self, x: np.ndarray) -> np.ndarray:
        """I[o, y, x] = Σ W[o, c, i, j]·s[c, y·S+i−P, x·S+j−P] + b[o], flat [B, C_out·H_out·W_out]."""
        cur = conv_currents(x, self.in_shape, self.weights, self.stride, self.padding)
        return cur + np.repeat(self.bias, self.out_shape.height * self.out_shape.width)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "weights": self.weights.tolist(), "bias": self.bias.tolist(),
                "weight_quant": self.weight_quant, "lif": self.lif.to_dict(), "in_shape": self.in_shape.to_list(),
                "stride": self.stride, "padding": self.padding}


@dataclass
class PoolLayer(_MapLayer):
    """Spiking max-pool: a neuron fires iff any input in its k×k window (stride k) fired this step."""

    in_shape: MapShape
    k: int

    kind = "pool"
    lif = None

    def __post_init__(self) -> None:
        if not isinstance(self.in_shape, MapShape):
            self.in_shape = MapShape(*self.in_shape)
        self.out_shape = pool_out_shape(self.in_shape, self.k)

    def spikes(self, x: np.ndarray) -> np.ndarray:
        return pool_or(x, self.in_shape, self.k)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "in_shape": self.in_shape.to_list(), "k": self.k}


Layer = Union[QuantLayer, ConvLayer, PoolLayer]


@dataclass
class GoldenResult:
    """Everything the golden model computes for a batch of samples.

    spikes[l]: uint8 [B, T, N_l]; membranes[l]: int64 [B, T, N_l] (codes after step t; [B, T, 0]
    for a pool layer, which has none);
    counts: int64 [B, N_last]; label: int64 [B].
    """

    spikes: list[np.ndarray]
    membranes: list[np.ndarray]
    counts: np.ndarray
    label: np.ndarray


@dataclass
class GoldenNetwork:
    """A chain of dense, conv and pool layers run per DESIGN §3 and §7; the reference for every backend."""

    layers: list[Layer]

    def __post_init__(self) -> None:
        if not self.layers:
            raise ContractError("a network needs at least one layer")
        if self.layers[-1].lif is None:
            raise ContractError("the last layer must have LIF neurons (a pool layer cannot be the readout)")
        for i in range(1, len(self.layers)):
            if self.layers[i].n_in != self.layers[i - 1].n_out:
                raise ContractError(
                    f"layer {i} ({self.layers[i].kind}) takes {self.layers[i].n_in} inputs but layer {i - 1} "
                    f"({self.layers[i - 1].kind}) has {self.layers[i - 1].n_out} neurons"
                )
            before, shape = getattr(self.layers[i - 1], "out_shape", None), getattr(self.layers[i], "in_shape", None)
            if before is not None and shape is not None and before != shape:
                raise ContractError(f"layer {i} ({self.layers[i].kind}) takes a {shape} map but layer {i - 1} makes {before}")

    @property
    def n_in(self) -> int:
        return self.layers[0].n_in

    @property
    def in_shape(self) -> MapShape | None:
        """The input map a conv or pool first layer expects; None for a dense first layer."""
        return getattr(self.layers[0], "in_shape", None)

    @property
    def lif_layers(self) -> list[int]:
        """Indices of the layers with LIF neurons (all but the pools)."""
        return [i for i, layer in enumerate(self.layers) if layer.lif is not None]

    def step(self, spikes_in: np.ndarray, state: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """One time step for a batch: input spikes [B, N_in] and membrane codes per layer."""
        x = np.asarray(spikes_in, dtype=np.int64)
        out_spikes, new_state = [], []
        for layer, m in zip(self.layers, state):
            if layer.lif is None:
                s, m_new = layer.spikes(x), m
            else:
                s, m_new = lif_step(m, layer.current(x), layer.lif)
            out_spikes.append(s)
            new_state.append(m_new)
            x = s.astype(np.int64)
        return out_spikes, new_state

    def initial_state(self, batch: int) -> list[np.ndarray]:
        return [np.zeros((batch, 0 if layer.lif is None else layer.n_out), dtype=np.int64) for layer in self.layers]

    def run(self, spikes: np.ndarray) -> GoldenResult:
        """Run samples [B, T, N_in] (or one sample [T, N_in], treated as B = 1) from zero state."""
        spikes = np.asarray(spikes)
        if spikes.ndim == 2:
            spikes = spikes[None]
        if spikes.ndim != 3 or spikes.shape[2] != self.n_in:
            raise ContractError(f"input spikes must be [B, T, {self.n_in}], got {spikes.shape}")
        batch, steps, _ = spikes.shape
        state = self.initial_state(batch)
        per_step_s: list[list[np.ndarray]] = [[] for _ in self.layers]
        per_step_m: list[list[np.ndarray]] = [[] for _ in self.layers]
        for t in range(steps):
            s, state = self.step(spikes[:, t], state)
            for i in range(len(self.layers)):
                per_step_s[i].append(s[i])
                per_step_m[i].append(state[i])
        out_s = [np.stack(s, axis=1) for s in per_step_s]
        out_m = [np.stack(m, axis=1) for m in per_step_m]
        counts = out_s[-1].sum(axis=1, dtype=np.int64)
        return GoldenResult(out_s, out_m, counts, readout(counts))

    def to_dict(self) -> dict:
        """Plain-data form (JSON-serialisable) of the integer network."""
        return {"layers": [layer.to_dict() for layer in self.layers]}

    @classmethod
    def from_dict(cls, data: dict) -> "GoldenNetwork":
        return cls([_layer_from_dict(d) for d in data["layers"]])

    def save_json(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict()))


def _layer_from_dict(d: dict) -> Layer:
    """One layer of `GoldenNetwork.to_dict` (a record without "kind" is dense, as before conv existed)."""
    kind = d.get("kind", "dense")
    if kind == "pool":
        return PoolLayer(MapShape(*d["in_shape"]), int(d["k"]))
    common = dict(weights=np.array(d["weights"], dtype=np.int64), bias=np.array(d["bias"], dtype=np.int64),
                  weight_quant=d["weight_quant"], lif=LIFParams(**d["lif"]))
    if kind == "conv":
        return ConvLayer(**common, in_shape=MapShape(*d["in_shape"]), stride=int(d["stride"]), padding=int(d["padding"]))
    if kind == "dense":
        return QuantLayer(**common)
    raise ContractError(f"layer kind {kind!r} unknown; choose one of dense, conv, pool")


def random_codes(rng: np.random.Generator, weight_quant: str, shape: tuple[int, ...]) -> np.ndarray:
    """Uniform random weight codes of a quantizer (binary: ±1 only)."""
    lo, hi = weight_code_range(weight_quant)
    if weight_quant == "binary":
        return np.where(rng.random(shape) < 0.5, -1, 1)
    return rng.integers(lo, hi + 1, size=shape)


def random_network(
    sizes: list[int],
    weight_quant: str,
    lif: LIFParams,
    seed: int = 0,
    with_bias: bool = False,
) -> GoldenNetwork:
    """A random valid network, for tests of every backend on small shapes."""
    rng = np.random.default_rng(seed)
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        w = random_codes(rng, weight_quant, (n_out, n_in))
        b = rng.integers(-4, 5, size=n_out) if with_bias else None
        layers.append(QuantLayer(w, weight_quant, lif, b))
    return GoldenNetwork(layers)


def random_arch_network(
    in_shape: MapShape,
    arch: str,
    n_classes: int,
    weight_quant: str,
    lif: LIFParams,
    seed: int = 0,
    with_bias: bool = False,
) -> GoldenNetwork:
    """A random valid network of an architecture string (core/arch.py), for tests of every backend."""
    from snn2fpga.core.arch import ConvSpec, PoolSpec, parse_arch, plan

    rng = np.random.default_rng(seed)
    layers: list[Layer] = []
    for p in plan(in_shape, parse_arch(arch) if arch else (), n_classes):
        if isinstance(p.spec, PoolSpec):
            layers.append(PoolLayer(p.in_shape, p.spec.k))
            continue
        n = p.spec.channels if isinstance(p.spec, ConvSpec) else p.n_out
        b = rng.integers(-4, 5, size=n) if with_bias else None
        if isinstance(p.spec, ConvSpec):
            w = random_codes(rng, weight_quant, (n, p.in_shape.channels, *p.spec.kernel))
            layers.append(ConvLayer(w, weight_quant, lif, p.in_shape, p.spec.stride, p.spec.padding, b))
        else:
            layers.append(QuantLayer(random_codes(rng, weight_quant, (n, p.n_in)), weight_quant, lif, b))
    return GoldenNetwork(layers)

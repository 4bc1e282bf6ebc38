"""The golden model: a whole network in the exact integer arithmetic of the contract.

Every backend (QONNX execution, RTL simulation, HLS C simulation) is compared with
`GoldenNetwork.run`, spike for spike and step for step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from snn2fpga.core.contract import ContractError, LIFParams, lif_step, readout, weight_code_range, weight_codes_valid


@dataclass
class QuantLayer:
    """One fully connected layer followed by LIF neurons, in integer form."""

    weights: np.ndarray  # int64 [N, N_in], integer weight codes
    weight_quant: str  # "binary" | "ternary" | "int2".."int8"
    lif: LIFParams
    bias: np.ndarray = field(default=None)  # int64 [N]; zeros if None

    def __post_init__(self) -> None:
        self.weights = np.asarray(self.weights, dtype=np.int64)
        if self.weights.ndim != 2:
            raise ContractError(f"weights must be 2-D [N, N_in], got shape {self.weights.shape}")
        if self.bias is None:
            self.bias = np.zeros(self.weights.shape[0], dtype=np.int64)
        self.bias = np.asarray(self.bias, dtype=np.int64)
        if self.bias.shape != (self.weights.shape[0],):
            raise ContractError(f"bias shape {self.bias.shape} != ({self.weights.shape[0]},)")
        if not weight_codes_valid(self.weight_quant, self.weights):
            raise ContractError(f"weight codes outside the range of the {self.weight_quant!r} quantizer")

    @property
    def n_in(self) -> int:
        return self.weights.shape[1]

    @property
    def n_out(self) -> int:
        return self.weights.shape[0]


@dataclass
class GoldenResult:
    """Everything the golden model computes for a batch of samples.

    spikes[l]: uint8 [B, T, N_l]; membranes[l]: int64 [B, T, N_l] (codes after step t);
    counts: int64 [B, N_last]; label: int64 [B].
    """

    spikes: list[np.ndarray]
    membranes: list[np.ndarray]
    counts: np.ndarray
    label: np.ndarray


@dataclass
class GoldenNetwork:
    """A stack of `QuantLayer`s run per DESIGN §3; the reference for every backend."""

    layers: list[QuantLayer]

    def __post_init__(self) -> None:
        for i in range(1, len(self.layers)):
            if self.layers[i].n_in != self.layers[i - 1].n_out:
                raise ContractError(
                    f"layer {i} takes {self.layers[i].n_in} inputs but layer {i - 1} has {self.layers[i - 1].n_out} neurons"
                )

    @property
    def n_in(self) -> int:
        return self.layers[0].n_in

    def step(self, spikes_in: np.ndarray, state: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """One time step for a batch: input spikes [B, N_in] and membrane codes per layer."""
        x = np.asarray(spikes_in, dtype=np.int64)
        out_spikes, new_state = [], []
        for layer, m in zip(self.layers, state):
            current = x @ layer.weights.T + layer.bias
            s, m_new = lif_step(m, current, layer.lif)
            out_spikes.append(s)
            new_state.append(m_new)
            x = s.astype(np.int64)
        return out_spikes, new_state

    def initial_state(self, batch: int) -> list[np.ndarray]:
        return [np.zeros((batch, layer.n_out), dtype=np.int64) for layer in self.layers]

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
        return {
            "layers": [
                {
                    "weights": layer.weights.tolist(),
                    "bias": layer.bias.tolist(),
                    "weight_quant": layer.weight_quant,
                    "lif": layer.lif.to_dict(),
                }
                for layer in self.layers
            ]
        }

    @classmethod
    def from_dict(cls, data: dict) -> "GoldenNetwork":
        return cls(
            [
                QuantLayer(
                    weights=np.array(d["weights"], dtype=np.int64),
                    bias=np.array(d["bias"], dtype=np.int64),
                    weight_quant=d["weight_quant"],
                    lif=LIFParams(**d["lif"]),
                )
                for d in data["layers"]
            ]
        )

    def save_json(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict()))


def random_network(
    sizes: list[int],
    weight_quant: str,
    lif: LIFParams,
    seed: int = 0,
    with_bias: bool = False,
) -> GoldenNetwork:
    """A random valid network, for tests of every backend on small shapes."""
    rng = np.random.default_rng(seed)
    lo, hi = weight_code_range(weight_quant)
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        w = rng.integers(lo, hi + 1, size=(n_out, n_in))
        if weight_quant == "binary":
            w = np.where(rng.random((n_out, n_in)) < 0.5, -1, 1)
        b = rng.integers(-4, 5, size=n_out) if with_bias else None
        layers.append(QuantLayer(w, weight_quant, lif, b))
    return GoldenNetwork(layers)

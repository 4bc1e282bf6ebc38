"""Training configuration: one typed dataclass, saved as config.json beside the checkpoint."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Optional

from snn2fpga.core.arch import DenseSpec, PlannedLayer, PoolSpec, Spec, parse_arch, plan
from snn2fpga.core.binning import pooled_size
from snn2fpga.core.contract import MEMBRANE_QUANTS, RESETS, WEIGHT_QUANTS, ContractError
from snn2fpga.core.maps import MapShape
from snn2fpga.train.data.datasets import DataSource
from snn2fpga.train.layers import LayerSettings, resolve
from snn2fpga.train.surrogate import SURROGATES


@dataclass
class TrainConfig:
    """Everything that defines a training run (defaults: the embedded `saccade-digits`)."""

    dataset: str = "saccade-digits"
    data_dir: Optional[str] = None
    weights: str = "ternary"
    membrane: str = "ternary"
    leak: Optional[int] = 2  # shift k (β = 1 − 2^−k); None = IF
    reset: str = "subtract"
    steps: int = 10
    pool: Optional[int] = None  # None: the dataset's default (2 for 34×34 N-MNIST, 4 for 128×128 DVS and N-Cars, 1 for SHD)
    hidden: list[int] = field(default_factory=lambda: [128])
    arch: Optional[str] = None  # core/arch.py string, e.g. "8c5-p2-16c5-p2"; None: dense layers of `hidden`
    layers: list[str] = field(default_factory=list)  # per-LIF-layer overrides, "last:weights=int8,membrane=full" (train/layers.py)
    bias: bool = False  # a learnable bias per neuron, rounded to integers in units of the weight scale
    acc_bits: int = 16
    epochs: int = 40
    batch_size: int = 32
    lr: float = 3e-3
    surrogate: str = "fast-sigmoid"
    slope: float = 5.0
    fire_rate: float = 0.1  # threshold calibration: fraction of first-step currents above θ
    seed: int = 0
    test_fraction: float = 0.2
    # Training method and cost-aware terms (train/methods/; DESIGN §8). Defaults: plain BPTT on spike counts.
    method: str = "bptt"  # bptt | cbp | hybrid
    loss: str = "count"  # count: CE of spike counts; tet: mean over steps of CE of each step's spikes (TET)
    activity: float = 0.0  # λ of the spike-count penalty: λ · hidden spikes per sample per step
    cbp_lr_lambda: float = 1e-3  # CBP: step of the multipliers' gradient ascent
    cbp_period: int = 2  # CBP: the window narrows at least every this many epochs (sooner when the Lagrangian stalls)
    ann_epochs: int = 20  # hybrid: epochs of the quantized ReLU ANN before conversion
    balance: float = 99.9  # hybrid: threshold balancing percentile of each layer's currents (100 = the maximum)
    stdb_alpha: float = 0.3  # STDB surrogate α·exp(−β·Δt)
    stdb_beta: float = 0.01
    prune: float = 0.0  # λ of the L1 penalty on learned hidden-neuron gates; gated-off neurons are removed after training

    def __post_init__(self) -> None:
        checks = [
            ("weights", self.weights, WEIGHT_QUANTS),
            ("membrane", self.membrane, MEMBRANE_QUANTS),
            ("reset", self.reset, RESETS),
            ("surrogate", self.surrogate, SURROGATES),
        ]
        for name, value, allowed in checks:
            if value not in allowed:
                raise ContractError(f"--{name} {value!r} unknown; choose one of {', '.join(allowed)}")
        if self.data_dir is not None:  # recorded absolute, so later stages find it from anywhere
            self.data_dir = str(Path(self.data_dir).expanduser().resolve())
        if self.pool is None:
            from snn2fpga.train.data.datasets import default_pool

            self.pool = default_pool(self.dataset)
        if self.leak is not None and (not isinstance(self.leak, int) or self.leak < 1):
            raise ContractError(f"--leak must be a shift k ≥ 1 or 'none', got {self.leak}")
        for name in ("steps", "pool", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ContractError(f"--{name.replace('_', '-')} must be ≥ 1, got {getattr(self, name)}")
        if not self.hidden or any(h < 1 for h in self.hidden):
            raise ContractError(f"--hidden must be positive layer sizes, got {self.hidden}")
        self.layers = list(self.layers)
        self.layer_settings()  # parses --arch and every --layer override: a bad one is named here, before any data
        from snn2fpga.train.methods import check_method

        check_method(self)

    def specs(self) -> tuple[Spec, ...]:
        """The hidden layers as architecture specs: parsed from `arch`, or `hidden` as dense layers."""
        return parse_arch(self.arch) if self.arch is not None else tuple(DenseSpec(h) for h in self.hidden)

    def layer_settings(self) -> list[LayerSettings]:
        """Each LIF layer's quantizers, leak and reset (the output layer last): the global options, then `layers`."""
        n_lif = sum(not isinstance(s, PoolSpec) for s in self.specs()) + 1
        return resolve(LayerSettings(self.weights, self.membrane, self.leak, self.reset), self.layers, n_lif)

    def input_shape(self) -> MapShape:
        """The dataset's input map after pooling: channels = polarities, then rows and columns (core/binning.py)."""
        from snn2fpga.train.data.datasets import DATASETS

        sensor = DATASETS[self.dataset].sensor_size
        width, height = pooled_size(sensor, int(self.pool))
        return MapShape(sensor[2], height, width)

    def plan(self, n_classes: int, in_shape: Optional[MapShape] = None) -> list[PlannedLayer]:
        """Every layer's shapes on `in_shape` (default: the dataset's); ArchError names a layer with an empty map or a kernel too large."""
        return plan(in_shape or self.input_shape(), self.specs(), n_classes)

    def data_source(self) -> DataSource:
        """What this run trains and tests on (recorded in metrics.json and the export)."""
        return DataSource(self.dataset, self.data_dir, self.seed, self.test_fraction, self.steps, int(self.pool))

    @property
    def name(self) -> str:
        """Default run name: runs/<dataset>-<weights>-<membrane>."""
        return f"{self.dataset}-{self.weights}-{self.membrane}"

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path) -> "TrainConfig":
        data = json.loads(Path(path).read_text())
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ContractError(f"{path}: unknown config keys {sorted(unknown)}")
        return cls(**data)

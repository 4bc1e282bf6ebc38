"""What the flows need from a model: `export.resolve_model` (the QONNX file, exported first when
needed) and a description of it for the reports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from snn2fpga.core.files import file_sha256
from snn2fpga.core.golden import GoldenNetwork
from snn2fpga.export import ResolvedModel, resolve_model


@dataclass(frozen=True)
class ModelInfo:
    """A resolved model as the synthesis flows and the bench see it."""

    resolved: ResolvedModel
    given: str  # the path as the user gave it

    @property
    def network(self) -> GoldenNetwork:
        return self.resolved.network

    @property
    def steps(self) -> int:
        return self.resolved.steps

    @property
    def name(self) -> str:
        return self.resolved.name

    @property
    def sizes(self) -> list[int]:
        return [self.network.n_in] + [layer.n_out for layer in self.network.layers]

    def describe(self) -> dict:
        """The model's identity for report.json: where it came from, its shape, quantizers and file hash."""
        layers = self.network.layers
        meta = self.resolved.meta
        return {
            "path": self.given,
            "file": str(self.resolved.path),
            "file_sha256": file_sha256(self.resolved.path),
            "checkpoint_sha256": meta.checkpoint_sha256,
            "sizes": self.sizes,
            "kinds": [layer.kind for layer in layers],
            "weight_quant": [getattr(layer, "weight_quant", None) for layer in layers],  # None for a pool
            "membrane": [layer.lif.membrane if layer.lif else None for layer in layers],
            "steps": self.steps,
            "dataset": meta.dataset or None,
            "pool": meta.pool,
        }


def load_model(path) -> ModelInfo:
    """A run folder, .qonnx or .nir file, through `export.resolve_model`."""
    return ModelInfo(resolve_model(Path(path)), str(path))

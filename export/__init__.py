"""export/: trained SNN → QONNX (one time step, LIF custom op) and NIR; loading back into the golden model.

Public API (imports are lazy, so `import export` is cheap):
  export_model(run_dir, out=None, check=True) -> Path       runs/<name>/model.qonnx
  export_network(net, path, steps, pool=1, dataset="") -> Path   any GoldenNetwork (dense, conv, OR-pool layers)
  load_network(path) -> (GoldenNetwork, ExportMeta)          .qonnx file or run folder
  run_qonnx(model, spikes[B, T, N_in]) -> GoldenResult        qonnx execution over T steps
  resolve_model(path) -> ResolvedModel                       run folder / .qonnx / .nir, exported when needed:
                                                             the one way later stages get their network;
                                                             .origin() -> ModelOrigin, recorded in every report
  test_split(model) -> EventDataset                          the held-out split the model was tested on
  inference_cost(path) -> dict                               ops and memory
  to_nir / from_nir / write_nir / read_nir / export_nir      NIR bridge
  import_nir(path, out, weights, membrane, …) -> ImportResult  a float NIR graph → quantized run folder
Errors: ExportError (ValueError) > UnsupportedModelError, ModelFileError > LIFAttributeError.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from snn2fpga.export.errors import ExportError, LIFAttributeError, ModelFileError, UnsupportedModelError

_LAZY = {
    "export_model": "snn2fpga.export.qonnx_export",
    "export_network": "snn2fpga.export.qonnx_export",
    "build_model": "snn2fpga.export.qonnx_export",
    "MODEL_FILE": "snn2fpga.export.qonnx_export",
    "load_network": "snn2fpga.export.loader",
    "parse_model": "snn2fpga.export.loader",
    "ExportMeta": "snn2fpga.export.meta",
    "run_qonnx": "snn2fpga.export.runner",
    "inference_cost": "snn2fpga.export.cost",
    "to_nir": "snn2fpga.export.nir_bridge",
    "from_nir": "snn2fpga.export.nir_bridge",
    "write_nir": "snn2fpga.export.nir_bridge",
    "read_nir": "snn2fpga.export.nir_bridge",
    "export_nir": "snn2fpga.export.nir_bridge",
    "import_nir": "snn2fpga.export.nir_import",
    "LIF": "snn2fpga.export.lif_op",
    "ModelOrigin": "snn2fpga.export.resolve",
    "ResolvedModel": "snn2fpga.export.resolve",
    "resolve_model": "snn2fpga.export.resolve",
    "test_split": "snn2fpga.export.resolve",
    "DOMAIN": "snn2fpga.export.lif_op",
}

__all__ = sorted(_LAZY) + ["ExportError", "LIFAttributeError", "ModelFileError", "UnsupportedModelError"]


def __getattr__(name: str) -> Any:
    """Import the public names on first use (qonnx, onnx and Brevitas load only when needed)."""
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'snn2fpga.export' has no attribute {name!r}")

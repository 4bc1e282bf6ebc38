"""export/: trained SNN → QONNX (one time step, LIF custom op) and NIR; loading back into the golden model.

Public API (imports are lazy, so `import export` is cheap):
  export_model(run_dir, out=None, check=True) -> Path       runs/<name>/model.qonnx
  export_network(net, path, steps, pool=1, dataset="") -> Path   any GoldenNetwork
  load_network(path) -> (GoldenNetwork, ExportMeta)          .qonnx file or run folder
  run_qonnx(model, spikes[B, T, N_in]) -> GoldenResult        qonnx execution over T steps
  inference_cost(path) -> dict                               ops and memory
  to_nir / from_nir / write_nir / read_nir / export_nir      NIR bridge
Errors: ExportError (ValueError) > UnsupportedModelError, ModelFileError > LIFAttributeError.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from export.errors import ExportError, LIFAttributeError, ModelFileError, UnsupportedModelError

_LAZY = {
    "export_model": "export.qonnx_export",
    "export_network": "export.qonnx_export",
    "build_model": "export.qonnx_export",
    "MODEL_FILE": "export.qonnx_export",
    "load_network": "export.loader",
    "parse_model": "export.loader",
    "ExportMeta": "export.meta",
    "run_qonnx": "export.runner",
    "inference_cost": "export.cost",
    "to_nir": "export.nir_bridge",
    "from_nir": "export.nir_bridge",
    "write_nir": "export.nir_bridge",
    "read_nir": "export.nir_bridge",
    "export_nir": "export.nir_bridge",
    "LIF": "export.lif_op",
    "DOMAIN": "export.lif_op",
}

__all__ = sorted(_LAZY) + ["ExportError", "LIFAttributeError", "ModelFileError", "UnsupportedModelError"]


def __getattr__(name: str) -> Any:
    """Import the public names on first use (qonnx, onnx and Brevitas load only when needed)."""
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'export' has no attribute {name!r}")

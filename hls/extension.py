"""Registration of the LIF extension with hls4ml (its extension API), once per process and backend.

- frontend: `register_onnx_layer_handler("LIF", parse_lif_layer)` (handlers match op type);
- layer: `register_layer("LIF", LIF)`;
- backend: the exact-integer passes in the backend's `optimize` flow, the config and
  function-call templates, and the C++ header `nnet_utils/nnet_lif.h` (`register_source`).
"""

from __future__ import annotations

from pathlib import Path

import hls4ml
from hls4ml.converters.onnx_to_hls import layer_handlers, register_onnx_layer_handler
from hls4ml.model.flow import get_flow
from hls4ml.model.layers import layer_map, register_layer

from snn2fpga.hls.errors import HlsError
from snn2fpga.hls.layer import LIF, parse_lif_layer
from snn2fpga.hls.passes import ExactIntegerTypes, FuseIntegerBiasIntoDense
from snn2fpga.hls.templates import LIFConfigTemplate, LIFFunctionTemplate

HEADER = Path(__file__).resolve().parent / "nnet_utils" / "nnet_lif.h"
BACKENDS = ("Vitis", "Vivado")
PASSES = (("snn_fuse_integer_bias", FuseIntegerBiasIntoDense), ("snn_exact_integer_types", ExactIntegerTypes))

_registered: set[str] = set()


def register_extension(backend: str = "Vitis"):
    """Make hls4ml able to convert the prepared graph for `backend` ("Vitis" or "Vivado"); returns the backend."""
    if backend not in BACKENDS:
        raise HlsError(f"backend {backend!r} not supported; choose one of {', '.join(BACKENDS)}")
    if "LIF" not in layer_handlers:
        register_onnx_layer_handler("LIF", parse_lif_layer)
    if "LIF" not in layer_map:
        register_layer("LIF", LIF)
    be = hls4ml.backends.get_backend(backend)
    if be.name in _registered:
        return be
    flows = get_flow(be.get_default_flow()).requires
    optimize_flow = next(f for f in flows if f.endswith(":optimize"))
    for name, cls in PASSES:
        be.register_pass(name, cls, flow=optimize_flow)
    be.register_template(LIFConfigTemplate)
    be.register_template(LIFFunctionTemplate)
    be.register_source(HEADER)
    _registered.add(be.name)
    return be

"""hls/: model.qonnx → hls4ml project with LIF as an hls4ml extension layer, bit-exact in C simulation.

Public API (imports are lazy, so `import hls` is cheap):
  build_hls(model_path, out_dir, backend="Vitis", ...) -> HlsRunner   project written + compiled (g++)
  HlsRunner.run(spikes[B, T, N_in]) -> HlsResult                      per-layer spikes per step, counts, class
  HlsRunner.compare(spikes) / .check(spikes) -> Comparison            against the golden model
  prepare(model_path) -> PreparedModel                                the QONNX graph handed to hls4ml
  register_extension(backend="Vitis")                                 LIF handler, layer, passes, templates, header
  synthesize(runner, ...)                                             Vitis/Vivado HLS C synthesis + co-simulation
Errors: HlsError (ValueError) > UnsupportedGraphError, CSimMismatchError.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from snn2fpga.hls.errors import CSimMismatchError, HlsError, UnsupportedGraphError

_LAZY = {
    "build_hls": "snn2fpga.hls.build",
    "HlsRunner": "snn2fpga.hls.build",
    "HlsResult": "snn2fpga.hls.build",
    "Comparison": "snn2fpga.hls.build",
    "hls_config": "snn2fpga.hls.build",
    "prepare": "snn2fpga.hls.prepare",
    "PreparedModel": "snn2fpga.hls.prepare",
    "register_extension": "snn2fpga.hls.extension",
    "synthesize": "snn2fpga.hls.synth",
    "compare_log": "snn2fpga.hls.testbench",
}

__all__ = sorted(_LAZY) + ["CSimMismatchError", "HlsError", "UnsupportedGraphError"]


def __getattr__(name: str) -> Any:
    """Import the public names on first use (hls4ml, qonnx and onnx load only when needed)."""
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'snn2fpga.hls' has no attribute {name!r}")

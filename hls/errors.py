"""Error types of the hls stage: `ValueError`s whose message names the file or layer at fault."""

from __future__ import annotations


class HlsError(ValueError):
    """Base class: a model the hls stage cannot take, or a C simulation that went wrong."""


class UnsupportedGraphError(HlsError):
    """A QONNX graph outside what hls/ maps to hls4ml (names the node and what is supported)."""


class CSimMismatchError(HlsError):
    """C simulation disagrees with the golden model (raised by `HlsRunner.check`)."""

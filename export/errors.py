"""Error types of the export stage: all `ValueError`s, each message names the file and the part."""

from __future__ import annotations


class ExportError(ValueError):
    """Base class: something about a model or model file that export/ cannot use."""


class UnsupportedModelError(ExportError):
    """A valid model the hardware cannot take (layer/op, bit width, scale outside what it supports)."""


class ModelFileError(ExportError):
    """A malformed or tampered model file (missing attribute, unknown quantizer, wrong shape)."""


class LIFAttributeError(ModelFileError):
    """A LIF node whose attributes are missing or outside the neuron contract."""

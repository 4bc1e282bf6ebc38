"""Errors of the synthesis stage: `ValueError` subclasses a caller can catch, each naming
the file, tool or parameter at fault (STYLE.md, "This project")."""

from __future__ import annotations


class SynthError(ValueError):
    """Base class: the flow could not produce a report for this model / target / option."""


class ModelError(SynthError):
    """The model path holds nothing the flow can read (no model.qonnx, model.pt or network .json)."""


class TargetError(SynthError):
    """Unknown target, device, package or part."""


class ToolError(SynthError):
    """Yosys or nextpnr failed for a reason other than the design not fitting.

    `log` is the path of the tool's log; the message carries its last lines."""

    def __init__(self, message: str, log=None):
        super().__init__(message)
        self.log = log


class DoesNotFitError(SynthError):
    """The design needs more of some resource than the device has.

    `utilization` maps each resource to {"used", "available"}; `over` lists the ones over 100 %."""

    def __init__(self, message: str, utilization: dict, over: list[str], log=None):
        super().__init__(message)
        self.utilization = utilization
        self.over = over
        self.log = log


class MemoryMappingError(SynthError):
    """A memory of the generated design was not mapped to block RAM (the flow requires it).

    `memories` is the per-memory mapping Yosys reported (see synth/yosys.py)."""

    def __init__(self, message: str, memories: list[dict]):
        super().__init__(message)
        self.memories = memories

"""`--device cpu|cuda|auto`: where training runs; the golden model and export stay on the CPU."""

from __future__ import annotations

import torch

DEVICES = ("cpu", "cuda", "auto")


class DeviceError(ValueError):
    """A device that was asked for and is not there (or not known); names --device."""


def resolve_device(name: str) -> torch.device:
    """The torch device for `--device name`: auto picks CUDA when a GPU is present, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"--device cuda: no CUDA GPU is available to this PyTorch "
                              f"(torch {torch.__version__}, CUDA build {torch.version.cuda or 'none'}); use --device cpu or auto")
        return torch.device("cuda")
    raise DeviceError(f"--device {name!r} unknown; choose one of {', '.join(DEVICES)}")

"""Surrogate gradients for the Heaviside spike: exact step forward, smooth slope backward."""

from __future__ import annotations

import torch

SURROGATES = ("fast-sigmoid", "sigmoid", "stdb")  # stdb: α·exp(−β·Δt), Δt the steps since the neuron's last spike (train/lif_fn.py)


def surrogate_grad(kind: str, slope: float, x: torch.Tensor) -> torch.Tensor:
    """dS/dx of the surrogate `kind` at x (the spike is S(x) = x ≥ 0)."""
    if kind == "stdb":  # x is Δt here, slope is β (STDB, Rathi et al. 2020; α is applied by the caller)
        return torch.exp(-slope * x)
    if kind == "fast-sigmoid":
        return 1.0 / (1.0 + slope * x.abs()) ** 2
    s = torch.sigmoid(slope * x)
    return slope * s * (1 - s)


def check_surrogate(kind: str) -> None:
    """ValueError naming --surrogate unless `kind` is one of SURROGATES."""
    if kind not in SURROGATES:
        raise ValueError(f"--surrogate {kind!r} unknown; choose one of {', '.join(SURROGATES)}")

"""Surrogate gradients for the Heaviside spike: exact step forward, smooth slope backward."""

from __future__ import annotations

from typing import Callable

import torch

SURROGATES = ("fast-sigmoid", "sigmoid")


class _Spike(torch.autograd.Function):
    """Heaviside(x ≥ 0) forward; the chosen surrogate's derivative backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, kind: str, slope: float) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.kind, ctx.slope = kind, slope
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (x,) = ctx.saved_tensors
        k = ctx.slope
        if ctx.kind == "fast-sigmoid":
            d = 1.0 / (1.0 + k * x.abs()) ** 2
        else:
            s = torch.sigmoid(k * x)
            d = k * s * (1 - s)
        return grad * d, None, None


def spike_fn(kind: str, slope: float) -> Callable[[torch.Tensor], torch.Tensor]:
    """A spike function with the given surrogate (`fast-sigmoid` or `sigmoid`) and slope."""
    if kind not in SURROGATES:
        raise ValueError(f"--surrogate {kind!r} unknown; choose one of {', '.join(SURROGATES)}")
    return lambda x: _Spike.apply(x, kind, slope)

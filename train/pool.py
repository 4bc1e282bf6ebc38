"""The OR-pool of spike maps (DESIGN §7) with a gradient that reaches every input able to change its output.

Forward: max over k×k windows, stride k, remainder dropped, which on binary spikes is
exactly the OR of the golden model's `PoolLayer`. Backward: `max_pool2d` alone would give a
window's gradient to its first maximal input only, so a silent window (all inputs 0, all
tied) would push just its top-left neuron and, of several firing inputs, one would learn.
Here every input equal to the window's output shares it: all of a silent window's inputs
(any could make it fire), and each firing input of an active one (the silent ones cannot
change it). Hand-written as an autograd function because torch has no tie-sharing max pool.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def _upsample(t: torch.Tensor, k: int) -> torch.Tensor:
    """Each window's value repeated over its k×k inputs."""
    return t.repeat_interleave(k, dim=-2).repeat_interleave(k, dim=-1)


class _OrPool(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, k: int) -> torch.Tensor:
        y = F.max_pool2d(x, k)
        ctx.save_for_backward(x, y)
        ctx.k = k
        return y

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, y = ctx.saved_tensors
        k = ctx.k
        h, w = y.shape[-2] * k, y.shape[-1] * k
        share = (x[..., :h, :w] == _upsample(y, k)).to(grad.dtype)
        out = torch.zeros_like(x)
        out[..., :h, :w] = _upsample(grad, k) * share
        return out, None


def or_pool(x: torch.Tensor, k: int) -> torch.Tensor:
    """OR over k×k windows (stride k) of binary spike maps [N, C, H, W] → [N, C, ⌊H/k⌋, ⌊W/k⌋]."""
    return _OrPool.apply(x, k)

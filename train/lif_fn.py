"""The LIF time loop as one fused autograd function: exact integer forward, hand-written BPTT.

Autograd over the step-by-step loop records ~20 nodes per step and layer (straight-through
estimators, clamps, the surrogate), and building and walking that graph dominated a training
step. Here the forward runs the contract's arithmetic (docs/contract.md) directly, without a
graph, and keeps only the pre-clamp sum per step; the backward recomputes everything else
from it in a few whole-tensor operations and walks back in time once. Its gradients are
those of the straight-through graph it replaces (tests/test_train_lif_fn.py compares them):
leak β, the accumulator and membrane clamps pass gradient only inside their range, the
membrane quantizer has slope 1/Δ, the spike the surrogate's. torch.compile was not used: it
needs a C++ toolchain at run time and recompiles for every (Δ, θ) pair the threshold takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch

from snn2fpga.train.surrogate import surrogate_grad


@dataclass(frozen=True)
class LIFConstants:
    """What the fused loop needs besides the currents and θ: the contract's integers and the surrogate."""

    delta: float  # membrane step Δ
    leak_shift: Optional[int]  # k, β = 1 − 2^−k; None = IF
    subtract: bool  # reset by subtraction (else to zero)
    acc_range: tuple[float, float]  # accumulator clamp, −2^(A−1) .. 2^(A−1) − 1
    code_range: Optional[tuple[float, float]]  # stored-code clamp; None for the full membrane (m = u)
    surrogate: str
    slope: float
    alpha: float = 1.0  # STDB's α (the other surrogates ignore it)


def _spike_and_reset(pre: torch.Tensor, theta: torch.Tensor, k: LIFConstants):
    """From the pre-clamp sum: clamped u, spikes (u ≥ θ, bool) and the membrane after reset."""
    u = torch.clamp(pre, *k.acc_range)
    s = u >= theta
    after = torch.where(s, u - theta, u) if k.subtract else u.masked_fill(s, 0.0)
    return u, s, after


# Floors are torch.div(..., rounding_mode="floor"), not torch.floor: measured here, torch.floor
# with 2 threads on a busy machine took up to 10 ms per call on a 32×128 tensor (it waits on a
# second OpenMP thread), the floor division 27–51 µs.
def _decay(m: torch.Tensor, k: LIFConstants) -> torch.Tensor:
    """Δ·m leaked by an arithmetic right shift: v − ⌊v / 2^k⌋ (exact integers in float32)."""
    v = m * k.delta
    return v if k.leak_shift is None else v - torch.div(v, 2.0**k.leak_shift, rounding_mode="floor")


def _store(after: torch.Tensor, k: LIFConstants) -> torch.Tensor:
    """The stored membrane code: ⌊(u + Δ/2) / Δ⌋ (round half up), clamped; u itself when full."""
    if k.code_range is None:
        return after
    return torch.div(after + k.delta / 2, k.delta, rounding_mode="floor").clamp_(*k.code_range)


NEVER = 1000  # STDB: a neuron that has not spiked yet counts as having last spiked 1000 steps before step 0


def steps_since_spike(fired: torch.Tensor) -> torch.Tensor:
    """Δt per step [T, B, N]: t minus the last earlier step the neuron spiked (t + NEVER if none)."""
    since = torch.empty(fired.shape, dtype=torch.float32, device=fired.device)
    last = torch.full(fired.shape[1:], -float(NEVER), device=fired.device)
    for t in range(fired.shape[0]):
        since[t] = t - last
        last = torch.where(fired[t], float(t), last)
    return since


class LIFLoop(torch.autograd.Function):
    """currents [B, T, N], θ (0-d, integer-valued) → spikes [B, T, N], stored codes [B, T, N]."""

    @staticmethod
    def forward(ctx, current: torch.Tensor, theta: torch.Tensor, k: LIFConstants):
        m = torch.zeros_like(current[:, 0])
        pres, spikes, codes = [], [], []
        for t in range(current.shape[1]):
            pre = _decay(m, k) + current[:, t]
            _, s, after = _spike_and_reset(pre, theta, k)
            m = _store(after, k)
            pres.append(pre)
            spikes.append(s)
            codes.append(m)
        ctx.k = k
        ctx.save_for_backward(torch.stack(pres), theta)
        return torch.stack(spikes, 1).to(current.dtype), torch.stack(codes, 1)

    @staticmethod
    def backward(ctx, grad_spikes: torch.Tensor, grad_codes: torch.Tensor):
        pre, theta = ctx.saved_tensors  # pre: [T, B, N]
        k: LIFConstants = ctx.k
        lo, hi = k.acc_range
        u, fired, after = _spike_and_reset(pre, theta, k)
        s = fired.to(pre.dtype)
        if k.surrogate == "stdb":
            ds_du = k.alpha * surrogate_grad("stdb", k.slope, steps_since_spike(fired)) / theta
        else:
            x = (u - theta) / theta
            ds_du = surrogate_grad(k.surrogate, k.slope, x) / theta  # spike input is (u − θ)/θ, θ held constant
        pass_acc = ((pre >= lo) & (pre <= hi)).to(pre.dtype)
        if k.code_range is None:
            dm_dafter = torch.ones_like(pre)
        else:
            soft = after / k.delta
            dm_dafter = ((soft >= k.code_range[0]) & (soft <= k.code_range[1])).to(pre.dtype) / k.delta
        keep = torch.ones_like(s) if k.subtract else 1.0 - s  # d(after)/du, the reset's spike held constant
        beta = 1.0 if k.leak_shift is None else 1.0 - 2.0**-k.leak_shift
        g_spk = grad_spikes.transpose(0, 1)
        g_code = grad_codes.transpose(0, 1)
        g_cur = torch.empty_like(pre)
        g_after = torch.empty_like(pre)
        carry = torch.zeros_like(pre[0])  # dL/dm_t from the steps after t
        for t in range(pre.shape[0] - 1, -1, -1):
            g_after[t] = (g_code[t] + carry) * dm_dafter[t]
            g_cur[t] = (g_after[t] * keep[t] + g_spk[t] * ds_du[t]) * pass_acc[t]
            carry = g_cur[t] * (beta * k.delta)
        g_theta = -(g_spk * ds_du).sum()
        if k.subtract:
            g_theta = g_theta - (g_after * s).sum()
        return g_cur.transpose(0, 1), g_theta.reshape(theta.shape), None


def lif_loop(current: torch.Tensor, theta: torch.Tensor, k: LIFConstants) -> tuple[torch.Tensor, torch.Tensor]:
    """Spikes and stored codes of a LIF layer over all steps (see LIFLoop)."""
    return LIFLoop.apply(current, theta, k)

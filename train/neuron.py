"""The trainable LIF neuron: the contract's arithmetic in float32, with straight-through gradients.

Forward values are exactly the integers of docs/contract.md (float32 holds them exactly
for A ≤ 24), so the eval forward pass and the golden model agree spike for spike;
backward uses a surrogate for the spike and straight-through estimators for the floor,
round and clamp operations.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from snn2fpga.core.contract import LIFParams, default_delta, membrane_code_range
from snn2fpga.train.surrogate import spike_fn


def _ste(soft: torch.Tensor, exact: torch.Tensor) -> torch.Tensor:
    """Value of `exact`, gradient of `soft`."""
    return soft + (exact - soft).detach()


class QuantLIF(nn.Module):
    """LIF layer with a learnable threshold (LT-SNN) and a quantized stored membrane.

    Takes currents in integer units of the weight scale, [B, T, N]; returns spikes
    [B, T, N] and stored membrane codes [B, T, N].
    """

    def __init__(
        self,
        membrane: str,
        leak_shift: Optional[int],
        reset: str,
        acc_bits: int,
        surrogate: str = "fast-sigmoid",
        slope: float = 5.0,
    ) -> None:
        super().__init__()
        LIFParams(1, leak_shift, reset, membrane, 1 if membrane == "full" else default_delta(membrane, 1), acc_bits)
        self.membrane, self.leak_shift, self.reset, self.acc_bits = membrane, leak_shift, reset, acc_bits
        self.spike = spike_fn(surrogate, slope)
        # Threshold in real units (weight-scale units × scale), learnable; set by calibration.
        self.threshold = nn.Parameter(torch.tensor(1.0))

    def int_threshold(self, scale: torch.Tensor) -> torch.Tensor:
        """θ in integer units: round(θ_real / s), clamped to 1 .. 2^(A−1)−1, straight-through."""
        t = self.threshold / scale.detach()
        t = torch.clamp(t, 1.0, 2.0 ** (self.acc_bits - 1) - 1)
        return _ste(t, torch.round(t))

    def params(self, scale: torch.Tensor) -> LIFParams:
        """The integer contract parameters this layer implements at the current weights."""
        theta = int(self.int_threshold(scale).item())
        return LIFParams(theta, self.leak_shift, self.reset, self.membrane, default_delta(self.membrane, theta), self.acc_bits)

    def forward(self, current: torch.Tensor, scale: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        theta = self.int_threshold(scale)
        p = self.params(scale)
        lo_a, hi_a = -(2.0 ** (self.acc_bits - 1)), 2.0 ** (self.acc_bits - 1) - 1
        lo_m, hi_m = membrane_code_range(p.membrane, p.acc_bits)
        delta = float(p.delta)
        m = torch.zeros_like(current[:, 0])
        spikes, codes = [], []
        for t in range(current.shape[1]):
            v = delta * m
            if self.leak_shift is not None:
                beta_v = v * (1.0 - 2.0 ** -self.leak_shift)
                v = _ste(beta_v, v - torch.floor(v / 2.0 ** self.leak_shift))
            u = torch.clamp(v + current[:, t], lo_a, hi_a)
            s = self.spike((u - theta) / theta.detach())
            if self.reset == "subtract":
                u = u - theta * s.detach()
            else:
                u = u * (1.0 - s.detach())
            if self.membrane == "full":
                m = u
            else:
                soft = torch.clamp(u / delta, lo_m, hi_m)
                m = _ste(soft, torch.clamp(torch.floor((2 * u + delta) / (2 * delta)), lo_m, hi_m))
            spikes.append(s)
            codes.append(m)
        return torch.stack(spikes, 1), torch.stack(codes, 1)

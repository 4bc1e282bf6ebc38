"""The trainable LIF neuron: the contract's arithmetic in float32, with straight-through gradients.

Forward values are exactly the integers of docs/contract.md (float32 holds them exactly
for A ≤ 24), so the eval forward pass and the golden model agree spike for spike;
backward uses a surrogate for the spike and straight-through estimators for the floor,
round and clamp operations. The time loop is one fused autograd function (train/lif_fn.py).
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from snn2fpga.core.contract import LIFParams, default_delta, membrane_code_range
from snn2fpga.train.lif_fn import LIFConstants, lif_loop
from snn2fpga.train.surrogate import check_surrogate


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
        check_surrogate(surrogate)
        self.surrogate, self.slope = surrogate, slope
        self.alpha = 1.0  # STDB's α (use_stdb)
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

    def constants(self, p: LIFParams) -> LIFConstants:
        """The fused loop's constants for contract parameters `p`."""
        acc = (-(2.0 ** (self.acc_bits - 1)), 2.0 ** (self.acc_bits - 1) - 1)
        codes = None if self.membrane == "full" else tuple(float(c) for c in membrane_code_range(p.membrane, p.acc_bits))
        return LIFConstants(float(p.delta), self.leak_shift, self.reset == "subtract", acc, codes, self.surrogate, self.slope, self.alpha)

    def use_stdb(self, alpha: float, beta: float) -> None:
        """Train with the STDB surrogate α·exp(−β·Δt) (hybrid fine-tuning); the forward is unchanged."""
        self.surrogate, self.slope, self.alpha = "stdb", beta, alpha

    def forward(self, current: torch.Tensor, scale: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        theta = self.int_threshold(scale)
        return lif_loop(current, theta, self.constants(self.params(scale)))

"""The fused LIF loop against the straight-through autograd loop it replaced: same values, same gradients."""

import itertools

import pytest
import torch

from snn2fpga.core.contract import membrane_code_range
from snn2fpga.train.neuron import QuantLIF
from snn2fpga.train.surrogate import surrogate_grad


class _Spike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, kind, slope):
        ctx.save_for_backward(x)
        ctx.kind, ctx.slope = kind, slope
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * surrogate_grad(ctx.kind, ctx.slope, x), None, None


def _ste(soft, exact):
    return soft + (exact - soft).detach()


def reference_loop(lif: QuantLIF, current: torch.Tensor, scale: torch.Tensor):
    """The step-by-step autograd loop of the previous QuantLIF.forward, kept here as the reference."""
    theta = lif.int_threshold(scale)
    p = lif.params(scale)
    lo_a, hi_a = -(2.0 ** (lif.acc_bits - 1)), 2.0 ** (lif.acc_bits - 1) - 1
    lo_m, hi_m = membrane_code_range(p.membrane, p.acc_bits)
    delta = float(p.delta)
    m = torch.zeros_like(current[:, 0])
    spikes, codes = [], []
    for t in range(current.shape[1]):
        v = delta * m
        if lif.leak_shift is not None:
            v = _ste(v * (1.0 - 2.0**-lif.leak_shift), v - torch.floor(v / 2.0**lif.leak_shift))
        u = torch.clamp(v + current[:, t], lo_a, hi_a)
        s = _Spike.apply((u - theta) / theta.detach(), lif.surrogate, lif.slope)
        u = u - theta * s.detach() if lif.reset == "subtract" else u * (1.0 - s.detach())
        if lif.membrane == "full":
            m = u
        else:
            m = _ste(torch.clamp(u / delta, lo_m, hi_m), torch.clamp(torch.floor((2 * u + delta) / (2 * delta)), lo_m, hi_m))
        spikes.append(s)
        codes.append(m)
    return torch.stack(spikes, 1), torch.stack(codes, 1)


CASES = [
    (membrane, leak, reset, surrogate)
    for membrane, leak, reset, surrogate in itertools.product(
        ["ternary", "int4", "full"], [2, None], ["subtract", "zero"], ["fast-sigmoid", "sigmoid"]
    )
]


@pytest.mark.parametrize("membrane, leak, reset, surrogate", CASES)
def test_fused_loop_matches_the_autograd_loop(membrane, leak, reset, surrogate):
    gen = torch.Generator().manual_seed(3)
    # integer currents, some large enough to hit the 8-bit accumulator clamp
    current = torch.randint(-6, 9, (6, 9, 20), generator=gen).float()
    current[0, 2, :4] = 200.0
    scale = torch.tensor(0.5)
    grads = []
    outs = []
    for fused in (True, False):
        lif = QuantLIF(membrane, leak, reset, acc_bits=8, surrogate=surrogate, slope=3.0)
        with torch.no_grad():
            lif.threshold.fill_(2.5)  # θ = 5 in integer units
        cur = current.clone().requires_grad_(True)
        s, m = lif(cur, scale) if fused else reference_loop(lif, cur, scale)
        w_s = torch.randn(s.shape, generator=torch.Generator().manual_seed(7))
        w_m = torch.randn(m.shape, generator=torch.Generator().manual_seed(8))
        ((s * w_s).sum() + 0.1 * (m * w_m).sum()).backward()
        outs.append((s.detach(), m.detach()))
        grads.append((cur.grad, lif.threshold.grad))
    assert torch.equal(outs[0][0], outs[1][0]) and torch.equal(outs[0][1], outs[1][1])
    assert outs[0][0].sum() > 0 and (outs[0][0] == 0).any()  # both spikes and silences were compared
    assert grads[1][0].abs().sum() > 0  # the reference has gradient to compare
    torch.testing.assert_close(grads[0][0], grads[1][0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(grads[0][1], grads[1][1], rtol=1e-4, atol=1e-5)

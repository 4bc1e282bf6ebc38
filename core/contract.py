"""The neuron contract (DESIGN §3, docs/contract.md) in exact integer arithmetic.

This is the one Python definition of what a quantized LIF layer computes. The golden
model, the QONNX op, the RTL tests and the HLS tests all call into it; nothing else in
Python re-implements the arithmetic.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

import numpy as np

WEIGHT_QUANTS: tuple[str, ...] = ("binary", "ternary") + tuple(f"int{b}" for b in range(2, 9))
MEMBRANE_QUANTS: tuple[str, ...] = ("ternary",) + tuple(f"int{n}" for n in range(2, 17)) + ("full",)
RESETS: tuple[str, ...] = ("subtract", "zero")
MAX_ACC_BITS = 22  # training runs the contract in float32: 2u + Δ must stay below 2**24


class ContractError(ValueError):
    """A parameter outside what the neuron contract defines."""


def _int_bits(name: str) -> int:
    """Bit width of an `intN` quantizer name; −1 for any other name."""
    try:
        return int(name[3:]) if name.startswith("int") else -1
    except ValueError:
        return -1


def weight_code_range(quant: str) -> tuple[int, int]:
    """Inclusive range of integer weight codes for a weight quantizer."""
    if quant == "binary":
        return -1, 1
    if quant == "ternary":
        return -1, 1
    bits = _int_bits(quant)
    if quant not in WEIGHT_QUANTS or bits < 2:
        raise ContractError(f"weight quantizer {quant!r} unknown; choose one of {', '.join(WEIGHT_QUANTS)}")
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def weight_code_bits(quant: str) -> int:
    """Bits one weight code takes in memory (binary: 1 bit, 0 → −1, 1 → +1)."""
    if quant == "binary":
        return 1
    if quant == "ternary":
        return 2
    weight_code_range(quant)
    return _int_bits(quant)


def weight_codes_valid(quant: str, codes: np.ndarray) -> bool:
    """True if every code is one the quantizer can produce (binary excludes 0)."""
    lo, hi = weight_code_range(quant)
    ok = bool(np.all((codes >= lo) & (codes <= hi)))
    if quant == "binary":
        ok = ok and not bool(np.any(codes == 0))
    return ok


def membrane_code_range(quant: str, acc_bits: int) -> tuple[int, int]:
    """Inclusive range of the stored membrane code m."""
    if quant == "ternary":
        return -1, 1
    if quant == "full":
        return -(2 ** (acc_bits - 1)), 2 ** (acc_bits - 1) - 1
    bits = _int_bits(quant)
    if quant not in MEMBRANE_QUANTS or bits < 2:
        raise ContractError(f"membrane quantizer {quant!r} unknown; choose one of {', '.join(MEMBRANE_QUANTS)}")
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def membrane_code_bits(quant: str, acc_bits: int) -> int:
    """Bits one stored membrane code takes (ternary: 2, intN: N, full: A)."""
    if quant == "ternary":
        return 2
    if quant == "full":
        return acc_bits
    membrane_code_range(quant, acc_bits)
    return _int_bits(quant)


def default_delta(membrane: str, threshold: int) -> int:
    """The membrane step Δ the project derives from θ (docs/contract.md, "Choice of Δ").

    ternary: Δ = ⌈θ/2⌉ (stored values −Δ, 0, +Δ straddle half the threshold);
    intN: the smallest Δ whose code range reaches ±2θ; full: Δ = 1.
    """
    if membrane == "full":
        return 1
    if membrane == "ternary":
        return max(1, (threshold + 1) // 2)
    _, hi = membrane_code_range(membrane, 32)
    return max(1, -(-2 * threshold // (hi + 1)))


@dataclass(frozen=True)
class LIFParams:
    """Parameters of one quantized LIF layer, all integers in units of the weight scale."""

    threshold: int
    leak_shift: Optional[int]  # k ≥ 1 (β = 1 − 2^−k); None = integrate-and-fire
    reset: str  # "subtract" | "zero"
    membrane: str  # "ternary" | "int2".."int16" | "full"
    delta: int  # Δ ≥ 1 (1 for "full")
    acc_bits: int  # A

    def __post_init__(self) -> None:
        if self.acc_bits < 2 or self.acc_bits > MAX_ACC_BITS:
            raise ContractError(f"acc_bits={self.acc_bits} outside 2..{MAX_ACC_BITS}")
        if self.reset not in RESETS:
            raise ContractError(f"reset={self.reset!r} unknown; choose one of {', '.join(RESETS)}")
        if self.leak_shift is not None and not (1 <= self.leak_shift < self.acc_bits):
            raise ContractError(f"leak_shift={self.leak_shift} outside 1..{self.acc_bits - 1} (or None for IF)")
        membrane_code_range(self.membrane, self.acc_bits)
        if self.membrane == "full" and self.delta != 1:
            raise ContractError(f"delta={self.delta} must be 1 for the 'full' membrane")
        if self.delta < 1:
            raise ContractError(f"delta={self.delta} must be a positive integer")
        if not (1 <= self.threshold <= 2 ** (self.acc_bits - 1) - 1):
            raise ContractError(f"threshold={self.threshold} outside 1..{2 ** (self.acc_bits - 1) - 1} for acc_bits={self.acc_bits}")
        lo, hi = membrane_code_range(self.membrane, self.acc_bits)
        if self.membrane != "full" and self.delta * max(-lo, hi) > 2 ** (self.acc_bits - 1):
            raise ContractError(
                f"delta={self.delta} × membrane codes {lo}..{hi} exceed acc_bits={self.acc_bits}"
            )

    def to_dict(self) -> dict:
        return asdict(self)


def saturate(x: np.ndarray, bits: int) -> np.ndarray:
    """Clamp to the signed range of `bits` bits."""
    return np.clip(x, -(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


def quantize_membrane(u: np.ndarray, p: LIFParams) -> np.ndarray:
    """m = clamp(floor((2u + Δ) / (2Δ))): round half up, clamped to the code range."""
    lo, hi = membrane_code_range(p.membrane, p.acc_bits)
    if p.membrane == "full":
        return u.copy()
    return np.clip(np.floor_divide(2 * u + p.delta, 2 * p.delta), lo, hi)


def lif_step(m_prev: np.ndarray, current: np.ndarray, p: LIFParams) -> tuple[np.ndarray, np.ndarray]:
    """One time step of the contract: returns (spikes as uint8, new membrane codes as int64).

    `m_prev` and `current` are integer arrays of the same shape (any leading batch dims).
    """
    v = p.delta * m_prev.astype(np.int64)
    if p.leak_shift is not None:
        v = v - (v >> p.leak_shift)  # numpy >> on signed ints is the arithmetic (floor) shift
    u = saturate(v + current.astype(np.int64), p.acc_bits)
    spikes = u >= p.threshold
    if p.reset == "subtract":
        u = u - p.threshold * spikes
    else:
        u = np.where(spikes, 0, u)
    return spikes.astype(np.uint8), quantize_membrane(u, p)


def signed_bits(lo: int, hi: int) -> int:
    """The fewest two's-complement bits that hold every integer in [lo, hi] (at least 1)."""
    lo, hi = min(int(lo), 0), max(int(hi), 0)
    return max(max(-lo - 1, 0).bit_length(), hi.bit_length()) + 1


def current_bits(weights: np.ndarray, bias: np.ndarray) -> int:
    """Signed bits that hold W·s + b for every binary s without wrapping (worst case)."""
    pos = np.clip(weights, 0, None).sum(axis=1) + np.clip(bias, 0, None)
    neg = np.clip(weights, None, 0).sum(axis=1) + np.clip(bias, None, 0)
    return signed_bits(int(neg.min(initial=0)), int(pos.max(initial=0)))


def readout(counts: np.ndarray) -> np.ndarray:
    """Class = argmax of the spike counts over the last axis, ties to the lowest index."""
    return np.argmax(counts, axis=-1)

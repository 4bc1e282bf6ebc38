"""Multiplication by a constant as shifts and adds, so no synthesis tool spends a DSP block on it.

Yosys maps every `$mul` whose operands are a few bits wide onto the FPGA's multipliers
(ECP5 MULT18X18D), even when one operand is a constant such as Δ = 5 or a row count:
one DSP per lane. A constant's canonical signed-digit form needs at most ⌈bits/2⌉ + 1
adders, which cost a handful of LUTs at these widths.
"""

from __future__ import annotations

from amaranth import Const, Value


def csd_digits(k: int) -> list[tuple[int, int]]:
    """(shift, ±1) pairs with Σ sign·2^shift == k ≥ 0, no two adjacent (canonical signed digits)."""
    if k < 0:
        raise ValueError(f"csd_digits takes k ≥ 0, got {k}")
    digits, shift = [], 0
    while k:
        if k & 1:
            d = 2 - (k & 3)  # +1 when k ≡ 1 (mod 4), −1 when k ≡ 3
            digits.append((shift, d))
            k -= d
        k >>= 1
        shift += 1
    return digits


def times_const(x: Value, k: int) -> Value:
    """x · k for a constant integer k, as a sum of shifted copies of x (signedness of x kept)."""
    digits = csd_digits(abs(k))
    if not digits:
        return Const(0, 1)
    pos = [x << s for s, d in digits if d > 0]
    neg = [x << s for s, d in digits if d < 0]
    total = pos[0] if pos else -neg.pop(0)
    for term in pos[1:]:
        total = total + term
    for term in neg:
        total = total - term
    return -total if k < 0 else total

"""Multiplication by a constant as shifts and adds, so no synthesis tool spends a DSP block on it.

Yosys maps every `$mul` whose operands are a few bits wide onto the FPGA's multipliers
(ECP5 MULT18X18D), even when one operand is a constant such as Δ = 5 or a row count:
one DSP per lane. A constant's canonical signed-digit form needs at most ⌈bits/2⌉ + 1
adders, which cost a handful of LUTs at these widths. Division by a constant (the conv and
pool units split a flat address c·H·W + y·W + x into c, y, x) is an exact multiply-and-shift.
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


def ceil_div(a: int, b: int) -> int:
    return -((-a) // b)


def reciprocal(divisor: int, x_max: int) -> tuple[int, int]:
    """(M, s) with floor(x·M / 2^s) == floor(x / divisor) for every 0 ≤ x ≤ x_max.

    With s = bits(x_max) + ⌈log2 divisor⌉ and M = ⌈2^s / divisor⌉ the error term
    x·(M·divisor − 2^s) / (divisor·2^s) stays below 1/divisor, so the floor is exact.
    """
    s = max(x_max, 1).bit_length() + (divisor - 1).bit_length()
    return ceil_div(2**s, divisor), s


def divmod_const(x: Value, divisor: int, x_max: int) -> tuple[Value, Value]:
    """(x // divisor, x % divisor) for an unsigned x ≤ x_max and a constant divisor ≥ 1, no divider built."""
    if divisor < 1:
        raise ValueError(f"divmod_const takes a divisor ≥ 1, got {divisor}")
    if divisor == 1:
        return x, Const(0, 1)
    if divisor & (divisor - 1) == 0:  # a power of two: the bits themselves
        k = divisor.bit_length() - 1
        return x >> k, x[:k]
    mult, shift = reciprocal(divisor, x_max)
    q = (times_const(x.as_unsigned(), mult) >> shift)[: max(1, x_max // divisor).bit_length()]
    r = (x - times_const(q, divisor))[: (divisor - 1).bit_length()]
    return q, r

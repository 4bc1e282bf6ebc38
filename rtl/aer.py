"""The AER word that travels between layers (DESIGN §5).

One word is either a spike, carrying the address of the neuron that fired, or the
end of a time step (`eos` set; its address is ignored and sent as 0). A step is the
addresses of the neurons that fired, in increasing order, followed by one eos word.

In Verilog the payload is one vector: `addr` in the low bits, `eos` in the top bit.
"""

from __future__ import annotations

from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import Out


def addr_bits(n: int) -> int:
    """Bits of an address into `n` neurons (at least 1)."""
    if n < 1:
        raise ValueError(f"a layer needs at least one neuron, got n={n}")
    return max(1, (n - 1).bit_length())


def aer_layout(n: int) -> data.StructLayout:
    """AER payload for a stream of addresses into `n` neurons: `addr` then `eos`."""
    return data.StructLayout({"addr": addr_bits(n), "eos": 1})


def aer_signature(n: int) -> stream.Signature:
    """valid/ready stream of AER words addressing `n` neurons."""
    return stream.Signature(aer_layout(n))


def tap_signature(n: int) -> wiring.Signature:
    """A read-only copy of one AER stream's handshake (debug tap): every member an output."""
    return wiring.Signature({"valid": Out(1), "ready": Out(1), "payload": Out(aer_layout(n))})

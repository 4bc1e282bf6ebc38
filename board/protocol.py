"""The serial framing between a host and the board top, one definition for both sides.

Bytes with bit 7 set are commands or frame headers, bytes with bit 7 clear are data, so a
receiver on either side finds the next frame after any garbage (the same idea as MIDI).
Host → board:

    0b10hhhhhh 0b0lllllll   SPIKE: input address h·128 + l (13 bits, < 8192)
    0xC0                    EOS: end of the current time step
    0xC1                    RESET: abandon any sample, clear the datapath and the error flags

Board → host:

    0xC1                                READY: the datapath is cleared (answers each RESET)
    0xD0|flags, label, count_0 … count_{C−1}  RESULT, after the T-th EOS; data bytes < 0x80

flags (sticky from the RESET to the RESULT): FRAMING (a stop bit was low), PROTOCOL (a byte
where it did not belong: a data byte outside a SPIKE, a command inside one, an unknown
command, a word after the T-th EOS), ADDRESS (an address ≥ N_in, dropped) and OVERRUN (a
byte arrived while the receive FIFO was full and was lost). docs/board.md has a worked example.
This module is numpy only: the host runner and the cocotb test both import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Union

import numpy as np

SPIKE = 0x80
EOS = 0xC0
RESET = 0xC1
READY = 0xC1
RESULT = 0xD0
ADDR_BITS = 13  # 6 bits in the SPIKE byte, 7 in the data byte
MAX_INPUTS = 1 << ADDR_BITS
MAX_VALUE = 0x7F  # a data byte: the largest label or count a RESULT can carry

FRAMING, PROTOCOL, ADDRESS, OVERRUN = 1, 2, 4, 8
FLAG_NAMES = {FRAMING: "framing", PROTOCOL: "protocol", ADDRESS: "address", OVERRUN: "overrun"}


class ProtocolError(ValueError):
    """A network or sample the framing cannot carry (too many inputs, classes or steps)."""


def check_network(n_in: int, n_classes: int, steps: int) -> None:
    """Refuse, naming the parameter, a network whose words or answers do not fit the framing."""
    if n_in > MAX_INPUTS:
        raise ProtocolError(f"the network has {n_in} inputs; the serial framing addresses at most {MAX_INPUTS}")
    if n_classes - 1 > MAX_VALUE:
        raise ProtocolError(f"the network has {n_classes} classes; a RESULT frame carries at most {MAX_VALUE + 1}")
    if steps > MAX_VALUE:
        raise ProtocolError(f"T = {steps} steps; a RESULT frame carries counts up to {MAX_VALUE}")


def encode_spike(addr: int) -> bytes:
    """The two bytes of one SPIKE word."""
    if not 0 <= addr < MAX_INPUTS:
        raise ProtocolError(f"input address {addr} outside 0…{MAX_INPUTS - 1}")
    return bytes((SPIKE | (addr >> 7), addr & 0x7F))


def encode_sample(spikes: np.ndarray) -> bytes:
    """RESET, then per time step the SPIKE words of the inputs that spiked (increasing) and EOS."""
    spikes = np.asarray(spikes)
    if spikes.ndim != 2:
        raise ProtocolError(f"a sample is [T, N_in] spikes, got shape {spikes.shape}")
    out = bytearray((RESET,))
    for step in spikes:
        for addr in np.flatnonzero(step):
            out += encode_spike(int(addr))
        out.append(EOS)
    return bytes(out)


def sample_bytes(spike_count: float, steps: int) -> float:
    """Bytes on the wire host → board for a sample with `spike_count` input spikes."""
    return 1 + 2 * spike_count + steps


def result_bytes(n_classes: int) -> int:
    """Bytes of a RESULT frame."""
    return 2 + n_classes


@dataclass(frozen=True)
class Ready:
    """The board cleared its datapath after a RESET."""


@dataclass(frozen=True)
class Result:
    """One sample's answer: the class, the spike count per class and the error flags."""

    flags: int
    label: int
    counts: tuple[int, ...]

    def flag_names(self) -> list[str]:
        return [name for bit, name in FLAG_NAMES.items() if self.flags & bit]


Answer = Union[Ready, Result]


class ResponseParser:
    """Board → host bytes to `Ready` / `Result` records; bytes outside a frame are counted in `junk`."""

    def __init__(self, n_classes: int):
        self.n_classes = n_classes
        self.junk = 0
        self._frame: list[int] = []  # the RESULT being received: header, label, counts

    def feed(self, data: Iterable[int]) -> list[Answer]:
        out: list[Answer] = []
        for byte in data:
            if byte & 0x80:
                self.junk += len(self._frame)  # a header inside a RESULT: the partial frame is lost
                self._frame = []
                if byte == READY:
                    out.append(Ready())
                elif byte & 0xF0 == RESULT:
                    self._frame = [byte]
                else:
                    self.junk += 1
            elif self._frame:
                self._frame.append(byte)
                if len(self._frame) == result_bytes(self.n_classes):
                    head, label, *counts = self._frame
                    out.append(Result(head & 0x0F, label, tuple(counts)))
                    self._frame = []
            else:
                self.junk += 1
        return out

"""How deep the receive FIFO must be, and how many samples a second the serial link carries.

The host sends at line rate, without flow control (most boards wire only RX and TX of their
USB UART), so the board must absorb every stall of its decoder. The decoder stalls only on
the datapath (rtl.cycle_model) and on its own answers; the bound below takes the worst
sample: every input spiking and every neuron firing at every step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snn2fpga.board import protocol as proto
from snn2fpga.core.golden import GoldenNetwork
from snn2fpga.rtl.cycle_model import CycleParams, schedule

BITS_PER_BYTE = 10  # 8N1: start, 8 data, stop
MIN_FIFO_DEPTH = 16
SLACK_BYTES = 4  # a byte in the receiver, one in the FIFO's output register, one being decoded, one spare


class BudgetError(ValueError):
    """The datapath takes a word more slowly than the link delivers one: no FIFO depth suffices."""


@dataclass(frozen=True)
class FifoBudget:
    """The worst-case stalls of the decoder, in clock cycles, and the FIFO depth they need."""

    step_stall: int  # the longest a step's EOS holds off the next word (sweep + emission)
    tail: int  # the last EOS accepted → done
    clear: int  # RESET → datapath ready again
    answer: int  # RESULT and READY on the wire
    byte_cycles: int  # one byte on the wire
    depth: int  # FIFO bytes: a power of two ≥ every byte that can arrive during the stalls of a sample

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def fifo_budget(network: GoldenNetwork, steps: int, lanes: int, units: int | None, divisor: int) -> FifoBudget:
    """The FIFO depth that no host sending at line rate can overrun (module doc)."""
    params = CycleParams.from_network(network, lanes, steps, units)
    byte_cycles = BITS_PER_BYTE * divisor
    spike_bytes = 2 * byte_cycles
    # every input of every layer spiking at every step: the cost of one input spike is G_l (dense)
    # or max(1, taps·G_l) (conv, which depends on where the spike is), `CycleParams.input_costs`
    sizes = [network.n_in] + [layer.n_out for layer in network.layers]
    costs = [np.full(n, g, dtype=np.int64) if c is None else c.astype(np.int64)
             for n, g, c in zip(sizes, params.event_rows, params.input_costs())]
    if costs[0].max() > spike_bytes:
        raise BudgetError(f"the first layer takes up to {costs[0].max()} cycles a spike and the link delivers one every "
                          f"{spike_bytes} cycles; choose a lower baud rate or more lanes")
    work = np.tile(np.array([c.sum() for c in costs], dtype=np.int64), (steps, 1))
    worst = schedule(params, np.tile(np.asarray(sizes, dtype=np.int64), (steps, 1)), work)
    stalls = worst.accumulate_start[1:, 0] - worst.accumulate_end[:-1, 0]
    step_stall = int(stalls.max()) if stalls.size else 0
    tail = worst.cycles - int(worst.accumulate_end[-1, 0])
    answer = (proto.result_bytes(sizes[-1]) + 1) * byte_cycles
    stalled = steps * step_stall + tail + params.clear_cycles() + answer
    need = -(-stalled // byte_cycles) + SLACK_BYTES
    depth = max(MIN_FIFO_DEPTH, 1 << (need - 1).bit_length())
    return FifoBudget(step_stall, tail, params.clear_cycles(), answer, byte_cycles, depth)


def link_samples_per_s(baud: int, steps: int, mean_input_spikes: float) -> float:
    """Samples a second the host → board direction carries at `baud` for a mean sample: RESET, two
    bytes per input spike, one EOS per step, ten bits a byte. (The answers, 3 + C bytes a
    sample, go the other way on their own wire.)"""
    return baud / (BITS_PER_BYTE * proto.sample_bytes(mean_input_spikes, steps))


@dataclass(frozen=True)
class Throughput:
    """Samples a second of a sample set: what the serial link carries beside what the datapath does."""

    samples: int
    mean_input_spikes: float
    mean_cycles: float  # the cycle model's, first word → done (docs/rtl.md), plus the clear
    baud: int
    clk_mhz: float
    link_samples_per_s: float
    datapath_samples_per_s: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def throughput(network: GoldenNetwork, steps: int, lanes: int, units: int | None, x: np.ndarray, baud: int,
               clk_hz: float) -> Throughput:
    """The link bound and the datapath's rate (cycle model at `clk_hz`) over the samples `x` [n, T, N_in]."""
    from snn2fpga.rtl.cycle_model import predict_cycles

    params = CycleParams.from_network(network, lanes, steps, units)
    cycles = predict_cycles(params, network.run(x), inputs=x) + params.clear_cycles()
    spikes = float(x.sum(axis=(1, 2)).mean())
    return Throughput(len(x), round(spikes, 1), round(float(cycles.mean()), 1), baud, clk_hz / 1e6,
                      round(link_samples_per_s(baud, steps, spikes), 2), round(clk_hz / float(cycles.mean()), 1))

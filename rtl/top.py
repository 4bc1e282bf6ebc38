"""The network top: layer cores (dense, conv) and pool units chained stream to stream, spike
counters and the class.

Ports (Verilog names in docs/rtl.md): `i_stream` AER words into the first layer,
`o_stream` the last layer's words (must be consumed: the counters count what leaves
here), `clear` a synchronous clear of every register and, through a clearing sweep, of
every layer's currents and membranes, `clearing` high while that sweep runs, `step` the
eos words that have left the last layer, `done` = (step == T), `counts` one counter per
class, `label` the argmax of the counts (ties to the lowest index), and `tap<l>` a
read-only copy of layer l's output handshake for a testbench monitor.
"""

from __future__ import annotations

from amaranth import Cat, Const, Module, Mux, ResetInserter, ResetSignal, Signal, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from snn2fpga.rtl.aer import aer_signature, tap_signature
from snn2fpga.rtl.conv import ConvCore
from snn2fpga.rtl.layer import LayerConfigError, LayerCore
from snn2fpga.rtl.point import layer_lanes
from snn2fpga.rtl.pool import PoolUnit
from snn2fpga.core.golden import ConvLayer, GoldenNetwork, Layer, PoolLayer


def make_core(layer: Layer, lanes: int, units: int | None = None) -> LayerCore | PoolUnit:
    """The hardware of one layer: a `LayerCore` (dense), a `ConvCore` or a `PoolUnit`."""
    if isinstance(layer, PoolLayer):
        return PoolUnit(layer)
    if isinstance(layer, ConvLayer):
        return ConvCore(layer, layer_lanes(layer, lanes), units)
    return LayerCore(layer, layer_lanes(layer, lanes), units)


class SNNTop(wiring.Component):
    """A `GoldenNetwork` in hardware: T time steps per sample, P lanes per layer (at most N_l, or
    C_out for a conv), Q LIF units per layer for the sweep (default: one per lane); pools have none."""

    def __init__(self, network: GoldenNetwork, steps: int, lanes: int, units: int | None = None):
        if not isinstance(steps, int) or steps < 1:
            raise LayerConfigError(f"steps={steps!r} must be a positive integer")
        self._network = network
        self._steps = steps
        self.layers = [make_core(layer, lanes, units) for layer in network.layers]
        n_out = network.layers[-1].n_out
        members = {
            "i_stream": In(aer_signature(network.n_in)),
            "o_stream": Out(aer_signature(n_out)),
            "clear": In(1),
            "clearing": Out(1),
            "step": Out(range(steps + 1)),
            "done": Out(1),
            "counts": Out(data.ArrayLayout(unsigned(self.count_bits), n_out)),
            "label": Out(range(max(n_out, 2))),
        }
        for i, layer in enumerate(network.layers):
            members[f"tap{i}"] = Out(tap_signature(layer.n_out))
        super().__init__(members)

    @property
    def network(self) -> GoldenNetwork:
        return self._network

    @property
    def steps(self) -> int:
        return self._steps

    @property
    def count_bits(self) -> int:
        return self._steps.bit_length()

    def elaborate(self, platform):
        m = Module()
        for i, core in enumerate(self.layers):
            m.submodules[f"layer{i}"] = core
        first, last = self.layers[0], self.layers[-1]

        # input: held off during reset, `clear`, and while any layer still clears its memories,
        # so that no word is handshaken and then discarded by the clear
        m.d.comb += self.clearing.eq(Cat(c.clearing for c in self.layers).any())
        hold = self.clearing | self.clear | ResetSignal("sync")
        m.d.comb += [
            first.i_stream.payload.eq(self.i_stream.payload),
            first.i_stream.valid.eq(self.i_stream.valid & ~hold),
            self.i_stream.ready.eq(first.i_stream.ready & ~hold),
        ]
        for a, b in zip(self.layers, self.layers[1:]):
            wiring.connect(m, a.o_stream, b.i_stream)
        wiring.connect(m, last.o_stream, wiring.flipped(self.o_stream))
        for i, core in enumerate(self.layers):
            tap = getattr(self, f"tap{i}")
            m.d.comb += [
                tap.valid.eq(core.o_stream.valid),
                tap.ready.eq(core.o_stream.ready),
                tap.payload.eq(core.o_stream.payload),
            ]
        self._readout(m)
        return ResetInserter({"sync": self.clear})(m)

    def _readout(self, m: Module) -> None:
        """Count the last layer's spikes and eos words; argmax of the counts."""
        o = self.o_stream
        m.d.comb += self.done.eq(self.step == self._steps)
        with m.If(o.valid & o.ready & ~self.done):
            with m.If(o.payload.eos):
                m.d.sync += self.step.eq(self.step + 1)
            for i in range(len(self.counts)):
                with m.Elif(o.payload.addr == i):
                    m.d.sync += self.counts[i].eq(self.counts[i] + 1)
        # One named signal per comparison stage: reusing the Mux expressions themselves makes the
        # converter copy each stage into both uses, 2^classes nodes (a million at 20 classes).
        best, best_count = Const(0, self.label.shape()), self.counts[0]
        for i in range(1, len(self.counts)):
            better = self.counts[i] > best_count
            stage, stage_count = Signal(self.label.shape(), name=f"best{i}"), Signal(self.counts[0].shape(), name=f"best_count{i}")
            m.d.comb += [stage.eq(Mux(better, i, best)), stage_count.eq(Mux(better, self.counts[i], best_count))]
            best, best_count = stage, stage_count
        m.d.comb += self.label.eq(best)

"""The conv core: an event-driven conv LIF layer with P lanes over output channels (DESIGN §7).

The layer core's memories and sweep, with a different address map (rtl/layer.py):

- weights are shared: one column W[:, c, i, j] of C_out codes per input channel and kernel tap,
  column (c·K_h + i)·K_w + j, in R = ⌈C_out/P⌉ rows of P lanes (row column·R + g);
- currents and membranes: one row per channel row g and output position, row g·H_out·W_out + pos
  (lane j is channel g·P + j), so the sweep visits R·H_out·W_out rows;
- the bias memory holds R rows (one per channel row), the currents are reset to them.

ACC: an input spike at (c, y, x) touches every output position (o_y, o_x) with tap
(i, j) = (y + P − S·o_y, x + P − S·o_x) inside the kernel: o_y from
max(0, ⌈(y + P − K_h + 1)/S⌉) to min(H_out − 1, ⌊(y + P)/S⌋), likewise o_x. Each valid tap costs R
cycles (one row of weights into one row of currents); a spike with no valid tap (in a row or
column the stride skips, or cut off by the map's edge) costs 1 cycle. So an input spike costs
max(1, taps·R) cycles (rtl/cycle_model.py).

The fired addresses are the contract's flat c·H_out·W_out + o_y·W_out + o_x, each at most once a
step. They leave in sweep order: channel row, then position, then lane. That is increasing only
at P = 1: lane j of a row is channel g·P + j, so inside a row the addresses step by H_out·W_out.
Sorting them would cost a buffer per lane and a P-way merge; every consumer (dense, conv, pool)
accumulates or ORs and takes addresses in any order, so the stream between layers is unordered.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, Value

from snn2fpga.core.golden import ConvLayer
from snn2fpga.rtl.arith import divmod_const, times_const
from snn2fpga.rtl.layer import LayerConfigError, LayerCore, _Ports


class ConvCore(LayerCore):
    """Event-driven conv LIF layer: AER words in (flat input addresses), AER words out."""

    kind = "conv"

    def __init__(self, layer: ConvLayer, lanes: int, units: int | None = None):
        if not isinstance(layer, ConvLayer):
            raise LayerConfigError(f"ConvCore takes a ConvLayer, got {type(layer).__name__}")
        super().__init__(layer, lanes, units)

    # ---- shape hooks ---------------------------------------------------------------------
    def _channels(self) -> int:
        return self._layer.out_shape.channels

    def _positions(self) -> int:
        out = self._layer.out_shape
        return out.height * out.width

    def _weight_columns(self):
        w = self._layer.weights  # [C_out, C_in, K_h, K_w] → columns (c, i, j) in row-major order
        return w.reshape(w.shape[0], -1).T

    def _make_ports(self) -> "_ConvPorts":
        return _ConvPorts(self)

    # ---- ACC -------------------------------------------------------------------------------
    def _axis_range(self, m: Module, coord: Value, size_out: int, kernel: int, name: str):
        """(first, last, empty, tap at first) along one axis for an input coordinate."""
        layer = self._layer
        s, pad = layer.stride, layer.padding
        coord_max = max(layer.in_shape.height, layer.in_shape.width) - 1 + pad
        shifted = Signal(range(coord_max + s + 1), name=f"{name}_shifted")  # y + P + S − K_h, clamped at 0
        m.d.comb += shifted.eq(Mux(coord + pad + s < kernel, 0, coord + pad + s - kernel))
        lo, _ = divmod_const(shifted, s, coord_max + s)
        top, _ = divmod_const(coord + pad, s, coord_max)
        first = Signal(range(max(size_out, 2)), name=f"{name}_first")
        last = Signal(range(max(size_out, 2)), name=f"{name}_last")
        empty = Signal(name=f"{name}_empty")
        m.d.comb += [
            empty.eq((lo > top) | (lo > size_out - 1)),
            first.eq(lo),
            last.eq(Mux(top > size_out - 1, size_out - 1, top)),
        ]
        tap = Signal(range(max(kernel, 2)), name=f"{name}_tap")
        m.d.comb += tap.eq(coord + pad - times_const(first, s))
        return first, last, empty, tap

    def _accumulate(self, m: Module, p: "_ConvPorts") -> None:
        """Each valid tap's R rows of weights into the currents at its output position; eos starts the sweep."""
        layer, rows_g = self._layer, self._event_rows
        (c_in, h, w), out = layer.in_shape.to_list(), layer.out_shape
        kh, kw = layer.kernel
        s = layer.stride
        last = (p.acc_row == rows_g - 1) & (p.ox == p.ox_last) & (p.oy == p.oy_last)
        m.d.comb += [
            self.i_stream.ready.eq(~p.busy | last),
            p.acc_issue.eq(p.busy),
            p.acc_cur.eq(times_const(p.acc_row, out.height * out.width) + times_const(p.oy, out.width) + p.ox),
            p.cur_rd.addr.eq(p.acc_cur),
            p.w_rd.addr.eq(times_const(p.chan, kh * kw * rows_g) + times_const(p.ti, kw * rows_g)
                           + times_const(p.tj, rows_g) + p.acc_row),
        ]
        with m.If(p.busy):
            with m.If(p.acc_row == rows_g - 1):
                m.d.sync += p.acc_row.eq(0)
                with m.If(p.ox == p.ox_last):
                    m.d.sync += [p.ox.eq(p.ox_first), p.tj.eq(p.tj_first), p.oy.eq(p.oy + 1), p.ti.eq(p.ti - s)]
                with m.Else():
                    m.d.sync += [p.ox.eq(p.ox + 1), p.tj.eq(p.tj - s)]
            with m.Else():
                m.d.sync += p.acc_row.eq(p.acc_row + 1)
            with m.If(last):
                m.d.sync += p.busy.eq(0)

        # decode the flat address c·H·W + y·W + x of the word on the input
        addr = self.i_stream.payload.addr
        rest, x = divmod_const(addr, w, layer.n_in - 1)
        chan, y = divmod_const(rest, h, c_in * h - 1)
        oy_first, oy_last, oy_empty, ti = self._axis_range(m, y, out.height, kh, "oy")
        ox_first, ox_last, ox_empty, tj = self._axis_range(m, x, out.width, kw, "ox")
        with m.If(self.i_stream.valid & self.i_stream.ready):
            with m.If(self.i_stream.payload.eos):
                m.next = "SWEEP"
            with m.Else():
                m.d.sync += [
                    p.busy.eq(~(oy_empty | ox_empty)),
                    p.acc_row.eq(0),
                    p.chan.eq(chan),
                    p.oy.eq(oy_first), p.oy_last.eq(oy_last), p.ti.eq(ti),
                    p.ox.eq(ox_first), p.ox_first.eq(ox_first), p.ox_last.eq(ox_last),
                    p.tj.eq(tj), p.tj_first.eq(tj),
                ]

    # ---- sweep hooks -------------------------------------------------------------------------
    def _issue_group(self, p: "_ConvPorts") -> Value:
        return p.issue_group

    def _on_issue(self, m: Module, p: "_ConvPorts") -> None:
        wrap = p.issue_pos == self._positions() - 1
        m.d.sync += [
            p.issue_pos.eq(Mux(wrap, 0, p.issue_pos + 1)),
            p.issue_group.eq(p.issue_group + wrap),
            p.s1_pos.eq(p.issue_pos),
            p.s1_group.eq(p.issue_group),
        ]

    def _on_sweep_end(self, m: Module, p: "_ConvPorts") -> None:
        m.d.sync += [p.issue_pos.eq(0), p.issue_group.eq(0)]

    def _s1_last_group(self, p: "_ConvPorts") -> Value:
        return p.s1_group == self._event_rows - 1

    def _fired_base(self, p: "_ConvPorts") -> Value:
        return times_const(p.s1_group, self._lanes * self._positions()) + p.s1_pos

    def _lane_offset(self, lane: Value) -> Value:
        return times_const(lane, self._positions())


class _ConvPorts(_Ports):
    """The layer core's ports and registers, plus the conv core's tap walk and sweep position."""

    def __init__(self, core: ConvCore):
        super().__init__(core)
        layer, groups, positions = core.layer, core.event_rows, core._positions()
        out = layer.out_shape
        kh, kw = layer.kernel
        self.chan = Signal(range(max(layer.in_shape.channels, 2)))
        self.oy = Signal(range(out.height + 1))
        self.oy_last = Signal(range(max(out.height, 2)))
        self.ox = Signal(range(max(out.width, 2)))
        self.ox_first = Signal(range(max(out.width, 2)))
        self.ox_last = Signal(range(max(out.width, 2)))
        self.ti = Signal(range(max(kh, 2)))
        self.tj = Signal(range(max(kw, 2)))
        self.tj_first = Signal(range(max(kw, 2)))
        self.issue_pos = Signal(range(max(positions, 2)))
        self.issue_group = Signal(range(groups + 1))
        self.s1_pos = Signal(range(max(positions, 2)))
        self.s1_group = Signal(range(max(groups, 2)))

"""The layer core: one event-driven LIF layer with P lanes (DESIGN §5, docs/rtl.md).

Neuron n lives in row n // P, lane n % P; R = ⌈N/P⌉ rows. Three phases, one at a time:

ACC    per input address a: R cycles, one per row, each reading the P weights of
       row (a, r) and adding them into the P currents of row r (read-modify-write of
       the current memory, which starts every step at the bias).
SWEEP  on the eos word: each row is read (membrane codes and currents), updated by
       Q `LIFUpdate` units (Q = P by default), written back (currents back to the bias);
       then the row's fired addresses go, one a cycle, into the spike buffer, lowest
       first. With Q = P a row is updated in C = 1 cycle; with Q < P in S = ⌈P/Q⌉ slices
       of Q lanes, one a cycle, each slice's inputs registered first (so the lane
       multiplexer and the LIF are not one long path): C = S + 1 cycles. A row costs
       C + (its spikes) cycles, so the sweep costs R·C + k, whatever the rows. Q < P
       trades sweep cycles (few next to ACC's R per input spike) for P − Q fewer LIF
       datapaths.
EMIT   the k buffered addresses, then the eos word, leave on `o_stream` one a cycle
       whenever the consumer is ready.

The spike buffer decouples the sweep from the consumer, so the cycles a step takes
depend only on spike *counts*, not on which neurons fired (rtl/cycle_model.py).

Reset (or the top's `clear`) puts the core in a clearing sweep: R + 2 cycles writing
the bias into every current row and 0 into every membrane row, `clearing` high.
"""

from __future__ import annotations

from amaranth import Array, Cat, Const, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import data, memory, wiring
from amaranth.lib.wiring import In, Out

from snn2fpga.rtl.aer import addr_bits, aer_signature
from snn2fpga.rtl.arith import times_const
from snn2fpga.rtl.emit import SpikeBufferRegs, drive_output, emit_words
from snn2fpga.rtl.neuron import LIFUpdate
from snn2fpga.core.contract import current_bits, membrane_code_bits, weight_code_bits
from snn2fpga.core.golden import QuantLayer


class LayerConfigError(ValueError):
    """A layer or lane count the layer core cannot be built for."""


def _rows(n: int, lanes: int) -> int:
    return -(-n // lanes)


class LayerCore(wiring.Component):
    """Event-driven LIF layer: AER words in (`i_stream`), AER words out (`o_stream`).

    Input: the addresses (< N_in, each at most once) of the step's input spikes in any
    order, then an eos word. Output: the addresses of the neurons that fired, in
    increasing order, then an eos word. `clearing` is high while memories are cleared.
    """

    def __init__(self, layer: QuantLayer, lanes: int, units: int | None = None):
        if not isinstance(lanes, int) or lanes < 1:
            raise LayerConfigError(f"lanes={lanes!r} must be a positive integer")
        if units is not None and (not isinstance(units, int) or units < 1):
            raise LayerConfigError(f"units={units!r} must be a positive integer (or None: one per lane)")
        self._layer = layer
        self._lanes = lanes
        self._units = lanes if units is None else min(units, lanes)
        self._slices = _rows(lanes, self._units)
        self._row_cycles = 1 if self._slices == 1 else self._slices + 1
        self._event_rows = _rows(self._channels(), lanes)
        self._rows = self._event_rows * self._positions()
        self._wbits = weight_code_bits(layer.weight_quant)
        self._cbits = current_bits(layer.weights.reshape(layer.weights.shape[0], -1), layer.bias)
        self._mbits = membrane_code_bits(layer.lif.membrane, layer.lif.acc_bits)
        super().__init__(
            {
                "i_stream": In(aer_signature(layer.n_in)),
                "o_stream": Out(aer_signature(layer.n_out)),
                "clearing": Out(1, init=1),
            }
        )
        # depth ≥ 2 everywhere: a one-word memory would have a zero-width address in Verilog
        rows = max(self._rows, 2)
        weight_rows = self.weight_rows()
        self.weights = memory.Memory(shape=self._weight_shape(), depth=max(len(weight_rows), 2), init=weight_rows)
        self.currents = memory.Memory(shape=self._row_shape(self._cbits), depth=rows, init=self.current_rows())
        self.membranes = memory.Memory(shape=self._row_shape(self._mbits), depth=rows, init=[])
        self.bias = None
        if layer.bias.any():
            self.bias = memory.Memory(shape=self._row_shape(self._cbits), depth=max(self._event_rows, 2), init=self.bias_rows())
        self.spike_buffer = memory.Memory(
            shape=unsigned(addr_bits(layer.n_out)), depth=max(layer.n_out, 2), init=[]
        )

    # ---- parameters, read-only -------------------------------------------------------
    @property
    def layer(self) -> QuantLayer:
        return self._layer

    @property
    def lanes(self) -> int:
        return self._lanes

    @property
    def rows(self) -> int:
        """Rows of P lanes the sweep visits (the current and membrane memories' depth)."""
        return self._rows

    @property
    def event_rows(self) -> int:
        """Cycles an input spike costs per weight column it touches: ⌈N/P⌉ (dense)."""
        return self._event_rows

    kind = "dense"

    @property
    def units(self) -> int:
        """Q: LIF datapaths of the sweep (≤ P)."""
        return self._units

    @property
    def slices(self) -> int:
        """S = ⌈P/Q⌉: slices of Q lanes a row is updated in."""
        return self._slices

    @property
    def row_cycles(self) -> int:
        """C: sweep cycles per row before its spikes are serialized (1, or S + 1 with Q < P)."""
        return self._row_cycles

    @property
    def current_bits(self) -> int:
        return self._cbits

    @property
    def weight_bits(self) -> int:
        return self._wbits

    @property
    def membrane_bits(self) -> int:
        return self._mbits

    def memories(self) -> dict[str, memory.Memory]:
        mems = {"weights": self.weights, "currents": self.currents, "membranes": self.membranes}
        if self.bias is not None:
            mems["bias"] = self.bias
        mems["spike_buffer"] = self.spike_buffer
        return mems

    # ---- shape hooks (a conv core overrides them) -------------------------------------
    def _channels(self) -> int:
        """Neurons that share one position, spread over the lanes (dense: all N)."""
        return self._layer.n_out

    def _positions(self) -> int:
        """Positions whose neurons share the weights (dense: 1)."""
        return 1

    def neuron_at(self, row: int, lane: int) -> int | None:
        """The flat neuron index held in lane `lane` of current/membrane row `row` (None: padding)."""
        group, pos = divmod(row, self._positions())
        channel = group * self._lanes + lane
        if channel >= self._channels():
            return None
        return channel * self._positions() + pos

    # ---- memory contents ---------------------------------------------------------------
    def _row_shape(self, bits: int) -> data.ArrayLayout:
        return data.ArrayLayout(signed(bits), self._lanes)

    def _weight_shape(self):
        lane = unsigned(1) if self._layer.weight_quant == "binary" else signed(self._wbits)
        return data.ArrayLayout(lane, self._lanes)

    def _lane_rows(self, column) -> list[list[int]]:
        """Split one value per channel into ⌈channels/P⌉ rows of P lanes, padding with 0."""
        p, rows = self._lanes, self._event_rows
        padded = list(column) + [0] * (rows * p - len(column))
        return [padded[r * p : (r + 1) * p] for r in range(rows)]

    def _weight_columns(self):
        """The weight columns in memory order, each one code per channel (dense: column a = W[:, a])."""
        return self._layer.weights.T

    def weight_rows(self) -> list[list[int]]:
        """Weight memory contents: row a·R + r holds column a's code of channel r·P + j in lane j
        (dense: W[r·P + j, a]; binary: 1 ↔ +1)."""
        binary = self._layer.weight_quant == "binary"
        return [row for col in self._weight_columns()
                for row in self._lane_rows(((col > 0) if binary else col).astype(int).tolist())]

    def bias_rows(self) -> list[list[int]]:
        """The bias of each channel row (the bias memory's contents)."""
        return self._lane_rows(self._layer.bias.tolist())

    def current_rows(self) -> list[list[int]]:
        """Initial current memory: row g·positions + pos holds channel row g's bias."""
        return [row for row in self.bias_rows() for _ in range(self._positions())]

    # ---- hardware -----------------------------------------------------------------------
    def elaborate(self, platform):
        m = Module()
        for name, mem in self.memories().items():
            m.submodules[name] = mem
        neurons = [LIFUpdate(self._layer.lif, self._cbits) for _ in range(self._units)]
        for j, neuron in enumerate(neurons):
            m.submodules[f"neuron{j}"] = neuron

        ports = self._make_ports()
        with m.FSM(init="SWEEP"):  # reset starts with a clearing sweep
            with m.State("ACC"):
                self._accumulate(m, ports)
            with m.State("SWEEP"):
                self._sweep(m, ports, neurons)
            with m.State("EMIT"):
                self._emit(m, ports)
        self._write_currents(m, ports)
        drive_output(m, self.o_stream, ports)
        return m

    def _make_ports(self) -> "_Ports":
        return _Ports(self)

    def _accumulate(self, m: Module, p: "_Ports") -> None:
        """One row of weights per cycle into the currents; the eos word starts the sweep."""
        last_row = p.acc_row == self._rows - 1
        m.d.comb += [
            self.i_stream.ready.eq(~p.busy | last_row),
            p.acc_issue.eq(p.busy),
            p.acc_cur.eq(p.acc_row),
            p.cur_rd.addr.eq(p.acc_cur),
            p.w_rd.addr.eq(times_const(p.acc_addr, self._rows) + p.acc_row),
        ]
        with m.If(p.busy):
            m.d.sync += p.acc_row.eq(Mux(last_row, 0, p.acc_row + 1))
            with m.If(last_row):
                m.d.sync += p.busy.eq(0)
        with m.If(self.i_stream.valid & self.i_stream.ready):
            with m.If(self.i_stream.payload.eos):
                m.next = "SWEEP"
            with m.Else():
                m.d.sync += [p.busy.eq(1), p.acc_row.eq(0), p.acc_addr.eq(self.i_stream.payload.addr)]

    def _sweep(self, m: Module, p: "_Ports", neurons: list[LIFUpdate]) -> None:
        """Update row by row; serialize each row's spikes into the spike buffer."""
        rows, lanes, n = self._rows, self._lanes, self._layer.n_out
        ready = p.s1_valid & (p.fired == 0)  # a row on the read ports, the last one's spikes out
        process = ready & ((p.slice == self._row_cycles - 1) | self.clearing)  # its last cycle: write back
        issue = (p.issue_row != rows) & (~p.s1_valid | process)
        if self._row_cycles > 1:
            with m.If(ready):
                m.d.sync += p.slice.eq(Mux(process, 0, p.slice + 1))
        for port in (p.cur_rd, p.mem_rd):
            m.d.comb += [port.addr.eq(p.issue_row), port.en.eq(issue)]
        if p.bias_rd is not None:
            m.d.comb += [p.bias_rd.addr.eq(self._issue_group(p)), p.bias_rd.en.eq(issue)]
        with m.If(issue):
            m.d.sync += [p.issue_row.eq(p.issue_row + 1), p.s1_row.eq(p.issue_row)]
            self._on_issue(m, p)
        m.d.sync += p.s1_valid.eq(issue | (p.s1_valid & ~process))

        # the row whose memory words are on the read ports: LIF slice by slice, then write
        # back and latch the spikes with the last slice
        lane_ok = Const((1 << lanes) - 1, lanes)
        channels = self._channels()
        if channels % lanes:
            lane_ok = Mux(self._s1_last_group(p), (1 << (channels % lanes)) - 1, lane_ok)
        m_next, spikes = self._lif_slices(m, p, neurons, ready)
        for j in range(lanes):
            m.d.comb += p.mem_wr.data[j].eq(Mux(self.clearing, 0, m_next[j]))
        m.d.comb += [p.mem_wr.addr.eq(p.s1_row), p.mem_wr.en.eq(process), p.sweep_write.eq(process)]
        with m.If(process):
            m.d.sync += [p.fired.eq(Mux(self.clearing, 0, spikes & lane_ok)), p.fired_base.eq(self._fired_base(p))]

        # one fired address a cycle into the buffer, lowest lane first
        lowest = Signal(range(max(lanes, 2)))
        for j in reversed(range(lanes)):
            with m.If(p.fired[j]):
                m.d.comb += lowest.eq(j)
        m.d.comb += [p.buf_wr.addr.eq(p.wr_ptr), p.buf_wr.data.eq(p.fired_base + self._lane_offset(lowest)),
                     p.buf_wr.en.eq(p.fired != 0)]
        with m.If(p.fired != 0):
            m.d.sync += [p.fired.eq(p.fired & (p.fired - 1)), p.wr_ptr.eq(p.wr_ptr + 1)]

        with m.If((p.issue_row == rows) & ~p.s1_valid & (p.fired == 0)):
            m.d.sync += [p.issue_row.eq(0), self.clearing.eq(0)]
            self._on_sweep_end(m, p)
            with m.If(self.clearing):
                m.next = "ACC"
            with m.Else():
                m.next = "EMIT"

    # ---- sweep hooks: where a row's neurons are (a conv core overrides them) ----------------
    def _issue_group(self, p: "_Ports") -> Value:
        """The channel row of the row being issued (its bias row)."""
        return p.issue_row

    def _on_issue(self, m: Module, p: "_Ports") -> None:
        """Extra counters that follow the issued row."""

    def _on_sweep_end(self, m: Module, p: "_Ports") -> None:
        """Reset those counters when the sweep ends."""

    def _s1_last_group(self, p: "_Ports") -> Value:
        """The row on the read ports is in the last channel row (its padding lanes never fire)."""
        return p.s1_row == self._rows - 1

    def _fired_base(self, p: "_Ports") -> Value:
        """Address of lane 0 of the row on the read ports (dense: row·P)."""
        return times_const(p.s1_row, self._lanes)

    def _lane_offset(self, lane: Value) -> Value:
        """Address step from lane 0 to `lane` (dense: the lane itself)."""
        return lane

    def _lif_slices(self, m: Module, p: "_Ports", neurons: list[LIFUpdate], ready: Value) -> tuple[list, Value]:
        """The Q units over the row on the read ports (lane j = slice·Q + unit), advancing while
        `ready`; earlier slices' results held in registers. Returns every lane's new code and
        the row's spike bits, valid in the row's last sweep cycle (the write-back)."""
        lanes, q = self._lanes, self._units
        if self._slices == 1:  # one unit per lane, straight from the read ports
            for j, neuron in enumerate(neurons):
                m.d.comb += [neuron.m.eq(p.mem_rd.data[j]), neuron.current.eq(p.cur_rd.data[j])]
            return [neuron.m_next for neuron in neurons], Cat(neuron.spike for neuron in neurons)
        # cycle c < S: slice c's inputs into registers; cycle c ≥ 1: the units on slice c − 1
        s_last = self._slices - 1
        for u, neuron in enumerate(neurons):
            lanes_u = [s * q + u for s in range(self._slices)]
            in_m, in_cur = Signal.like(neuron.m, name=f"in_m{u}"), Signal.like(neuron.current, name=f"in_cur{u}")
            with m.If(ready & (p.slice <= s_last)):
                m.d.sync += [
                    in_m.eq(Array(p.mem_rd.data[j] if j < lanes else 0 for j in lanes_u)[p.slice]),
                    in_cur.eq(Array(p.cur_rd.data[j] if j < lanes else 0 for j in lanes_u)[p.slice]),
                ]
            m.d.comb += [neuron.m.eq(in_m), neuron.current.eq(in_cur)]
        held_m = [Signal.like(neurons[0].m_next, name=f"held_m{j}") for j in range(lanes)]
        held_s = Signal(lanes)
        m_next, spikes = [], []
        for j in range(lanes):
            s, u = divmod(j, q)
            if s == s_last:  # the last slice is used as it is computed, in the write-back cycle
                m_next.append(neurons[u].m_next)
                spikes.append(neurons[u].spike)
                continue
            with m.If(ready & (p.slice == s + 1)):
                m.d.sync += [held_m[j].eq(neurons[u].m_next), held_s[j].eq(neurons[u].spike)]
            m_next.append(held_m[j])
            spikes.append(held_s[j])
        return m_next, Cat(spikes)

    def _emit(self, m: Module, p: "_Ports") -> None:
        """The buffered addresses, then eos, one word a cycle as the consumer allows."""
        emit_words(m, self.o_stream, p)

    def _write_currents(self, m: Module, p: "_Ports") -> None:
        """Current memory write port: an accumulate write, or the sweep's reset to the bias."""
        m.d.sync += [p.acc_wr.eq(p.acc_issue), p.acc_wr_row.eq(p.acc_cur)]
        binary = self._layer.weight_quant == "binary"
        with m.If(p.acc_wr):
            m.d.comb += [p.cur_wr.addr.eq(p.acc_wr_row), p.cur_wr.en.eq(1)]
            for j in range(self._lanes):
                w = p.w_rd.data[j]
                m.d.comb += p.cur_wr.data[j].eq(p.cur_rd.data[j] + (Mux(w, 1, -1) if binary else w))
        with m.Elif(p.sweep_write):
            m.d.comb += [p.cur_wr.addr.eq(p.s1_row), p.cur_wr.en.eq(1)]
            if p.bias_rd is not None:
                m.d.comb += p.cur_wr.data.eq(p.bias_rd.data)


class _Ports(SpikeBufferRegs):
    """The memory ports and the registers of one layer core, made inside elaborate()."""

    def __init__(self, core: LayerCore):
        # range(max(x, 2)): no zero-width registers when a dimension is 1
        rows, n, n_in = core.rows, core.layer.n_out, core.layer.n_in
        super().__init__(core.spike_buffer, n)
        self.w_rd = core.weights.read_port()
        self.cur_wr = core.currents.write_port()
        # a row is read back the cycle after its write only when R = 1 (R ≥ 2: consecutive reads are
        # different channel rows); the bypass costs a mux on the accumulate path
        self.cur_rd = core.currents.read_port(transparent_for=(self.cur_wr,) if core.event_rows == 1 else ())
        self.mem_wr = core.membranes.write_port()
        self.mem_rd = core.membranes.read_port()
        self.bias_rd = core.bias.read_port() if core.bias is not None else None
        # ACC
        self.busy = Signal()
        self.acc_row = Signal(range(max(rows, 2)))
        self.acc_addr = Signal(range(max(n_in, 2)))
        self.acc_issue = Signal()
        self.acc_cur = Signal(range(max(rows, 2)))  # the current row being read
        self.acc_wr = Signal()
        self.acc_wr_row = Signal(range(max(rows, 2)))
        # SWEEP
        self.issue_row = Signal(range(rows + 1))
        self.s1_valid = Signal()
        self.s1_row = Signal(range(max(rows, 2)))
        self.sweep_write = Signal()
        self.slice = Signal(range(max(core.row_cycles, 2)))
        self.fired = Signal(core.lanes)
        self.fired_base = Signal(range(max(rows * core.lanes, 2)))

"""The serial framing, the UART divisor, the board list, the FIFO budget and the host client,
without a simulator (the whole system under Verilator: tests/test_board_sim.py)."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from snn2fpga.board import protocol as proto
from snn2fpga.board.boards import BoardError, check_fits, get_board
from snn2fpga.board.budget import BudgetError, fifo_budget, link_samples_per_s
from snn2fpga.board.host import AnswerError, BoardClient, NoAnswerError
from snn2fpga.board.uart import BaudError, divisor_for
from snn2fpga.core.contract import LIFParams
from snn2fpga.core.golden import random_network

LIF = LIFParams(2, 2, "subtract", "ternary", 1, 8)


def test_a_sample_is_framed_as_docs_board_md_shows():
    """The worked example of docs/board.md, byte for byte (written out by hand there)."""
    x = np.zeros((2, 300), dtype=np.uint8)
    x[0, [5, 200]] = 1
    x[1, 299] = 1
    assert proto.encode_sample(x) == bytes([0xC1, 0x80, 0x05, 0x81, 0x48, 0xC0, 0x82, 0x2B, 0xC0])


def test_the_parser_reads_answers_and_resynchronizes_after_garbage():
    parser = proto.ResponseParser(3)
    got = parser.feed(bytes([0x07, 0xC1, 0xD4, 0x02, 0x00, 0x01, 0x05, 0xD0, 0x01, 0xC1, 0xFF, 0xD0, 0x00, 0x02, 0x01, 0x00]))
    assert got == [proto.Ready(), proto.Result(proto.ADDRESS, 2, (0, 1, 5)), proto.Ready(), proto.Result(0, 0, (2, 1, 0))]
    assert parser.junk == 1 + 2 + 1  # the stray 0x07, the cut RESULT (header + label), the unknown 0xFF
    assert got[1].flag_names() == ["address"]


def test_networks_the_framing_cannot_carry_are_refused_by_name():
    with pytest.raises(proto.ProtocolError, match="inputs"):
        proto.check_network(proto.MAX_INPUTS + 1, 10, 10)
    with pytest.raises(proto.ProtocolError, match="classes"):
        proto.check_network(100, 129, 10)
    with pytest.raises(proto.ProtocolError, match="steps"):
        proto.check_network(100, 10, 128)


def test_the_uart_divisor_is_whole_and_close_enough():
    assert divisor_for(25e6, 1_000_000) == 25
    assert divisor_for(12e6, 115_200) == 104  # 0.16 % fast
    with pytest.raises(BaudError, match="too fast"):
        divisor_for(12e6, 5_000_000)
    with pytest.raises(BaudError, match="off"):
        divisor_for(12e6, 1_600_000)  # 7.5 cycles a bit: 8 gives 1.5 Mbaud, 6.25 % slow

def test_an_unknown_board_lists_the_supported_ones():
    with pytest.raises(BoardError, match="supported: .*ulx3s-85f.*icebreaker"):
        get_board("de0-nano")


def test_a_model_too_big_for_the_board_names_block_ram():
    big = random_network([578, 128, 10], "ternary", LIF)  # the default model's shape: 150,528 weight bits
    with pytest.raises(BoardError, match=r"iCEBreaker.*block RAM: its weights need 150,528 bits, the up5k has 122,880"):
        check_fits(big, get_board("icebreaker"))
    check_fits(big, get_board("ulx3s-85f"))
    check_fits(random_network([162, 16, 10], "ternary", LIF), get_board("icebreaker"))


def test_the_link_bound_counts_every_byte():
    # 125 spikes a step over T = 10: 1 + 2·1250 + 10 bytes of 10 bits at 1 Mbaud
    assert link_samples_per_s(1_000_000, 10, 1250) == pytest.approx(1e6 / (10 * 2511))


def test_the_fifo_covers_the_worst_stalls_and_refuses_a_link_faster_than_the_datapath():
    net = random_network([578, 128, 10], "ternary", LIF)
    budget = fifo_budget(net, 10, 32, 1, 25)
    stalled = 10 * budget.step_stall + budget.tail + budget.clear + budget.answer
    assert budget.depth >= stalled / budget.byte_cycles and budget.depth & (budget.depth - 1) == 0
    with pytest.raises(BudgetError, match="lower baud rate"):
        fifo_budget(net, 10, 1, 1, 4)  # 128 rows a spike, a spike every 80 cycles


class _Silent:
    name = "silent"

    def write(self, data: bytes) -> None:
        pass

    def read(self, size: int, timeout: float) -> bytes:
        return b""


class _Scripted:
    name = "scripted"

    def __init__(self, replies: bytes):
        self.replies = replies

    def write(self, data: bytes) -> None:
        pass

    def read(self, size: int, timeout: float) -> bytes:
        out, self.replies = self.replies[:size], self.replies[size:]
        return out


def test_a_board_that_does_not_answer_times_out_in_one_line():
    with pytest.raises(NoAnswerError, match=r"^silent: no answer within 0.05 s \(waiting for READY after RESET\)") as info:
        BoardClient(_Silent(), 10, 0.05).reset(settle=0.01)
    assert "\n" not in str(info.value)


def test_answers_out_of_order_are_refused():
    client = BoardClient(_Scripted(bytes([0xD0, 0, 1, 0, 0])), 3, 0.05)
    with pytest.raises(AnswerError, match="READY"):
        list(client.classify([np.zeros((1, 4), dtype=np.uint8)]))


def test_a_real_serial_port_that_does_not_answer_times_out():
    """pyserial on a pseudo-terminal nobody answers on: one line after --timeout."""
    pytest.importorskip("serial")
    from snn2fpga.board.serial_link import PortError, SerialLink

    master, slave = os.openpty()
    try:
        link = SerialLink(os.ttyname(slave), 1_000_000)
        start = time.perf_counter()
        with pytest.raises(NoAnswerError, match="no answer within 0.2 s"):
            BoardClient(link, 10, 0.2).reset(settle=0.01)
        assert 0.15 < time.perf_counter() - start < 2
        link.close()
    finally:
        os.close(master)
        os.close(slave)
    with pytest.raises(PortError, match="/dev/nonexistent-tty: cannot open"):
        SerialLink("/dev/nonexistent-tty", 115_200)


def test_the_fifo_budget_of_a_conv_net_costs_a_spike_by_its_taps():
    """2×12×12 → 16c3p1: a centre spike takes 9 taps × ⌈16/P⌉ cycles, a corner 4×; the worst (centre) sets the limit."""
    from snn2fpga.core.golden import random_arch_network
    from snn2fpga.core.maps import MapShape

    net = random_arch_network(MapShape(2, 12, 12), "16c3p1-p2", 10, "ternary", LIF)
    budget = fifo_budget(net, 10, 16, 1, 25)  # 9 cycles a centre spike, a spike every 500 cycles (2 bytes of 10 bits)
    assert budget.step_stall > 0 and budget.depth & (budget.depth - 1) == 0
    with pytest.raises(BudgetError, match="up to 36 cycles a spike"):
        fifo_budget(net, 10, 4, 1, 1)  # 9 taps × ⌈16/4⌉ = 36 cycles, a spike every 20

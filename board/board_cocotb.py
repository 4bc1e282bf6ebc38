"""cocotb tests of the whole board top under Verilator: bytes in on the `rx` pin, bit by bit,
answers out of the `tx` pin, both through the host code `snn2fpga run-board` uses
(`host.BoardClient`, `runner.run_board`), which runs in a `cocotb.task.bridge` thread and
talks to the pins through `SimLink`. Started by board/simulate.py with $BOARD_PLAN naming a
JSON plan: the network, the samples (.npz), cycles per bit, where to write the report.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.task import bridge, resume
from cocotb.triggers import ClockCycles, Event, FallingEdge, First, Timer

from snn2fpga.board import protocol as proto
from snn2fpga.board.host import BoardClient
from snn2fpga.board.runner import run_board
from snn2fpga.core.golden import GoldenNetwork

PERIOD_NS = 10
ENV = "BOARD_PLAN"


class SimUart:
    """The host's end of the UART in simulation: drives `rx` bit by bit, decodes `tx`."""

    def __init__(self, dut, divisor: int):
        self.dut = dut
        self.bit_ns = divisor * PERIOD_NS
        self.received = bytearray()
        self.arrived = Event()
        self.framing_errors = 0  # stop bits the board sent low (must stay 0)

    async def send(self, data: bytes, stop_bit: int = 1) -> None:
        for byte in data:
            for bit in (0, *((byte >> i) & 1 for i in range(8)), stop_bit):
                self.dut.rx.value = bit
                await Timer(self.bit_ns, unit="ns")
        self.dut.rx.value = 1

    async def idle(self, bits: int, level: int = 1) -> None:
        self.dut.rx.value = level
        await Timer(bits * self.bit_ns, unit="ns")
        self.dut.rx.value = 1

    async def monitor(self) -> None:
        while True:
            await FallingEdge(self.dut.tx)
            await Timer(self.bit_ns // 2, unit="ns")
            byte = 0
            for i in range(8):
                await Timer(self.bit_ns, unit="ns")
                byte |= int(self.dut.tx.value) << i
            await Timer(self.bit_ns, unit="ns")
            self.framing_errors += int(self.dut.tx.value) == 0
            self.received.append(byte)
            self.arrived.set()

    async def receive(self, size: int, timeout_s: float) -> bytes:
        if not self.received:
            self.arrived.clear()
            await First(self.arrived.wait(), Timer(round(timeout_s * 1e9), unit="ns"))
        out = bytes(self.received[:size])
        del self.received[:size]
        return out


class SimLink:
    """`host.Link` over the simulated pins, for host code running in a bridge thread."""

    name = "simulated UART"

    def __init__(self, uart: SimUart):
        self.uart = uart

    def write(self, data: bytes) -> None:
        resume(self.uart.send)(data)

    def read(self, size: int, timeout: float) -> bytes:
        return resume(self.uart.receive)(size, timeout)


def _plan() -> dict:
    return json.loads(Path(os.environ[ENV]).read_text())


async def _start(dut, plan: dict) -> tuple[SimUart, BoardClient, GoldenNetwork, dict]:
    cocotb.start_soon(Clock(dut.clk, PERIOD_NS, unit="ns").start())
    dut.rx.value = 1
    dut.rst.value = 1
    await ClockCycles(dut.clk, 4)
    dut.rst.value = 0
    uart = SimUart(dut, plan["divisor"])
    cocotb.start_soon(uart.monitor())
    network = GoldenNetwork.from_dict(json.loads(Path(plan["network"]).read_text()))
    client = BoardClient(SimLink(uart), network.layers[-1].n_out, plan["timeout_s"])
    data = dict(np.load(plan["samples"]))
    return uart, client, network, data


def _report(plan: dict, test: str, content: dict) -> None:
    Path(f"{plan['report']}.{test}.json").write_text(json.dumps(content, indent=2) + "\n")


@cocotb.test()
async def samples(dut):
    """Every sample of the plan through the pins: class and counts equal the golden model's."""
    plan = _plan()
    uart, client, network, data = await _start(dut, plan)

    def host() -> dict:
        client.reset(plan["settle_s"])
        return run_board(client, network, data["x"], data["truth"], plan["tags"]).to_dict()

    start = cocotb.utils.get_sim_time("ns")
    result = await bridge(host)()
    result["sim_ns"] = cocotb.utils.get_sim_time("ns") - start
    result["tx_framing_errors"] = uart.framing_errors
    _report(plan, "samples", result)
    assert result["mismatches"] == 0, result["mismatch_list"]
    assert uart.framing_errors == 0


@cocotb.test()
async def garbage(dut):
    """Random bytes, bad stop bits and a break on the line; then RESET and correct answers. Then
    samples with a bad address, a stray byte and a bad stop bit inside: each answered with the
    golden counts and its error flag."""
    plan = _plan()
    uart, client, network, data = await _start(dut, plan)
    rng = np.random.default_rng(plan["seed"])
    x = data["x"]
    n_in = network.n_in
    golden = network.run(x)
    report: dict = {}

    for chunk in range(4):  # garbage: random bytes, some with a low stop bit, and a break
        junk = rng.integers(0, 256, 64, dtype=np.uint8).tobytes()
        await uart.send(junk[:48])
        await uart.send(junk[48:], stop_bit=0)
        await uart.idle(30, level=chunk % 2)  # a break (low for 3 bytes), or an idle line
    report["garbage_bytes"] = 256

    def after_garbage() -> dict:
        client.reset(plan["settle_s"])
        return run_board(client, network, x[:3], None, plan["tags"][:3]).to_dict()

    report["after_garbage"] = await bridge(after_garbage)()

    # one sample each with an address ≥ N_in, a stray data byte, and a byte with a low stop bit
    body = bytearray(proto.encode_sample(x[3]))
    first_eos = body.index(proto.EOS)
    bad_address = bytes(body[:first_eos]) + proto.encode_spike(n_in) + bytes(body[first_eos:])
    stray = bytes(body[:first_eos]) + b"\x05" + bytes(body[first_eos:])
    flags_seen = {}
    for name, frame, want in (("address", bad_address, proto.ADDRESS), ("protocol", stray, proto.PROTOCOL)):
        await uart.send(frame)
        answers = await _answers(uart, client, 2, plan["timeout_s"])
        flags_seen[name] = _check_flagged(answers, want, golden.counts[3], golden.label[3])
    await uart.send(bytes(body[:first_eos]))
    await uart.send(b"\x00", stop_bit=0)
    await uart.idle(10)
    await uart.send(bytes(body[first_eos:]))
    answers = await _answers(uart, client, 2, plan["timeout_s"])
    flags_seen["framing"] = _check_flagged(answers, proto.FRAMING, golden.counts[3], golden.label[3])
    report["flags"] = flags_seen

    def after_errors() -> dict:
        return run_board(client, network, x[4:7], None, plan["tags"][4:7]).to_dict()

    report["after_errors"] = await bridge(after_errors)()
    _report(plan, "garbage", report)
    assert report["after_garbage"]["mismatches"] == 0, report["after_garbage"]["mismatch_list"]
    assert report["after_errors"]["mismatches"] == 0, report["after_errors"]["mismatch_list"]
    assert all(v == "ok" for v in flags_seen.values()), flags_seen


async def _answers(uart: SimUart, client: BoardClient, n: int, timeout_s: float) -> list:
    """The next `n` answers off the pins (the test's own reads, outside a bridge thread)."""
    out: list = []
    while len(out) < n:
        data = await uart.receive(64, timeout_s)
        assert data, f"no answer within {timeout_s} s"
        out += client.parser.feed(data)
    return out


def _check_flagged(answers: list, flag: int, counts, label) -> str:
    """'ok' if the answers are READY then a RESULT with exactly `flag` and the golden counts."""
    if len(answers) != 2 or not isinstance(answers[0], proto.Ready) or not isinstance(answers[1], proto.Result):
        return f"answers {answers}"
    result = answers[1]
    if result.flags != flag:
        return f"flags {result.flag_names()}, expected {proto.FLAG_NAMES[flag]}"
    if result.counts != tuple(int(c) for c in counts) or result.label != int(label):
        return f"counts {result.counts} / class {result.label}, expected {tuple(counts)} / {label}"
    return "ok"

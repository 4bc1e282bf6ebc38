"""The whole board under Verilator: bytes on the UART pin, bit by bit, through the framing,
the datapath and back out of the TX pin, read by the same host code as `snn2fpga run-board`
(the cocotb tests are board/board_cocotb.py). The default trained model at the default
design point, 8 clock cycles a bit (the board's own rate is clk / baud: 25 on a ULX3S at
1 Mbaud; the logic is the same, only the divisor differs)."""

from __future__ import annotations

import pytest

from snn2fpga.board.simulate import run_board_sim
from snn2fpga.rtl.point import DesignPoint
from snn2fpga.sim.samples import dataset_samples, default_model

N_SAMPLES = 20


@pytest.fixture(scope="module")
def board_run():
    model = default_model()
    samples = dataset_samples(model, N_SAMPLES + 7)
    return run_board_sim(model.network, model.steps, DesignPoint(), samples.x, samples.truth, samples.tags, "default")


def test_samples_through_the_uart_pins_match_the_golden_model(board_run):
    report = board_run.reports.get("samples")
    assert report is not None, f"no report; see {board_run.run_dir / 'sim.log'}"
    assert report["samples"] == N_SAMPLES + 7
    assert report["mismatches"] == 0, report["mismatch_list"]
    assert report["tx_framing_errors"] == 0


def test_garbage_then_the_board_still_answers_correctly(board_run):
    report = board_run.reports.get("garbage")
    assert report is not None, f"no report; see {board_run.run_dir / 'sim.log'}"
    assert report["after_garbage"]["mismatches"] == 0, report["after_garbage"]["mismatch_list"]
    assert report["flags"] == {"address": "ok", "protocol": "ok", "framing": "ok"}
    assert report["after_errors"]["mismatches"] == 0, report["after_errors"]["mismatch_list"]
    assert board_run.ok

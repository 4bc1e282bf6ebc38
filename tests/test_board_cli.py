"""`snn2fpga run-board` end to end over a real pyserial port (a pseudo-terminal): a port
nobody answers on, and a stand-in board written here (its own decoder of the host's bytes,
answers from the golden model) that answers right, then once wrong."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from snn2fpga.cli import main
from snn2fpga.export import resolve_model
from snn2fpga.export.testing import make_run, random_spikes

pytest.importorskip("serial")


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    run = make_run(tmp_path_factory.mktemp("run") / "tiny", random_spikes(8, 10, 578, rate=0.1), hidden=[16])
    return resolve_model(run)


def _decode(data: bytes, n_in: int) -> list[np.ndarray]:
    """The samples in the host's bytes: RESET, (0b10hhhhhh 0lllllll)* 0xC0 per step (docs/board.md)."""
    samples, steps, step, i = [], None, None, 0
    while i < len(data):
        b = data[i]
        if b == 0xC1:
            steps, step = [], np.zeros(n_in, dtype=np.uint8)
            samples.append(steps)
        elif b == 0xC0:
            steps.append(step)
            step = np.zeros(n_in, dtype=np.uint8)
        elif i + 1 < len(data):  # a SPIKE whose second byte has arrived
            step[(b & 0x3F) * 128 + data[i + 1]] = 1
            i += 1
        i += 1
    return [np.stack(s) if s else np.zeros((0, n_in), dtype=np.uint8) for s in samples]


def _board(master: int, network, steps: int, n_samples: int, wrong: int | None) -> None:
    """In order, as the board does: READY for each RESET, RESULT once its sample has all its steps."""
    data = bytearray()
    sent = 0  # answer bytes written so far
    results = 0
    while results < n_samples:
        try:
            data += os.read(master, 4096)
        except OSError:  # the host closed the port (a failed run): nothing more to answer
            return
        answers = bytearray()
        results = 0
        for sample in _decode(bytes(data), network.n_in):
            answers.append(0xC1)
            if len(sample) < steps:  # the opening RESET of `reset()` (abandoned), or a sample still arriving
                continue
            golden = network.run(sample[None])
            counts = [int(c) for c in golden.counts[0]]
            if results == wrong:
                counts[0] += 1
            answers += bytes([0xD0, int(golden.label[0]), *counts])
            results += 1
        os.write(master, bytes(answers[sent:]))
        sent = len(answers)


def _run(model, capsys, wrong=None):
    master, slave = os.openpty()
    n = 5
    board = threading.Thread(target=_board, args=(master, model.network, model.steps, n, wrong), daemon=True)
    board.start()
    try:
        code = main(["run-board", str(model.path), "--port", os.ttyname(slave), "--n", str(n), "--timeout", "5",
                     "--out", os.devnull])
    finally:
        os.close(master)
        os.close(slave)
    return code, capsys.readouterr()


def test_run_board_compares_every_answer_with_the_golden_model(model, capsys):
    code, out = _run(model, capsys)
    assert code == 0, out.err
    assert "5 samples:" in out.out and "0 mismatches with the golden model" in out.out


def test_run_board_reports_a_wrong_count(model, capsys):
    code, out = _run(model, capsys, wrong=3)
    assert code == 1
    assert "1 mismatches" in out.out and "sample 3" in out.out and "counts expected" in out.out


def test_run_board_on_a_port_that_does_not_answer_says_so_in_one_line(model, capsys):
    master, slave = os.openpty()
    try:
        code = main(["run-board", str(model.path), "--port", os.ttyname(slave), "--n", "2", "--timeout", "0.3"])
    finally:
        os.close(master)
        os.close(slave)
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "no answer within 0.3 s (waiting for READY after RESET)" in err

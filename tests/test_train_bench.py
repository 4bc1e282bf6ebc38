"""`snn2fpga train-bench`: it times both networks and prints their ratio; bad shapes are one line."""

from __future__ import annotations

import re

import pytest

from snn2fpga.cli import main


def test_bench_prints_both_times_and_their_ratio(capsys):
    pytest.importorskip("snntorch", reason="snnTorch (the optional extra `bench`) is not installed")
    assert main(["train-bench", "--shape", "40-16-4", "--rounds", "1", "--iters", "2", "--threads", "1"]) == 0
    row = capsys.readouterr().out.strip().splitlines()[-1].split()
    assert row[0] == "40-16-4"
    project, snntorch, ratio = map(float, row[1:])
    assert project > 0 and snntorch > 0 and ratio == pytest.approx(project / snntorch, rel=0.02, abs=0.01)


@pytest.mark.parametrize("shape", ["578", "578-x-10", "0-10"])
def test_a_bad_shape_is_one_line(shape, capsys):
    assert main(["train-bench", "--shape", shape]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and re.search(r"--shape.*expected layer sizes like 578-128-10", err[0]), err

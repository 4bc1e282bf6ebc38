"""Testbench data of the hls4ml project, and reading back what its C++ testbench logs.

hls4ml's `<project>_test.cpp` reads `tb_data/tb_input_features.dat` line by line (one call
of the top function per line: the N_in input spikes, then the reset flag) and writes each
output array on a line of `tb_data/csim_results.log` (Vitis C simulation) or
`tb_data/rtl_cosim_results.log` (C/RTL co-simulation). `tb_output_predictions.dat` holds
the golden spikes of every layer for the same steps, one line per step.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from snn2fpga.hls.errors import HlsError

INPUTS = "tb_input_features.dat"
PREDICTIONS = "tb_output_predictions.dat"
LOGS = {"csim": "csim_results.log", "cosim": "rtl_cosim_results.log"}
NPY_INPUTS, NPY_OUTPUTS = "tb_inputs.npy", "tb_outputs.npy"


def testbench_rows(spikes: np.ndarray, golden_spikes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(inputs [B·T, N_in + 1] with the reset flag last, golden outputs [B·T, ΣN_l]) for samples [B, T, N_in]."""
    batch, steps, n_in = spikes.shape
    reset = np.zeros((batch, steps, 1), dtype=np.float32)
    reset[:, 0] = 1.0
    inputs = np.concatenate([spikes.astype(np.float32), reset], axis=2).reshape(batch * steps, n_in + 1)
    outputs = np.concatenate([s.astype(np.float32) for s in golden_spikes], axis=2).reshape(batch * steps, -1)
    return inputs, outputs


def write_npy(folder: Path, spikes: np.ndarray, golden_spikes: list[np.ndarray]) -> tuple[Path, Path]:
    """The two .npy files hls4ml turns into tb_data/*.dat (`input_data_tb`, `output_data_tb`)."""
    inputs, outputs = testbench_rows(spikes, golden_spikes)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / NPY_INPUTS, inputs)
    np.save(folder / NPY_OUTPUTS, outputs)
    return folder / NPY_INPUTS, folder / NPY_OUTPUTS


def read_rows(path: Path, width: int) -> np.ndarray:
    """All numbers of a .dat/.log file as rows of `width` (the log splits a step over one line per layer)."""
    path = Path(path)
    if not path.is_file():
        raise HlsError(f"{path}: no such testbench file")
    values = np.array(path.read_text().split(), dtype=np.float64)
    if values.size % width:
        raise HlsError(f"{path}: {values.size} values do not make rows of {width}")
    return values.reshape(-1, width)


def compare_log(project_dir: Path, which: str = "csim") -> tuple[int, int]:
    """(spike mismatches, steps) between a testbench log and the golden predictions of the project."""
    if which not in LOGS:
        raise HlsError(f"log {which!r} unknown; choose one of {', '.join(LOGS)}")
    tb = Path(project_dir) / "tb_data"
    want = np.loadtxt(tb / PREDICTIONS, ndmin=2)
    got = read_rows(tb / LOGS[which], want.shape[1])
    if got.shape != want.shape:
        raise HlsError(f"{tb / LOGS[which]}: {got.shape[0]} steps logged, {want.shape[0]} expected")
    return int(np.count_nonzero(got != want)), int(want.shape[0])

"""Bad input to the hardware commands: exit 2, one stderr line naming the problem, nothing written."""

from __future__ import annotations

import pytest

from snn2fpga.core.contract import LIFParams
from snn2fpga.core.golden import random_network
from test_train_cli import folder_hashes, refused


@pytest.fixture
def model(tmp_path):
    """A small exported network in a run-like folder."""
    from snn2fpga.export import export_network

    net = random_network([12, 6, 3], "ternary", LIFParams(3, 2, "subtract", "ternary", 2, 12), seed=1)
    return export_network(net, tmp_path / "runs" / "tiny" / "model.qonnx", steps=4)


@pytest.mark.parametrize(("args", "says"), [
    (["--n", "0"], "--n"),
    (["--n", "-5"], "--n"),
    (["--lanes", "0"], "--lanes"),
    (["--units", "0"], "--units"),
    (["--stall-in", "1.5"], "--stall-in"),
])
def test_sim_batch_range_checks_its_arguments(model, tmp_path, capsys, args, says):
    refused(["sim-batch", str(model), *args], capsys, tmp_path, says)


def test_sim_batch_on_a_missing_model(tmp_path, capsys):
    refused(["sim-batch", str(tmp_path / "runs" / "nothing")], capsys, tmp_path, "no such run folder or model file")


def test_sim_batch_on_a_model_that_records_no_data(model, tmp_path, capsys):
    """A bare network has no test split: said in one line, and no report is written."""
    refused(["sim-batch", str(model)], capsys, tmp_path, "records no training data")


@pytest.mark.parametrize("command", ["rtl", "synth", "sim-batch", "bench"])
def test_units_zero_means_the_same_everywhere(model, tmp_path, capsys, command):
    """Q = 0 is refused by every command that takes it (one LIF unit per lane is `--units all`)."""
    refused([command, str(model), "--units", "0"], capsys, tmp_path, "--units")


def test_a_corrupt_nir_file_is_named_as_such(tmp_path, capsys):
    bad = tmp_path / "model.nir"
    bad.write_bytes(b"not hdf5 at all")
    refused(["rtl", str(bad), "--out", str(tmp_path / "out")], capsys, tmp_path, "not a readable NIR file")


def test_a_file_of_another_kind_is_not_called_onnx(tmp_path, capsys):
    other = tmp_path / "weights.npz"
    other.write_bytes(b"PK")
    refused(["rtl", str(other)], capsys, tmp_path, "not a model: give a run folder, a .qonnx file or a .nir file")


def test_a_folder_with_one_recording_is_too_few(tmp_path, capsys):
    """N-MNIST layout with one recording: one line about the split, not a scikit-learn traceback."""
    import numpy as np

    from snn2fpga.core.events import make_events
    from snn2fpga.train.data import write_nmnist_bin

    ev = make_events(np.array([1, 2]), np.array([3, 4]), np.array([0, 10]), np.array([0, 1]))
    write_nmnist_bin(tmp_path / "data" / "Train" / "3" / "00001.bin", ev)
    out = tmp_path / "runs" / "one"
    refused(["train", "--dataset", "nmnist", "--data-dir", str(tmp_path / "data"), "--out", str(out)],
            capsys, tmp_path / "runs", "too few for a stratified hold-out")
    assert folder_hashes(out) == {}

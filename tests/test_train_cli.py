"""`snn2fpga train` and the model files: bad input gets exit 2, one stderr line, and an untouched run folder."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

from snn2fpga.cli import main
from snn2fpga.export.testing import make_run, random_spikes


def folder_hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under `folder`, by relative path (an absent folder: {})."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def refused(argv: list[str], capsys, folder: Path, says: str) -> None:
    """`snn2fpga argv` exits 2 with one stderr line containing `says`, and `folder` is unchanged."""
    before = folder_hashes(folder)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0], err
    assert folder_hashes(folder) == before


@pytest.fixture
def run(tmp_path) -> Path:
    """A trained-looking run folder (model.pt + config.json) with the command line's defaults but hidden [16]."""
    return make_run(tmp_path / "runs" / "r", random_spikes(8, 10, 578, rate=0.1), hidden=[16])


def test_a_trained_run_is_not_clobbered(run, capsys):
    refused(["train", "--out", str(run), "--epochs", "1"], capsys, run, "already holds a trained model")


def test_resume_needs_a_checkpoint(tmp_path, capsys):
    out = tmp_path / "runs" / "fresh"
    refused(["train", "--out", str(out), "--resume"], capsys, out, "no checkpoint")
    assert not out.exists()


def test_resume_with_other_settings_is_refused(run, capsys):
    refused(["train", "--out", str(run), "--resume", "--hidden", "64"], capsys, run, "hidden")


@pytest.mark.parametrize(("args", "says"), [
    (["--leak", "-3"], "--leak"),
    (["--slope", "-1"], "--slope"),
    (["--test-fraction", "1.5"], "--test-fraction"),
    (["--epochs", "0"], "--epochs"),
    (["--resume", "--overwrite"], "not allowed with"),
])
def test_bad_arguments_write_nothing(run, capsys, args, says):
    refused(["train", "--out", str(run), *args], capsys, run, says)


def test_ctrl_c_says_where_the_checkpoint_is(run, capsys, monkeypatch):
    import snn2fpga.train.pipeline as pipeline

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "run_training", interrupted)
    assert main(["train", "--out", str(run), "--resume"]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"the last checkpoint is {run / 'model.pt'}" in err[0]


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated"])
def test_an_empty_or_truncated_checkpoint_is_named(run, capsys, content):
    (run / "model.pt").write_bytes(content)
    refused(["export", str(run)], capsys, run, f"{run / 'model.pt'}: not a readable snn2fpga checkpoint")


class _Payload:
    """Unpickling this object would create a file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_checkpoint_carrying_a_pickled_object_is_refused_and_runs_nothing(run, capsys, tmp_path):
    marker = tmp_path / "code-ran"
    state = torch.load(run / "model.pt", weights_only=True)
    state["meta"]["payload"] = _Payload(marker)
    torch.save(state, run / "model.pt")
    refused(["export", str(run)], capsys, run, "not a readable snn2fpga checkpoint")
    assert not marker.exists()


def test_a_run_keeps_its_best_epoch_and_csv_and_resumes(tmp_path, capsys):
    """2 epochs: model.pt, model-best.pt and metrics.csv; --overwrite replaces, --resume continues from epoch 2."""
    import csv
    import json

    from snn2fpga.train.trainer import read_checkpoint

    out = tmp_path / "runs" / "small"
    args = ["train", "--out", str(out), "--hidden", "8", "--quiet"]
    assert main([*args, "--epochs", "2"]) == 0
    history = json.loads((out / "metrics.json").read_text())["history"]
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert [float(r["test_accuracy"]) for r in rows] == [h["test_accuracy"] for h in history]
    best = read_checkpoint(out / "model-best.pt")
    assert best["history"][-1]["test_accuracy"] == max(h["test_accuracy"] for h in history)
    capsys.readouterr()
    assert main([*args, "--epochs", "3", "--resume"]) == 0
    assert "resuming from epoch 2" in capsys.readouterr().out
    assert len(list(csv.DictReader((out / "metrics.csv").open()))) == 3
    assert main([*args, "--epochs", "1", "--overwrite"]) == 0
    assert len(list(csv.DictReader((out / "metrics.csv").open()))) == 1

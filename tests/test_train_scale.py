"""Training beyond one CPU process: --device, torchrun DDP on CPU (gloo), and their refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from snn2fpga.cli import main
from snn2fpga.train.config import TrainConfig
from snn2fpga.train.data.packed import pack
from snn2fpga.train.distributed import BatchSplitError, Placement, per_process_batch
from snn2fpga.train.trainer import train_model

ROOT = Path(__file__).resolve().parents[1]
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine (torch.cuda.is_available() is False)")


def toy(n=48, steps=5, n_in=30, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((n, steps, n_in)) < 0.3).astype(np.uint8), rng.integers(0, 3, n)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU, so --device cuda is not refused")
def test_device_cuda_without_a_gpu_is_one_line_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--device", "cuda", "--out", str(out), "--epochs", "1", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--device cuda: no CUDA GPU" in err[0], err
    assert not out.exists()


def test_more_processes_than_samples_per_batch_is_refused_with_the_numbers(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "4")  # as torchrun --nproc-per-node 4 would; refused before any process group
    monkeypatch.setenv("RANK", "0")
    out = tmp_path / "run"
    assert main(["train", "--batch-size", "2", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--batch-size 2 is smaller than the 4 training processes" in err[0], err
    assert not out.exists()
    monkeypatch.setenv("RANK", "3")  # the other processes refuse too, silently: one line in all
    assert main(["train", "--batch-size", "2", "--out", str(out), "--quiet"]) == 2
    assert capsys.readouterr().err == ""


def test_a_batch_splits_evenly_or_is_refused():
    assert per_process_batch(32, 2) == 16
    with pytest.raises(BatchSplitError, match=r"33 = 16 × 2 \+ 1"):
        per_process_batch(33, 2)


def torchrun(args: list[str], nproc: int = 2) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}", str(ROOT / "train" / "run.py"), *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


def test_torchrun_two_cpu_processes_train_and_resume(tmp_path):
    out = tmp_path / "ddp"
    common = ["--hidden", "8", "--out", str(out), "--quiet", "--batch-size", "32"]
    first = torchrun([*common, "--epochs", "1"])
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.stdout.count("test accuracy") == 1  # rank 0 alone reports
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "curves.png", "metrics.csv", "metrics.json", "model-best.pt", "model.pt", "raster.png"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["processes"] == 2 and metrics["device"] == "cpu"
    assert metrics["golden_agrees_with_model"]
    # the epoch's accuracy and loss cover both shards: every training sample once (the sampler pads to an even split)
    assert metrics["history"][0]["train_loss"] > 0
    resumed = torchrun([*common, "--epochs", "2", "--resume"])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    history = json.loads((out / "metrics.json").read_text())["history"]
    assert [h["epoch"] for h in history] == [1, 2]
    assert history[0] == metrics["history"][0]  # epoch 1 was carried over, not retrained


@needs_cuda
def test_a_gpu_trained_model_exports_the_codes_and_thresholds_of_its_cpu_evaluation(tmp_path):
    x, y = toy()
    cfg = TrainConfig(hidden=[12], epochs=2, batch_size=8, weights="int4", membrane="int8")
    model, _, _ = train_model(cfg, pack(x, y), x[:8], y[:8], 3, tmp_path / "gpu", progress=False, place=Placement(torch.device("cuda")))
    on_cpu = model.to_golden()  # train_model returns the model on the CPU
    on_gpu = model.cuda().to_golden()
    for a, b in zip(on_cpu.layers, on_gpu.layers):
        assert np.array_equal(a.weights, b.weights) and a.lif == b.lif
    with torch.no_grad():
        spikes, _ = model.eval().forward_all(torch.from_numpy(x).float().cuda())
    golden = on_cpu.run(x)
    for layer, s in enumerate(spikes):
        assert np.array_equal(s.cpu().numpy().astype(np.uint8), golden.spikes[layer]), f"layer {layer}"


@needs_cuda
def test_device_auto_picks_the_gpu():
    from snn2fpga.train.device import resolve_device

    assert resolve_device("auto").type == "cuda"


def test_loader_workers_do_not_change_training(tmp_path):
    """--workers only moves batch reading into other processes: the same batches, the same weights."""
    x, y = toy(n=40)
    cfg = TrainConfig(hidden=[10], epochs=2, batch_size=8)
    alone, _, _ = train_model(cfg, pack(x, y), x[:8], y[:8], 3, tmp_path / "a", progress=False)
    helped, _, _ = train_model(cfg, pack(x, y), x[:8], y[:8], 3, tmp_path / "b", progress=False, workers=2)
    for (name, a), (_, b) in zip(alone.state_dict().items(), helped.state_dict().items()):
        assert torch.equal(a, b), name

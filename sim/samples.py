"""Models and input samples for the testbenches and the batch run.

- `resolve_model(run_dir)`: the (GoldenNetwork, ExportMeta) of a run, read from its
  exported `model.qonnx` (exported into `build/sim/` first if the run has only a
  checkpoint, so nothing is written into runs/);
- `trained_model(dataset)`: `runs/<dataset>-ternary-ternary`, or, if that run does not
  exist, the default config on that dataset trained for one epoch into
  `build/sim/<dataset>-model` (a fresh clone: CI); `default_model()` is saccade-digits';
- `dataset_samples(meta, n)`: the model's dataset's test samples, binned with its T and pool;
- `nmnist_samples(steps, pool, n)`: real N-MNIST recordings from `../shared/data/nmnist-train1k`.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from sim.design import BUILD_ROOT, REPO

NMNIST_DIR = Path(os.environ.get("SNN2FPGA_NMNIST_DIR", REPO.parent / "shared" / "data" / "nmnist-train1k"))


@dataclass
class Samples:
    """Binned input spikes with where each came from."""

    x: np.ndarray  # uint8 [n, T, N_in]
    truth: np.ndarray  # int64 [n], dataset labels
    tags: list[str]

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def __add__(self, other: "Samples") -> "Samples":
        return Samples(np.concatenate([self.x, other.x]), np.concatenate([self.truth, other.truth]), self.tags + other.tags)


def _file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def resolve_model(run_dir: Path, export_dir: Optional[Path] = None):
    """(GoldenNetwork, ExportMeta, qonnx path) of a run folder or a .qonnx file.

    A run whose `model.qonnx` is missing or older than its `model.pt` is exported to
    `export_dir` (default `build/sim/exports/<name>-<hash of model.pt>.qonnx`), cached."""
    from export import load_network

    run_dir = Path(run_dir)
    if run_dir.suffix == ".qonnx":
        net, meta = load_network(run_dir)
        return net, meta, run_dir
    qonnx, ckpt = run_dir / "model.qonnx", run_dir / "model.pt"
    if qonnx.exists() and (not ckpt.exists() or qonnx.stat().st_mtime >= ckpt.stat().st_mtime):
        net, meta = load_network(qonnx)
        return net, meta, qonnx
    if not ckpt.exists():
        raise FileNotFoundError(f"{run_dir}: neither model.qonnx nor model.pt; train first (python train/run.py --out {run_dir})")
    from export import export_model

    out = (export_dir or BUILD_ROOT / "exports") / f"{run_dir.name}-{_file_sha(ckpt)}.qonnx"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.{os.getpid()}.qonnx")
        export_model(run_dir, tmp, check=False)
        tmp.replace(out)
    net, meta = load_network(out)
    return net, meta, out


def trained_model(dataset: str = "saccade-digits"):
    """The trained ternary/ternary model of `dataset` (see module doc): (GoldenNetwork, ExportMeta, qonnx path)."""
    run = REPO / "runs" / f"{dataset}-ternary-ternary"
    if (run / "model.pt").exists() or (run / "model.qonnx").exists():
        return resolve_model(run)
    fallback = BUILD_ROOT / f"{dataset}-model"
    if not (fallback / "model.pt").exists():
        fallback.parent.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, str(REPO / "train" / "run.py"), "--quiet", "--dataset", dataset, "--out", str(fallback), "--epochs", "1"]
        subprocess.run(cmd, check=True, cwd=REPO)
    return resolve_model(fallback, export_dir=fallback)


def default_model():
    """The default trained model: `trained_model("saccade-digits")`."""
    return trained_model("saccade-digits")


def dataset_samples(meta, n: Optional[int] = None, data_dir: Optional[str] = None) -> Samples:
    """The first `n` (all if None) test samples of the model's dataset, binned with its T and pool."""
    from train.data import load_dataset

    name = meta.dataset or "saccade-digits"
    if name == "nmnist" and data_dir is None:
        data_dir = str(NMNIST_DIR)
    ds = load_dataset(name, data_dir, meta.steps, meta.pool)
    n = len(ds.test_x) if n is None else min(n, len(ds.test_x))
    return Samples(ds.test_x[:n], ds.test_y[:n].astype(np.int64), [f"{name} test #{i}" for i in range(n)])


def nmnist_available() -> bool:
    return (NMNIST_DIR / "Train").is_dir()


def nmnist_samples(steps: int, pool: int, n: int, spread: bool = True) -> Samples:
    """`n` real N-MNIST recordings, binned (contract encoding) with `steps` and `pool`.

    `spread`: evenly spaced over the sorted file list (every class), else the first n."""
    from train.data import NMNIST_SENSOR, bin_events, list_nmnist, read_nmnist_bin

    files = list_nmnist(NMNIST_DIR, "Train")
    if n > len(files):
        raise ValueError(f"{NMNIST_DIR}: only {len(files)} recordings, {n} asked for")
    pick = np.linspace(0, len(files) - 1, n).round().astype(int) if spread else np.arange(n)
    x = np.stack([bin_events(read_nmnist_bin(files[i][0]), NMNIST_SENSOR, steps, pool) for i in pick]) if n else np.zeros((0, steps, 0), np.uint8)
    truth = np.array([files[i][1] for i in pick], dtype=np.int64)
    tags = [f"nmnist {files[i][0].relative_to(NMNIST_DIR)}" for i in pick]
    return Samples(x, truth, tags)


def describe_model(meta, qonnx: Path) -> str:
    return json.dumps({"qonnx": str(qonnx), "dataset": meta.dataset, "steps": meta.steps, "pool": meta.pool, "layers": list(meta.layer_sizes)})

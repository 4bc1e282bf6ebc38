"""One training run end to end: data → train → golden check → metrics and pictures in runs/<name>/."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np
import torch

from snn2fpga.train.config import TrainConfig
from snn2fpga.train.data.datasets import DATASETS, load_packed
from snn2fpga.train.distributed import Placement
from snn2fpga.train.methods.cost import layer_rows, predicted_cycles
from snn2fpga.train.plots import plot_curves, plot_raster
from snn2fpga.core.files import atomic_write, write_json
from snn2fpga.train.trainer import BEST_CHECKPOINT, CHECKPOINT, METRICS_CSV, evaluate, read_checkpoint, train_model


def per_class_accuracy(pred: np.ndarray, y: np.ndarray, classes: list[str]) -> dict[str, float]:
    """Accuracy of each class on the samples of that class (NaN-free: absent classes skipped)."""
    return {name: float((pred[y == c] == c).mean()) for c, name in enumerate(classes) if np.any(y == c)}


DERIVED = ("model.qonnx", "model.nir", BEST_CHECKPOINT, METRICS_CSV)  # of an earlier model.pt: stale once it is replaced


def check_run_folder(cfg: TrainConfig, out: Path, resume: bool, overwrite: bool) -> None:
    """Refuse, before anything is written, to clobber a trained run or to resume it with other settings."""
    ckpt = out / CHECKPOINT
    if resume:
        mine = asdict(cfg)
        # a setting added since the checkpoint was written has its default there (arch, layers: no plain default)
        saved = {"arch": None, "layers": [], **read_checkpoint(ckpt)["meta"]["config"]}
        added = {f.name: f.default for f in fields(TrainConfig)}
        for key in sorted(set(saved) | set(mine)):
            if key != "epochs" and saved.get(key, added.get(key)) != mine.get(key):
                raise ValueError(f"--resume: {ckpt} was trained with {key} = {saved.get(key)!r}, not {mine.get(key)!r}; "
                                 "resume with its settings, or train into another --out")
    elif ckpt.exists() and not overwrite:
        raise ValueError(f"{out} already holds a trained model ({ckpt}); pass --resume to continue it, "
                         "--overwrite to replace it, or another --out")


def run_training(cfg: TrainConfig, out: Path, resume: bool = False, progress: bool = True, on_batch=None,
                 overwrite: bool = False, place: Placement = Placement(torch.device("cpu")), workers: int = 0) -> dict:
    """Train per `cfg`, write model.pt, config.json, metrics.json, curves.png, raster.png; return metrics.

    An existing trained run in `out` is continued with `resume`, replaced with `overwrite`,
    and otherwise refused (check_run_folder) before anything is written. Under torchrun
    (`place.world` > 1) rank 0 bins the data first and alone writes files; the other
    ranks return an empty dict."""
    out = Path(out)
    if cfg.arch is not None and cfg.dataset in DATASETS:  # an empty map or a kernel larger than its input is refused before any data is read
        cfg.plan(len(DATASETS[cfg.dataset].classes))
    check_run_folder(cfg, out, resume, overwrite)
    t0 = time.perf_counter()
    if not place.main:
        place.barrier()  # rank 0 bins and caches the dataset first; the others then read the cache
    data = load_packed(cfg.dataset, cfg.data_dir, steps=cfg.steps, pool=cfg.pool, seed=cfg.seed, test_fraction=cfg.test_fraction)
    test_x, test_y = data.test.spikes(np.arange(len(data.test))), np.array(data.test.labels)
    if place.main:
        place.barrier()
    data_seconds = time.perf_counter() - t0
    if place.main:
        out.mkdir(parents=True, exist_ok=True)
        if not resume:
            for name in DERIVED:
                (out / name).unlink(missing_ok=True)
        atomic_write(out / "config.json", cfg.save)
    n_classes = len(data.classes)
    start, hybrid = None, None
    if cfg.method == "hybrid":  # ANN → converted SNN, then fine-tuned below (train/methods/hybrid.py)
        from snn2fpga.train.methods.hybrid import HYBRID_REPORT, prepare

        if resume:
            hybrid = json.loads((out / HYBRID_REPORT).read_text())
        else:
            start, hybrid = prepare(cfg, data.train, test_x, test_y, n_classes)
            if place.main:
                write_json(out / HYBRID_REPORT, hybrid)
    model, history, seconds = train_model(
        cfg, data.train, test_x, test_y, n_classes, out, resume=resume, on_batch=on_batch,
        progress=progress, place=place, workers=workers, model=start,
    )
    if not place.main:
        return {}
    pruned_from = None
    if cfg.prune > 0:  # the gated-off hidden neurons removed: model.pt and config.json now hold the smaller network
        from snn2fpga.train.methods.prune import prune

        pruned_from = list(cfg.hidden)
        model, cfg = prune(model, cfg)
        state = read_checkpoint(out / CHECKPOINT)
        state["model"] = model.state_dict()
        state["meta"]["config"] = asdict(cfg)
        atomic_write(out / CHECKPOINT, lambda tmp: torch.save(state, tmp))
        atomic_write(out / "config.json", cfg.save)
    test_acc, pred = evaluate(model, test_x, test_y)
    golden = model.to_golden()
    g = golden.run(test_x)
    metrics = {
        "dataset": cfg.dataset,
        "config": asdict(cfg),
        "n_in": data.train.n_in,
        "train_samples": len(data.train),
        "test_samples": int(len(test_y)),
        "test_accuracy": test_acc,
        "golden_test_accuracy": float((g.label == test_y).mean()),
        "golden_agrees_with_model": bool(np.array_equal(g.label, pred)),
        "per_class_accuracy": per_class_accuracy(g.label, test_y, data.classes),
        "thresholds": [golden.layers[i].lif.threshold for i in golden.lif_layers],
        "deltas": [golden.layers[i].lif.delta for i in golden.lif_layers],
        "layers": [{"kind": layer.kind, "n_out": layer.n_out, "out_shape": str(getattr(layer, "out_shape", layer.n_out))}
                   for layer in golden.layers],
        "mean_spikes_per_step": [float(test_x.sum(axis=2).mean())] + [float(s.sum(axis=2).mean()) for s in g.spikes],
        "train_seconds": seconds,
        "device": str(place.device),
        "processes": place.world,
        "data_seconds": data_seconds,
        "history": history,
    }
    counts = np.stack([test_x.sum(axis=2)] + [s.sum(axis=2) for s in g.spikes], axis=2)
    metrics["predicted_cycles"] = float(predicted_cycles(counts, layer_rows([s.shape[2] for s in g.spikes])).mean())
    if pruned_from is not None:
        metrics["pruned_from_hidden"] = pruned_from
    if hybrid is not None:
        metrics["hybrid"] = {**hybrid, "fine_tuned_accuracy": test_acc}
    if cfg.weights in ("binary", "ternary"):
        from snn2fpga.train.methods.cbp import near_level_fraction

        metrics["latent_near_level"] = near_level_fraction(model, cfg.weights)
    write_json(out / "metrics.json", metrics)
    plot_curves(history, out / "curves.png")
    plot_raster(
        [test_x[0]] + [s[0] for s in g.spikes],
        ["input"] + [f"layer {i}" for i in range(len(g.spikes))],
        f"{cfg.dataset}: test sample 0 (label {data.classes[test_y[0]]}, predicted {data.classes[g.label[0]]})",
        out / "raster.png",
    )
    return metrics

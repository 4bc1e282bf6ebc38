"""Bring your own model: a float NIR graph (snnTorch, Norse, …) → quantized run folder (docs/export.md, "Importing NIR").

The graph's layers (`nir_float.float_layers`) are quantized after training to the chosen
weight quantizer (`quantize`), optionally fine-tuned on a dataset with the project's
quantization-aware trainer, and written as a run folder (model.pt, config.json,
metrics.json, then model.qonnx and model.nir) that every later stage reads.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional, Union

import numpy as np

from snn2fpga.core.contract import ContractError
from snn2fpga.export.errors import ModelFileError, UnsupportedModelError
from snn2fpga.export.nir_bridge import KEY, _scalar
from snn2fpga.export.nir_float import SEMANTICS, FloatLayer, float_layers, graph_dt, simulate_float, spike_agreement

DEFAULT_RESET = "zero"  # NIR's own semantics: reset to v_reset = 0 in the same step
DEFAULT_SEMANTICS = SEMANTICS[0]
FINETUNE_LR = 1e-3
RANDOM_RATE = 0.1  # input spike rate of the random samples the agreement is measured on without --data
RANDOM_SAMPLES = 64



def _best_alpha(fc, weight: np.ndarray) -> tuple[float, float]:
    """The divisor α of the float weights whose quantized copy α·Q(W/α) is nearest W (least squares); and its relative error.

    The layer's own Brevitas quantizer does the quantizing; α, folded into the threshold
    and the bias, is free. The search runs from 2·max|W| down to 2^−6·max|W|, 16 steps an
    octave (powers of two included), and keeps the largest α of equal error: fixed-point
    quantizers repeat every octave, and the largest α leaves the latent weights below 1,
    where the trainer's learning rate moves codes when fine-tuning."""
    import torch

    w = torch.tensor(weight, dtype=torch.float32)
    top = float(w.abs().max())
    if top == 0:
        return 1.0, 0.0
    norm = float((w**2).sum())
    e = math.floor(math.log2(top))
    best = (1.0, math.inf)
    for a in np.exp2(np.arange((e + 1) * 16, (e - 6) * 16 - 1, -1) / 16):
        fc.weight.copy_(w / float(a))
        err = float(((fc.quant_weight().value * float(a) - w) ** 2).sum())
        if err < best[1] * (1 - 1e-6):
            best = (float(a), err)
    return best[0], best[1] / norm


def quantize(layers: list[FloatLayer], cfg, where: str):
    """A QuantSNN holding the layers after training quantization: weights W/α, θ = ⌊v_thr/u⌋ + 1, bias b/u, with u = α·s.

    Returns the model and one record per layer (the mapping, for metrics.json)."""
    import torch

    from snn2fpga.train.model import QuantSNN

    model = QuantSNN(layers[0].n_in, layers[-1].n_out, cfg)
    records = []
    top = 2 ** (cfg.acc_bits - 1) - 1
    with torch.no_grad():
        for i, (layer, fc, lif) in enumerate(zip(layers, model.fcs, model.lifs)):
            alpha, err = _best_alpha(fc, layer.weight)
            fc.weight.copy_(torch.tensor(layer.weight / alpha, dtype=torch.float32))
            s = float(model.scale(i))
            unit = alpha * s  # the real value of one integer unit of current
            theta = math.floor(layer.threshold / unit) + 1  # V > v_thr ⟺ u ≥ ⌊v_thr/u⌋ + 1 for integer u
            if theta > top:
                raise UnsupportedModelError(f"{where}: node {layer.neuron!r}: threshold {theta} units exceeds the "
                                            f"accumulator (A = {cfg.acc_bits}); raise --acc-bits")
            lif.threshold.fill_(theta * s)
            if model.biases is not None:
                model.biases[i].copy_(torch.tensor(layer.bias / alpha, dtype=torch.float32))
            records.append({
                "fc": layer.fc, "neuron": layer.neuron, "beta_source": layer.beta,
                "leak_shift": layer.leak_shift, "beta_contract": 1.0 if layer.leak_shift is None else 1 - 2.0**-layer.leak_shift,
                "v_threshold": layer.threshold, "unit": unit, "theta": theta, "weight_scale": s,
                "weight_relative_mse": err,
            })
    try:
        model.to_golden()
    except ContractError as e:
        raise UnsupportedModelError(f"{where}: {e}") from None
    return model, records


@dataclass(frozen=True)
class ImportResult:
    """What `import_nir` wrote and measured."""

    out: Path
    metrics: dict

    def summary(self) -> list[str]:
        """Lines for the command's output: mapping, agreement and accuracies."""
        imp = self.metrics["import"]
        lines = [f"dt = {imp['dt']:g} ({imp['dt_from']})"]
        for r in imp["layers"]:
            leak = "IF" if r["leak_shift"] is None else f"β {r['beta_source']:.4f} → k = {r['leak_shift']} (β = {r['beta_contract']:.4f})"
            lines.append(f"  {r['fc']} → {r['neuron']}: {leak}; v_threshold {r['v_threshold']:g} → θ = {r['theta']} units of "
                         f"{r['unit']:.4g}; weight error (relative MSE) {r['weight_relative_mse']:.3f}")
        for stage, agr in imp["agreement"].items():
            lines.append(f"spike agreement with the float graph under {imp['reference']} ({stage}), {imp['measured_on']}: "
                         f"{100 * agr['all']:.2f} % of all spike decisions, output layer {100 * agr['output']:.2f} % "
                         f"(reference spike rate per layer {', '.join(f'{r:.3f}' for r in agr['reference_spike_rate'])})")
        for stage, acc in imp["accuracy"].items():
            lines.append(f"test accuracy, {stage}: {100 * acc:.2f} %")
        return lines


def import_nir(path: Union[str, Path], out: Union[str, Path], weights: str, membrane: str, reset: str = DEFAULT_RESET,
               acc_bits: int = 16, steps: Optional[int] = None, dt: Optional[float] = None, dataset: Optional[str] = None,
               data_dir: Optional[str] = None, pool: Optional[int] = None, finetune_epochs: int = 0, lr: float = FINETUNE_LR,
               seed: int = 0, semantics: str = DEFAULT_SEMANTICS, overwrite: bool = False, progress: bool = False) -> ImportResult:
    """Read, map, quantize (and fine-tune) the NIR file at `path` into the run folder `out`; nothing is written on an error."""
    import nir

    from snn2fpga.core.files import building_dir, write_json
    from snn2fpga.export.nir_bridge import export_nir
    from snn2fpga.export.qonnx_export import export_model
    from snn2fpga.train.config import TrainConfig
    from snn2fpga.train.trainer import CHECKPOINT

    path, out = Path(path), Path(out)
    if finetune_epochs and dataset is None:
        raise ValueError("--finetune-epochs needs a dataset (--data)")
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:  # the run folder is replaced whole
        what = f"a model ({out / CHECKPOINT})" if (out / CHECKPOINT).exists() else "files"
        raise ValueError(f"{out} already holds {what}; pass --overwrite (it replaces the folder) or another --out")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such NIR file")
    try:
        graph = nir.read(str(path))
    except Exception as e:  # h5py and nir raise OSError, KeyError, ValueError, TypeError… on a foreign file
        raise ModelFileError(f"{path}: not a readable NIR file ({type(e).__name__}: {e})") from None
    where = str(path)
    step, dt_from = graph_dt(graph, dt)
    layers = float_layers(graph, step, where)
    if len(layers) == 1:
        raise UnsupportedModelError(f"{where}: one layer; the hardware takes a hidden layer and an output layer at least")
    recorded = (graph.metadata or {}).get(KEY, {}).get("steps")
    t = steps if steps is not None else int(_scalar(recorded)) if recorded is not None else TrainConfig().steps
    cfg = TrainConfig(
        dataset=dataset or "", data_dir=data_dir, weights=weights, membrane=membrane, leak=layers[0].leak_shift,
        reset=reset, steps=t, pool=pool if pool is not None else 1 if dataset is None else None,
        hidden=[layer.n_out for layer in layers[:-1]], acc_bits=acc_bits,
        epochs=max(1, finetune_epochs), lr=lr, seed=seed, bias=any(np.any(layer.bias != 0) for layer in layers),
    )
    data = _load_data(cfg, layers[0].n_in, where) if dataset is not None else None
    x = data.test_x if data is not None else _random_inputs(t, layers[0].n_in, seed)
    model, records = quantize(layers, cfg, where)
    reference = simulate_float(layers, x, semantics, reset)
    spikes = model.to_golden().run(x).spikes
    agreement = {"after quantization": spike_agreement(spikes, reference)}
    accuracy = {}
    if data is not None:
        accuracy[f"float ({semantics} semantics)"] = _accuracy(reference[-1], data.test_y)
        accuracy["quantized (golden model)"] = _accuracy(spikes[-1], data.test_y)
    meta_import = {"source": str(path.resolve()), "dt": step, "dt_from": dt_from, "layers": records,
                   "reference": f"{semantics} semantics" + (f", {reset} reset" if semantics == "snntorch" else ""),
                   "measured_on": f"{len(x)} {dataset} test samples" if data is not None
                   else f"{len(x)} random samples ({RANDOM_RATE:g} input spike rate, seed {seed})"}
    with building_dir(out) as work:
        seconds = 0.0
        if finetune_epochs:
            from snn2fpga.train.data.packed import pack
            from snn2fpga.train.trainer import train_model

            model, history, seconds = train_model(cfg, pack(data.train_x, data.train_y), data.test_x, data.test_y,
                                                  len(data.classes), work, model=model, progress=progress)
            spikes = model.to_golden().run(x).spikes
            agreement["after fine-tuning"] = spike_agreement(spikes, reference)
            accuracy["fine-tuned (golden model)"] = _accuracy(spikes[-1], data.test_y)
        else:
            _save_untrained(work / CHECKPOINT, model, cfg, layers[0].n_in)
        cfg.save(work / "config.json")
        metrics = {
            "dataset": cfg.dataset, "config": asdict(cfg), "n_in": layers[0].n_in, "train_seconds": seconds,
            "import": {**meta_import, "agreement": agreement, "accuracy": accuracy},
        }
        if data is not None:
            final = list(accuracy.values())[-1]
            metrics.update(test_samples=int(len(data.test_y)), test_accuracy=final, golden_test_accuracy=final)
        write_json(work / "metrics.json", metrics)
    export_nir(export_model(out))
    return ImportResult(out, metrics)


def _load_data(cfg, n_in: int, where: str):
    """The dataset the run is scored (and fine-tuned) on; its input width must be the graph's."""
    data = cfg.data_source().load()
    if data.n_in != n_in:
        raise UnsupportedModelError(f"{where}: the graph takes {n_in} inputs; {cfg.dataset} at pool {cfg.pool} gives "
                                    f"{data.n_in} (choose --pool)")
    return data


def _random_inputs(steps: int, n_in: int, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).random((RANDOM_SAMPLES, steps, n_in)) < RANDOM_RATE).astype(np.uint8)


def _accuracy(out_spikes: np.ndarray, labels: np.ndarray) -> float:
    """Spike-count readout accuracy (argmax, ties to the lowest index, as the contract's readout)."""
    from snn2fpga.core.contract import readout

    return float(np.mean(readout(out_spikes.sum(axis=1)) == labels))


def _save_untrained(path: Path, model, cfg, n_in: int) -> None:
    """A checkpoint as the trainer writes it, at epoch 0 (the imported weights, no training)."""
    import torch

    from snn2fpga.train.trainer import save_checkpoint

    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs)
    meta = {"config": asdict(cfg), "n_in": int(n_in), "n_classes": model.fcs[-1].out_features, "train_seconds": 0.0}
    save_checkpoint(path, model, opt, sched, 0, [], meta)

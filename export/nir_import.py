"""Bring your own model: a float NIR graph (snnTorch, Norse, …) → quantized run folder (docs/export.md, "Importing NIR").

The graph is read as a chain Input → [Flatten] → (Affine|Linear → LIF|IF)* → Output
(`FloatLayer`s, in the contract's discrete time), each layer quantized after training
to the chosen weight quantizer (`quantize`), optionally fine-tuned on a dataset with the
project's quantization-aware trainer, and written as a run folder (model.pt,
config.json, metrics.json, then model.qonnx and model.nir) that every later stage reads.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

from snn2fpga.core.contract import ContractError
from snn2fpga.export.errors import ModelFileError, UnsupportedModelError
from snn2fpga.export.nir_bridge import KEY, _chain, _scalar, _uniform

# Why a node type the hardware has no layer for is refused (the message names the node).
REFUSED = {
    "Conv1d": "conv layers are not supported yet",
    "Conv2d": "conv layers are not supported yet",
    "SumPool2d": "pooling layers are not supported yet (they follow conv layers)",
    "AvgPool2d": "pooling layers are not supported yet (they follow conv layers)",
    "CubaLIF": "the synaptic-current state (DESIGN §7) is not in the neuron contract yet",
    "NIRGraph": "a subgraph (e.g. a recurrent layer) is not a feed-forward layer",
    "LI": "a leaky integrator does not spike; the readout counts spikes of a LIF/IF layer",
}
SUPPORTED = "Input, Output, Flatten, Affine, Linear, LIF, IF"
RANDOM_RATE = 0.1  # input spike rate of the random samples the agreement is measured on without --data
RANDOM_SAMPLES = 64


@dataclass(frozen=True)
class FloatLayer:
    """One Affine/Linear → LIF/IF pair in discrete time: V ← β·V + W·x + b, fire on V > threshold, V ← 0."""

    fc: str  # the Affine/Linear node's name
    neuron: str  # the LIF/IF node's name
    weight: np.ndarray  # float64 [N, N_in], the input gain dt·R/τ (LIF) or dt·R (IF) folded in
    bias: np.ndarray  # float64 [N], gain folded in
    threshold: float  # v_threshold
    beta: float  # the source's decay 1 − dt/τ (1 for IF)
    leak_shift: Optional[int]  # the contract's k, β = 1 − 2^−k nearest the source's β in log2(τ/dt); None = IF

    @property
    def n_out(self) -> int:
        return self.weight.shape[0]

    @property
    def n_in(self) -> int:
        return self.weight.shape[1]


def graph_dt(graph, dt: Optional[float]) -> tuple[float, str]:
    """The time step: given, else the graph's snn2fpga metadata, else τ/r of its first LIF (snnTorch writes r = τ/dt), else 1."""
    import nir

    if dt is not None:
        return float(dt), "given (--dt)"
    meta = (graph.metadata or {}).get(KEY, {})
    if "dt" in meta:
        return float(_scalar(meta["dt"])), f"graph metadata {KEY}.dt"
    for name, node in graph.nodes.items():
        if isinstance(node, nir.LIF):
            tau, r = np.asarray(node.tau, np.float64).ravel(), np.asarray(node.r, np.float64).ravel()
            if tau.size and r.size and r[0] > 0 and math.isfinite(tau[0] / r[0]):
                return float(tau[0] / r[0]), f"τ/r of node {name!r} (snnTorch's export writes r = τ/dt)"
    return 1.0, "default 1 (no LIF node to infer it from)"


def float_layers(graph, dt: float, where: str) -> list[FloatLayer]:
    """The graph's layers; UnsupportedModelError names the node and the reason for anything else."""
    import nir

    for name, node in graph.nodes.items():  # refuse known-unsupported types before the shape of the graph
        reason = REFUSED.get(type(node).__name__)
        if reason is not None:
            raise UnsupportedModelError(f"{where}: node {name!r} ({type(node).__name__}): {reason}")
    chain = [(n, node) for n, node in _chain(graph, where) if not isinstance(node, nir.Flatten)]
    for name, node in chain:
        if not isinstance(node, (nir.Affine, nir.Linear, nir.LIF, nir.IF)):
            raise UnsupportedModelError(f"{where}: node {name!r} ({type(node).__name__}) is not supported; supported: {SUPPORTED}")
    layers = []
    for j in range(0, len(chain), 2):
        pair = chain[j : j + 2]
        if len(pair) != 2 or not isinstance(pair[0][1], (nir.Affine, nir.Linear)) or not isinstance(pair[1][1], (nir.LIF, nir.IF)):
            name, node = pair[-1] if len(pair) == 2 and isinstance(pair[0][1], (nir.Affine, nir.Linear)) else pair[0]
            raise UnsupportedModelError(f"{where}: node {name!r} ({type(node).__name__}) is out of place: "
                                        "the hardware takes pairs Affine/Linear → LIF/IF")
        layers.append(_float_layer(pair[0], pair[1], dt, where))
    if not layers:
        raise UnsupportedModelError(f"{where}: no Affine/Linear → LIF/IF layer")
    for prev, layer in zip(layers, layers[1:]):
        if layer.n_in != prev.n_out:
            raise ModelFileError(f"{where}: node {layer.fc!r} takes {layer.n_in} inputs but {prev.neuron!r} has {prev.n_out} neurons")
        if layer.leak_shift != layers[0].leak_shift:
            raise UnsupportedModelError(f"{where}: node {layer.neuron!r} has leak shift {layer.leak_shift}, {layers[0].neuron!r} "
                                        f"{layers[0].leak_shift}; a trained run has one leak for every layer")
    return layers


def _float_layer(fc_item: tuple[str, Any], neuron_item: tuple[str, Any], dt: float, where: str) -> FloatLayer:
    """One layer by forward Euler with step dt; refuses what the contract's neuron cannot do."""
    import nir

    (fc_name, fc), (name, neuron) = fc_item, neuron_item
    here = f"{where}: node {name!r} ({type(neuron).__name__})"
    w = np.asarray(fc.weight, np.float64)
    if w.ndim != 2:
        raise UnsupportedModelError(f"{where}: node {fc_name!r}: weight of shape {w.shape} is not a matrix [N, N_in]")
    b = np.asarray(fc.bias, np.float64).ravel() if isinstance(fc, nir.Affine) else np.zeros(w.shape[0])
    if b.shape != (w.shape[0],):
        raise ModelFileError(f"{where}: node {fc_name!r}: bias of shape {b.shape} for {w.shape[0]} outputs")
    if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
        raise ModelFileError(f"{where}: node {fc_name!r}: weights or bias are not finite")
    v_reset = getattr(neuron, "v_reset", None)
    if v_reset is not None and _uniform(v_reset, "v_reset", here) != 0.0:
        raise UnsupportedModelError(f"{here}: v_reset must be 0 (the contract resets to 0 or subtracts θ)")
    threshold = _uniform(neuron.v_threshold, "v_threshold", here)
    if not threshold > 0:
        raise UnsupportedModelError(f"{here}: v_threshold = {threshold} must be positive")
    r = _uniform(neuron.r, "r", here)
    if isinstance(neuron, nir.IF):
        gain, beta, k = r * dt, 1.0, None  # V ← V + dt·R·I
    else:
        if _uniform(neuron.v_leak, "v_leak", here) != 0.0:
            raise UnsupportedModelError(f"{here}: v_leak must be 0 (the contract decays towards 0)")
        ratio = _uniform(neuron.tau, "tau", here) / dt
        if not ratio >= math.sqrt(2):
            raise UnsupportedModelError(f"{here}: tau/dt = {ratio:g} gives β = 1 − dt/τ below 0.29, less than the smallest "
                                        f"shift leak (k = 1, β = 0.5); was dt = {dt:g} the graph's time step? (--dt)")
        gain, beta = r / ratio, 1.0 - 1.0 / ratio  # V ← (1 − dt/τ)·V + (dt/τ)·R·I
        k = max(1, round(math.log2(ratio)))
    if not (gain > 0 and math.isfinite(gain)):
        raise UnsupportedModelError(f"{here}: input gain {gain:g} (r = {r:g}, dt = {dt:g}) must be positive")
    return FloatLayer(fc_name, name, w * gain, b * gain, threshold, beta, k)


SEMANTICS = ("nir", "snntorch")  # the float reference the imported network is compared with


def simulate_float(layers: list[FloatLayer], spikes: np.ndarray, semantics: str = "nir", reset: str = "zero") -> list[np.ndarray]:
    """The float network in float64 under a source's semantics; spikes per layer [B, T, N].

    nir: V ← β·V + W·x + b, s = V > v_threshold, V ← 0 where s (the graph's written semantics, Norse's LIFBox).
    snntorch: snnTorch's `Leaky` (reset_delay): the spike of step t resets at step t + 1, by
    subtracting the threshold (reset "subtract") or zeroing β·V + W·x + b (reset "zero").
    Written by hand: no library simulates a NIR graph by its definition, and each framework
    imports a graph into its own neuron."""
    if semantics not in SEMANTICS:
        raise ValueError(f"semantics {semantics!r} unknown; choose one of {', '.join(SEMANTICS)}")
    x = np.asarray(spikes, np.float64)
    out = []
    for layer in layers:
        v = np.zeros((x.shape[0], layer.n_out))
        s = np.zeros_like(v, dtype=bool)
        s_all = np.zeros((x.shape[0], x.shape[1], layer.n_out), np.uint8)
        for t in range(x.shape[1]):
            v = layer.beta * v + x[:, t] @ layer.weight.T + layer.bias
            if semantics == "snntorch":
                v = v - layer.threshold * s if reset == "subtract" else np.where(s, 0.0, v)
            s = v > layer.threshold
            if semantics == "nir":
                v = np.where(s, 0.0, v)
            s_all[:, t] = s
        out.append(s_all)
        x = s_all.astype(np.float64)
    return out


def spike_agreement(a: list[np.ndarray], b: list[np.ndarray]) -> dict:
    """Fraction of equal spike decisions (every layer, step, neuron and sample), overall and per layer."""
    per_layer = [float(np.mean(x == y)) for x, y in zip(a, b)]
    equal = sum(int(np.sum(x == y)) for x, y in zip(a, b))
    total = sum(x.size for x in a)
    return {"all": equal / total if total else 1.0, "per_layer": per_layer,
            "output": per_layer[-1] if per_layer else 1.0, "reference_spike_rate": [float(y.mean()) for y in b]}


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


def import_nir(path: Union[str, Path], out: Union[str, Path], weights: str, membrane: str, reset: str = "zero",
               acc_bits: int = 16, steps: Optional[int] = None, dt: Optional[float] = None, dataset: Optional[str] = None,
               data_dir: Optional[str] = None, pool: Optional[int] = None, finetune_epochs: int = 0, lr: float = 1e-3,
               seed: int = 0, semantics: str = "nir", overwrite: bool = False, progress: bool = False) -> ImportResult:
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
            from snn2fpga.train.trainer import train_model

            model, history, seconds = train_model(cfg, data.train_x, data.train_y, data.test_x, data.test_y,
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

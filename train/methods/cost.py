"""Predicted RTL cycles per sample from spike counts, for reporting cost beside accuracy while training.

train/ may not import rtl/ (stage rule), so this restates the recurrence of rtl/cycle_model.py
for its default point (P = 32 lanes, one LIF unit per lane: C_l = 1), vectorised over the
samples; tests/test_train_methods.py holds it equal to `rtl.cycle_model.predict_cycles`.
Per step t and layer l (R_l = ⌈N_l / min(P, N_l)⌉ rows, s_l input, k_l output spikes):
    a_0(t) = E_0(t−1) + 1,  a_l(t) = max(f_{l−1}(t), E_l(t−1) + 1)
    e_l = a_l + s_l·R_l,  f_l = e_l + R_l + k_l + 4,  E_{l−1} = a_l + k_{l−1}·R_l,  E_{L−1} = f_{L−1} + k_{L−1}
    cycles = E_{L−1}(T−1) + 1
"""

from __future__ import annotations

import numpy as np
import torch

DEFAULT_LANES = 32  # rtl/point.py DEFAULT_LANES
SWEEP_OVERHEAD = 4  # rtl/cycle_model.py
REARM = 1


def layer_rows(sizes: list[int], lanes: int = DEFAULT_LANES) -> list[int]:
    """R_l = ⌈N_l / min(P, N_l)⌉ of each layer."""
    return [-(-n // min(lanes, n)) for n in sizes]


def predicted_cycles(counts: np.ndarray, rows: list[int]) -> np.ndarray:
    """Cycles per sample, int64 [B], from spike counts [B, T, L+1] (column 0 the input)."""
    counts = np.asarray(counts, dtype=np.int64)
    n_b, steps, n_cols = counts.shape
    n_layers = len(rows)
    if n_cols != n_layers + 1:
        raise ValueError(f"spike counts must be [B, T, {n_layers + 1}] (input, then each layer), got {counts.shape}")
    prev_end = np.zeros((n_b, n_layers), dtype=np.int64)  # E_l(t−1)
    for t in range(steps):
        end = np.zeros_like(prev_end)
        f_prev = None
        for l in range(n_layers):
            if l == 0:
                a = np.zeros(n_b, np.int64) if t == 0 else prev_end[:, 0] + REARM
            else:
                a = f_prev if t == 0 else np.maximum(f_prev, prev_end[:, l] + REARM)
                end[:, l - 1] = a + counts[:, t, l] * rows[l]
            e = a + counts[:, t, l] * rows[l]
            f_prev = e + rows[l] + counts[:, t, l + 1] + SWEEP_OVERHEAD
        end[:, -1] = f_prev + counts[:, t, -1]
        prev_end = end
    return prev_end[:, -1] + 1


@torch.no_grad()
def evaluate_cost(model, x: np.ndarray, y: np.ndarray, lanes: int = DEFAULT_LANES, batch_size: int = 256) -> dict:
    """Accuracy, predictions, mean predicted cycles per sample and mean spikes per step of each
    layer (input first) of the fake-quantized model, whose spikes are the golden model's."""
    model.eval()
    device = next(model.parameters()).device
    preds, counts = [], []
    for i in range(0, len(x), batch_size):
        xb = torch.from_numpy(np.asarray(x[i : i + batch_size])).to(device).float()
        spikes = model.forward_all(xb)[0]
        preds.append(torch.argmax(spikes[-1].sum(1), dim=1).cpu().numpy())
        counts.append(torch.stack([xb.sum(2)] + [s.sum(2) for s in spikes], 2).cpu().numpy().astype(np.int64))
    pred = np.concatenate(preds)
    count = np.concatenate(counts)
    sizes = [int(s.shape[-1]) for s in spikes]
    cycles = predicted_cycles(count, layer_rows(sizes, lanes))
    return {
        "accuracy": float((pred == y).mean()) if len(y) else 0.0,
        "pred": pred,
        "predicted_cycles": float(cycles.mean()),
        "spikes_per_step": [float(v) for v in count.mean(axis=(0, 1))],
    }

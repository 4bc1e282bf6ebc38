"""Pictures of a run: learning curves and a spike raster of one sample."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from snn2fpga.core.files import atomic_write  # noqa: E402


def _save(fig, path: Path) -> None:
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight"))
    plt.close(fig)


def plot_curves(history: list[dict], path: Path) -> None:
    """Loss and train/test accuracy per epoch."""
    ep = [h["epoch"] for h in history]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.4))
    a.plot(ep, [h["train_loss"] for h in history], "o-")
    a.set(xlabel="epoch", ylabel="train loss (CE on spike counts)", title="loss")
    b.plot(ep, [h["train_accuracy"] for h in history], "o-", label="train")
    b.plot(ep, [h["test_accuracy"] for h in history], "s-", label="test")
    b.set(xlabel="epoch", ylabel="accuracy", title="accuracy", ylim=(0, 1.01))
    b.legend()
    b.grid(alpha=0.3)
    _save(fig, path)


def plot_raster(layer_spikes: list[np.ndarray], labels: list[str], title: str, path: Path) -> None:
    """One panel per layer: which neuron fired at which time step ([T, N] each)."""
    fig, axes = plt.subplots(len(layer_spikes), 1, figsize=(8, 1.6 + 1.6 * len(layer_spikes)), sharex=True)
    for ax, s, name in zip(np.atleast_1d(axes), layer_spikes, labels):
        t, n = np.nonzero(s)
        ax.scatter(t, n, s=2 if s.shape[1] > 200 else 6, marker="|" if s.shape[1] > 200 else "s", c="k")
        ax.set(ylabel=f"{name}\nneuron", ylim=(-0.5, s.shape[1] - 0.5))
    np.atleast_1d(axes)[-1].set_xlabel("time step")
    fig.suptitle(title)
    _save(fig, path)

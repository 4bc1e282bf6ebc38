"""Session fixtures of `pytest sim/`: the default model, its design, its samples."""

from __future__ import annotations

import pytest

from sim.design import prepare_design
from sim.samples import NMNIST_DIR, dataset_samples, default_model, nmnist_available, nmnist_samples, trained_model

DEFAULT_LANES = 16  # the Makefile's P
N_DATASET = 20
N_NMNIST = 20
N_DVS = 12


@pytest.fixture(scope="session")
def default():
    """(GoldenNetwork, ExportMeta, qonnx path) of the default trained model (see sim/samples.py)."""
    return default_model()


def _design(model):
    """The RTL of a (network, meta, path) model at the Makefile's P, one LIF unit per lane."""
    net, meta, _ = model
    return prepare_design(net, meta.steps, DEFAULT_LANES)


@pytest.fixture(scope="session")
def default_design(default):
    return _design(default)


@pytest.fixture(scope="session")
def dataset_part(default):
    """The first test samples of the model's dataset (saccade-digits for the default)."""
    _, meta, _ = default
    return dataset_samples(meta, N_DATASET)


@pytest.fixture(scope="session")
def nmnist_part(default):
    """Real N-MNIST recordings, binned with the model's T and pool; skips if the data is absent."""
    net, meta, _ = default
    if not nmnist_available():
        pytest.skip(f"real N-MNIST recordings not found at {NMNIST_DIR} (../shared/data/nmnist-train1k beside the repository)")
    part = nmnist_samples(meta.steps, meta.pool, N_NMNIST)
    if part.x.shape[2] != net.n_in:
        pytest.skip(f"N-MNIST binned with pool {meta.pool} gives {part.x.shape[2]} inputs; the default model takes {net.n_in}")
    return part


@pytest.fixture(scope="session")
def dvs():
    """(GoldenNetwork, ExportMeta, qonnx path) of the model trained on the embedded DVS set `dvs-motions`."""
    return trained_model("dvs-motions")


@pytest.fixture(scope="session")
def dvs_design(dvs):
    return _design(dvs)


@pytest.fixture(scope="session")
def dvs_part(dvs):
    """The first `dvs-motions` test samples (128×128 DVS, pooled as the model was trained)."""
    _, meta, _ = dvs
    return dataset_samples(meta, N_DVS)

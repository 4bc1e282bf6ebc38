"""Session fixtures of `pytest sim/`: the default model, its design, its samples."""

from __future__ import annotations

import pytest

from snn2fpga.sim.design import prepare_design
from snn2fpga.core.paths import NMNIST_ENV, REQUIRE_DATA_ENV, data_required, shared_nmnist_dir
from snn2fpga.sim.samples import dataset_samples, default_model, nmnist_available, nmnist_samples, trained_model

SIM_LANES = 16  # P of the testbench designs: R_0 = 37 rows at 578 inputs, long enough for the stall cases to bite
N_DATASET = 20
N_NMNIST = 20
N_DVS = 12


@pytest.fixture(scope="session")
def default():
    """The default trained model, resolved (see sim/samples.py)."""
    return default_model()


def _design(model):
    """The RTL of a resolved model at SIM_LANES, one LIF unit per lane."""
    return prepare_design(model.network, model.steps, SIM_LANES)


@pytest.fixture(scope="session")
def default_design(default):
    return _design(default)


@pytest.fixture(scope="session")
def dataset_part(default):
    """The first test samples of the model's dataset (saccade-digits for the default)."""
    return dataset_samples(default, N_DATASET)


@pytest.fixture(scope="session")
def nmnist_part(default):
    """Real N-MNIST recordings, binned with the model's T and pool; skips if the data is absent."""
    if not nmnist_available():
        reason = f"real N-MNIST recordings not found at {shared_nmnist_dir()} (set ${NMNIST_ENV})"
        if data_required():
            pytest.fail(f"{reason}; ${REQUIRE_DATA_ENV} is set, so this is a failure")
        pytest.skip(reason)
    part = nmnist_samples(default.steps, default.meta.pool, N_NMNIST)
    assert part.x.shape[2] == default.network.n_in, "N-MNIST binned like the default model's saccade-digits"
    return part


@pytest.fixture(scope="session")
def dvs():
    """The model trained on the embedded DVS set `dvs-motions`, resolved."""
    return trained_model("dvs-motions")


@pytest.fixture(scope="session")
def dvs_design(dvs):
    return _design(dvs)


@pytest.fixture(scope="session")
def dvs_part(dvs):
    """The first `dvs-motions` test samples (128×128 DVS, pooled as the model was trained)."""
    return dataset_samples(dvs, N_DVS)

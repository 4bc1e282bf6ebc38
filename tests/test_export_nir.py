"""NIR bridge: export → import gives the same golden outputs; foreign NIR files map onto the contract."""

import numpy as np
import pytest

from snn2fpga.export import ModelFileError, UnsupportedModelError, export_network
from snn2fpga.export.nir_bridge import KEY, export_nir, from_nir, read_nir, to_nir, write_nir
from snn2fpga.export.testing import random_spikes
from snn2fpga.core.contract import LIFParams
from snn2fpga.core.golden import random_network

CASES = [
    ("ternary", LIFParams(5, 2, "subtract", "ternary", 3, 16), False, 1.0),
    ("int4", LIFParams(9, None, "zero", "int8", 1, 16), True, 0.125),  # IF, bias, real scale 2^-3
    ("binary", LIFParams(4, 1, "zero", "full", 1, 10), True, 1.0),
    ("int8", LIFParams(300, 3, "subtract", "int4", 75, 16), False, 2.0**-7),
]


def assert_same_outputs(a, b, x):
    ra, rb = a.run(x), b.run(x)
    for sa, sb in zip(ra.spikes, rb.spikes):
        assert np.array_equal(sa, sb)
    for ma, mb in zip(ra.membranes, rb.membranes):
        assert np.array_equal(ma, mb)
    assert sum(int(s.sum()) for s in ra.spikes) > 0


@pytest.mark.parametrize("weights, lif, bias, scale", CASES)
def test_nir_file_round_trip(tmp_path, weights, lif, bias, scale):
    net = random_network([30, 20, 8], weights, lif, seed=4, with_bias=bias)
    path = write_nir(net, tmp_path / "net.nir", scales=[scale, scale], dt=1e-3, steps=9)
    back = read_nir(path)
    assert back.to_dict() == net.to_dict()
    assert_same_outputs(back, net, random_spikes(32, 9, 30, rate=0.3))


def test_nir_fields_follow_the_mapping():
    import nir

    lif = LIFParams(6, 3, "subtract", "int8", 1, 16)
    g = to_nir(random_network([5, 4], "int4", lif, seed=0), scales=[0.25], dt=1e-4)
    node = g.nodes["lif0"]
    assert isinstance(node, nir.LIF) and isinstance(g.nodes["fc0"], nir.Affine)
    assert np.allclose(node.tau, 1e-4 * 8) and np.allclose(node.r, 8) and np.all(node.v_leak == 0)
    assert np.allclose(node.v_threshold, (6 - 0.5) * 0.25)  # NIR fires on >, the contract on ≥
    assert node.metadata[KEY]["membrane"] == "int8" and g.nodes["fc0"].metadata[KEY]["weight_scale"] == 0.25
    assert [e for e in g.edges] == [("input", "fc0"), ("fc0", "lif0"), ("lif0", "output")]


@pytest.mark.parametrize("leak", [None, 2])
def test_foreign_nir_without_metadata(leak):
    """A NIR graph as another tool would write it (no snn2fpga metadata), inside the contract."""
    lif = LIFParams(5, leak, "zero", "full", 1, 16)
    net = random_network([16, 12, 4], "int4", lif, seed=5, with_bias=True)
    g = to_nir(net, scales=[0.5, 0.5], dt=1e-4)
    for node in g.nodes.values():
        node.metadata = {}
    back = from_nir(g, dt=1e-4)
    assert_same_outputs(back, net, random_spikes(16, 8, 16, rate=0.4))
    assert back.layers[0].lif == lif


def test_foreign_nir_outside_the_contract():
    import nir

    net = random_network([6, 3], "ternary", LIFParams(2, 2, "zero", "full", 1, 16), seed=0)
    g = to_nir(net, dt=1.0)
    g.nodes["lif0"].metadata = {}
    g.nodes["lif0"].tau = np.full(3, 3.0, np.float32)  # β = 2/3: not a shift
    with pytest.raises(UnsupportedModelError, match="tau/dt = 3.0"):
        from_nir(g)
    g.nodes["lif0"] = nir.CubaLIF(
        tau_syn=np.ones(3), tau_mem=np.ones(3), r=np.ones(3), v_leak=np.zeros(3), v_threshold=np.ones(3)
    )
    with pytest.raises(UnsupportedModelError, match="CubaLIF unsupported"):
        from_nir(g)


def test_tampered_nir_is_named(tmp_path):
    net = random_network([6, 3], "ternary", LIFParams(2, 2, "subtract", "ternary", 1, 16), seed=0)
    g = to_nir(net)
    g.nodes["lif0"].v_threshold = g.nodes["lif0"].v_threshold + 1.0
    with pytest.raises(ModelFileError, match="disagree"):
        from_nir(g)
    g = to_nir(net)
    del g.nodes["lif0"].metadata[KEY]["membrane"]
    with pytest.raises(ModelFileError, match="membrane is missing"):
        from_nir(g)


def test_export_nir_from_qonnx(tmp_path):
    net = random_network([10, 6, 3], "int8", LIFParams(40, 2, "subtract", "int8", 1, 16), seed=1)
    q = export_network(net, tmp_path / "model.qonnx", steps=7)
    path = export_nir(q)
    assert path.name == "model.nir"
    assert read_nir(path).to_dict() == net.to_dict()

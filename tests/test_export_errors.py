"""load_network refuses models the hardware cannot take and tampered files, naming what is wrong."""

import numpy as np
import onnx
import pytest
from onnx import helper

from snn2fpga.export import ExportError, LIFAttributeError, ModelFileError, UnsupportedModelError, export_network, load_network
from onnx_edit import node, set_attr, set_init, set_prop
from snn2fpga.core.contract import LIFParams
from snn2fpga.core.golden import QuantLayer, GoldenNetwork, random_network


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    net = random_network([12, 8, 4], "int4", LIFParams(5, 2, "subtract", "int8", 1, 16), seed=2)
    path = export_network(net, tmp_path_factory.mktemp("ok") / "net.qonnx", steps=5)
    return onnx.load(str(path))


def tampered(tmp_path, proto, change):
    """Save a copy of `proto` changed by `change(copy)`; return its path."""
    m = onnx.ModelProto()
    m.CopyFrom(proto)
    change(m)
    path = tmp_path / "bad.qonnx"
    onnx.save(m, str(path))
    return path


def drop_attr(n, name):
    n.attribute.remove(next(a for a in n.attribute if a.name == name))


def check(tmp_path, proto, change, err, *words):
    path = tampered(tmp_path, proto, change)
    with pytest.raises(err) as info:
        load_network(path)
    msg = str(info.value)
    assert str(path) in msg, msg
    for w in words:
        assert w in msg, msg
    assert isinstance(info.value, ValueError) and isinstance(info.value, ExportError)


def test_untampered_file_loads(tmp_path, exported):
    net, meta = load_network(tampered(tmp_path, exported, lambda m: None))
    assert meta.steps == 5 and [l.n_out for l in net.layers] == [8, 4]


def test_missing_attribute(tmp_path, exported):
    check(tmp_path, exported, lambda m: drop_attr(node(m, "lif1"), "threshold"), LIFAttributeError, "lif1", "'threshold' is missing")


def test_unknown_membrane_quantizer(tmp_path, exported):
    check(tmp_path, exported, lambda m: set_attr(node(m, "lif0"), "membrane", "int99"), LIFAttributeError, "lif0", "membrane='int99' unknown")


def test_attribute_outside_contract(tmp_path, exported):
    check(tmp_path, exported, lambda m: set_attr(node(m, "lif0"), "acc_bits", 40), LIFAttributeError, "lif0", "acc_bits=40")


def test_unknown_weight_quantizer(tmp_path, exported):
    check(tmp_path, exported, lambda m: set_prop(m, "snn2fpga.weight_quants", '["int99", "int4"]'), ModelFileError, "layer 0", "'int99' unknown")


def test_quantizer_disagrees_with_graph(tmp_path, exported):
    check(tmp_path, exported, lambda m: set_prop(m, "snn2fpga.weight_quants", '["binary", "int4"]'), ModelFileError, "'binary'", "'int4'")


def test_missing_metadata(tmp_path, exported):
    def change(m):
        keep = [p for p in m.metadata_props if p.key != "snn2fpga.steps"]
        del m.metadata_props[:]
        m.metadata_props.extend(keep)

    check(tmp_path, exported, change, ModelFileError, "snn2fpga.steps", "missing")


def test_wrong_weight_shape(tmp_path, exported):
    check(tmp_path, exported, lambda m: set_init(m, "fc1_weight", np.ones((8, 5))), ModelFileError, "layer 1", "shape [5, 8]", "4 neurons")


def test_non_power_of_two_scale(tmp_path, exported):
    def change(m):
        set_init(m, "fc0_w_scale", 0.3)
        set_init(m, "fc0_scale", 0.3)

    check(tmp_path, exported, change, UnsupportedModelError, "layer 0", "0.3", "not a power of two")


def test_current_not_in_integer_units(tmp_path, exported):
    check(tmp_path, exported, lambda m: set_init(m, "fc1_scale", 0.5), UnsupportedModelError, "layer 1", "not the weight scale")


def test_bit_width_out_of_range(tmp_path, exported):
    check(tmp_path, exported, lambda m: set_init(m, "fc0_w_bitwidth", 12.0), UnsupportedModelError, "bit width", "12", "2..8")


def test_unsupported_op(tmp_path, exported):
    def change(m):
        lif = node(m, "lif0")
        relu = helper.make_node("Relu", [lif.input[0]], ["relu_out"], name="sneaky_relu")
        lif.input[0] = "relu_out"
        m.graph.node.insert(list(m.graph.node).index(lif), relu)

    check(tmp_path, exported, change, UnsupportedModelError, "sneaky_relu", "'Relu'", "supported: Quant")


def test_lif_in_wrong_domain(tmp_path, exported):
    check(tmp_path, exported, lambda m: setattr(node(m, "lif0"), "domain", "snn.other"), UnsupportedModelError, "'LIF'", "'snn.other'")


def test_not_an_onnx_file(tmp_path):
    path = tmp_path / "junk.qonnx"
    path.write_bytes(b"\x00not a model" * 10)
    with pytest.raises(ModelFileError, match="junk.qonnx"):
        load_network(path)


def test_run_folder_without_export(tmp_path):
    with pytest.raises(FileNotFoundError, match="make export"):
        load_network(tmp_path)


def test_export_refuses_current_float32_cannot_carry(tmp_path):
    lif = LIFParams(5, 2, "subtract", "full", 1, 16)
    net = GoldenNetwork([QuantLayer(np.ones((2, 3), np.int64), "ternary", lif, np.array([2**25, 0]))])
    with pytest.raises(UnsupportedModelError, match="layer 0.*float32"):
        export_network(net, tmp_path / "x.qonnx", steps=3)

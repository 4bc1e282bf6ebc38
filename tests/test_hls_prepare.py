"""hls.prepare: export's model.qonnx → the graph hls4ml converts; allow-list and errors. No compilation here."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from snn2fpga.core.contract import LIFParams, default_delta
from snn2fpga.core.golden import random_network

LIF = LIFParams(threshold=3, leak_shift=2, reset="subtract", membrane="ternary", delta=default_delta("ternary", 3), acc_bits=16)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from snn2fpga import export

    tmp = tmp_path_factory.mktemp("hls_prepare")
    plain = random_network([10, 7, 4], "int4", LIF, seed=2)
    biased = random_network([10, 6], "binary", LIF, seed=3, with_bias=True)
    return (
        (export.export_network(plain, tmp / "plain.qonnx", steps=5), plain),
        (export.export_network(biased, tmp / "biased.qonnx", steps=5), biased),
    )


def _weights_of(model, lif):
    mm = model.find_producer(lif.input[0])
    bias = None
    if mm.op_type == "Add":
        bias = model.get_initializer(mm.input[1])
        mm = model.find_producer(mm.input[0])
    quant = model.find_producer(mm.input[1])
    return quant, model.get_initializer(quant.input[0]), bias


def test_prepared_graph_layout(exported):
    from snn2fpga.hls.prepare import prepare
    from snn2fpga.hls.stateful_op import DOMAIN

    (path, net), _ = exported
    prep = prepare(path)
    m = prep.model
    assert [i.name for i in m.graph.input] == ["spikes", "reset"]
    assert [m.get_tensor_shape(i.name) for i in m.graph.input] == [[1, 10], [1, 1]]
    assert [m.get_tensor_shape(o.name) for o in m.graph.output] == [[1, 7], [1, 4]]
    assert sorted({n.op_type for n in m.graph.node}) == ["LIF", "MatMul", "Quant"]
    lifs = [n for n in m.graph.node if n.op_type == "LIF"]
    assert all(n.domain == DOMAIN and list(n.input)[1] == "reset" for n in lifs)
    for lif, layer, info in zip(lifs, net.layers, prep.layers):
        quant, codes, _ = _weights_of(m, lif)
        np.testing.assert_array_equal(codes.T, layer.weights)  # the weight scale is folded into integer codes
        assert float(m.get_initializer(quant.input[1])) == 1.0 and info.weight_bits == 4
        assert info.params == layer.lif


def test_bias_and_binary_weights(exported):
    from snn2fpga.hls.prepare import prepare

    _, (path, net) = exported
    m = prepare(path).model
    (lif,) = [n for n in m.graph.node if n.op_type == "LIF"]
    quant, codes, bias = _weights_of(m, lif)
    np.testing.assert_array_equal(codes.T, net.layers[0].weights)
    np.testing.assert_array_equal(bias, net.layers[0].bias)
    assert float(m.get_initializer(quant.input[3])) == 2  # ±1 stored in 2 signed bits


def test_scale_that_does_not_fold_is_refused(exported):
    from snn2fpga.hls.errors import UnsupportedGraphError
    from snn2fpga.hls.prepare import prepare

    (path, _), _ = exported
    model = onnx.load(str(path))
    div = next(n for n in model.graph.node if n.op_type == "Div")
    init = next(t for t in model.graph.initializer if t.name == div.input[1])
    init.CopyFrom(numpy_helper.from_array(np.array(3.0, dtype=np.float32), init.name))
    with pytest.raises(UnsupportedGraphError, match="not integers"):
        prepare(model)


def test_unsupported_op_is_named_with_the_allow_list(exported):
    from snn2fpga.hls.errors import UnsupportedGraphError
    from snn2fpga.hls.prepare import prepare

    (path, _), _ = exported
    model = onnx.load(str(path))
    lif = next(n for n in model.graph.node if n.op_type == "LIF")
    relu = helper.make_node("Relu", [lif.input[0]], ["relu_out"], name="bad_relu")
    lif.input[0] = "relu_out"
    model.graph.node.insert(list(model.graph.node).index(lif), relu)
    with pytest.raises(UnsupportedGraphError, match="'Relu'.*supported: MatMul"):
        prepare(model)


def test_tampered_lif_attribute_is_named(exported):
    from snn2fpga.hls.prepare import prepare

    (path, _), _ = exported
    model = onnx.load(str(path))
    lif = next(n for n in model.graph.node if n.op_type == "LIF")
    lif.attribute.remove(next(a for a in lif.attribute if a.name == "threshold"))
    with pytest.raises(ValueError, match="threshold"):
        prepare(model)


def test_biasless_gemm_becomes_matmul():
    """A Gemm(x, Quant(W), transB=1) without C (what some exporters write) is accepted."""
    import snn2fpga.export.lif_op as lif_op
    from snn2fpga.hls.prepare import prepare

    w = np.array([[1, -1, 0], [0, 1, 1]], dtype=np.float32)  # [N=2, N_in=3]
    inits = [
        numpy_helper.from_array(w, "w"),
        numpy_helper.from_array(np.array(1.0, dtype=np.float32), "s"),
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), "z"),
        numpy_helper.from_array(np.array(2.0, dtype=np.float32), "b"),
    ]
    nodes = [
        helper.make_node("Quant", ["w", "s", "z", "b"], ["wq"], domain="qonnx.custom_op.general", signed=1, narrow=0, rounding_mode="ROUND"),
        helper.make_node("Gemm", ["x", "wq"], ["cur"], transB=1),
        lif_op.make_lif_node(["cur", "m"], ["spk", "m_out"], LIF, "lif0"),
    ]
    f = TensorProto.FLOAT
    graph = helper.make_graph(
        nodes,
        "gemm",
        [helper.make_tensor_value_info("x", f, [1, 3]), helper.make_tensor_value_info("m", f, [1, 2])],
        [helper.make_tensor_value_info("spk", f, [1, 2]), helper.make_tensor_value_info("m_out", f, [1, 2])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(lif_op.DOMAIN, 1)])
    prep = prepare(model)
    m = prep.model
    assert "Gemm" not in {n.op_type for n in m.graph.node}
    (lif,) = [n for n in m.graph.node if n.op_type == "LIF"]
    _, codes, bias = _weights_of(m, lif)
    np.testing.assert_array_equal(codes.T, w)
    assert bias is None  # the zero bias the Gemm needed is dropped again


def test_extension_registration_is_idempotent():
    from hls4ml.converters.onnx_to_hls import layer_handlers
    from hls4ml.model.layers import layer_map

    from snn2fpga.hls.errors import HlsError
    from snn2fpga.hls.extension import register_extension

    a, b = register_extension("Vitis"), register_extension("Vitis")
    assert a is b and "LIF" in layer_handlers and "LIF" in layer_map
    assert any(k.endswith("nnet_lif.h") for k in a.get_custom_source())
    with pytest.raises(HlsError, match="Quartus"):
        register_extension("Quartus")


def test_vivado_backend_writes_a_project(exported, tmp_path):
    from snn2fpga.hls.build import build_hls

    (path, _), _ = exported
    runner = build_hls(path, tmp_path / "viv" / "hls", backend="Vivado", csim=False)
    assert (tmp_path / "viv" / "hls" / "build_prj.tcl").is_file()
    assert (tmp_path / "viv" / "hls" / "firmware" / "nnet_utils" / "nnet_lif.h").is_file()
    assert [p.name for p in (tmp_path / "viv").iterdir()] == ["hls"]  # the temporary folder was renamed
    cpp = (tmp_path / "viv" / "hls" / "firmware" / "snn.cpp").read_text()
    assert cpp.count("nnet::lif<") == 2 and "reset" in cpp
    from snn2fpga.hls.errors import HlsError

    with pytest.raises(HlsError, match=r"\[B, T, 10\]"):
        runner.run(np.zeros((2, 5, 11), dtype=np.uint8))

"""The LIF custom op: registered with qonnx, executes the contract's lif_step, shapes and datatypes."""

import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from snn2fpga.export.lif_op import DOMAIN, LIF, lif_attributes, make_lif_node
from snn2fpga.export.errors import LIFAttributeError
from snn2fpga.core.contract import LIFParams, lif_step

PARAMS = [
    LIFParams(5, 2, "subtract", "ternary", 3, 16),
    LIFParams(7, None, "zero", "int4", 4, 12),
    LIFParams(3, 1, "subtract", "full", 1, 6),  # saturates at ±31
    LIFParams(100, 4, "zero", "int16", 1, 22),
]


def one_lif_model(p: LIFParams, batch: int, n: int, outputs_are_graph_outputs: bool = True):
    """A graph holding just LIF(current, m_prev) → (spikes, m_new)."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.basic import qonnx_make_model

    f = TensorProto.FLOAT
    vi = lambda name: helper.make_tensor_value_info(name, f, [batch, n])  # noqa: E731
    nodes = [make_lif_node(["cur", "m"], ["s", "m2"], p, "lif")]
    outs = [vi("s"), vi("m2")]
    if not outputs_are_graph_outputs:
        nodes += [helper.make_node("Add", ["s", "m2"], ["sum"])]
        outs = [vi("sum")]
    graph = helper.make_graph(nodes, "one_lif", [vi("cur"), vi("m")], outs)
    model = qonnx_make_model(graph, opset_imports=[helper.make_opsetid("", 20), helper.make_opsetid(DOMAIN, 1)])
    return ModelWrapper(model)


@pytest.mark.parametrize("p", PARAMS, ids=lambda p: f"{p.membrane}-{p.reset}-k{p.leak_shift}")
def test_execute_onnx_equals_lif_step(p):
    from qonnx.core.onnx_exec import execute_onnx

    rng = np.random.default_rng(0)
    batch, n = 16, 32
    model = one_lif_model(p, batch, n)
    m = np.zeros((batch, n), np.int64)
    for _ in range(8):  # thread the state like the runner does
        cur = rng.integers(-2 * p.threshold, 3 * p.threshold, size=(batch, n))
        out = execute_onnx(model, {"cur": cur.astype(np.float32), "m": m.astype(np.float32)})
        s_want, m_want = lif_step(m, cur, p)
        assert np.array_equal(out["s"], s_want) and np.array_equal(out["m2"], m_want)
        m = m_want
    assert out["s"].dtype == np.float32


def test_registered_with_qonnx():
    from qonnx.custom_op.registry import getCustomOp, is_custom_op

    node = make_lif_node(["a", "b"], ["c", "d"], PARAMS[0], "lif")
    inst = getCustomOp(node)
    assert isinstance(inst, LIF) and is_custom_op(DOMAIN, "LIF")
    assert inst.params() == PARAMS[0]
    assert inst.get_nodeattr("membrane") == "ternary" and inst.get_nodeattr("leak_shift") == 2
    info = inst.verify_node()
    assert any("attributes valid" in line for line in info) and "2 inputs, 2 outputs" in info


def test_found_by_domain_in_a_fresh_process(tmp_path):
    """qonnx imports the domain's module itself: no `import export` needed to execute the op."""
    path = tmp_path / "lif.onnx"
    onnx.save(one_lif_model(PARAMS[1], 2, 3).model, str(path))
    code = (
        "import numpy as np, sys\n"
        "from qonnx.core.modelwrapper import ModelWrapper\n"
        "from qonnx.core.onnx_exec import execute_onnx\n"
        f"out = execute_onnx(ModelWrapper({str(path)!r}), {{'cur': np.full((2, 3), 9, np.float32), 'm': np.zeros((2, 3), np.float32)}})\n"
        "print(out['s'].sum())\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "6.0"


def test_shape_and_datatype_inference():
    from qonnx.core.datatype import DataType
    from qonnx.transformation.infer_datatypes import InferDataTypes
    from qonnx.transformation.infer_shapes import InferShapes

    model = one_lif_model(PARAMS[0], 4, 5, outputs_are_graph_outputs=False)
    model = model.transform(InferShapes())
    assert model.get_tensor_shape("s") == [4, 5] and model.get_tensor_shape("m2") == [4, 5]
    assert model.graph.node[0].op_type == "LIF"  # restored after the shape-compatible stand-in
    model = model.transform(InferDataTypes())
    assert model.get_tensor_datatype("s") == DataType["BINARY"]
    assert model.get_tensor_datatype("m2") == DataType["TERNARY"]


def test_attributes_round_trip_and_no_leak():
    attrs = lif_attributes(PARAMS[1])
    assert attrs["leak_shift"] == -1 and attrs["reset"] == "zero"
    node = make_lif_node(["a", "b"], ["c", "d"], PARAMS[1], "n")
    node.attribute.remove(next(a for a in node.attribute if a.name == "leak_shift"))  # absent = no leak
    assert LIF(node).params() == PARAMS[1]


def test_non_integer_current_is_refused():
    from qonnx.core.onnx_exec import execute_onnx

    model = one_lif_model(PARAMS[0], 1, 2)
    with pytest.raises(LIFAttributeError, match="non-integer"):
        execute_onnx(model, {"cur": np.array([[0.5, 1.0]], np.float32), "m": np.zeros((1, 2), np.float32)})

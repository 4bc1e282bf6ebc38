"""`snn2fpga import`: float NIR graphs from snnTorch and Norse → quantized run → QONNX, RTL and HLS equal to the golden model.

Part 1 builds NIR graphs with `nir` alone: the mapping where it is exact, the leak and
threshold conversion, and every refusal (one line naming the node, nothing written).
Part 2 trains a small dense model in snnTorch and in Norse (test extras, `pip install
.[nir]`) for one epoch on `saccade-digits`, exports it with the framework's own
exporter, imports it with a given quantizer, reports the spike agreement with the
framework's own simulation, and runs the imported run through QONNX, Verilator and
hls4ml C simulation with 0 mismatches. The snnTorch case is the README walk-through.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from snn2fpga.cli import main
from snn2fpga.core.golden import GoldenNetwork
from snn2fpga.export.nir_float import simulate_float, spike_agreement

DT = 1e-4  # snnTorch's export time step


def _graph(nodes: dict, edges: list):
    import nir

    return nir.NIRGraph(nodes=nodes, edges=edges)


def _chain(layers: list, n_in: int):
    """input → (fc_i → lif_i)* → output from (fc node, neuron node) pairs."""
    import nir

    nodes = {"input": nir.Input(input_type={"input": np.array([n_in])})}
    edges, prev = [], "input"
    for i, (fc, neuron) in enumerate(layers):
        nodes[f"fc{i}"], nodes[f"lif{i}"] = fc, neuron
        edges += [(prev, f"fc{i}"), (f"fc{i}", f"lif{i}")]
        prev = f"lif{i}"
    nodes["output"] = nir.Output(output_type={"output": np.array([layers[-1][0].weight.shape[0]])})
    return _graph(nodes, edges + [(prev, "output")])


def _lif(n: int, beta: float, threshold: float):
    """A LIF node as snnTorch writes it: τ = dt/(1 − β), r = τ/dt."""
    import nir

    tau = DT / (1 - beta)
    return nir.LIF(tau=np.full(n, tau), r=np.full(n, tau / DT), v_leak=np.zeros(n), v_threshold=np.full(n, threshold),
                   v_reset=np.zeros(n))


def _write(graph, path: Path) -> Path:
    import nir

    nir.write(str(path), graph)
    return path


def _import(capsys, *args: str) -> tuple[int, str]:
    rc = main(["import", *map(str, args), "--quiet"])
    return rc, capsys.readouterr().err


def _network(run: Path) -> GoldenNetwork:
    from snn2fpga.export import resolve_model

    return resolve_model(run).network


# ---- part 1: the mapping and the refusals, with nir alone --------------------------------------


def test_threshold_and_weights_are_exact_where_representable(tmp_path, capsys):
    """IF layers whose weights are int8 codes × 2^-3 (the largest 100, not a power of two, which Brevitas'
    fixed-point scale would clip by one step): codes and bias come back exactly, and NIR's
    strict V > v_threshold = θ0·s becomes the contract's u ≥ θ0 + 1, so every spike agrees."""
    import nir

    rng = np.random.default_rng(3)
    unit, layers, codes = 2.0**-3, [], []
    for n_in, n in ((24, 16), (16, 6)):
        c = rng.integers(-100, 101, size=(n, n_in))
        c[0, 0] = 100
        b = rng.integers(-8, 9, size=n)
        codes.append((c, b))
        layers.append((nir.Affine(weight=c * unit, bias=b * unit), nir.IF(r=np.full(n, 1 / DT), v_threshold=np.full(n, 40 * unit),
                                                                            v_reset=np.zeros(n))))
    src = _write(_chain(layers, 24), tmp_path / "if.nir")
    rc, err = _import(capsys, src, "--weights", "int8", "--membrane", "full", "--dt", DT, "--out", tmp_path / "run")
    assert rc == 0, err
    net = _network(tmp_path / "run")
    for layer, (c, b) in zip(net.layers, codes):
        assert np.array_equal(layer.weights, c) and np.array_equal(layer.bias, b)
        assert layer.lif.threshold == 41 and layer.lif.leak_shift is None and layer.lif.reset == "zero"
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["import"]["agreement"]["after quantization"]["all"] == 1.0
    x = (rng.random((32, 12, 24)) < 0.4).astype(np.uint8)
    from snn2fpga.export.nir_float import float_layers

    ref = simulate_float(float_layers(nir.read(str(src)), DT, "t"), x)
    got = net.run(x).spikes
    assert all(r.any() for r in ref) and spike_agreement(got, ref)["all"] == 1.0


def test_python_api_and_a_flatten_input(tmp_path):
    """`snn2fpga.import_nir` as the command; a Flatten of a [2, 3] input is the flat spike vector of 6."""
    import nir

    import snn2fpga as s2f

    def if_node(n):
        return nir.IF(r=np.ones(n), v_threshold=np.ones(n), v_reset=np.zeros(n))

    shape = {"input": np.array([2, 3])}
    g = _graph({"input": nir.Input(input_type=shape), "flat": nir.Flatten(input_type=shape, start_dim=0),
                "fc0": nir.Linear(weight=np.full((4, 6), 0.3)), "lif0": if_node(4),
                "fc1": nir.Linear(weight=np.full((2, 4), 0.3)), "lif1": if_node(2),
                "output": nir.Output(output_type={"output": np.array([2])})},
               [("input", "flat"), ("flat", "fc0"), ("fc0", "lif0"), ("lif0", "fc1"), ("fc1", "lif1"), ("lif1", "output")])
    run = s2f.import_nir(_write(g, tmp_path / "g.nir"), tmp_path / "run", "int8", "full")
    net = s2f.resolve_model(run).network
    assert run == tmp_path / "run" and net.n_in == 6 and net.layers[0].lif.leak_shift is None
    x = np.ones((1, 4, 6), np.uint8)  # 6 × 0.3 = 1.8 > 1 every step: layer 0 fires every step, and so layer 1 (4 × 0.3)
    assert net.run(x).spikes[1].all()


@pytest.mark.parametrize("beta, k", [(0.5, 1), (0.75, 2), (0.9, 3), (0.97, 5)])
def test_leak_is_the_nearest_shift(tmp_path, capsys, beta, k):
    """β = 1 − dt/τ → k = round(log2(τ/dt)); the record keeps the source's β beside the contract's."""
    import nir

    w = np.random.default_rng(0).normal(size=(8, 10))
    g = _chain([(nir.Linear(weight=w), _lif(8, beta, 1.0)), (nir.Affine(weight=w[:4, :8], bias=np.zeros(4)), _lif(4, beta, 1.0))], 10)
    rc, err = _import(capsys, _write(g, tmp_path / "g.nir"), "--out", tmp_path / "run")
    assert rc == 0, err
    assert all(layer.lif.leak_shift == k for layer in _network(tmp_path / "run").layers)
    rec = json.loads((tmp_path / "run" / "metrics.json").read_text())["import"]
    assert rec["dt"] == pytest.approx(DT) and "τ/r" in rec["dt_from"]
    assert rec["layers"][0]["beta_source"] == pytest.approx(beta) and rec["layers"][0]["beta_contract"] == 1 - 2.0**-k


def _image_graph(name: str, node, out_shape: list):
    """input [1, 4, 4] → node → output: a graph NIR's type check accepts."""
    import nir

    return _graph({"input": nir.Input(input_type={"input": np.array([1, 4, 4])}), name: node,
                   "output": nir.Output(output_type={"output": np.array(out_shape)})}, [("input", name), (name, "output")])


def _bad_graphs():
    """(name, graph or raw bytes, words the one-line error must hold)."""
    import nir

    w = np.ones((4, 6))
    fc, lif = nir.Affine(weight=w, bias=np.zeros(4)), _lif(4, 0.75, 1.0)
    conv = nir.Conv2d(input_shape=(4, 4), weight=np.ones((2, 1, 3, 3)), stride=1, padding=1, dilation=1, groups=1, bias=np.zeros(2))
    pool = dict(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0]))
    cuba = nir.CubaLIF(tau_syn=np.full(4, 2e-4), tau_mem=np.full(4, 4e-4), r=np.full(4, 4.0), v_leak=np.zeros(4),
                       v_threshold=np.ones(4), v_reset=np.zeros(4))
    good = _chain([(fc, lif), (nir.Affine(weight=np.ones((2, 4)), bias=np.zeros(2)), _lif(2, 0.75, 1.0))], 6)

    def swap(name, node):
        g = _chain([(fc, lif), (nir.Affine(weight=np.ones((2, 4)), bias=np.zeros(2)), _lif(2, 0.75, 1.0))], 6)
        g.nodes[name] = node
        return g

    branch = _chain([(fc, lif), (nir.Affine(weight=np.ones((2, 4)), bias=np.zeros(2)), _lif(2, 0.75, 1.0))], 6)
    branch.nodes["side"] = nir.Affine(weight=np.ones((2, 4)), bias=np.zeros(2))
    branch.edges.append(("lif0", "side"))
    recurrent = _chain([(fc, lif), (nir.Affine(weight=np.ones((2, 4)), bias=np.zeros(2)), _lif(2, 0.75, 1.0))], 6)
    recurrent.nodes["rec"] = nir.Linear(weight=np.ones((4, 4)))
    recurrent.edges += [("lif0", "rec"), ("rec", "lif0")]
    reset = swap("lif0", nir.LIF(tau=np.full(4, 4e-4), r=np.full(4, 4.0), v_leak=np.zeros(4), v_threshold=np.ones(4),
                                 v_reset=np.full(4, -0.5)))
    return [
        ("conv", _image_graph("conv0", conv, [2, 4, 4]), ["'conv0'", "Conv2d", "dense graphs only"]),
        ("sumpool", _image_graph("pool0", nir.SumPool2d(**pool), [1, 2, 2]), ["'pool0'", "SumPool2d", "pooling"]),
        ("avgpool", _image_graph("pool0", nir.AvgPool2d(**pool), [1, 2, 2]), ["'pool0'", "AvgPool2d", "pooling"]),
        ("cubalif", swap("lif0", cuba), ["'lif0'", "CubaLIF", "synaptic-current state"]),
        ("threshold", swap("lif1", nir.Threshold(threshold=np.ones(2))), ["'lif1'", "Threshold", "not supported"]),
        ("branch", branch, ["'lif0'", "2 successors", "feed-forward chain"]),
        ("recurrent", recurrent, ["'lif0'", "2 successors", "recurrent"]),
        ("v_reset", reset, ["'lif0'", "v_reset must be 0"]),
        ("corrupt", b"\x89HDF\r\n\x1a\n but not really", ["not a readable NIR file"]),
        ("control", good, None),
    ]


BAD = ["conv", "sumpool", "avgpool", "cubalif", "threshold", "branch", "recurrent", "v_reset", "corrupt", "control"]


@pytest.mark.parametrize("name", BAD)
def test_refusals_name_the_node_and_write_nothing(tmp_path, capsys, name):
    graph, words = {n: (g, w) for n, g, w in _bad_graphs()}[name]
    src = tmp_path / f"{name}.nir"
    if isinstance(graph, bytes):
        src.write_bytes(graph)
    else:
        _write(graph, src)
    out = tmp_path / "runs" / name
    rc, err = _import(capsys, src, "--out", out)
    if words is None:  # the control: the same graph, well formed, imports
        assert rc == 0 and (out / "model.qonnx").is_file(), err
        return
    assert rc == 2 and err.count("\n") == 1, err
    assert str(src) in err and all(w in err for w in words), err
    assert not out.parent.exists() or list(out.parent.iterdir()) == [], "nothing written on a refusal"


def test_an_existing_run_is_not_replaced(tmp_path, capsys):
    import nir

    g = _chain([(nir.Linear(weight=np.ones((4, 6))), _lif(4, 0.75, 1.0)), (nir.Linear(weight=np.ones((2, 4))), _lif(2, 0.75, 1.0))], 6)
    src = _write(g, tmp_path / "g.nir")
    assert _import(capsys, src, "--out", tmp_path / "run")[0] == 0
    before = (tmp_path / "run" / "model.pt").read_bytes()
    rc, err = _import(capsys, src, "--out", tmp_path / "run", "--weights", "int8")
    assert rc == 2 and "--overwrite" in err and (tmp_path / "run" / "model.pt").read_bytes() == before
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    rc, err = _import(capsys, src, "--out", tmp_path / "busy")
    assert rc == 2 and "already holds files" in err and (tmp_path / "busy" / "notes.txt").read_text() == "mine"
    rc, err = _import(capsys, src, "--out", tmp_path / "other", "--finetune-epochs", "1")
    assert rc == 2 and "needs a dataset (--data)" in err and not (tmp_path / "other").exists()


# ---- part 2: snnTorch and Norse models, trained, exported by the framework, imported -----------

HIDDEN, EPOCHS, LR, BATCH = 32, 1, 2e-3, 32


@pytest.fixture(scope="module")
def data():
    from snn2fpga.train.data import load_dataset

    return load_dataset("saccade-digits", None, steps=10, pool=2)


def _train(run_steps, params, data, seed: int = 0) -> None:
    """One epoch of BPTT on spike counts, the framework's own forward (`run_steps(x) → per-layer spikes`)."""
    import torch

    torch.manual_seed(seed)
    opt = torch.optim.Adam(params, lr=LR)
    x, y = torch.tensor(data.train_x, dtype=torch.float32), torch.tensor(data.train_y)
    for _ in range(EPOCHS):
        order = torch.randperm(len(x))
        for i in range(0, len(x), BATCH):
            idx = order[i : i + BATCH]
            loss = torch.nn.functional.cross_entropy(run_steps(x[idx])[-1].sum(1), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()


def _snntorch_model(data, path: Path):
    """snnTorch: Linear → Leaky → Linear → Leaky (β = 0.75, threshold 1, subtract reset), exported with export_to_nir."""
    import torch

    snn = pytest.importorskip("snntorch", reason="snnTorch is a test extra (pip install .[nir])")
    from snntorch import utils
    from snntorch.export_nir import export_to_nir

    torch.manual_seed(0)
    # snnTorch 1.0 exports only array-valued beta and threshold, with a 1-D sample input
    net = torch.nn.Sequential(
        torch.nn.Linear(data.n_in, HIDDEN), snn.Leaky(beta=torch.full((HIDDEN,), 0.75), threshold=torch.ones(HIDDEN), init_hidden=True),
        torch.nn.Linear(HIDDEN, 10), snn.Leaky(beta=torch.full((10,), 0.75), threshold=torch.ones(10), init_hidden=True, output=True),
    )

    def run_steps(x):
        utils.reset(net)
        per_layer = [[], []]
        for t in range(x.shape[1]):
            h = x[:, t]
            for i in range(2):
                h = net[2 * i + 1](net[2 * i](h))
                h = h[0] if isinstance(h, tuple) else h
                per_layer[i].append(h)
        return [torch.stack(s, 1) for s in per_layer]

    _train(run_steps, net.parameters(), data)
    _write(export_to_nir(net, torch.zeros(data.n_in)), path)
    return run_steps


def _norse_model(data, path: Path):
    """Norse: Linear → LIFBoxCell → Linear → LIFBoxCell (τ_mem_inv = 250/s at dt = 1 ms: β = 0.75), exported with to_nir."""
    import torch

    norse = pytest.importorskip("norse.torch", reason="Norse is a test extra (pip install .[nir])")

    def params(n):
        return norse.LIFBoxParameters(tau_mem_inv=torch.full((n,), 250.0), v_th=torch.full((n,), 0.25),
                                      v_leak=torch.zeros(n), v_reset=torch.zeros(n))

    torch.manual_seed(0)
    net = norse.SequentialState(torch.nn.Linear(data.n_in, HIDDEN), norse.LIFBoxCell(params(HIDDEN)),
                                torch.nn.Linear(HIDDEN, 10), norse.LIFBoxCell(params(10)))

    def run_steps(x):
        states, per_layer = [None, None], [[], []]
        for t in range(x.shape[1]):
            h = x[:, t]
            for i in range(2):
                h, states[i] = net[2 * i + 1](net[2 * i](h), states[i])
                per_layer[i].append(h)
        return [torch.stack(s, 1) for s in per_layer]

    _train(run_steps, net.parameters(), data)
    # Norse 1.1's to_nir writes τ = dt/τ_mem_inv (norse/norse#411); with dt = 1 that is the true τ = 1/τ_mem_inv,
    # and the import is told the step Norse simulated with (--dt 0.001).
    _write(norse.to_nir(net, torch.zeros(data.n_in), dt=1.0), path)
    return run_steps


# framework → (model builder, quantizers and import options)
FRAMEWORKS = {
    "snntorch": (_snntorch_model, ["--weights", "ternary", "--membrane", "ternary", "--reset", "subtract", "--source", "snntorch"]),
    "norse": (_norse_model, ["--weights", "int4", "--membrane", "full", "--reset", "zero", "--dt", "0.001", "--source", "nir"]),
}


@pytest.fixture(scope="module")
def framework_nir(data, tmp_path_factory):
    """framework → (its trained model exported to NIR, its per-layer forward), each built once."""
    built = {}

    def get(name: str):
        if name not in built:
            path = tmp_path_factory.mktemp(name) / "model.nir"
            built[name] = (path, FRAMEWORKS[name][0](data, path))
        return built[name]

    return get


@pytest.fixture(scope="module", params=sorted(FRAMEWORKS))
def imported(request, data, framework_nir):
    """(framework, run folder, the framework's own spikes per layer on the test split [B, T, N])."""
    import torch

    src, run_steps = framework_nir(request.param)
    with torch.no_grad():
        own = [s.numpy().astype(np.uint8) for s in run_steps(torch.tensor(data.test_x, dtype=torch.float32))]
    run = src.parent / "run"
    rc = main(["import", str(src), *FRAMEWORKS[request.param][1], "--data", "saccade-digits", "--out", str(run), "--quiet"])
    assert rc == 0
    return request.param, run, own


def test_spike_agreement_with_the_framework(imported, data, record_property):
    """The imported network against the framework's own simulation, every layer, step and neuron of 360 test samples."""
    name, run, own = imported
    g = _network(run).run(data.test_x)
    agreement = spike_agreement(g.spikes, own)
    own_acc = float(np.mean(own[-1].sum(1).argmax(1) == data.test_y))
    acc = float(np.mean(g.label == data.test_y))
    metrics = json.loads((run / "metrics.json").read_text())
    record_property("agreement", agreement["all"])
    record_property("accuracy", {"framework": own_acc, **metrics["import"]["accuracy"]})
    print(f"{name}: agreement {agreement}, framework accuracy {own_acc:.4f}, imported {acc:.4f}, {metrics['import']['accuracy']}")
    assert own[0].mean() > 0.01 and own[1].mean() > 0.01, "the framework's model spikes in both layers"
    # the import's own float reference (the source's semantics) is the framework's simulation, so the
    # agreement `snn2fpga import` reports is the agreement with the framework
    import nir

    from snn2fpga.export.nir_float import float_layers, graph_dt

    graph = nir.read(str(run.parent / "model.nir"))
    options = FRAMEWORKS[name][1]
    layers = float_layers(graph, graph_dt(graph, 1e-3 if name == "norse" else None)[0], name)
    ref = simulate_float(layers, data.test_x, options[options.index("--source") + 1], options[options.index("--reset") + 1])
    assert spike_agreement(ref, own)["all"] > 0.999
    assert metrics["import"]["agreement"]["after quantization"]["all"] == pytest.approx(agreement["all"], abs=1e-3)
    assert agreement["all"] > 0.8 and agreement["output"] > 0.8  # measured: snnTorch 0.87, Norse 0.97 (README)
    assert acc > own_acc - 0.1 and acc == pytest.approx(metrics["test_accuracy"])


def test_qonnx_equals_golden(imported, data):
    from snn2fpga.export import resolve_model, run_qonnx

    _, run, _ = imported
    m = resolve_model(run)
    assert m.meta.dataset == "saccade-digits" and m.data is not None, "the run records its data for later stages"
    x = data.test_x[:50]
    got, want = run_qonnx(m.path, x), m.network.run(x)
    assert all(np.array_equal(a, b) for a, b in zip(got.spikes, want.spikes))
    assert sum(int(s.sum()) for s in want.spikes) > 0


def test_rtl_equals_golden(imported):
    """Verilator batch harness on 20 test samples of the run's own split: every spike, count, class and cycle."""
    from snn2fpga import simulate

    _, run, _ = imported
    result = simulate(run, samples=20, lanes=16)
    assert result.samples == 20 and result.mismatches == 0, result.report


def test_hls_equals_golden(imported, data, tmp_path):
    """hls4ml C simulation of the imported run: every layer's spikes at every step."""
    from snn2fpga.export import resolve_model
    from snn2fpga.hls.build import build_hls

    _, run, _ = imported
    x = data.test_x[:20]
    runner = build_hls(resolve_model(run).path, tmp_path / "hls", tb_spikes=x[:2])
    result = runner.check(x)
    assert result.ok and result.mismatches == [0, 0] and result.label_mismatches == 0, result.summary()


def test_finetuning_continues_from_the_imported_weights(framework_nir, tmp_path, capsys):
    """--finetune-epochs 1: the project's quantization-aware trainer starts from the imported snnTorch network."""
    import nir
    import torch

    from snn2fpga.export.nir_float import float_layers
    from snn2fpga.export.nir_import import quantize
    from snn2fpga.train.config import TrainConfig

    src, _ = framework_nir("snntorch")
    rc, err = _import(capsys, src, "--weights", "int4", "--membrane", "int8", "--reset", "subtract", "--data", "saccade-digits",
                      "--finetune-epochs", "1", "--out", tmp_path / "ft")
    assert rc == 0, err
    metrics = json.loads((tmp_path / "ft" / "metrics.json").read_text())
    acc = metrics["import"]["accuracy"]
    assert set(acc) == {"float (nir semantics)", "quantized (golden model)", "fine-tuned (golden model)"}
    assert torch.load(tmp_path / "ft" / "model.pt", weights_only=True)["epoch"] == 1
    assert metrics["test_accuracy"] == acc["fine-tuned (golden model)"]
    before = quantize(float_layers(nir.read(str(src)), DT, "t"), TrainConfig(**metrics["config"]), "t")[0].to_golden()
    assert before.to_dict() != _network(tmp_path / "ft").to_dict(), "fine-tuning changed weights or thresholds"
    print(f"fine-tuning snntorch: {acc}")

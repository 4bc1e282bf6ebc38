"""NIR export and import of the integer network (docs/export.md, "NIR").

Per layer: `nir.Affine` (real weights code × s, real bias b × s) → `nir.LIF` (or `nir.IF`
without leak). Forward-Euler reading of NIR's LIF, τ·dV/dt = (v_leak − V) + R·I, with
step dt gives V ← (1 − dt/τ)·V + (dt/τ)·R·I; the contract is u = v − (v >> k) + I, so
τ = dt·2^k, R = τ/dt = 2^k, v_leak = 0 (IF: R = 1/dt). NIR fires on V > v_threshold
and the contract on u ≥ θ, so v_threshold = (θ − ½)·s. NIR cannot say how the membrane
is stored (quantizer, Δ, saturation) nor a subtract reset, so every node also carries
the exact integer parameters in `metadata["snn2fpga"]`; import uses them (checking
that the continuous fields agree) and is exact. A NIR file without them (from snnTorch,
Norse, …) is imported by the same mapping in reverse when it fits the contract.
Conv: `nir.Conv2d` → LIF/IF on [C, H, W]; OR-pool: `nir.SumPool2d` → `nir.IF` (threshold ½,
unit gain, reset to 0), which fires iff the window's sum is ≥ 1: exactly the OR.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np

from snn2fpga.export.errors import ModelFileError, UnsupportedModelError
from snn2fpga.core.contract import WEIGHT_QUANTS, ContractError, LIFParams, weight_codes_valid
from snn2fpga.core.golden import ConvLayer, GoldenNetwork, PoolLayer, QuantLayer
from snn2fpga.core.maps import MapShape

KEY = "snn2fpga"
NIR_FILE = "model.nir"


def _f32(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)


def _scalar(x: Any) -> Any:
    """Python value of an h5py/numpy scalar (bytes → str)."""
    if isinstance(x, bytes):
        return x.decode()
    if isinstance(x, np.ndarray) and x.shape == ():
        x = x[()]
    return x.item() if isinstance(x, np.generic) else x


def _neuron(p: LIFParams, shape: tuple[int, ...], s: float, dt: float, meta: dict):
    """The NIR LIF (IF without leak) implementing `p` at weight scale s, per-neuron arrays of `shape`."""
    import nir

    v_thr = np.full(shape, (p.threshold - 0.5) * s, dtype=np.float32)
    zeros = np.zeros(shape, np.float32)
    if p.leak_shift is None:
        return nir.IF(r=np.full(shape, 1.0 / dt, np.float32), v_threshold=v_thr, v_reset=zeros, metadata={KEY: meta})
    tau = dt * 2.0**p.leak_shift
    return nir.LIF(tau=np.full(shape, tau, np.float32), r=np.full(shape, tau / dt, np.float32), v_leak=zeros,
                   v_threshold=v_thr, v_reset=zeros, metadata={KEY: meta})


def to_nir(net: GoldenNetwork, scales: Optional[Sequence[float]] = None, dt: float = 1.0, steps: Optional[int] = None):
    """The network as a `nir.NIRGraph`, exact parameters in metadata.

    dense: `fc<i>` Affine → `lif<i>` (after a `flat<i>` Flatten when the input is a map); conv: `conv<i>` Conv2d →
    `lif<i>` on [C, H, W]; pool: `pool<i>` SumPool2d → `or<i>` IF with threshold ½ and unit gain, which fires iff
    the window's sum is ≥ 1 and resets to 0: exactly the contract's OR. `scales`: one per LIF layer.
    """
    import nir

    lifs = net.lif_layers
    scales = [1.0] * len(lifs) if scales is None else list(scales)
    if len(scales) != len(lifs):
        raise UnsupportedModelError(f"{len(scales)} weight scales for {len(lifs)} layers with neurons")
    in_shape = net.in_shape
    in_dims = np.array(in_shape.to_list() if in_shape is not None else [net.n_in])
    nodes: dict[str, Any] = {"input": nir.Input(input_type={"input": in_dims})}
    edges, prev, shape = [], "input", in_shape  # shape: the map the previous node makes, None when flat
    for i, layer in enumerate(net.layers):
        if layer.kind == "pool":
            out = layer.out_shape.to_list()
            nodes[f"pool{i}"] = nir.SumPool2d(kernel_size=np.array([layer.k, layer.k]), stride=np.array([layer.k, layer.k]),
                                              padding=np.array([0, 0]), metadata={KEY: {"pool": "or", "k": int(layer.k)}})
            nodes[f"or{i}"] = nir.IF(r=np.full(out, 1.0 / dt, np.float32), v_threshold=np.full(out, 0.5, np.float32),
                                     v_reset=np.zeros(out, np.float32), metadata={KEY: {"pool": "or"}})
            edges += [(prev, f"pool{i}"), (f"pool{i}", f"or{i}")]
            prev, shape = f"or{i}", layer.out_shape
            continue
        s = scales[lifs.index(i)]
        p = layer.lif
        exact = {k: (-1 if v is None else v) for k, v in p.to_dict().items()}
        wmeta = {KEY: {"weight_quant": layer.weight_quant, "weight_scale": float(s)}}
        if layer.kind == "conv":
            nodes[f"conv{i}"] = nir.Conv2d(
                input_shape=(layer.in_shape.height, layer.in_shape.width), weight=_f32(layer.weights * s),
                stride=layer.stride, padding=layer.padding, dilation=1, groups=1, bias=_f32(layer.bias * s), metadata=wmeta,
            )
            # nir 1.0.8 computes both output axes from K_h (wrong for a non-square kernel); the true map:
            nodes[f"conv{i}"].output_type = {"output": np.array(layer.out_shape.to_list())}
            nodes[f"lif{i}"] = _neuron(p, tuple(layer.out_shape.to_list()), s, dt, exact)
            edges += [(prev, f"conv{i}"), (f"conv{i}", f"lif{i}")]
            prev, shape = f"lif{i}", layer.out_shape
            continue
        if shape is not None:
            nodes[f"flat{i}"] = nir.Flatten(input_type={"input": np.array(shape.to_list())}, start_dim=0, end_dim=-1)
            edges.append((prev, f"flat{i}"))
            prev = f"flat{i}"
        nodes[f"fc{i}"] = nir.Affine(weight=_f32(layer.weights * s), bias=_f32(layer.bias * s), metadata=wmeta)
        nodes[f"lif{i}"] = _neuron(p, (layer.n_out,), s, dt, exact)
        edges += [(prev, f"fc{i}"), (f"fc{i}", f"lif{i}")]
        prev, shape = f"lif{i}", None
    nodes["output"] = nir.Output(output_type={"output": np.array([net.layers[-1].n_out])})
    edges.append((prev, "output"))
    graph_meta = {"dt": float(dt)}
    if steps is not None:
        graph_meta["steps"] = int(steps)
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata={KEY: graph_meta})


def _chain(graph, where: str) -> list[tuple[str, Any]]:
    """The graph's nodes from Input to Output, which must form a single chain."""
    import nir

    succ: dict[str, list[str]] = {}
    for a, b in graph.edges:
        succ.setdefault(a, []).append(b)
    starts = [k for k, v in graph.nodes.items() if isinstance(v, nir.Input)]
    if len(starts) != 1:
        raise UnsupportedModelError(f"{where}: {len(starts)} Input nodes; a feed-forward chain has one")
    order, name = [], starts[0]
    while True:
        order.append((name, graph.nodes[name]))
        nxt = succ.get(name, [])
        if isinstance(graph.nodes[name], nir.Output):
            break
        if len(nxt) != 1:
            raise UnsupportedModelError(f"{where}: node {name!r} has {len(nxt)} successors (a branch, a recurrent edge or a dead end); "
                                        "the hardware takes a feed-forward chain Input → (Affine → LIF)* → Output")
        name = nxt[0]
        if name not in graph.nodes:
            raise ModelFileError(f"{where}: edge to unknown node {name!r}")
        if len(order) > len(graph.nodes):
            raise UnsupportedModelError(f"{where}: node {name!r} is on a cycle (recurrence); the hardware takes a feed-forward chain")
    if len(order) != len(graph.nodes):
        raise UnsupportedModelError(f"{where}: nodes {sorted(set(graph.nodes) - {n for n, _ in order})} are off the Input → Output chain")
    return order[1:-1]


def _uniform(x, name: str, where: str) -> float:
    """The single value of a per-neuron parameter (the contract has one value per layer)."""
    a = np.asarray(x, dtype=np.float64).ravel()
    if a.size == 0 or np.any(a != a[0]):
        raise UnsupportedModelError(f"{where}: {name} differs between neurons; the contract has one value per layer")
    return float(a[0])


def _po2_codes(w: np.ndarray, where: str) -> tuple[np.ndarray, float]:
    """Integer codes and the largest power-of-two scale s with w = codes × s exactly."""
    w = np.asarray(w, dtype=np.float64)
    for e in range(24, -25, -1):
        codes = w / 2.0**e
        if np.array_equal(codes, np.rint(codes)) and np.abs(codes).max(initial=0) <= 2**7:
            return np.rint(codes).astype(np.int64), 2.0**e
    raise UnsupportedModelError(f"{where}: weights are not 8-bit integers times a power-of-two scale")


def _smallest_quant(codes: np.ndarray) -> str:
    """The narrowest weight quantizer holding these codes."""
    for q in WEIGHT_QUANTS:
        if weight_codes_valid(q, codes):
            return q
    raise UnsupportedModelError(f"weight codes {codes.min()}..{codes.max()} outside every weight quantizer")


def _exact_layer(fc, lif, fc_meta: dict, lif_meta: dict, dt: float, where: str, make=QuantLayer):
    """A layer from the snn2fpga metadata, after checking the continuous fields agree with it."""
    try:
        quant, s = str(_scalar(fc_meta["weight_quant"])), float(_scalar(fc_meta["weight_scale"]))
        p = {k: _scalar(lif_meta[k]) for k in ("threshold", "leak_shift", "reset", "membrane", "delta", "acc_bits")}
    except KeyError as e:
        raise ModelFileError(f"{where}: metadata {KEY}.{e.args[0]} is missing") from None
    if quant not in WEIGHT_QUANTS:
        raise ModelFileError(f"{where}: weight quantizer {quant!r} unknown; choose one of {', '.join(WEIGHT_QUANTS)}")
    codes = np.asarray(fc.weight, dtype=np.float64) / s
    bias = np.asarray(getattr(fc, "bias", np.zeros(codes.shape[0])), dtype=np.float64) / s
    if not (np.array_equal(codes, np.rint(codes)) and np.array_equal(bias, np.rint(bias))):
        raise ModelFileError(f"{where}: weights or bias are not integer multiples of the weight scale {s}")
    try:
        params = LIFParams(
            threshold=int(p["threshold"]),
            leak_shift=None if int(p["leak_shift"]) == -1 else int(p["leak_shift"]),
            reset=str(p["reset"]),
            membrane=str(p["membrane"]),
            delta=int(p["delta"]),
            acc_bits=int(p["acc_bits"]),
        )
        layer = make(np.rint(codes).astype(np.int64), quant, params, np.rint(bias).astype(np.int64))
    except ContractError as e:
        raise ModelFileError(f"{where}: {e}") from None
    want = _continuous(params, s, dt)
    got = {k: _uniform(getattr(lif, k), k, where) for k in want}
    if any(not math.isclose(got[k], want[k], rel_tol=1e-6) for k in want):
        raise ModelFileError(f"{where}: NIR parameters {got} disagree with the {KEY} metadata (expected {want})")
    return layer


def _continuous(p: LIFParams, s: float, dt: float) -> dict[str, float]:
    """The NIR fields (per neuron) that encode `p` at weight scale s and step dt."""
    out = {"v_threshold": (p.threshold - 0.5) * s, "v_reset": 0.0}
    if p.leak_shift is None:
        out["r"] = 1.0 / dt
    else:
        out.update(tau=dt * 2.0**p.leak_shift, r=2.0**p.leak_shift, v_leak=0.0)
    return out


def _foreign_layer(fc, lif, dt: float, acc_bits: int, where: str, make=QuantLayer):
    """A layer from NIR's continuous fields alone (reset to zero, full-precision membrane)."""
    import nir

    codes, s = _po2_codes(fc.weight, where)
    bias = np.asarray(getattr(fc, "bias", np.zeros(codes.shape[0])), dtype=np.float64) / s
    if not np.array_equal(bias, np.rint(bias)):
        raise UnsupportedModelError(f"{where}: bias is not an integer multiple of the weight scale {s}")
    if _uniform(lif.v_reset, "v_reset", where) != 0.0:
        raise UnsupportedModelError(f"{where}: v_reset must be 0 (the contract resets to zero or subtracts θ)")
    if isinstance(lif, nir.IF):
        if not math.isclose(_uniform(lif.r, "r", where) * dt, 1.0, rel_tol=1e-6):
            raise UnsupportedModelError(f"{where}: IF with r·dt ≠ 1 (r={_uniform(lif.r, 'r', where)}, dt={dt})")
        k = None
    else:
        if _uniform(lif.v_leak, "v_leak", where) != 0.0:
            raise UnsupportedModelError(f"{where}: v_leak must be 0")
        ratio = _uniform(lif.tau, "tau", where) / dt
        k = round(math.log2(ratio)) if ratio > 1 else 0
        if k < 1 or not math.isclose(ratio, 2.0**k, rel_tol=1e-6):
            raise UnsupportedModelError(f"{where}: tau/dt = {ratio} is not a power of two ≥ 2, so the leak is not a shift")
        if not math.isclose(_uniform(lif.r, "r", where), ratio, rel_tol=1e-6):
            raise UnsupportedModelError(f"{where}: r must equal tau/dt = {ratio} (unit input gain)")
    theta = math.floor(_uniform(lif.v_threshold, "v_threshold", where) / s) + 1  # V > v_thr ⟺ u ≥ ⌊v_thr/s⌋ + 1
    try:
        params = LIFParams(theta, k, "zero", "full", 1, acc_bits)
        return make(codes, _smallest_quant(codes), params, np.rint(bias).astype(np.int64))
    except ContractError as e:
        raise UnsupportedModelError(f"{where}: {e}") from None


def _pair_int(x, name: str, where: str) -> int:
    """One integer for both axes of a Conv2d/SumPool2d field (int or pair); refuses "same"/"valid" and unequal axes."""
    if isinstance(x, str):
        raise UnsupportedModelError(f"{where}: {name}={x!r}; give integer {name} (the same for both axes)")
    a = np.asarray(x).ravel()
    if a.size not in (1, 2) or np.any(a != a[0]) or a[0] != int(a[0]):
        raise UnsupportedModelError(f"{where}: {name}={a.tolist()}; only one integer {name} for both axes is supported")
    return int(a[0])


def _conv_maker(conv, shape: Optional[MapShape], where: str):
    """A ConvLayer factory (codes, quant, params, bias) for a nir.Conv2d reading map `shape`."""
    w = np.asarray(conv.weight)
    if w.ndim != 4:
        raise ModelFileError(f"{where}: Conv2d weight of shape {list(w.shape)}, expected [C_out, C_in, K_h, K_w]")
    if _pair_int(conv.dilation, "dilation", where) != 1 or int(conv.groups) != 1:
        raise UnsupportedModelError(f"{where}: Conv2d with dilation {conv.dilation} or groups {conv.groups}; the contract has 1 and 1")
    stride, padding = _pair_int(conv.stride, "stride", where), _pair_int(conv.padding, "padding", where)
    if shape is None:
        if conv.input_shape is None:
            raise ModelFileError(f"{where}: Conv2d without input_shape on a flat input; its map size is unknown")
        shape = MapShape(int(w.shape[1]), *(int(v) for v in conv.input_shape))
    if shape.channels != w.shape[1]:
        raise ModelFileError(f"{where}: Conv2d takes {w.shape[1]} channels but its input map is {shape}")
    return lambda codes, quant, params, bias: ConvLayer(codes, quant, params, shape, stride, padding, bias)


def _pool_layer(pool, neuron, shape: Optional[MapShape], dt: float, where: str) -> PoolLayer:
    """SumPool2d(k×k, stride k) → IF(unit gain, 0 ≤ v_threshold < 1, reset to 0): the contract's OR over the window."""
    import nir

    if shape is None:
        raise ModelFileError(f"{where}: SumPool2d on a flat input")
    k, stride = _pair_int(pool.kernel_size, "kernel_size", where), _pair_int(pool.stride, "stride", where)
    if stride != k or _pair_int(pool.padding, "padding", where) != 0:
        raise UnsupportedModelError(f"{where}: SumPool2d with kernel {k}, stride {stride}, padding {np.asarray(pool.padding).tolist()}; "
                                    "the contract pools k×k windows with stride k and no padding")
    if not isinstance(neuron, nir.IF):
        raise UnsupportedModelError(f"{where}: SumPool2d → {type(neuron).__name__}; an OR-pool is SumPool2d → IF (threshold ½)")
    thr, gain = _uniform(neuron.v_threshold, "v_threshold", where), _uniform(neuron.r, "r", where) * dt
    if not (0.0 <= thr < 1.0 and math.isclose(gain, 1.0, rel_tol=1e-6) and _uniform(neuron.v_reset, "v_reset", where) == 0.0):
        raise UnsupportedModelError(f"{where}: IF after SumPool2d with v_threshold {thr}, r·dt {gain}; "
                                    "an OR needs 0 ≤ v_threshold < 1, r·dt = 1 and v_reset = 0")
    try:
        return PoolLayer(shape, k)
    except ContractError as e:
        raise ModelFileError(f"{where}: {e}") from None


def from_nir(graph, dt: Optional[float] = None, acc_bits: int = 16, where: str = "<nir>") -> GoldenNetwork:
    """GoldenNetwork of a NIR graph: exact from snn2fpga metadata, else by the documented mapping.

    The chain is made of Affine/Linear → LIF/IF (dense), Conv2d → LIF/IF (conv), SumPool2d → IF (OR-pool) and
    Flatten; a 3-D Input type [C, H, W] makes the first map.
    """
    import nir

    gmeta = (graph.metadata or {}).get(KEY, {})
    if dt is None:
        dt = float(_scalar(gmeta.get("dt", 1.0)))
    chain = _chain(graph, where)
    first = next(node for node in graph.nodes.values() if isinstance(node, nir.Input))
    dims = np.asarray(next(iter(first.input_type.values()))).ravel().tolist()
    shape = MapShape(*(int(d) for d in dims)) if len(dims) == 3 else None
    layers, j = [], 0
    while j < len(chain):
        fname, fc = chain[j]
        if isinstance(fc, nir.Flatten):
            shape, j = None, j + 1
            continue
        if j + 1 >= len(chain):
            raise UnsupportedModelError(f"{where}: expected pairs Affine/Linear → LIF/IF, found {[type(n).__name__ for _, n in chain]}")
        lname, lif = chain[j + 1]
        lw = f"{where}: {fname} → {lname}"
        j += 2
        if isinstance(fc, nir.SumPool2d):
            layers.append(_pool_layer(fc, lif, shape, dt, lw))
            shape = layers[-1].out_shape
            continue
        if not isinstance(fc, (nir.Affine, nir.Linear, nir.Conv2d)) or not isinstance(lif, (nir.LIF, nir.IF)):
            raise UnsupportedModelError(
                f"{lw}: {type(fc).__name__} → {type(lif).__name__} unsupported; "
                "supported: Affine/Linear → LIF/IF, Conv2d → LIF/IF, SumPool2d → IF, Flatten"
            )
        make = _conv_maker(fc, shape, lw) if isinstance(fc, nir.Conv2d) else QuantLayer
        fm, lm = (fc.metadata or {}).get(KEY), (lif.metadata or {}).get(KEY)
        if fm is not None and lm is not None:
            layers.append(_exact_layer(fc, lif, fm, lm, dt, lw, make))
        else:
            layers.append(_foreign_layer(fc, lif, dt, acc_bits, lw, make))
        shape = getattr(layers[-1], "out_shape", None)
    if not layers:
        raise UnsupportedModelError(f"{where}: expected pairs Affine/Linear → LIF/IF, found nothing between Input and Output")
    try:
        return GoldenNetwork(layers)
    except ContractError as e:
        raise ModelFileError(f"{where}: {e}") from None


def write_nir(net: GoldenNetwork, path: Union[str, Path], scales: Optional[Sequence[float]] = None, dt: float = 1.0, steps: Optional[int] = None) -> Path:
    """Write `net` as a NIR (HDF5) file, atomically."""
    import nir

    from snn2fpga.core.files import atomic_write

    graph = to_nir(net, scales, dt, steps)
    atomic_write(Path(path), lambda tmp: nir.write(str(tmp), graph))
    return Path(path)


def _non_square_conv(path: Union[str, Path]) -> bool:
    """Does the NIR file hold a Conv2d whose kernel is not square?"""
    import h5py

    with h5py.File(str(path), "r") as f:
        nodes = f.get("node/nodes", {})
        return any(n.get("type", b"")[()] == b"Conv2d" and n["weight"].shape[2] != n["weight"].shape[3] for n in nodes.values())


def read_nir(path: Union[str, Path], dt: Optional[float] = None, acc_bits: int = 16) -> GoldenNetwork:
    """GoldenNetwork of a NIR file (see `from_nir`)."""
    import nir

    try:
        try:
            graph = nir.read(str(path))
        except ValueError as e:
            if "Type inference" not in str(e) or not _non_square_conv(path):
                raise
            # nir 1.0.8 infers a non-square kernel's output from K_h alone; from_nir checks every shape itself
            graph = nir.read(str(path), type_check=False)
    except (OSError, KeyError, AssertionError, ValueError) as e:
        raise ModelFileError(f"{path}: not a readable NIR file ({e})") from None
    return from_nir(graph, dt, acc_bits, where=str(path))


def export_nir(model_path: Union[str, Path], out: Optional[Union[str, Path]] = None) -> Path:
    """NIR file of an exported model.qonnx (or run folder): `<run>/model.nir` by default."""
    from snn2fpga.export.loader import load_network, resolve_path

    src = resolve_path(model_path)
    net, meta = load_network(src)
    out = Path(out) if out is not None else src.with_name(NIR_FILE)
    return write_nir(net, out, meta.weight_scales, steps=meta.steps)


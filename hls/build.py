"""`build_hls`: model.qonnx → hls4ml project, compiled for C simulation; `HlsRunner` drives it.

The top function the project gets (io_parallel):

    void snn(input_t spikes[N_in], input2_t reset[1], layerA_t spk0[N_0], layerB_t spk1[N_1], ...)

one call per time step, every layer's spikes out, the membrane codes kept inside each LIF;
`reset[0] = 1` clears them first (the first step of a sample).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import hls4ml
import numpy as np
from hls4ml.model.layers import Pooling2D

from snn2fpga.core.files import building_dir
from snn2fpga.hls import testbench
from snn2fpga.hls.errors import CSimMismatchError, HlsError
from snn2fpga.hls.extension import register_extension
from snn2fpga.hls.prepare import PreparedModel, prepare
from snn2fpga.core.contract import readout

PROJECT = "snn"
DEFAULT_PART = "xcvu13p-flga2577-2-e"
DEFAULT_CLOCK_NS = 5
LATENCY_LIMIT = 4096  # products per Dense layer above which the Resource strategy is used


@dataclass
class HlsResult:
    """C-simulation outputs for a batch: spikes[l] uint8 [B, T, N_l], counts [B, N_last], label [B]."""

    spikes: list[np.ndarray]
    counts: np.ndarray
    label: np.ndarray
    seconds: float = 0.0  # wall time of the C simulation


@dataclass
class Comparison:
    """Spike mismatches between C simulation and the golden model, per layer (summed over B, T, N)."""

    mismatches: list[int]
    samples: int
    steps: int
    label_mismatches: int
    csim_s_per_sample: float
    golden_s_per_sample: float
    layer_sizes: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return sum(self.mismatches) == 0 and self.label_mismatches == 0

    def summary(self) -> str:
        layers = ", ".join(f"layer {i} ({n}): {m}" for i, (n, m) in enumerate(zip(self.layer_sizes, self.mismatches)))
        return (
            f"{'PASS' if self.ok else 'FAIL'}: {self.samples} samples × {self.steps} steps, spike mismatches per layer "
            f"[{layers}], class mismatches {self.label_mismatches}; C simulation "
            f"{self.csim_s_per_sample * 1e3:.2f} ms/sample, golden model {self.golden_s_per_sample * 1e3:.2f} ms/sample"
        )


def output_orders(hls_model) -> list[np.ndarray | None]:
    """Per top-function output, the indices that put it in the contract's channel-major order (None: it is).

    hls4ml's `remove_transpose_before_flatten` folds a pool's Transpose → Flatten into the
    weights of the Dense after it (no transpose on the chip), so that pool's spikes leave
    channels-last, index (y·W + x)·C + c, straight from its `Pooling2D`.
    """
    producers = {o: layer for layer in hls_model.get_layers() for o in layer.outputs}
    orders = []
    for name in hls_model.outputs:
        layer = producers[name]
        if isinstance(layer, Pooling2D) and layer.get_attr("data_format", "channels_last") == "channels_last":
            h, w, c = layer.get_output_variable().shape
            orders.append(np.arange(h * w * c).reshape(h, w, c).transpose(2, 0, 1).reshape(-1))
        else:
            orders.append(None)
    return orders


class HlsRunner:
    """A compiled hls4ml model of the network: one C-simulation call per time step."""

    def __init__(self, hls_model, prepared: PreparedModel, out_dir: Path, golden=None, meta=None):
        self.hls_model = hls_model  # hls4ml ModelGraph
        self.prepared = prepared
        self.out_dir = Path(out_dir)
        self.golden = golden  # train.golden.GoldenNetwork read from the same model.qonnx
        self.meta = meta  # export.ExportMeta
        self.orders = output_orders(hls_model)  # contract-ordered spikes of output i = its values [..., orders[i]]

    @property
    def n_in(self) -> int:
        return self.prepared.n_in

    @property
    def layer_sizes(self) -> list[int]:
        return [layer.n_out for layer in self.prepared.layers]

    def run(self, spikes: np.ndarray) -> HlsResult:
        """Samples [B, T, N_in] (or one [T, N_in]) through the C simulation, each from reset state."""
        spikes = np.asarray(spikes)
        if spikes.ndim == 2:
            spikes = spikes[None]
        if spikes.ndim != 3 or spikes.shape[2] != self.n_in:
            raise HlsError(f"input spikes must be [B, T, {self.n_in}], got {spikes.shape}")
        if not np.all((spikes == 0) | (spikes == 1)):
            raise HlsError("input spikes must be 0 or 1")
        batch, steps, _ = spikes.shape
        x = np.ascontiguousarray(spikes.reshape(batch * steps, self.n_in), dtype=np.float32)
        reset = np.zeros((batch * steps, 1), dtype=np.float32)
        reset[::steps] = 1.0  # each sample starts from m = 0
        t0 = time.perf_counter()
        out = self.hls_model.predict([x, reset])
        seconds = time.perf_counter() - t0
        if not isinstance(out, list):
            out = [out]
        per_layer = [
            np.asarray(o).reshape(batch, steps, n).astype(np.uint8)[..., order] if order is not None
            else np.asarray(o).reshape(batch, steps, n).astype(np.uint8)
            for o, n, order in zip(out, self.layer_sizes, self.orders, strict=True)
        ]  # fmt: skip
        counts = per_layer[-1].sum(axis=1, dtype=np.int64)
        return HlsResult(per_layer, counts, readout(counts), seconds)

    def compare(self, spikes: np.ndarray, golden=None) -> Comparison:
        """Run the C simulation and the golden model (default: the one read from model.qonnx) on the same samples."""
        golden = self.golden if golden is None else golden
        if golden is None:
            raise HlsError("no golden model to compare with")
        spikes = np.asarray(spikes)
        if spikes.ndim == 2:
            spikes = spikes[None]
        t0 = time.perf_counter()
        ref = golden.run(spikes)
        golden_s = time.perf_counter() - t0
        got = self.run(spikes)
        if len(ref.spikes) != len(got.spikes):
            raise HlsError(f"golden model has {len(ref.spikes)} layers, the HLS model {len(got.spikes)}")
        batch, steps = spikes.shape[:2]
        return Comparison(
            mismatches=[int(np.count_nonzero(g != r)) for g, r in zip(got.spikes, ref.spikes)],
            samples=batch,
            steps=steps,
            label_mismatches=int(np.count_nonzero(got.label != ref.label)),
            csim_s_per_sample=got.seconds / batch,
            golden_s_per_sample=golden_s / batch,
            layer_sizes=self.layer_sizes,
        )

    def check(self, spikes: np.ndarray, golden=None) -> Comparison:
        """`compare`, raising `CSimMismatchError` on any mismatch."""
        result = self.compare(spikes, golden)
        if not result.ok:
            raise CSimMismatchError(f"{self.out_dir}: {result.summary()}")
        return result


def hls_config(prepared: PreparedModel, reuse_factor: int | None = None) -> dict:
    """hls4ml configuration: integer defaults, 1-bit inputs, a strategy and reuse factor per Dense and Conv2D layer.

    Every type on the datapath is set exactly by `hls.passes`; the default only reaches
    what the passes do not touch (nothing in these graphs).
    """
    layers: dict[str, dict] = {
        prepared.spikes_input: {"Precision": {"result": "ap_uint<1>"}},
        prepared.reset_input: {"Precision": {"result": "ap_uint<1>"}},
    }
    model = prepared.model
    for node in model.graph.node:
        if node.op_type not in ("MatMul", "Conv"):
            continue
        # Dense: N_in × N; Conv2D: the products of one output position, C_out × K_h × K_w × C_in
        products = int(np.prod(model.get_initializer(model.find_producer(node.input[1]).input[0]).shape))
        if reuse_factor is None:
            rf = 1 if products <= LATENCY_LIMIT else -(-products // LATENCY_LIMIT)
        else:
            rf = reuse_factor
        layers[node.name] = {"Strategy": "Latency" if rf == 1 else "Resource", "ReuseFactor": rf}
    return {
        "Model": {"Precision": {"default": "ap_int<32>"}, "ReuseFactor": 1, "Strategy": "Latency"},
        "LayerName": layers,
    }


@contextlib.contextmanager
def _niced_compiler(niceness: int):
    """Put a `g++` that runs under `nice` first on PATH (hls4ml's build_lib.sh calls plain `g++`)."""
    real = shutil.which("g++")
    if niceness <= 0 or real is None or shutil.which("nice") is None:
        yield
        return
    with tempfile.TemporaryDirectory(prefix="hls-nice-") as tmp:
        wrapper = Path(tmp) / "g++"
        wrapper.write_text(f'#!/bin/sh\nexec nice -n {int(niceness)} "{real}" "$@"\n')
        wrapper.chmod(0o755)
        old = os.environ.get("PATH", "")
        os.environ["PATH"] = f"{tmp}{os.pathsep}{old}"
        try:
            yield
        finally:
            os.environ["PATH"] = old


def build_hls(
    model_path: str | Path,
    out_dir: str | Path,
    backend: str = "Vitis",
    part: str = DEFAULT_PART,
    clock_period: float = DEFAULT_CLOCK_NS,
    reuse_factor: int | None = None,
    tb_spikes: np.ndarray | None = None,
    niceness: int = 10,
    csim: bool = True,
) -> HlsRunner:
    """Prepare, convert with hls4ml, write the project to `out_dir` and compile it (g++ C simulation).

    The project is written to a temporary folder beside `out_dir` and renamed into place
    only when complete (an existing `out_dir` is replaced); with `csim`, it is then compiled
    there by `hls_model.compile()`, g++ run under `nice -n niceness`. Its C++ testbench
    data (tb_data/) are `tb_spikes` [B, T, N_in] (default: 4 random samples of the model's
    T steps) with the golden model's spikes of every layer as expected output.
    """
    from snn2fpga.export import load_network

    out_dir = Path(out_dir)
    golden, meta = load_network(model_path)
    prepared = prepare(model_path)
    if tb_spikes is None:
        tb_spikes = (np.random.default_rng(0).random((4, meta.steps, golden.n_in)) < 0.1).astype(np.uint8)
    register_extension(backend)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with building_dir(out_dir) as tmp:
        with tempfile.TemporaryDirectory() as tbdir, contextlib.redirect_stdout(io.StringIO()):
            tb_in, tb_out = Path(tbdir) / testbench.NPY_INPUTS, Path(tbdir) / testbench.NPY_OUTPUTS
            hls_model = hls4ml.converters.convert_from_onnx_model(
                prepared.model.model,
                output_dir=str(tmp),
                project_name=PROJECT,
                backend=backend,
                part=part,
                clock_period=clock_period,
                io_type="io_parallel",
                hls_config=hls_config(prepared, reuse_factor),
                input_data_tb=str(tb_in),
                output_data_tb=str(tb_out),
            )
            ref = golden.run(tb_spikes).spikes  # in the order the top function writes (read at write())
            orders = output_orders(hls_model)
            testbench.write_npy(Path(tbdir), tb_spikes, [r if o is None else r[..., np.argsort(o)] for r, o in zip(ref, orders)])
            hls_model.write()
        (tmp / "model_prepared.onnx").write_bytes(prepared.model.model.SerializeToString())
    # The C simulation reads the weights from firmware/weights/*.txt by absolute path
    # (g++ compiles large initialized ap_int arrays very slowly), so it is compiled in place.
    hls_model.config.config["OutputDir"] = str(out_dir)
    hls_model.config.config["InputData"] = hls_model.config.config["OutputPredictions"] = None
    if csim:
        with _niced_compiler(niceness), contextlib.redirect_stdout(io.StringIO()):
            hls_model.compile()
    return HlsRunner(hls_model, prepared, out_dir, golden, meta)

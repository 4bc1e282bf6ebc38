"""One way to find a model: `resolve_model(path)` for every stage after export, and `test_split`.

A path may be a run folder (model.pt and/or model.qonnx), a `.qonnx` file or a `.nir`
file. A run whose model.qonnx is missing, or was exported from another checkpoint than
the model.pt beside it (ExportMeta.checkpoint_sha256), is exported first, atomically, into
the run folder; a NIR file is converted to the `.qonnx` beside it. rtl/, hls/, sim/ and
synth/ read their network only through here (DESIGN §4: the QONNX file is the single input).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional, Union

from snn2fpga.core.files import file_sha256
from snn2fpga.core.golden import GoldenNetwork
from snn2fpga.export.errors import ModelFileError
from snn2fpga.export.loader import load_network
from snn2fpga.export.meta import ExportMeta
from snn2fpga.export.qonnx_export import MODEL_FILE, export_model, export_network
from snn2fpga.train.data import DataSource, EventDataset

CHECKPOINT_FILE = "model.pt"
NIR_SUFFIX = ".nir"
QONNX_SUFFIX = ".qonnx"


@dataclass(frozen=True)
class ModelOrigin:
    """Recorded in every build/<name>/ report, so a report from another checkpoint is never read as current."""

    model_file: str
    model_sha256: str
    checkpoint_sha256: str  # "" for a bare network (no model.pt behind it)

    def to_dict(self) -> dict:
        return {"model_file": self.model_file, "model_sha256": self.model_sha256, "checkpoint_sha256": self.checkpoint_sha256}


@dataclass(frozen=True)
class ResolvedModel:
    """A model ready for the hardware stages: its integer network, its metadata and its file."""

    network: GoldenNetwork
    meta: ExportMeta
    path: Path  # the model.qonnx read
    name: str  # what build/<name>/ is called

    @property
    def steps(self) -> int:
        return self.meta.steps

    def origin(self) -> "ModelOrigin":
        """Which model file, and which checkpoint behind it, a derived artifact came from."""
        return ModelOrigin(str(self.path), file_sha256(self.path), self.meta.checkpoint_sha256)

    @property
    def data(self) -> Optional[DataSource]:
        return self.meta.data_source


def model_name(path: Path) -> str:
    """`runs/<name>` or `runs/<name>/model.qonnx` → <name>; `dir/foo.qonnx` → foo."""
    path = Path(path).resolve()
    if path.is_dir():
        return path.name
    return path.parent.name if path.stem == "model" else path.stem


def resolve_model(path: Union[str, Path], steps: Optional[int] = None) -> ResolvedModel:
    """The model at `path` (run folder, .qonnx or .nir; see the module doc), exported first when needed.

    `steps` is needed only for a foreign NIR file that does not record T. Errors are
    ExportError subclasses (ValueError) and name the file.
    """
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"{path}: no such run folder or model file")
    if path.is_dir():
        qonnx = _run_qonnx(path)
    elif path.suffix == NIR_SUFFIX:
        qonnx = _nir_qonnx(path, steps)
    elif path.suffix in (QONNX_SUFFIX, ".onnx"):
        qonnx = path
    else:
        raise ModelFileError(f"{path}: not a model: give a run folder, a {QONNX_SUFFIX} file or a {NIR_SUFFIX} file")
    network, meta = load_network(qonnx)
    return ResolvedModel(network, meta, qonnx, model_name(path))


def _run_qonnx(run: Path) -> Path:
    """The run's model.qonnx, (re-)exported when it is missing or not from the model.pt beside it."""
    qonnx, ckpt = run / MODEL_FILE, run / CHECKPOINT_FILE
    if not ckpt.exists():
        if qonnx.exists():
            return qonnx
        raise ModelFileError(f"{run}: neither {MODEL_FILE} nor {CHECKPOINT_FILE}; train first (snn2fpga train --out {run})")
    if qonnx.exists():
        _, meta = load_network(qonnx)
        if meta.checkpoint_sha256 == file_sha256(ckpt):
            return qonnx
        print(f"{qonnx} was exported from another checkpoint: exporting {ckpt} again")
    else:
        print(f"{qonnx} missing: exporting {ckpt}")
    return export_model(run)


def _nir_qonnx(nir_path: Path, steps: Optional[int]) -> Path:
    """`<stem>.qonnx` beside a NIR file, written (atomically) unless it is newer than the NIR file."""
    import nir

    from snn2fpga.export.nir_bridge import KEY, read_nir

    out = nir_path.with_suffix(QONNX_SUFFIX)
    if out.exists() and out.stat().st_mtime >= nir_path.stat().st_mtime:
        return out
    net = read_nir(nir_path)
    recorded = (nir.read(str(nir_path)).metadata or {}).get(KEY, {}).get("steps")
    t = steps if steps is not None else recorded
    if t is None:
        raise ModelFileError(f"{nir_path}: the NIR graph does not record the time steps T; pass them (--steps)")
    return export_network(net, out, steps=int(t))


def test_split(model: Union[str, Path, ResolvedModel], data_dir: Optional[str] = None) -> EventDataset:
    """The held-out split `model` was tested on, rebuilt from its recorded DataSource.

    `data_dir` replaces the recorded folder (the data moved). A model that records no data
    (a bare network) is a ModelFileError.
    """
    m = model if isinstance(model, ResolvedModel) else resolve_model(model)
    source = m.data
    if source is None:
        raise ModelFileError(f"{m.path}: records no training data (a bare network); give samples another way")
    if data_dir is not None:
        source = replace(source, data_dir=str(Path(data_dir).resolve()))
    return source.load()


test_split.__test__ = False  # a library function, not a pytest test

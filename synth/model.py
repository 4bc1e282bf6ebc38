"""What the flows need from a model path: the network, T, and where its test set comes from.

Accepted, in this order:

1. a run folder with `model.qonnx`, or a `.qonnx` file: `export.load_network` (the
   normal path, DESIGN §1: rtl/ and everything after read the exported model);
2. a run folder with only `model.pt` (not exported yet): the trained checkpoint through
   `train.trainer.load_model(...).to_golden()`, the same integer network the export
   writes; the report says so (`network_source`);
3. a network `.json` (`GoldenNetwork.save_json` plus a "steps" key; optional "pool",
   "dataset"), as `python -m rtl` takes.

The run folder's `config.json` (if any) gives the dataset folder, seed and hold-out
fraction the model was trained with, so the bench evaluates the same test split.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from synth.errors import ModelError
from train.golden import GoldenNetwork


@dataclass
class ModelInfo:
    network: GoldenNetwork
    steps: int
    name: str  # the build/<name>/ folder
    path: str  # as given
    network_source: str  # "model.qonnx" | "model.pt (not exported)" | "network.json"
    dataset: Optional[str] = None
    pool: Optional[int] = None
    data: dict = field(default_factory=dict)  # data_dir, seed, test_fraction for load_dataset
    file: str = ""  # the file the network was read from

    @property
    def sizes(self) -> list[int]:
        return [self.network.n_in] + [layer.n_out for layer in self.network.layers]

    def describe(self) -> dict:
        layers = self.network.layers
        return {
            "path": self.path,
            "network_source": self.network_source,
            "sizes": self.sizes,
            "weight_quant": [layer.weight_quant for layer in layers],
            "membrane": [layer.lif.membrane for layer in layers],
            "steps": self.steps,
            "dataset": self.dataset,
            "pool": self.pool,
            "file": self.file,
            "file_sha256": _sha256(self.file),
        }


def _sha256(path: str) -> str:
    if not path or not Path(path).is_file():
        return ""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def model_name(path: Path) -> str:
    path = Path(path)
    if path.is_dir():
        return path.resolve().name
    return path.parent.resolve().name if path.stem == "model" else path.stem


def _run_config(folder: Path) -> dict:
    cfg = folder / "config.json"
    if not cfg.exists():
        return {}
    try:
        data = json.loads(cfg.read_text())
    except json.JSONDecodeError as exc:
        raise ModelError(f"{cfg}: not valid JSON ({exc})") from None
    return data


def _data_args(cfg: dict) -> dict:
    return {k: cfg[k] for k in ("data_dir", "seed", "test_fraction") if k in cfg}


def load_model(path) -> ModelInfo:
    """Read a run folder, a .qonnx file or a network .json (see the module docstring)."""
    path = Path(path)
    name = model_name(path)
    if path.suffix == ".json" and path.is_file():
        data = json.loads(path.read_text())
        if "steps" not in data:
            raise ModelError(f"{path}: a network .json needs a 'steps' key (time steps T)")
        return ModelInfo(GoldenNetwork.from_dict(data), int(data["steps"]), name, str(path), "network.json",
                         data.get("dataset"), data.get("pool"), _data_args(data), str(path))
    qonnx = path / "model.qonnx" if path.is_dir() else path
    if qonnx.suffix == ".qonnx" and qonnx.exists():
        from export import load_network  # the export stage, imported only when needed

        network, meta = load_network(qonnx)
        cfg = _run_config(qonnx.parent)
        return ModelInfo(network, int(meta.steps), name, str(path), "model.qonnx", meta.dataset or None,
                         int(meta.pool), _data_args(cfg), str(qonnx))
    if path.is_dir() and (path / "model.pt").exists():
        from train.trainer import load_model as load_checkpoint  # torch: only on this path

        model, cfg = load_checkpoint(path)
        cfg_d = cfg.__dict__ if hasattr(cfg, "__dict__") else dict(cfg)
        return ModelInfo(model.to_golden(), int(cfg_d["steps"]), name, str(path), "model.pt (not exported)",
                         cfg_d.get("dataset"), cfg_d.get("pool"), _data_args(cfg_d), str(path / "model.pt"))
    raise ModelError(f"{path}: no model.qonnx, model.pt or network .json there "
                     "(train with `python train/run.py --out runs/<name>`, export with `make export`)")

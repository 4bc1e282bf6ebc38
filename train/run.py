"""`python train/run.py`: train a quantized SNN, check it against the golden model, write runs/<name>/."""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, Python puts train/ first on sys.path; the pipeline imports from the repo root.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from train.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())

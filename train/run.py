"""`python train/run.py`: train a quantized SNN, check it against the golden model, write runs/<name>/.

The same as `snn2fpga train`; kept so a checkout can train by path.
"""

from __future__ import annotations

import sys

from snn2fpga.train.cli import main

if __name__ == "__main__":
    sys.exit(main())

"""Samples through a board (real or simulated), each answer against the golden model.

`run_board(client, network, x, truth)` streams the samples through `host.BoardClient` and
checks every RESULT: the class, every class's spike count, and no error flag. Used by
`snn2fpga run-board` on a serial port and by the cocotb test on the simulated UART pin.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from snn2fpga.board.host import BoardClient
from snn2fpga.core.golden import GoldenNetwork


@dataclass
class BoardRun:
    """What a run through the board found."""

    samples: int = 0
    mismatches: list[str] = field(default_factory=list)
    correct: int = 0  # the board's class equals the dataset label
    labelled: int = 0
    seconds: float = 0.0

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.labelled if self.labelled else None

    @property
    def samples_per_s(self) -> float:
        return self.samples / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict:
        return {"samples": self.samples, "mismatches": len(self.mismatches), "mismatch_list": self.mismatches[:200],
                "accuracy": self.accuracy, "seconds": round(self.seconds, 3), "samples_per_s": round(self.samples_per_s, 2)}


def run_board(client: BoardClient, network: GoldenNetwork, x: np.ndarray, truth: np.ndarray | None = None,
              tags: list[str] | None = None) -> BoardRun:
    """Classify `x` [n, T, N_in] on the board; compare with `network.run(x)`, spike count for spike count."""
    golden = network.run(x)
    run = BoardRun()
    start = time.perf_counter()
    for i, result in enumerate(client.classify(x)):
        tag = f"sample {i}" + (f" ({tags[i]})" if tags else "")
        want = tuple(int(c) for c in golden.counts[i])
        if result.flags:
            run.mismatches.append(f"{tag}: error flags {', '.join(result.flag_names())}")
        if result.counts != want:
            run.mismatches.append(f"{tag}: counts expected {list(want)}, seen {list(result.counts)}")
        if result.label != int(golden.label[i]):
            run.mismatches.append(f"{tag}: class expected {int(golden.label[i])}, seen {result.label}")
        if truth is not None and truth[i] >= 0:
            run.labelled += 1
            run.correct += int(result.label == truth[i])
        run.samples += 1
    run.seconds = time.perf_counter() - start
    return run

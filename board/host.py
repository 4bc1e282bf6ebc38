"""The host side of the serial framing over any byte link: a real port (board/serial_link.py)
or the simulated UART pin of the cocotb test (board/board_cocotb.py) — the same code for both.

`BoardClient.classify(samples)` writes each sample (RESET, words, EOS per step) one sample
ahead of the answers it reads, so the link never idles while the host waits; the board
answers in order (READY, then RESULT, per sample).
"""

from __future__ import annotations

from collections import deque
from typing import Iterable, Iterator, Protocol

import numpy as np

from snn2fpga.board import protocol as proto


class Link(Protocol):
    """A byte pipe to the board: what pyserial's `Serial` offers, with a per-read timeout."""

    name: str

    def write(self, data: bytes) -> None: ...

    def read(self, size: int, timeout: float) -> bytes:
        """Up to `size` bytes; fewer (maybe none) when `timeout` seconds pass first."""
        ...


class NoAnswerError(ValueError):
    """The board did not answer within the timeout."""


class AnswerError(ValueError):
    """The board answered out of order (a RESULT without the READY of its RESET)."""


class BoardClient:
    """Samples to the board, `protocol.Result`s back."""

    def __init__(self, link: Link, n_classes: int, timeout: float):
        self.link = link
        self.timeout = timeout
        self.parser = proto.ResponseParser(n_classes)
        self._answers: deque[proto.Answer] = deque()

    def _next(self, waiting_for: str) -> proto.Answer:
        while not self._answers:
            data = self.link.read(64, self.timeout)
            if not data:
                raise NoAnswerError(f"{self.link.name}: no answer within {self.timeout:g} s (waiting for {waiting_for}); "
                                    "is the board programmed, and the port and baud rate right?")
            self._answers.extend(self.parser.feed(data))
        return self._answers.popleft()

    def reset(self, settle: float) -> None:
        """RESET, wait for READY, then drop whatever else arrives within `settle` seconds (answers
        to bytes sent before, e.g. garbage). After this the link is in step with the board."""
        self.link.write(bytes((proto.RESET,)))
        while not isinstance(self._next("READY after RESET"), proto.Ready):
            pass
        while self.link.read(64, settle):
            pass
        self._answers.clear()
        self.parser = proto.ResponseParser(self.parser.n_classes)

    def _result(self) -> proto.Result:
        answer = self._next("READY")
        if not isinstance(answer, proto.Ready):
            raise AnswerError(f"{self.link.name}: got {answer} where the READY of a RESET belongs")
        answer = self._next("RESULT")
        if not isinstance(answer, proto.Result):
            raise AnswerError(f"{self.link.name}: got {answer} where a RESULT belongs")
        return answer

    def classify(self, samples: Iterable[np.ndarray]) -> Iterator[proto.Result]:
        """One `Result` per sample [T, N_in], in order."""
        it = iter(samples)
        first = next(it, None)
        if first is None:
            return
        self.link.write(proto.encode_sample(first))
        for sample in it:
            self.link.write(proto.encode_sample(sample))
            yield self._result()
        yield self._result()

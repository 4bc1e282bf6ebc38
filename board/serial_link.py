"""A real serial port as a `host.Link` (pyserial), opened 8N1 at the board's baud rate."""

from __future__ import annotations


class PortError(ValueError):
    """The serial port cannot be opened."""


class SerialLink:
    """pyserial's `Serial` with the per-read timeout `host.Link` asks for."""

    def __init__(self, port: str, baud: int):
        import serial  # pyserial; imported here so the rest of board/ does not need it

        self.name = port
        try:
            self._port = serial.serial_for_url(port, baudrate=baud, bytesize=8, parity="N", stopbits=1, timeout=1.0)
        except (serial.SerialException, ValueError) as exc:
            raise PortError(f"{port}: cannot open the serial port ({exc})") from None
        self._port.reset_input_buffer()

    def write(self, data: bytes) -> None:
        self._port.write(data)

    def read(self, size: int, timeout: float) -> bytes:
        self._port.timeout = timeout
        first = self._port.read(1)  # wait up to `timeout` for the first byte, then take what is there
        if not first:
            return b""
        return first + self._port.read(min(size - 1, self._port.in_waiting))

    def close(self) -> None:
        self._port.close()

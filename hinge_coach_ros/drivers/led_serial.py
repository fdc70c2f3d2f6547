"""LED strip on a microcontroller over a serial line: the wire protocol, the
host driver, and a simulated strip firmware (the device side of the protocol).

The protocol is specified in docs/led_serial_protocol.md. In short, every
frame is::

    0xA5 | LEN | CMD | SEQ | PAYLOAD (LEN bytes) | CRC16 (big-endian)

CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF) over LEN, CMD, SEQ and
PAYLOAD. The strip answers every frame with an ACK (``CMD | 0x80``, same SEQ)
or a NAK (``0x7F``, same SEQ, one error byte). Without a valid frame for
``WATCHDOG_S`` the firmware blinks magenta by itself: a host that hung never
leaves a stale green on the strip.
"""

from __future__ import annotations

import binascii
import time
from dataclasses import dataclass, field

import serial

from ..feedback import LedPattern, pattern_brightness
from .errors import DriverError

SYNC = 0xA5
PROTOCOL_VERSION = 1
CMD_HELLO = 0x01
CMD_SHOW = 0x02
CMD_OFF = 0x03
CMD_PING = 0x04
ACK_BIT = 0x80
NAK = 0x7F
ERR_CRC, ERR_COMMAND, ERR_LENGTH, ERR_VALUE = 1, 2, 3, 4
PATTERN_CODES = {"solid": 0, "blink": 1, "breathe": 2}
MAX_PAYLOAD = 32
WATCHDOG_S = 3.0  # the firmware's: no frame for this long and it shows system fault by itself
KEEPALIVE_S = 1.0  # the host's: a ping at least this often
ACK_TIMEOUT_S = 0.2


def crc16(data: bytes) -> int:
    return binascii.crc_hqx(data, 0xFFFF)


def encode_frame(cmd: int, seq: int, payload: bytes = b"") -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    body = bytes([len(payload), cmd, seq & 0xFF]) + payload
    return bytes([SYNC]) + body + crc16(body).to_bytes(2, "big")


@dataclass
class FrameParser:
    """Splits a byte stream into frames; skips noise and frames with a bad CRC."""

    buffer: bytearray = field(default_factory=bytearray)
    bad_crc: int = 0

    def feed(self, data: bytes) -> list[tuple[int, int, bytes, bool]]:
        """Returns (cmd, seq, payload, crc_ok) for each complete frame."""
        self.buffer += data
        frames = []
        while True:
            start = self.buffer.find(SYNC)
            if start < 0:
                self.buffer.clear()
                return frames
            del self.buffer[:start]
            if len(self.buffer) < 2:
                return frames
            length = self.buffer[1]
            if length > MAX_PAYLOAD:
                del self.buffer[0]  # not a frame start: resynchronise on the next sync byte
                continue
            total = 1 + 3 + length + 2
            if len(self.buffer) < total:
                return frames
            frame = bytes(self.buffer[:total])
            body, crc = frame[1:-2], int.from_bytes(frame[-2:], "big")
            ok = crc16(body) == crc
            if ok:
                del self.buffer[:total]
            else:
                self.bad_crc += 1
                del self.buffer[0]
            frames.append((body[1], body[2], body[3:], ok))


def show_payload(rgb: tuple[int, int, int], pattern: LedPattern) -> bytes:
    period_ms = int(round(min(max(pattern.period_s, 0.0), 60.0) * 1000))
    return bytes([*rgb, PATTERN_CODES[pattern.kind]]) + period_ms.to_bytes(2, "big")


def rgb_bytes(rgba: tuple[float, float, float, float], brightness: float) -> tuple[int, int, int]:
    """0-255 channel values; alpha and the station's brightness scale the colour."""
    r, g, b, a = rgba
    scale = max(0.0, min(1.0, a)) * max(0.0, min(1.0, brightness))
    return tuple(int(round(255 * max(0.0, min(1.0, c)) * scale)) for c in (r, g, b))  # type: ignore[return-value]


class SerialLed:
    """The host side: sends the state, waits for the ACK, keeps the line alive."""

    name = "serial"

    def __init__(self, port: str, baud: int = 115200, brightness: float = 1.0) -> None:
        self.port_name, self.baud, self.brightness = port, baud, brightness
        self._serial: serial.Serial | None = None
        self._seq = 0
        self._parser = FrameParser()
        self._last_sent_s = -float("inf")
        self._last_show: bytes | None = None
        self.led_count = 0
        self.colour: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    def open(self) -> None:
        try:
            self._serial = serial.Serial(self.port_name, self.baud, timeout=ACK_TIMEOUT_S, write_timeout=1.0)
        except (serial.SerialException, OSError) as exc:
            raise DriverError(f"LED strip: cannot open {self.port_name}: {exc}") from None
        self._last_show = None  # a strip just plugged in (or restarted) shows nothing yet: send the state
        payload = self._request(CMD_HELLO)
        if len(payload) < 3 or payload[0] != PROTOCOL_VERSION:
            raise DriverError(f"LED strip on {self.port_name} speaks protocol {payload[:1].hex()}, need 1")
        self.led_count = int.from_bytes(payload[1:3], "big")

    def _request(self, cmd: int, payload: bytes = b"") -> bytes:
        if self._serial is None:
            raise DriverError("LED strip: port not open")
        for _ in range(2):  # one retry: a single corrupted frame is not a fault
            self._seq = (self._seq + 1) & 0xFF
            try:
                self._serial.write(encode_frame(cmd, self._seq, payload))
                reply = self._read_reply(self._seq)
            except (serial.SerialException, OSError) as exc:
                raise DriverError(f"LED strip on {self.port_name}: {exc}") from None
            if reply is None:
                continue
            rcmd, rpayload = reply
            if rcmd == cmd | ACK_BIT:
                self._last_sent_s = time.monotonic()
                return rpayload
            if rcmd == NAK and rpayload and rpayload[0] != ERR_CRC:
                raise DriverError(f"LED strip refused command 0x{cmd:02x}: error {rpayload[0]}")
        raise DriverError(f"LED strip on {self.port_name}: no acknowledgement (is it connected?)")

    def _read_reply(self, seq: int) -> tuple[int, bytes] | None:
        assert self._serial is not None
        deadline = time.monotonic() + ACK_TIMEOUT_S
        while time.monotonic() < deadline:
            data = self._serial.read(self._serial.in_waiting or 1)
            for cmd, rseq, payload, ok in self._parser.feed(data):
                if ok and rseq == seq:
                    return cmd, payload
        return None

    def show(self, rgba: tuple[float, float, float, float], pattern: LedPattern) -> None:
        payload = show_payload(rgb_bytes(rgba, self.brightness), pattern)
        if payload != self._last_show:
            self._request(CMD_SHOW, payload)
            self._last_show = payload
        elif time.monotonic() - self._last_sent_s > KEEPALIVE_S:
            self._request(CMD_PING)
        self.colour = rgba

    def off(self) -> None:
        self._request(CMD_OFF)
        self._last_show = None
        self.colour = (0.0, 0.0, 0.0, 0.0)

    def close(self) -> None:
        if self._serial is not None:
            self._serial.close()
            self._serial = None


@dataclass
class StripFirmware:
    """The strip's microcontroller, simulated: what a real firmware must do, byte for byte."""

    led_count: int = 60
    rgb: tuple[int, int, int] = (0, 0, 0)
    pattern: LedPattern = field(default_factory=lambda: LedPattern("solid"))
    clock: object = time.monotonic
    last_frame_s: float = field(default_factory=time.monotonic)
    pattern_since_s: float = 0.0  # patterns start in their "on" phase when set
    frames_ok: int = 0
    naks: int = 0
    parser: FrameParser = field(default_factory=FrameParser)
    shown: list[tuple[tuple[int, int, int], str, float]] = field(default_factory=list)

    def handle(self, data: bytes) -> bytes:
        out = b""
        for cmd, seq, payload, ok in self.parser.feed(data):
            if not ok:
                out += encode_frame(NAK, seq, bytes([ERR_CRC]))
                self.naks += 1
                continue
            reply = self._command(cmd, payload)
            if isinstance(reply, int):
                out += encode_frame(NAK, seq, bytes([reply]))
                self.naks += 1
            else:
                self.frames_ok += 1
                self.last_frame_s = self.clock()  # type: ignore[operator]
                out += encode_frame(cmd | ACK_BIT, seq, reply)
        return out

    def _command(self, cmd: int, payload: bytes) -> bytes | int:
        if cmd == CMD_HELLO:
            return bytes([PROTOCOL_VERSION]) + self.led_count.to_bytes(2, "big")
        if cmd == CMD_SHOW:
            if len(payload) != 6:
                return ERR_LENGTH
            kinds = {v: k for k, v in PATTERN_CODES.items()}
            if payload[3] not in kinds:
                return ERR_VALUE
            self.rgb = (payload[0], payload[1], payload[2])
            self.pattern = LedPattern(kinds[payload[3]], int.from_bytes(payload[4:6], "big") / 1000.0)
            self.shown.append((self.rgb, self.pattern.kind, self.pattern.period_s))
            self.pattern_since_s = self.clock()  # type: ignore[operator]
            return b""
        if cmd == CMD_OFF:
            if payload:
                return ERR_LENGTH
            self.rgb, self.pattern = (0, 0, 0), LedPattern("solid")
            self.shown.append((self.rgb, "solid", 0.0))
            return b""
        if cmd == CMD_PING:
            return b""
        return ERR_COMMAND

    def pixel(self, now_s: float | None = None) -> tuple[int, int, int]:
        """What every LED of the strip shows now, pattern and watchdog included."""
        now = self.clock() if now_s is None else now_s  # type: ignore[operator]
        if now - self.last_frame_s > WATCHDOG_S:
            on = pattern_brightness(LedPattern("blink", 1.0), now - self.last_frame_s - WATCHDOG_S)
            return (int(255 * on), 0, int(255 * on))  # magenta: the host went silent
        k = pattern_brightness(self.pattern, now - self.pattern_since_s)
        return tuple(int(round(c * k)) for c in self.rgb)  # type: ignore[return-value]

"""A simulated Dynamixel X-series servo bus speaking Protocol 2.0.

Instruction and status packets (header ``FF FF FD 00``, byte stuffing,
CRC-16 polynomial 0x8005), with PING, READ, WRITE and SYNC_WRITE, and the
control-table items the pan-tilt driver uses. Like the real servo it keeps
its EEPROM area (limits, operating mode) read-only while the torque is on,
refuses a goal position outside its position limits with a Data Limit
Error, and moves only while the torque is on, at the profile velocity.
Run it behind a pseudo-terminal (``PtyDevice``) so the real driver, through
dynamixel-sdk, talks to it as to a USB serial adapter.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

HEADER = bytes([0xFF, 0xFF, 0xFD, 0x00])
BROADCAST_ID = 0xFE
INST_PING, INST_READ, INST_WRITE, INST_SYNC_WRITE, INST_STATUS = 0x01, 0x02, 0x03, 0x83, 0x55
ERR_RESULT_FAIL, ERR_INSTRUCTION, ERR_CRC = 1, 2, 3
ERR_DATA_RANGE, ERR_DATA_LENGTH, ERR_DATA_LIMIT, ERR_ACCESS = 4, 5, 6, 7

# X-series control table (XL430 / XM430): address, size in bytes.
MODEL_NUMBER = (0, 2)
FIRMWARE_VERSION = (6, 1)
ID = (7, 1)
OPERATING_MODE = (11, 1)
MAX_POSITION_LIMIT = (48, 4)
MIN_POSITION_LIMIT = (52, 4)
TORQUE_ENABLE = (64, 1)
HARDWARE_ERROR_STATUS = (70, 1)
PROFILE_ACCELERATION = (108, 4)
PROFILE_VELOCITY = (112, 4)
GOAL_POSITION = (116, 4)
MOVING = (122, 1)
PRESENT_POSITION = (132, 4)
EEPROM_END = 64  # items below this address are writable only with the torque off
TABLE_SIZE = 147

TICKS_PER_REV = 4096
PROFILE_VELOCITY_DPS = 0.229 * 360.0 / 60.0  # one unit of Profile Velocity (0.229 rev/min) in deg/s
MODEL_XL430_W250 = 1060


def crc16(data: bytes) -> int:
    """Protocol 2.0 CRC: CRC-16 with polynomial 0x8005, initial 0, no reflection."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def stuff(payload: bytes) -> bytes:
    """Insert 0xFD after every FF FF FD inside the packet body (instruction onward)."""
    out = bytearray()
    for byte in payload:
        out.append(byte)
        if len(out) >= 3 and out[-3:] == b"\xff\xff\xfd":
            out.append(0xFD)
    return bytes(out)


def unstuff(payload: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(payload):
        out.append(payload[i])
        if len(out) >= 3 and out[-3:] == b"\xff\xff\xfd" and i + 1 < len(payload) and payload[i + 1] == 0xFD:
            i += 1  # drop the stuffing byte
        i += 1
    return bytes(out)


def build_packet(servo_id: int, instruction: int, params: bytes) -> bytes:
    body = stuff(bytes([instruction]) + params)
    length = len(body) + 2
    packet = HEADER + bytes([servo_id, length & 0xFF, length >> 8]) + body
    return packet + crc16(packet).to_bytes(2, "little")


def status_packet(servo_id: int, error: int, params: bytes = b"") -> bytes:
    return build_packet(servo_id, INST_STATUS, bytes([error]) + params)


@dataclass
class SimServo:
    """One X-series servo in position mode."""

    servo_id: int
    clock: Callable[[], float] = time.monotonic
    table: bytearray = field(default_factory=lambda: bytearray(TABLE_SIZE))
    accepted_goals: list[int] = field(default_factory=list)
    refused_goals: list[int] = field(default_factory=list)
    _position: float = 2048.0
    _moved_at: float = 0.0

    def __post_init__(self) -> None:
        self._put(MODEL_NUMBER, MODEL_XL430_W250)
        self._put(FIRMWARE_VERSION, 46)
        self._put(ID, self.servo_id)
        self._put(OPERATING_MODE, 3)
        self._put(MAX_POSITION_LIMIT, TICKS_PER_REV - 1)
        self._put(MIN_POSITION_LIMIT, 0)
        self._put(GOAL_POSITION, 2048)
        self._put(PRESENT_POSITION, 2048)
        self._moved_at = self.clock()

    def _put(self, item: tuple[int, int], value: int) -> None:
        address, size = item
        self.table[address : address + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")

    def get(self, item: tuple[int, int]) -> int:
        address, size = item
        value = int.from_bytes(self.table[address : address + size], "little")
        return value - (1 << (8 * size)) if size == 4 and value >= 1 << 31 else value

    @property
    def torque_on(self) -> bool:
        return bool(self.table[TORQUE_ENABLE[0]])

    @property
    def position(self) -> float:
        self._advance()
        return self._position

    def _advance(self) -> None:
        """Move toward the goal at the profile velocity (instantly when it is 0), torque permitting."""
        now = self.clock()
        dt, self._moved_at = now - self._moved_at, now
        if not self.torque_on:
            return
        goal = self.get(GOAL_POSITION)
        velocity_units = self.get(PROFILE_VELOCITY)
        if velocity_units <= 0:
            self._position = float(goal)
        else:
            ticks_per_s = velocity_units * PROFILE_VELOCITY_DPS * TICKS_PER_REV / 360.0
            step = ticks_per_s * dt
            self._position += max(-step, min(step, goal - self._position))
        self._put(PRESENT_POSITION, int(round(self._position)))
        self._put(MOVING, int(abs(goal - self._position) > 0.5))

    def read(self, address: int, length: int) -> tuple[int, bytes]:
        if address + length > TABLE_SIZE or length == 0:
            return ERR_DATA_RANGE, b""
        self._advance()
        return 0, bytes(self.table[address : address + length])

    def write(self, address: int, data: bytes) -> int:
        if address + len(data) > TABLE_SIZE or not data:
            return ERR_DATA_RANGE
        if address < EEPROM_END and self.torque_on:
            return ERR_ACCESS  # EEPROM: torque off first, as on the real servo
        self._advance()
        if address == GOAL_POSITION[0] and len(data) == 4:
            goal = int.from_bytes(data, "little", signed=True)
            if not self.get(MIN_POSITION_LIMIT) <= goal <= self.get(MAX_POSITION_LIMIT):
                self.refused_goals.append(goal)
                return ERR_DATA_LIMIT
            self.accepted_goals.append(goal)
        self.table[address : address + len(data)] = data
        return 0


@dataclass
class ServoBusSim:
    """Servos on one half-duplex bus: parses instruction packets, answers with status packets."""

    servos: dict[int, SimServo]
    buffer: bytearray = field(default_factory=bytearray)
    crc_errors: int = 0

    @classmethod
    def with_ids(cls, *ids: int) -> ServoBusSim:
        return cls({i: SimServo(i) for i in ids})

    def handle(self, data: bytes) -> bytes:
        self.buffer += data
        out = b""
        while True:
            start = self.buffer.find(HEADER)
            if start < 0:
                del self.buffer[: max(0, len(self.buffer) - 3)]
                return out
            del self.buffer[:start]
            if len(self.buffer) < 7:
                return out
            length = int.from_bytes(self.buffer[5:7], "little")
            total = 7 + length
            if len(self.buffer) < total:
                return out
            packet = bytes(self.buffer[:total])
            del self.buffer[:total]
            if crc16(packet[:-2]) != int.from_bytes(packet[-2:], "little"):
                self.crc_errors += 1
                servo_id = packet[4]
                if servo_id in self.servos:
                    out += status_packet(servo_id, ERR_CRC)
                continue
            out += self._instruction(packet[4], unstuff(packet[7:-2]))

    def _instruction(self, servo_id: int, body: bytes) -> bytes:
        instruction, params = body[0], body[1:]
        if instruction == INST_SYNC_WRITE and servo_id == BROADCAST_ID:
            address = int.from_bytes(params[0:2], "little")
            size = int.from_bytes(params[2:4], "little")
            entries = params[4:]
            for i in range(0, len(entries) - size, size + 1):
                servo = self.servos.get(entries[i])
                if servo is not None:
                    servo.write(address, entries[i + 1 : i + 1 + size])
            return b""  # broadcast: no status packets
        servo = self.servos.get(servo_id)
        if servo is None:
            return b""  # nobody with that ID on the bus: silence, as on a real bus
        if instruction == INST_PING:
            model = servo.get(MODEL_NUMBER).to_bytes(2, "little")
            return status_packet(servo_id, 0, model + bytes([servo.get(FIRMWARE_VERSION)]))
        if instruction == INST_READ:
            if len(params) != 4:
                return status_packet(servo_id, ERR_DATA_LENGTH)
            error, data = servo.read(
                int.from_bytes(params[0:2], "little"), int.from_bytes(params[2:4], "little")
            )
            return status_packet(servo_id, error, data)
        if instruction == INST_WRITE:
            if len(params) < 3:
                return status_packet(servo_id, ERR_DATA_LENGTH)
            return status_packet(servo_id, servo.write(int.from_bytes(params[0:2], "little"), params[2:]))
        return status_packet(servo_id, ERR_INSTRUCTION)


def ticks_to_deg(ticks: float) -> float:
    return (ticks - TICKS_PER_REV / 2) * 360.0 / TICKS_PER_REV


def deg_to_ticks(deg: float) -> int:
    return int(round(TICKS_PER_REV / 2 + deg * TICKS_PER_REV / 360.0))

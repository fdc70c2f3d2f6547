"""Pan-tilt mount on two Dynamixel X-series servos (Protocol 2.0, dynamixel-sdk).

Start-up: ping both servos, torque off, position mode, write the joint
limits into the servos' own position limits (so a servo refuses a goal past
them even if the host misbehaves), the speed and acceleration caps into the
profile, then torque on; limits changed at run time are written the same
way before the next goal. Each command is one SYNC_WRITE of both goal
positions. ``safe_stop`` sends the mount home, waits until it is there (or
a time-out), and turns the torque off.

Joint angles (pan positive to the camera's right, tilt positive upward, 0
straight ahead) become servo angles through each servo's mounting: the servo
angle at joint zero (the horn's offset; servo angle 0 is the centre tick,
2048) and whether the servo turns the other way from the joint.
"""

from __future__ import annotations

import math
import struct
import time
from dataclasses import dataclass

from ..feedback import PanTiltLimits
from .dynamixel_sim import (
    GOAL_POSITION,
    INST_READ,
    MAX_POSITION_LIMIT,
    MIN_POSITION_LIMIT,
    OPERATING_MODE,
    PRESENT_POSITION,
    PROFILE_ACCELERATION,
    PROFILE_VELOCITY,
    PROFILE_VELOCITY_DPS,
    TICKS_PER_REV,
    TORQUE_ENABLE,
    build_packet,
    ticks_to_deg,
)
from .errors import DriverError

POSITION_MODE = 3
PROFILE_ACCELERATION_DPS2 = 214.577 * 360.0 / 3600.0  # one unit (214.577 rev/min^2) in deg/s^2
HOME_TIMEOUT_S = 5.0
HOME_TOLERANCE_DEG = 1.0
TRANSACTION_ATTEMPTS = 3
RETRYABLE_RESULTS = (-3001, -3002)  # dynamixel-sdk COMM_RX_TIMEOUT, COMM_RX_CORRUPT
SERVO_RANGE_DEG = (-180.0, 180.0 - 360.0 / TICKS_PER_REV)  # ticks 0-4095 in position mode
STATUS_DATA = 9  # where a status packet's data starts: header (4), ID, length (2), instruction, error


@dataclass(frozen=True)
class ServoMounting:
    """How a servo sits in the mount: servo angle = zero_deg + (-1 if reversed) * joint angle."""

    zero_deg: float = 0.0
    reversed: bool = False

    def to_servo_deg(self, joint_deg: float) -> float:
        return self.zero_deg + (-joint_deg if self.reversed else joint_deg)

    def to_joint_deg(self, servo_deg: float) -> float:
        offset = servo_deg - self.zero_deg
        return -offset if self.reversed else offset

    def servo_range_deg(self, joint_min_deg: float, joint_max_deg: float) -> tuple[float, float]:
        """The servo angles a joint range needs, low to high (a reversed servo swaps them)."""
        a, b = self.to_servo_deg(joint_min_deg), self.to_servo_deg(joint_max_deg)
        return min(a, b), max(a, b)


def mounting_problem(
    joint: str, mounting: ServoMounting, joint_min_deg: float, joint_max_deg: float
) -> str | None:
    """Why a joint range cannot be reached with this mounting (more than the servo's one turn),
    or None; the driver and the parameter check both ask this."""
    lo, hi = mounting.servo_range_deg(joint_min_deg, joint_max_deg)
    if SERVO_RANGE_DEG[0] <= lo and hi <= SERVO_RANGE_DEG[1]:
        return None
    return (
        f"{joint}_min_deg..{joint}_max_deg with {joint}_servo_zero_deg {mounting.zero_deg:g} need "
        f"servo angles {lo:g} to {hi:g} deg; a Dynamixel in position mode turns "
        f"{SERVO_RANGE_DEG[0]:g} to {SERVO_RANGE_DEG[1]:g}"
    )


def _ticks(servo_deg: float) -> float:
    return TICKS_PER_REV / 2 + servo_deg * TICKS_PER_REV / 360.0


class DynamixelPanTilt:
    name = "dynamixel"

    def __init__(
        self,
        port: str,
        baud: int,
        pan_id: int,
        tilt_id: int,
        limits: PanTiltLimits,
        pan_mounting: ServoMounting = ServoMounting(),
        tilt_mounting: ServoMounting = ServoMounting(),
    ) -> None:
        if pan_id == tilt_id:
            raise DriverError(f"pan and tilt servos need different IDs (both are {pan_id})")
        self.port_name, self.baud = port, baud
        self.ids = {"pan": pan_id, "tilt": tilt_id}
        self._limits = limits
        self._settings_stale = False
        self.mounting = {"pan": pan_mounting, "tilt": tilt_mounting}
        for joint in self.ids:
            problem = mounting_problem(joint, self.mounting[joint], *self._joint_range_deg(joint))
            if problem:
                raise DriverError(problem)
        self.torque_on = False
        self.pan_deg = math.nan
        self.tilt_deg = math.nan
        self.goals_sent: list[tuple[int, int]] = []
        self._port = None
        self._packet = None

    # -- low level ---------------------------------------------------------
    def _check(self, servo_id: int, result: int, error: int, what: str) -> None:
        if result != 0:
            raise DriverError(
                f"Dynamixel ID {servo_id} on {self.port_name}: {what}: {self._packet.getTxRxResult(result)}"
            )
        if error:
            raise DriverError(
                f"Dynamixel ID {servo_id}: {what} refused: {self._packet.getRxPacketError(error)}"
            )

    def _sdk(self, call, *args):
        """One dynamixel-sdk call, its exceptions as a one-line DriverError: the SDK lets the serial
        port's through (an unplugged adapter raises termios.error), and indexes past the end of a
        status packet that carries less data than it expects (IndexError)."""
        try:
            return call(*args)
        except Exception as exc:
            # The SDK leaves the port marked busy mid-transaction: release it, or the torque-off that
            # follows a failure would be refused ("Port is in use") without being sent.
            self._port.is_using = False
            raise DriverError(f"Dynamixel on {self.port_name}: {exc!r}") from None

    def _transact(self, call, *args):
        """One request and its status packet, sent again (it is idempotent) when the status is
        lost or garbled: a single dropped reply on a noisy bus or a busy host is not a fault."""
        for _ in range(TRANSACTION_ATTEMPTS - 1):
            reply = self._sdk(call, self._port, *args)
            if reply[-2] not in RETRYABLE_RESULTS:
                return reply
        return self._sdk(call, self._port, *args)

    def _write(self, servo_id: int, item: tuple[int, int], value: int) -> None:
        address, size = item
        write = {1: self._packet.write1ByteTxRx, 4: self._packet.write4ByteTxRx}[size]
        result, error = self._transact(write, servo_id, address, value & 0xFFFFFFFF)
        self._check(servo_id, result, error, f"write {address}")

    def _read4(self, servo_id: int, item: tuple[int, int]) -> int:
        address = item[0]
        # The SDK's read4ByteTxRx takes the 4 bytes after the error byte as the value, the CRC of a
        # shorter answer included: the READ goes through txRxPacket, and the answer's data is counted.
        request = list(build_packet(servo_id, INST_READ, struct.pack("<HH", address, 4)))
        status, result, error = self._transact(self._packet.txRxPacket, request)
        self._check(servo_id, result, error, f"read {address}")
        data = bytes(status[STATUS_DATA:-2])
        if len(data) != 4:
            raise DriverError(f"Dynamixel ID {servo_id}: read {address}: {len(data)} data bytes, not 4")
        return int.from_bytes(data, "little", signed=True)

    def _joint_range_deg(self, joint: str) -> tuple[float, float]:
        if joint == "pan":
            return self.limits.pan_min_deg, self.limits.pan_max_deg
        return self.limits.tilt_min_deg, self.limits.tilt_max_deg

    def _servo_range_deg(self, joint: str) -> tuple[float, float]:
        """The servo angles the joint limits allow, low to high."""
        return self.mounting[joint].servo_range_deg(*self._joint_range_deg(joint))

    def _tick_limits(self, joint: str) -> tuple[int, int]:
        lo, hi = self._servo_range_deg(joint)
        # Round inward so the servo's limit never lies outside the joint limit.
        return math.ceil(_ticks(lo) - 1e-9), math.floor(_ticks(hi) + 1e-9)

    # -- driver interface --------------------------------------------------
    def open(self) -> None:
        try:
            from dynamixel_sdk import PacketHandler, PortHandler
        except ImportError:
            raise DriverError(
                "pan_tilt_backend 'dynamixel' needs dynamixel-sdk (pip install dynamixel-sdk)"
            ) from None
        self._port = PortHandler(self.port_name)
        self._packet = PacketHandler(2.0)
        try:
            opened = self._port.openPort() and self._port.setBaudRate(self.baud)
        except Exception as exc:  # pyserial raises SerialException or OSError
            raise DriverError(f"Dynamixel: cannot open {self.port_name}: {exc}") from None
        if not opened:
            raise DriverError(f"Dynamixel: cannot open {self.port_name} at {self.baud} baud")
        for joint, servo_id in self.ids.items():
            _, result, error = self._transact(self._packet.ping, servo_id)
            self._check(servo_id, result, error, f"ping ({joint} servo)")
        self._write_settings()
        self.read_position()
        self.torque_enable()

    def set_mounting(self, pan: ServoMounting, tilt: ServoMounting) -> None:
        """New servo mountings (a run-time parameter change): new limits in the servos before the
        next goal, as for new joint limits."""
        mounting = {"pan": pan, "tilt": tilt}
        if mounting != self.mounting:
            self.mounting = mounting
            self._settings_stale = True

    @property
    def limits(self) -> PanTiltLimits:
        return self._limits

    @limits.setter
    def limits(self, limits: PanTiltLimits) -> None:
        """New limits (a run-time parameter change): written into the servos before the next goal."""
        if limits != self._limits:
            self._limits = limits
            self._settings_stale = True

    def _write_settings(self) -> None:
        """Position mode, limits and motion profile; torque off (EEPROM items are locked while it is on)."""
        for joint, servo_id in self.ids.items():
            self._write(servo_id, TORQUE_ENABLE, 0)
            self._write(servo_id, OPERATING_MODE, POSITION_MODE)
            lo, hi = self._tick_limits(joint)
            self._write(servo_id, MIN_POSITION_LIMIT, lo)
            self._write(servo_id, MAX_POSITION_LIMIT, hi)
            self._write(
                servo_id, PROFILE_VELOCITY, max(1, int(self._limits.max_speed_dps / PROFILE_VELOCITY_DPS))
            )
            accel = self._limits.max_accel_dps2
            units = 0 if math.isinf(accel) else max(1, int(accel / PROFILE_ACCELERATION_DPS2))
            self._write(servo_id, PROFILE_ACCELERATION, units)
        self.torque_on = False
        self._settings_stale = False

    def goal_ticks(self, pan_deg: float, tilt_deg: float) -> tuple[int, int] | None:
        """The goal positions for a command: inside the joint limits, or None for a non-finite command."""
        if not (math.isfinite(pan_deg) and math.isfinite(tilt_deg)):
            return None
        pan_deg, tilt_deg = self.limits.clamp(pan_deg, tilt_deg)
        ticks = []
        for joint, deg in (("pan", pan_deg), ("tilt", tilt_deg)):
            lo, hi = self._tick_limits(joint)
            ticks.append(min(max(round(_ticks(self.mounting[joint].to_servo_deg(deg))), lo), hi))
        return ticks[0], ticks[1]

    def command(self, pan_deg: float, tilt_deg: float) -> None:
        from dynamixel_sdk import GroupSyncWrite

        if self._settings_stale and self.torque_on:
            # The servos hold still for the few milliseconds without torque: a mount
            # whose goals reach past its old limits would otherwise be refused them.
            self._write_settings()
            self.torque_enable()
        goals = self.goal_ticks(pan_deg, tilt_deg)
        if goals is None or not self.torque_on:
            return
        sync = GroupSyncWrite(self._port, self._packet, GOAL_POSITION[0], GOAL_POSITION[1])
        for servo_id, ticks in zip(self.ids.values(), goals):
            sync.addParam(servo_id, list((ticks & 0xFFFFFFFF).to_bytes(4, "little")))
        result = self._sdk(sync.txPacket)
        if result != 0:
            raise DriverError(
                f"Dynamixel on {self.port_name}: goal write: {self._packet.getTxRxResult(result)}"
            )
        self.goals_sent.append(goals)

    def read_position(self) -> tuple[float, float]:
        self.pan_deg, self.tilt_deg = (
            self.mounting[joint].to_joint_deg(ticks_to_deg(self._read4(self.ids[joint], PRESENT_POSITION)))
            for joint in ("pan", "tilt")
        )
        return self.pan_deg, self.tilt_deg

    def safe_stop(self) -> None:
        """Home, wait until there (bounded), torque off. Torque goes off even if homing fails."""
        try:
            if self.torque_on:
                self.command(self.limits.home_pan_deg, self.limits.home_tilt_deg)
                deadline = time.monotonic() + HOME_TIMEOUT_S
                while time.monotonic() < deadline:
                    pan, tilt = self.read_position()
                    if max(abs(pan - self.limits.home_pan_deg), abs(tilt - self.limits.home_tilt_deg)) < (
                        HOME_TOLERANCE_DEG
                    ):
                        break
                    time.sleep(0.02)
        finally:
            self.torque_off()

    def torque_enable(self) -> None:
        """Torque back on after a park (the port and the servo settings are kept)."""
        for servo_id in self.ids.values():
            self._write(servo_id, TORQUE_ENABLE, 1)
        self.torque_on = True

    def torque_off(self) -> None:
        if self._packet is None:
            return
        errors = []
        for servo_id in self.ids.values():
            try:
                self._write(servo_id, TORQUE_ENABLE, 0)
            except DriverError as exc:
                errors.append(str(exc))
        self.torque_on = False
        if errors:
            raise DriverError("; ".join(errors))

    def close(self) -> None:
        if self._port is not None and self._port.is_open:
            self._port.closePort()

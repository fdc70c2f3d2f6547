"""An MCAP file of the session's skeleton and report topics (ROS 2 CDR), for review in Foxglove
or replay with rosbag2. Messages are serialized by rclpy exactly as rosbag2 stores them;
the schemas are the installed message definitions. No images are stored.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

SEPARATOR = "=" * 80


class McapLogError(RuntimeError):
    """The MCAP file cannot be written; the message says why."""


def _share_dirs() -> list[Path]:
    prefixes = [p for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    prefixes.append(sys.prefix)  # the ROS message wheels install share/<package>/msg here
    return [Path(p) / "share" for p in prefixes]


def _msg_text(datatype: str) -> str:
    package, _, name = datatype.replace("/msg/", "/").partition("/")
    for share in _share_dirs():
        path = share / package / "msg" / f"{name}.msg"
        if path.is_file():
            return path.read_text()
    raise McapLogError(f"message definition {datatype} not found under {', '.join(map(str, _share_dirs()))}")


_BUILTIN = {
    "bool", "byte", "char", "float32", "float64", "int8", "uint8", "int16", "uint16",
    "int32", "uint32", "int64", "uint64", "string", "wstring",
}  # fmt: skip


def message_definition(datatype: str) -> str:
    """The ros2msg definition of ``pkg/msg/Name`` with every nested type appended (MCAP's encoding)."""
    root = _msg_text(datatype)
    package = datatype.split("/")[0]
    seen: set[str] = set()
    parts: list[str] = []
    todo = [(package, root)]
    while todo:
        pkg, text = todo.pop(0)
        for line in text.splitlines():
            tokens = line.split("#", 1)[0].split()
            if len(tokens) < 2 or "=" in tokens[1] or (len(tokens) > 2 and tokens[2].startswith("=")):
                continue  # blank, comment or constant
            field_type = re.sub(r"(<=\d+)?(\[.*\])?$", "", tokens[0])
            if field_type in _BUILTIN:
                continue
            full = field_type if "/" in field_type else f"{pkg}/{field_type}"
            full = full.replace("/msg/", "/")
            if full in seen:
                continue
            seen.add(full)
            nested = _msg_text(full)
            parts.append(f"{SEPARATOR}\nMSG: {full}\n{nested}")
            todo.append((full.split("/")[0], nested))
    return root + ("\n" + "\n".join(parts) if parts else "")


class McapLog:
    """Append-only MCAP writer; ``close`` writes the index (a killed process leaves a readable prefix)."""

    def __init__(self, path: Path) -> None:
        try:
            from mcap.writer import Writer
        except ImportError as exc:
            raise McapLogError(f"MCAP recording needs the mcap package ({exc})") from None
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise McapLogError(f"cannot write {self.path}: {exc}") from None
        self._writer = Writer(self._file)
        self._writer.start(profile="ros2", library="hinge_coach_ros")
        self._schemas: dict[str, int] = {}
        self._channels: dict[str, int] = {}
        self.messages = 0

    def write(self, topic: str, datatype: str, message: Any, stamp_ns: int) -> None:
        from rclpy.serialization import serialize_message

        if datatype not in self._schemas:
            self._schemas[datatype] = self._writer.register_schema(
                name=datatype, encoding="ros2msg", data=message_definition(datatype).encode()
            )
        if topic not in self._channels:
            self._channels[topic] = self._writer.register_channel(
                topic=topic, message_encoding="cdr", schema_id=self._schemas[datatype]
            )
        self._writer.add_message(
            channel_id=self._channels[topic],
            log_time=stamp_ns,
            publish_time=stamp_ns,
            data=serialize_message(message),
        )
        self.messages += 1

    def close(self) -> None:
        if self._file.closed:
            return
        try:
            self._writer.finish()  # the summary and index: a full disk refuses them
        finally:
            self._file.close()

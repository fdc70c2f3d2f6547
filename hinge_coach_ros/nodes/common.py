"""What every node shares: parameters from the schema, QoS, and main()."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

import rclpy
from rcl_interfaces.msg import (
    FloatingPointRange,
    IntegerRange,
    ParameterDescriptor,
    ParameterType,
    SetParametersResult,
)
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from rclpy.signals import SignalHandlerOptions

from ..errors import USER_ERRORS
from ..params import SCHEMA, Param, ParameterError, Value, is_live, validate

SENSOR_QOS = qos_profile_sensor_data
REPORT_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
REP_QOS = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)

_TYPES = {
    "bool": ParameterType.PARAMETER_BOOL,
    "int": ParameterType.PARAMETER_INTEGER,
    "double": ParameterType.PARAMETER_DOUBLE,
    "string": ParameterType.PARAMETER_STRING,
    "double[]": ParameterType.PARAMETER_DOUBLE_ARRAY,
}


def descriptor(p: Param) -> ParameterDescriptor:
    d = ParameterDescriptor(
        name=p.name, type=_TYPES[p.type_name], description=p.description, additional_constraints=p.allowed()
    )
    if p.type_name == "double" and p.min is not None and p.max is not None:
        d.floating_point_range = [
            FloatingPointRange(from_value=float(p.min), to_value=float(p.max), step=0.0)
        ]
    elif p.type_name == "int" and p.min is not None and p.max is not None:
        d.integer_range = [IntegerRange(from_value=int(p.min), to_value=int(p.max), step=1)]
    return d


RESTART_NOTE = "Read at start-up (read-only while running): a change takes effect on restart."


def declare_schema(
    node: Node,
    schema_key: str,
    on_change: Callable[[dict[str, Value]], None] | None = None,
) -> dict[str, Value]:
    """Declare the node's parameters with descriptors; validate start-up values and later changes.

    The parameters the node applies while running (``params.LIVE_PARAMS``) go to ``on_change``;
    the others are declared read-only, so a run-time change is refused instead of accepted and
    never applied. ``on_change`` may raise ParameterError to refuse a change it cannot apply (it
    must then have changed nothing); the reason goes back to the caller.

    Raises ParameterError (one line, naming the key and the allowed values)
    when a start-up value is wrong.
    """
    for p in SCHEMA[schema_key]:
        d = descriptor(p)
        if not is_live(schema_key, p.name):
            d.read_only = True
            d.description = f"{d.description} {RESTART_NOTE}"
        try:
            node.declare_parameter(p.name, p.default, d)
        except ParameterException as exc:
            raise ParameterError(
                f"{schema_key}.{p.name} is invalid: expected {p.allowed()} ({exc})"
            ) from None
    values = {p.name: _plain(node.get_parameter(p.name).value) for p in SCHEMA[schema_key]}
    validated = validate(schema_key, values)

    def callback(changes: list[Parameter]) -> SetParametersResult:
        try:
            # Checked with the values now (a relation between two parameters); the patient
            # profile's file is read again only when that is what changes.
            checked = validate(schema_key, {c.name: _plain(c.value) for c in changes}, current=values)
            changed = {c.name: checked[c.name] for c in changes}
            if on_change is not None:
                on_change(changed)  # may refuse what it cannot apply (an unknown language)
        except ParameterError as exc:
            return SetParametersResult(successful=False, reason=str(exc))
        values.update(changed)
        return SetParametersResult(successful=True)

    node.add_on_set_parameters_callback(callback)
    return validated


def _plain(value: Any) -> Any:
    return list(value) if hasattr(value, "tolist") or isinstance(value, tuple) else value


def run_node(factory: Callable[[], Node], args: list[str] | None = None) -> int:
    """init, spin, shut down cleanly on Ctrl-C or SIGTERM; a wrong parameter is one line and exit code 2."""
    # Keep Python's own Ctrl-C handling: rclpy's handler would shut the context down
    # before safe_shutdown() can send the LED and the mount to their safe state.
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    # SIGTERM (kill, systemd, docker stop, a launch shutdown) would end the process on the spot,
    # mount torque on and no session summary: it ends the spin instead, as Ctrl-C does. A flag,
    # not an exception: it is read between callbacks, so it never surfaces inside rclpy's C code,
    # and a second SIGTERM cannot cut the safe shutdown short.
    terminated = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: terminated.set())
    node = None
    try:
        node = factory()
        while rclpy.ok() and not terminated.is_set():  # wake every 0.1 s so a signal is noticed
            rclpy.spin_once(node, timeout_sec=0.1)
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            shutdown = getattr(node, "safe_shutdown", None)
            if shutdown is not None:
                shutdown()
            node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
    return 0

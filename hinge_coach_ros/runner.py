"""The in-process runner: the whole graph in one process and one executor.

``hinge-coach run`` and ``make demo`` use it; it builds the same nodes as
``launch/coach.launch.py`` from ``graph.build_graph``.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable

import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from .graph import GraphArgs, build_graph, rclpy_node_kwargs

DRAIN_S = 1.0  # after the last frame, time for reports and rep summaries to arrive


class Rig:
    """The station's nodes in one executor, on a private rclpy context."""

    def __init__(self, args: GraphArgs) -> None:
        specs = build_graph(args)  # fails on bad arguments before any middleware starts
        os.environ.setdefault("RCUTILS_CONSOLE_OUTPUT_FORMAT", "[{name}] {message}")
        self.context = Context()
        # Python's Ctrl-C handling, not rclpy's: the context must stay valid until close()
        # has sent the actuators to their safe state.
        rclpy.init(context=self.context, signal_handler_options=SignalHandlerOptions.NO)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.nodes: dict[str, Node] = {}
        try:
            for spec in specs:
                cls = getattr(importlib.import_module(spec.module), spec.class_name)
                node = cls(context=self.context, **rclpy_node_kwargs(spec, args.namespace))
                self.nodes[spec.name] = node
                self.executor.add_node(node)
        except BaseException:
            self.close()
            raise

    # Set by a signal handler (Ctrl-C): the spin loop ends between callbacks. A
    # KeyboardInterrupt raised inside rclpy's C code instead (taking a message) surfaces
    # as a RuntimeError with a traceback.
    stop_requested = False

    def add_node(self, node: Node) -> None:
        self.executor.add_node(node)

    def spin_until(self, done: Callable[[], bool], timeout_s: float) -> bool:
        """Spin until ``done()`` or the timeout; returns whether ``done()`` became true."""
        deadline = time.monotonic() + timeout_s
        while not self.stop_requested and self.context.ok() and time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.05)
            if done():
                return True
        return False

    def spin_session(self, timeout_s: float) -> bool:
        """Spin until the camera's session has ended and the pipeline has drained."""
        camera = self.nodes["camera_node"]
        if not self.spin_until(lambda: camera.finished, timeout_s):
            return False
        self.spin_until(lambda: False, DRAIN_S)
        return True

    def close(self) -> None:
        """Actuators to their safe state (the feedback node logs the session summary), then tear down."""
        for node in self.nodes.values():
            safe = getattr(node, "safe_shutdown", None)
            if safe is not None:
                safe()
        self.executor.shutdown()
        for node in self.nodes.values():
            node.destroy_node()
        self.nodes = {}
        if self.context.ok():
            rclpy.shutdown(context=self.context)

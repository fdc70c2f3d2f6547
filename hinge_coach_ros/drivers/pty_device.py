"""A simulated device behind a pseudo-terminal, for the serial backends and their tests.

The driver opens the pty's slave end by path, exactly as it would open
``/dev/ttyUSB0``; the simulated firmware reads and answers on the master end
in a thread. Loopback only: nothing leaves the machine.
"""

from __future__ import annotations

import os
import select
import threading
import tty
from collections.abc import Callable


class PtyDevice:
    """Runs ``handler(received bytes) -> reply bytes`` on the master end of a new pty."""

    def __init__(self, handler: Callable[[bytes], bytes], name: str = "pty-device") -> None:
        self._handler = handler
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo or line editing before the driver configures the port
        self.port = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:
                return  # the slave end went away
            with self._lock:
                reply = self._handler(data)
            if reply:
                os.write(self._master, reply)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> PtyDevice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

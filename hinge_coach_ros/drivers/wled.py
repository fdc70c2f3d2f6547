"""LED strip run by WLED, through its JSON HTTP API (``POST /json/state``),
and a simulated WLED that implements the subset the driver uses.

The driver sets the first segment's colour and effect: Solid (0), Blink (1)
or Breathe (2), with the effect speed from the pattern's period. The
simulated controller listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ..feedback import LedPattern
from .errors import DriverError
from .led_serial import rgb_bytes

WLED_EFFECTS = {"solid": 0, "blink": 1, "breathe": 2}
HTTP_TIMEOUT_S = 0.5


def effect_speed(pattern: LedPattern) -> int:
    """WLED's effect speed (0-255, faster when higher) for a pattern period of 0.25-5 s."""
    if pattern.kind == "solid" or pattern.period_s <= 0:
        return 128
    period = min(max(pattern.period_s, 0.25), 5.0)
    return int(round(255 * (5.0 - period) / 4.75))


def state_body(rgba: tuple[float, float, float, float], pattern: LedPattern, brightness: float) -> dict:
    rgb = rgb_bytes(rgba, 1.0)
    on = any(rgb)
    return {
        "on": on,
        "bri": int(round(255 * max(0.0, min(1.0, brightness)))),
        "transition": 0,
        "seg": [{"id": 0, "col": [list(rgb)], "fx": WLED_EFFECTS[pattern.kind], "sx": effect_speed(pattern)}],
    }


class WledLed:
    """The host side: one POST per state change (WLED keeps the effect running by itself)."""

    name = "wled"

    def __init__(self, address: str, brightness: float = 1.0) -> None:
        base = address if address.startswith(("http://", "https://")) else f"http://{address}"
        self.base_url = base.rstrip("/")
        self.brightness = brightness
        self.led_count = 0
        self.version = ""
        self._last_body: dict | None = None
        self.colour: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    def _call(self, path: str, body: dict | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base_url + path,
            data=data,
            method="GET" if body is None else "POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
                return json.loads(response.read() or b"{}")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise DriverError(f"WLED at {self.base_url}: {exc}") from None

    def open(self) -> None:
        self._last_body = None  # a controller that was away may have restarted: send the state again
        info = self._call("/json/info")
        if not isinstance(info, dict) or "leds" not in info:
            raise DriverError(f"{self.base_url} does not answer like WLED (no 'leds' in /json/info)")
        self.led_count = int(info["leds"].get("count", 0))
        self.version = str(info.get("ver", ""))

    def show(self, rgba: tuple[float, float, float, float], pattern: LedPattern) -> None:
        body = state_body(rgba, pattern, self.brightness)
        if body != self._last_body:
            reply = self._call("/json/state", body)
            if isinstance(reply, dict) and reply.get("success") is False:
                raise DriverError(f"WLED at {self.base_url} refused the state")
            self._last_body = body
        self.colour = rgba

    def off(self) -> None:
        self._call("/json/state", {"on": False, "transition": 0})
        self._last_body = None
        self.colour = (0.0, 0.0, 0.0, 0.0)

    def close(self) -> None:
        pass


class SimWled:
    """A WLED controller on 127.0.0.1: GET /json/info, GET and POST /json/state."""

    def __init__(self, led_count: int = 30) -> None:
        self.state: dict[str, Any] = {
            "on": False,
            "bri": 128,
            "transition": 7,
            "seg": [{"id": 0, "col": [[255, 160, 0], [0, 0, 0], [0, 0, 0]], "fx": 0, "sx": 128}],
        }
        self.info = {"ver": "0.14.4", "name": "WLED", "leds": {"count": led_count}}
        self.posts: list[dict] = []
        sim = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, code: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                if self.path == "/json/info":
                    self._reply(200, sim.info)
                elif self.path == "/json/state":
                    self._reply(200, sim.state)
                else:
                    self._reply(404, {"error": 3})

            def do_POST(self) -> None:  # noqa: N802
                if self.path not in ("/json/state", "/json"):
                    self._reply(404, {"error": 3})
                    return
                try:
                    body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                except ValueError:
                    self._reply(400, {"error": 9})
                    return
                sim.apply(body)
                self._reply(200, {"success": True})

            def log_message(self, *args: Any) -> None:
                pass  # quiet: a test server

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="sim-wled", daemon=True)
        self._thread.start()

    def apply(self, body: dict) -> None:
        """WLED's merge: top-level keys replace, segments merge by id."""
        self.posts.append(body)
        for key, value in body.items():
            if key == "seg":
                for seg in value if isinstance(value, list) else [value]:
                    index = int(seg.get("id", 0))
                    self.state["seg"][index].update(seg)
            else:
                self.state[key] = value

    def pixel(self) -> tuple[int, int, int]:
        """The first colour of segment 0 as the strip shows it (before the effect)."""
        if not self.state["on"]:
            return (0, 0, 0)
        k = self.state["bri"] / 255.0
        return tuple(int(round(c * k)) for c in self.state["seg"][0]["col"][0])  # type: ignore[return-value]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=1.0)

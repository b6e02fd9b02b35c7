"""Headless Chromium (the OS package) driven over the DevTools protocol (CDP) on a websocket.

:func:`open_page` starts a fresh browser (its own profile directory, no network services), loads
one URL, and returns what a test needs: console errors, uncaught exceptions, every URL the page
requested, the result of a JavaScript expression, and a PNG screenshot.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

#: Flags that work on a 2-core VM without a display or a sandbox, and keep Chromium off the network.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0", "--remote-allow-origins=*")
#: Seconds to wait for the browser to start and for the page to load.
TIMEOUT = 60.0


def chromium_binary() -> str | None:
    """The Chromium executable on PATH, if any."""
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)


@dataclass
class PageRun:
    """What happened while the page loaded."""

    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    value: Any = None
    screenshot: bytes = b""


class _Cdp:
    def __init__(self, ws: ClientConnection, run: PageRun) -> None:
        self.ws, self.run, self.next_id = ws, run, 0
        self.events: list[str] = []

    def _record(self, msg: dict[str, Any]) -> None:
        method, params = msg.get("method"), msg.get("params", {})
        if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            self.run.console_errors.append(json.dumps(params["args"]))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.run.console_errors.append(params["entry"]["text"])
        elif method == "Runtime.exceptionThrown":
            self.run.exceptions.append(json.dumps(params["exceptionDetails"]))
        elif method == "Network.requestWillBeSent":
            self.run.requests.append(params["request"]["url"])
        if method:
            self.events.append(method)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=TIMEOUT))
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                result: dict[str, Any] = msg["result"]
                return result
            self._record(msg)

    def wait_for(self, event: str) -> None:
        while event not in self.events:
            self._record(json.loads(self.ws.recv(timeout=TIMEOUT)))


def _devtools_port(profile: Path, proc: subprocess.Popen[bytes]) -> int:
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if marker.exists() and marker.read_text().strip():
            return int(marker.read_text().split()[0])
        if proc.poll() is not None:
            raise RuntimeError(f"chromium exited with {proc.returncode}")
        time.sleep(0.1)
    raise TimeoutError("chromium did not open its DevTools port")


def open_page(url: str, expression: str, *, width: int = 1100, height: int = 900) -> PageRun:
    """Load ``url`` in a fresh headless Chromium, evaluate ``expression``, screenshot the viewport."""
    binary = chromium_binary()
    if binary is None:
        raise RuntimeError("chromium is not installed (Debian: apt-get install chromium)")
    run = PageRun()
    with tempfile.TemporaryDirectory(prefix="zkmargin-chromium-") as tmp:
        profile = Path(tmp)
        proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            port = _devtools_port(profile, proc)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=TIMEOUT) as r:
                targets = json.load(r)
            page = next(t for t in targets if t["type"] == "page")
            with connect(page["webSocketDebuggerUrl"], max_size=None) as ws:
                cdp = _Cdp(ws, run)
                for domain in ("Runtime", "Log", "Network", "Page"):
                    cdp.call(f"{domain}.enable")
                cdp.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                         mobile=False)
                cdp.events.clear()
                cdp.call("Page.navigate", url=url)
                cdp.wait_for("Page.loadEventFired")
                run.value = cdp.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")
                shot = cdp.call("Page.captureScreenshot", format="png")
                run.screenshot = base64.b64decode(shot["data"])
                cdp.call("Browser.close")
            proc.wait(timeout=TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return run

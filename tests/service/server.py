"""``zkmargin serve`` as a real process on a free loopback port, for the reliability tests and the benchmark."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
#: Seconds to wait for the server to answer after it starts.
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running ``python -m zkmargin serve``; :meth:`kill` sends SIGKILL, :meth:`stop` SIGTERM."""

    proc: subprocess.Popen[bytes]
    url: str

    @classmethod
    def start(cls, db: str, venue_key: str, vk: Path, api_key: str, *extra: str) -> Server:
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "zkmargin", "serve", "--db", db, "--venue-key", venue_key, "--vk", str(vk),
             "--model", "portfolio", "--holders", str(ROOT / "examples" / "holders.json"), "--port", str(port),
             "--rate", "0", *extra],
            cwd=ROOT, env={**os.environ, "ZKMARGIN_API_KEY": api_key}, stderr=subprocess.PIPE)
        server = cls(proc, f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"zkmargin serve exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            try:
                httpx.get(server.url + "/v1/margin-calls", timeout=1).raise_for_status()
                return server
            except httpx.HTTPError:
                time.sleep(0.2)
        server.kill()
        raise TimeoutError("zkmargin serve did not answer")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)

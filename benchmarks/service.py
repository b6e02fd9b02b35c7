"""Verify-and-store throughput of ``zkmargin serve`` on loopback: the figures of the service's README section.

Run from the repository root after ``zkmargin setup --profile small``:

    python benchmarks/service.py [--submissions 10000] [--clients 32] [--db URL] [--py-ecc 16]

Proves one statement of the example epoch, re-randomises it into ``--submissions`` distinct valid
proofs (tests/service/proofs.py), starts a real server (SQLite file in a temporary folder unless
``--db``), posts the epoch and its snapshot, then sends every proof from ``--clients`` concurrent
clients (one asyncio loop, keep-alive connections) and measures sustained proofs/s, latency
percentiles, the server's CPU time per proof (the figure that does not depend on what else runs
on the machine) and its peak memory. With ``--py-ecc N`` it runs N submissions again on a
py_ecc server and times ``verifier.verify_batch`` against N single verifications in process.
The load generator shares the machine's cores with the server. Appends a table to RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # benchmarks.results and tests.service, also when run as a script

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from benchmarks.results import machine, record
from prover.circuits import MarginCircuit
from prover.margin import MarginProver, load_keys
from tests.service.proofs import variants
from tests.service.server import Server
from verifier import load_verifying_key, parse_proof, verify, verify_batch
from zkmargin.io import load_model
from zkmargin.models import RiskSnapshot
from zkmargin.venue import build_epoch, public_key_hex, publish, read_ledger

EXAMPLES = REPO / "examples"
API_KEY = "benchmark-write-key-0123456789"
VENUE_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))  # the example venue's public test key


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory (VmHWM), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used, seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(url: str, bodies: list[str], clients: int) -> tuple[float, list[float]]:
    """Send every body once from ``clients`` concurrent keep-alive connections; (wall s, latencies s).

    A minimal HTTP/1.1 client on asyncio streams: it costs the shared cores far less than httpx,
    so the figures are the server's.
    """
    host, port = url.removeprefix("http://").split(":")
    queue = iter(bodies)
    latencies: list[float] = []

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        for body in queue:
            data = body.encode()
            t = time.perf_counter()
            writer.write(f"POST /v1/proofs HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {API_KEY}\r\n"
                         f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            answer = await reader.readexactly(length)
            latencies.append(time.perf_counter() - t)
            if not head.startswith(b"HTTP/1.1 201"):
                raise RuntimeError(f"submission refused: {head.splitlines()[0]!r} {answer[:200]!r}")
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - start, sorted(latencies)


def run(db: str, backend: str, bodies: list[str], clients: int, epoch_dir: Path, vk: Path) -> dict[str, float]:
    server = Server.start(db, public_key_hex(VENUE_KEY.public_key()), vk, API_KEY, "--backend", backend)
    try:
        with httpx.Client(base_url=server.url, headers={"X-API-Key": API_KEY}, timeout=120) as http:
            http.post("/v1/epochs", content=(epoch_dir / "epoch.json").read_bytes()).raise_for_status()
            http.post("/v1/snapshots", content=(EXAMPLES / "snapshot_span16.json").read_bytes()).raise_for_status()
        cpu = cpu_seconds(server.proc.pid)
        wall, lat = asyncio.run(load(server.url, bodies, clients))
        cpu = cpu_seconds(server.proc.pid) - cpu
        rss = peak_rss_mib(server.proc.pid)
    finally:
        server.stop()
    pct = lambda q: 1000 * lat[min(len(lat) - 1, int(q * len(lat)))]  # noqa: E731
    return {"n": len(bodies), "rate": len(bodies) / wall, "p50": pct(0.50), "p99": pct(0.99), "rss": rss,
            "cpu_ms": 1000 * cpu / len(bodies)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--submissions", type=int, default=10_000)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--db", help="database URL (default: a SQLite file in a temporary folder)")
    ap.add_argument("--py-ecc", dest="py_ecc", type=int, default=16, help="submissions on a py_ecc server (0: skip)")
    args = ap.parse_args()

    circuit = MarginCircuit.named("portfolio", "small")
    keys = load_keys(circuit)
    snapshot = load_model(RiskSnapshot, EXAMPLES / "snapshot_span16.json")
    epoch = build_epoch(read_ledger(EXAMPLES / "ledger.jsonl"), snapshot, VENUE_KEY)
    bundle = MarginProver(circuit, keys, "native").prove(epoch.statement(0), snapshot, 11_000)
    t = time.perf_counter()
    proofs = list(variants(bundle, max(args.submissions, args.py_ecc)))
    print(f"{len(proofs)} re-randomised proofs in {time.perf_counter() - t:.1f} s")
    bodies = [p.model_dump_json() for p in proofs]
    rows = []
    with tempfile.TemporaryDirectory(prefix="zkmargin-bench-") as tmp:
        publish(epoch, Path(tmp) / "epoch")
        for backend, n, clients in (("native", args.submissions, args.clients), ("py_ecc", args.py_ecc, 2)):
            if n:
                db = args.db or f"sqlite:///{tmp}/{backend}.db"
                rows.append((backend, clients, run(db, backend, bodies[:n], clients, Path(tmp) / "epoch", keys.vk)))
                print(backend, rows[-1])
    table = ["| pairing | submissions | clients | proofs/s | p50 ms | p99 ms | server CPU ms/proof | server peak RSS MiB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    table += [f"| {b} | {r['n']:,.0f} | {c} | {r['rate']:,.1f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['cpu_ms']:.2f} "
              f"| {r['rss']:.0f} |" for b, c, r in rows]
    report = [f"`zkmargin serve` on loopback, database {(args.db or 'SQLite file (WAL, synchronous=FULL)').split('@')[-1]}, "
              f"portfolio_small proofs (distinct, re-randomised), every one verified and stored; the load generator "
              f"(Python asyncio, raw HTTP/1.1) runs on the same cores.", "", f"machine: {machine()}", "", *table]
    if args.py_ecc:
        vk = load_verifying_key(keys.vk)
        items = [(parse_proof(p.proof.model_dump()), p.public_signals.as_list()) for p in proofs[:args.py_ecc]]
        t = time.perf_counter()
        assert all(verify(vk, proof, public) for proof, public in items)
        single = time.perf_counter() - t
        t = time.perf_counter()
        assert all(verify_batch(vk, items))
        batch = time.perf_counter() - t
        report += ["", f"py_ecc in process, {len(items)} proofs: one by one {single:.2f} s "
                       f"({len(items) / single:.2f} proofs/s), verify_batch {batch:.2f} s "
                       f"({len(items) / batch:.2f} proofs/s), {single / batch:.1f} x"]
    record("service", "\n".join(report) + "\n")
    print("\n".join(report))


if __name__ == "__main__":
    main()

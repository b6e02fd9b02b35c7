"""Suite-wide test settings: hypothesis profiles and the opt-in markers.

Hypothesis profile, chosen by the environment variable ``HYPOTHESIS_PROFILE`` (default ``ci``):

* ``dev``: few random examples, for quick local iterations;
* ``ci``: 100 derandomized examples (the same on every run), no deadline;
* ``fuzz``: 5000 random examples, no deadline (``make fuzz``).

Tests marked ``fuzz`` or ``slow`` (see pyproject.toml) run only when a ``-m`` expression names
the marker, e.g. ``pytest -m fuzz``.

Session fixtures of the small-profile proving pipeline, shared by the end-to-end and on-chain
tests: ``keys`` (one real setup per session with the shared dev ptau, or ``$ZKMARGIN_PTAU``;
cached by its manifest in ``build/keys/portfolio_small``), its verifying key ``vk``, ``prover``,
the example ``snapshot`` and ``account``, the example venue's ``venue_key`` and its published
``epoch`` over ``examples/ledger.jsonl``, the hedged market maker's ``statement``, and ``bundle``
(a proof of that statement at 15000 bps). ``ray_head``: a local Ray head for one test (epoch
batches and solvency chains on Ray).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, settings

from prover.circuits import MarginCircuit
from prover.margin import MarginProver, setup_circuit
from prover.setup import KeySet
from verifier import VerifyingKey, load_verifying_key
from zkmargin.bundle import ProofBundle
from zkmargin.io import load_model
from zkmargin.models import Account, RiskSnapshot, Statement
from zkmargin.venue import EpochTree, build_epoch, public_key_hex, publish, read_ledger

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SHARED_PTAU = ROOT.parent / "shared" / "ptau" / "dev_bn128_17.ptau"

settings.register_profile("dev", max_examples=20, deadline=None)
settings.register_profile("ci", derandomize=True, deadline=None, max_examples=100)
settings.register_profile("fuzz", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

OPT_IN_MARKERS = ("fuzz", "slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip opt-in tests unless the ``-m`` expression asks for their marker."""
    selected = config.getoption("markexpr") or ""
    for item in items:
        for marker in OPT_IN_MARKERS:
            if item.get_closest_marker(marker) and marker not in selected:
                item.add_marker(pytest.mark.skip(reason=f"opt-in: run with -m {marker}"))


def dev_ptau() -> Path:
    """The prepared dev ptau: $ZKMARGIN_PTAU, else the shared file beside the checkout."""
    return Path(os.environ["ZKMARGIN_PTAU"]) if os.environ.get("ZKMARGIN_PTAU") else SHARED_PTAU


@pytest.fixture(scope="session")
def keys() -> KeySet:
    return setup_circuit(MarginCircuit.named("portfolio", "small"), dev_ptau())


@pytest.fixture(scope="session")
def vk(keys: KeySet) -> VerifyingKey:
    return load_verifying_key(keys.vk)


@pytest.fixture(scope="session")
def prover(keys: KeySet) -> MarginProver:
    return MarginProver(MarginCircuit.named("portfolio", "small"), keys)


@pytest.fixture(scope="session")
def snapshot() -> RiskSnapshot:
    return load_model(RiskSnapshot, EXAMPLES / "snapshot_span16.json")


@pytest.fixture(scope="session")
def account() -> Account:
    return load_model(Account, EXAMPLES / "hedged_market_maker.json")


@pytest.fixture(scope="session")
def venue_key() -> Ed25519PrivateKey:
    """The example venue's key (a fixed test key: its salts are public, never use it for real)."""
    return Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


@pytest.fixture(scope="session")
def epoch(venue_key: Ed25519PrivateKey, snapshot: RiskSnapshot) -> EpochTree:
    """The example venue's epoch over examples/ledger.jsonl (signed, with every statement)."""
    return build_epoch(read_ledger(EXAMPLES / "ledger.jsonl"), snapshot, venue_key)


@pytest.fixture(scope="session")
def published(epoch: EpochTree, venue_key: Ed25519PrivateKey, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example epoch as the venue publishes it: epoch.json, statements/, and venue.pub beside them."""
    out = tmp_path_factory.mktemp("epoch")
    publish(epoch, out)
    (out / "venue.pub").write_text(public_key_hex(venue_key.public_key()) + "\n")
    return out


def statement_of(epoch: EpochTree, account_id: str) -> Statement:
    """The statement the venue issued for ``account_id``."""
    return epoch.statement([a.account_id for a in epoch.accounts].index(account_id))


@pytest.fixture(scope="session")
def statement(epoch: EpochTree) -> Statement:
    return statement_of(epoch, "hedged_market_maker")


@pytest.fixture(scope="session")
def bundle(prover: MarginProver, statement: Statement, snapshot: RiskSnapshot) -> ProofBundle:
    return prover.prove(statement, snapshot, 15_000)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def ray_head(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A Ray head on 127.0.0.1 (2 CPUs, no dashboard), stopped by its pid afterwards. Its workers
    import this checkout (PYTHONPATH), whatever else is installed. Token authentication is off on
    both sides: with RAY_AUTH_MODE unset, Ray turns it on whenever ``~/.ray/auth_token`` exists
    (a ``ray.init()`` of a local cluster writes one), and a head and a driver that read different
    tokens refuse each other."""
    pytest.importorskip("ray")
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="zkray", dir="/tmp")  # Ray's socket paths must stay short
    log = Path(temp) / "head.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "RAY_USAGE_STATS_ENABLED": "0"}
    with log.open("w") as sink:
        head = subprocess.Popen(
            [sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--block", f"--port={port}",
             "--node-ip-address=127.0.0.1", "--include-dashboard=false", "--num-cpus=2",
             "--object-store-memory=100000000", "--disable-usage-stats", f"--temp-dir={temp}"],
            stdout=sink, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 120
        while "Ray runtime started" not in log.read_text():
            assert head.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        head.send_signal(signal.SIGTERM)
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            head.kill()
        shutil.rmtree(temp, ignore_errors=True)

"""On-chain fixtures: a venue epoch, real proofs of it, the contracts compiled once and deployed once.

``epoch_tree`` is the venue's epoch 1 over ``examples/ledger.jsonl`` and the example snapshot,
signed with a fixed key (:func:`venue_key`); ``statements`` are its private statements by account
id. ``provers`` holds a warm :class:`MarginProver` of the small portfolio circuit per backend
(snarkjs and native, the keys of ``$ZKMARGIN_BUILD``); ``bundle`` is the snarkjs proof that the
hedged market maker meets 15000 bps of MM.

``exported`` runs ``zkmargin export-solidity --compile`` (the pinned solc-js, once per session);
``chain`` deploys the verifier and a MarginGate (minimum :data:`MIN_THRESHOLD_BPS`) on
eth-tester's in-process py-evm chain (the default fork, which charges the EIP-1108 precompile
prices) and publishes the epoch's roots; ``accepted`` is the receipt of the first valid
``checkMargin`` transaction, sent as the raw calldata ``zkmargin calldata --function
checkMargin`` prints.

Every transaction carries an explicit gas limit: web3 would otherwise estimate it, and py-evm's
binary-search estimator re-runs the pairing a dozen times.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from web3 import EthereumTesterProvider, Web3
from web3.types import TxReceipt

from prover.circuits import MarginCircuit
from prover.margin import MarginProver
from prover.setup import KeySet
from prover.solidity import CONTRACTS_DIR, compile_sources
from tests.conftest import EXAMPLES
from tests.onchain.evm import Chain, cli
from zkmargin.bundle import Backend, ProofBundle
from zkmargin.models import RiskSnapshot, Statement
from zkmargin.onchain import deploy_contract
from zkmargin.venue import EpochTree, build_epoch, read_ledger

SMALL = MarginCircuit.named("portfolio", "small")
MIN_THRESHOLD_BPS = 10_000
"""The gate's minimum threshold in the tests (bps of MM: equity at least MM)."""
PROVEN_BPS = 15_000
"""What ``bundle`` proves of the hedged market maker (about 2.06x MM)."""
BACKENDS: tuple[Backend, ...] = ("snarkjs", "native")


def venue_key() -> Ed25519PrivateKey:
    """The test venue's signing key, fixed so every run builds the same epoch."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"zkmargin tests: onchain venue").digest())


@pytest.fixture(scope="session")
def epoch_tree(snapshot: RiskSnapshot) -> EpochTree:
    published = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return build_epoch(read_ledger(EXAMPLES / "ledger.jsonl"), snapshot, venue_key(), now=published)


@pytest.fixture(scope="session")
def statements(epoch_tree: EpochTree) -> dict[str, Statement]:
    return {s.account_id: s for s in epoch_tree.statements()}


@pytest.fixture(scope="session")
def provers(keys: KeySet) -> dict[Backend, MarginProver]:
    return {backend: MarginProver(SMALL, keys, backend) for backend in BACKENDS}


@pytest.fixture(scope="session")
def bundle(provers: dict[Backend, MarginProver], statements: dict[str, Statement],
           snapshot: RiskSnapshot) -> ProofBundle:
    return provers["snarkjs"].prove(statements["hedged_market_maker"], snapshot, PROVEN_BPS)


@pytest.fixture(scope="session")
def exported(keys: KeySet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("solidity")
    output = cli(["export-solidity", "--profile", "small", "-o", str(out), "--compile"])
    assert output.startswith(f"portfolio_small: wrote {out / 'Groth16Verifier.sol'} (zkey sha256 ")
    return out


@pytest.fixture(scope="session")
def artifacts(exported: Path) -> dict[str, dict[str, Any]]:
    """Compiled contracts by name, as export-solidity wrote them."""
    return {path.stem: json.loads(path.read_text()) for path in exported.glob("*.json")}


@pytest.fixture(scope="session")
def chain(artifacts: dict[str, dict[str, Any]], epoch_tree: EpochTree) -> Chain:
    w3 = Web3(EthereumTesterProvider())
    owner, other = list(w3.eth.accounts)[:2]
    verifier, verifier_gas = deploy_contract(w3, artifacts["Groth16Verifier"], owner)
    gate, gate_gas = deploy_contract(w3, artifacts["MarginGate"], owner, verifier.address, owner, MIN_THRESHOLD_BPS)
    chain = Chain(w3, owner, other, verifier, gate,
                  {"deploy Groth16Verifier": verifier_gas, "deploy MarginGate": gate_gas})
    epoch = epoch_tree.epoch
    published = chain.send(gate.address, gate.encode_abi(
        "publishEpoch", [epoch.epoch, epoch.snapshot_roots[SMALL.profile.name], epoch.account_root]))
    assert published["status"] == 1
    chain.gas["publishEpoch"] = published["gasUsed"]
    return chain


@pytest.fixture(scope="session")
def epoch_file(epoch_tree: EpochTree, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The venue's epoch.json, as the trader and the relayer hold it."""
    path = tmp_path_factory.mktemp("venue") / "epoch.json"
    path.write_text(epoch_tree.epoch.model_dump_json())
    return path


@pytest.fixture(scope="session")
def bundle_file(bundle: ProofBundle, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bundle") / "proof.json"
    path.write_text(bundle.model_dump_json())
    return path


@pytest.fixture(scope="session")
def accepted(chain: Chain, bundle_file: Path, epoch_file: Path) -> TxReceipt:
    """The first valid checkMargin transaction (records the proven threshold)."""
    data = cli(["calldata", str(bundle_file), "--function", "checkMargin", "--epoch-file", str(epoch_file)]).strip()
    return chain.send(chain.gate.address, data)


@pytest.fixture(scope="session")
def lifecycle_artifacts(artifacts: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """export-solidity's contracts plus the demo token and the hostile test contracts."""
    extra = compile_sources([*sorted(CONTRACTS_DIR.glob("*.sol")), CONTRACTS_DIR / "demo" / "DemoToken.sol",
                             *sorted((Path(__file__).resolve().parent / "contracts").glob("*.sol"))])
    return {**artifacts, **{name: {"contractName": name, "abi": c.abi, "bytecode": c.bytecode}
                            for name, c in extra.items() if name not in artifacts}}

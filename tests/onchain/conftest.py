"""On-chain fixtures: the small circuit's contracts exported and compiled once, deployed once.

``exported`` runs ``zkmargin export-solidity --compile`` (the pinned solc-js, once per session);
``chain`` deploys the verifier and a MarginGate on eth-tester's in-process py-evm chain (the
default fork, which charges the EIP-1108 precompile prices) and publishes the example snapshot's
root for its epoch; ``accepted`` is the receipt of the first valid ``checkMargin`` transaction,
sent as the raw calldata ``zkmargin calldata --function checkMargin`` prints.

Every transaction carries an explicit gas limit: web3 would otherwise estimate it, and py-evm's
binary-search estimator re-runs the pairing a dozen times.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract
from web3.types import TxReceipt

from prover.setup import KeySet
from tests.onchain.evm import DEPLOY_GAS_LIMIT, GAS_LIMIT, Chain, cli
from zkmargin.bundle import ProofBundle


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
def chain(artifacts: dict[str, dict[str, Any]], bundle: ProofBundle) -> Chain:
    w3 = Web3(EthereumTesterProvider())
    owner, other = list(w3.eth.accounts)[:2]

    def deploy(name: str, *args: object) -> tuple[Contract, int]:
        factory = w3.eth.contract(abi=artifacts[name]["abi"], bytecode=artifacts[name]["bytecode"])
        tx = factory.constructor(*args).transact({"from": owner, "gas": DEPLOY_GAS_LIMIT})
        receipt = w3.eth.wait_for_transaction_receipt(tx)
        assert receipt["status"] == 1, name
        contract = w3.eth.contract(address=receipt["contractAddress"], abi=artifacts[name]["abi"])
        assert isinstance(contract, Contract)
        return contract, receipt["gasUsed"]

    verifier, verifier_gas = deploy("Groth16Verifier")
    gate, gate_gas = deploy("MarginGate", verifier.address, owner)
    root = int(bundle.public_signals.snapshot_root)
    tx = gate.functions.setSnapshotRoot(bundle.epoch, root).transact({"from": owner, "gas": GAS_LIMIT})
    set_root = w3.eth.wait_for_transaction_receipt(tx)
    assert set_root["status"] == 1
    return Chain(w3, owner, other, verifier, gate,
                 {"Groth16Verifier": verifier_gas, "MarginGate": gate_gas}, set_root["gasUsed"])


@pytest.fixture(scope="session")
def bundle_file(bundle: ProofBundle, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bundle") / "proof.json"
    path.write_text(bundle.model_dump_json())
    return path


@pytest.fixture(scope="session")
def accepted(chain: Chain, bundle_file: Path) -> TxReceipt:
    """The first valid checkMargin transaction (records the proven threshold)."""
    data = cli(["calldata", str(bundle_file), "--function", "checkMargin"]).strip()
    return chain.send(chain.gate.address, data)

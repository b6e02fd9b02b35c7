"""Helpers of the on-chain tests: a deployed chain, revert decoding, the CLI."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
from click.testing import CliRunner
from eth_abi.abi import decode
from eth_tester.exceptions import TransactionFailed  # type: ignore[import-untyped]
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.types import TxParams, TxReceipt

from zkmargin.cli import main

GAS_LIMIT = 1_000_000
"""Gas limit of every call and transaction to the contracts (far above what any needs)."""

DEPLOY_GAS_LIMIT = 5_000_000

VERIFY_OK = (1).to_bytes(32, "big")
VERIFY_FAILED = bytes(32)


@dataclass(frozen=True)
class Revert:
    """A custom error a call reverted with."""

    name: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Chain:
    """The deployed contracts and two funded accounts on an in-process EVM."""

    w3: Web3
    owner: str
    other: str
    verifier: Contract
    gate: Contract
    gas: dict[str, int] = field(default_factory=dict)
    """Gas used by the set-up transactions, by README row ("deploy MarginGate", "publishEpoch")."""

    def send(self, to: str, data: bytes | str, sender: str | None = None) -> TxReceipt:
        """Mine a transaction with ``data``; the receipt whatever its status."""
        tx: TxParams = {"from": sender or self.owner, "to": to, "data": HexBytes(data), "gas": GAS_LIMIT}
        return self.w3.eth.wait_for_transaction_receipt(self.w3.eth.send_transaction(tx))

    def call(self, to: str, data: bytes | str, gas: int = GAS_LIMIT) -> bytes:
        """eth_call of ``data``: the returned bytes (TransactionFailed on a revert)."""
        return bytes(self.w3.eth.call({"from": self.owner, "to": to, "data": HexBytes(data), "gas": gas}))

    def revert(self, to: str, data: bytes | str, sender: str | None = None) -> Revert:
        """The MarginGate custom error that an eth_call of ``data`` reverts with."""
        return revert(self.w3, {"from": sender or self.owner, "to": to, "data": HexBytes(data)}, [self.gate.abi])


def revert(w3: Web3, tx: TxParams, abis: Iterable[list[dict[str, Any]]]) -> Revert:
    """The custom error (declared in one of ``abis``) that an eth_call of ``tx`` reverts with."""
    with pytest.raises(TransactionFailed) as failed:
        w3.eth.call({**tx, "gas": GAS_LIMIT})
    # eth-tester reports revert data as the repr of a bytes object after this prefix
    text = str(failed.value.args[0]).removeprefix("execution reverted: ")
    data = ast.literal_eval(text)
    assert isinstance(data, bytes), text
    for abi in abis:
        for entry in abi:
            if entry["type"] == "error":
                types = [arg["type"] for arg in entry["inputs"]]
                if Web3.keccak(text=f"{entry['name']}({','.join(types)})")[:4] == data[:4]:
                    return Revert(entry["name"], tuple(decode(types, data[4:])))
    raise AssertionError(f"not a declared custom error: {data.hex()}")


def deploy(w3: Web3, artifact: dict[str, Any], sender: str, *args: object) -> tuple[Contract, int]:
    """Deploy a compiled contract (export-solidity's ``<Contract>.json``); it and the gas used."""
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    tx = factory.constructor(*args).transact({"from": sender, "gas": DEPLOY_GAS_LIMIT})
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    assert receipt["status"] == 1, artifact["contractName"]
    contract = w3.eth.contract(address=receipt["contractAddress"], abi=artifact["abi"])
    assert isinstance(contract, Contract)
    return contract, receipt["gasUsed"]


def cli(args: Sequence[str]) -> str:
    """Run ``zkmargin <args>``; its output (the command must succeed)."""
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output

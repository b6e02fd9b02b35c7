"""Helpers of the on-chain tests: a deployed chain, revert decoding, the CLI."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from eth_tester.exceptions import TransactionFailed  # type: ignore[import-untyped]
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.types import TxParams, TxReceipt

from zkmargin.cli import main
from zkmargin.onchain import decode_revert, revert_data

README = Path(__file__).resolve().parents[2] / "README.md"

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


def revert(w3: Web3, tx: TxParams, abis: Iterable[Sequence[Mapping[str, Any]]]) -> Revert:
    """The custom error (declared in one of ``abis``) that an eth_call of ``tx`` reverts with."""
    with pytest.raises(TransactionFailed) as failed:
        w3.eth.call({**tx, "gas": GAS_LIMIT})
    data = revert_data(failed.value)
    assert data is not None, failed.value
    decoded = decode_revert(data, abis)
    assert decoded is not None, f"not a declared custom error: {data.hex()}"
    return Revert(decoded[0], tuple(decoded[1].values()))


def cli(args: Sequence[str]) -> str:
    """Run ``zkmargin <args>``; its output (the command must succeed)."""
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def readme_table() -> dict[str, int]:
    """The gas tables of the README's On-chain section: row label (backticks dropped) -> figure."""
    section = README.read_text().split("\n## On-chain\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| ([^|]+?) \| ([\d,]+) \|", section, re.MULTILINE)
    return {label.replace("`", ""): int(figure.replace(",", "")) for label, figure in rows}

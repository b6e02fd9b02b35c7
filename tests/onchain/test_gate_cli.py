"""``zkmargin gate`` end to end on py-evm: deploy, publish-epoch, register, submit, status, flag,
liquidate, deposit, bid; reverts as one line and exit code 2.

The commands take an RPC URL; here :func:`zkmargin.onchain.connect` is pointed at an in-process
eth-tester chain instead (no JSON-RPC node on the test machine), so everything but the HTTP
transport is what runs against a node.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from eth_account import Account
from web3 import EthereumTesterProvider, Web3

from prover.setup import KeySet
from tests.onchain.conftest import venue_key
from zkmargin.bundle import ProofBundle
from zkmargin.cli import main
from zkmargin.onchain import Deployment, Lifecycle, deploy_contract, sign_locally
from zkmargin.onchain_demo import lifecycle_demo
from zkmargin.venue import EpochTree, public_key_hex

UNIT = 10**18


def test_gate_commands_run_the_lifecycle(lifecycle_artifacts: dict[str, dict[str, Any]], epoch_tree: EpochTree,
                                         bundle_file: Path, bundle: ProofBundle, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    w3 = Web3(EthereumTesterProvider())
    monkeypatch.setattr("zkmargin.onchain.connect", lambda url: w3)
    protocol, keeper, debtor = list(w3.eth.accounts)[:3]
    collateral, _ = deploy_contract(w3, lifecycle_artifacts["DemoToken"], protocol, "Collateral", "COL")
    payment, _ = deploy_contract(w3, lifecycle_artifacts["DemoToken"], protocol, "Dollar", "USD")
    deployment = tmp_path / "deployment.json"
    epoch_file = tmp_path / "epoch.json"
    epoch_file.write_text(epoch_tree.epoch.model_dump_json())
    pub = public_key_hex(venue_key().public_key())

    def gate(*args: str, sender: str = protocol, ok: bool = True) -> str:
        result = CliRunner().invoke(main, ["gate", "--rpc", "http://node.test", "--from", sender,
                                           "--deployment", str(deployment), *args])
        assert (result.exit_code == 0) == ok, result.output
        return result.output

    out = gate("deploy", "--min-threshold", "1000", "--proof-window", "600", "--grace", "300",
               "--collateral", collateral.address, "--payment", payment.address,
               "--collateral-price", str(50_000 * UNIT), "--contracts-dir", str(tmp_path / "contracts"),
               "-o", str(deployment))
    assert "MarginRegistry: 0x" in out and "CollateralAuction: 0x" in out and deployment.is_file()
    holder = f"0x{int(bundle.public_signals.holder):040x}"
    for who in (holder, debtor):
        assert "HolderRegistered" in gate("register", who, "--required-bps", "12000")
    collateral.functions.mint(debtor, UNIT).transact({"from": protocol})
    assert "Deposited" in gate("deposit", str(UNIT), sender=debtor)
    assert "DebtSet" in gate("set-debt", debtor, str(20_000 * UNIT))
    forged = gate("publish-epoch", str(epoch_file), "--venue-key", "00" * 32, ok=False)
    assert forged.startswith("error: epoch 1 of") and len(forged.strip().splitlines()) == 1
    assert "EpochScheduled" in gate("publish-epoch", str(epoch_file), "--venue-key", pub)
    assert "ProvedHealthy" in gate("submit", str(bundle_file), sender=keeper)
    assert ": Healthy (proven 15000 bps" in gate("status", "1", holder)
    early = gate("flag", "1", debtor, sender=keeper, ok=False)
    assert early.startswith("error: flagMarginCall: reverted with WrongStatus(epoch=1") and "status=Pending" in early
    tester = w3.provider.ethereum_tester  # type: ignore[attr-defined]
    tester.time_travel(w3.eth.get_block("latest")["timestamp"] + 1_000)
    tester.mine_blocks(1)
    assert "MarginCalled" in gate("flag", "1", debtor, sender=keeper)
    assert "AuctionStarted" in gate("liquidate", "1", debtor, sender=keeper)
    payment.functions.mint(keeper, 100_000 * UNIT).transact({"from": protocol})
    sold = gate("bid", debtor, sender=keeper)
    assert "AuctionSold" in sold and f"toProtocol={20_000 * UNIT}" in sold
    assert ": Liquidated" in gate("status", "1", debtor)
    bad = gate("status", "1", "0xzz", ok=False)
    assert bad.startswith("error: Invalid value for 'HOLDER'") and len(bad.strip().splitlines()) == 1


def test_key_file_signs_locally(lifecycle_artifacts: dict[str, dict[str, Any]], tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A sender the node does not manage: the transaction is signed from --key-file."""
    w3 = Web3(EthereumTesterProvider())
    monkeypatch.setattr("zkmargin.onchain.connect", lambda url: w3)
    key = "0x" + "42" * 32
    address = Account.from_key(key).address
    w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(
        {"from": w3.eth.accounts[0], "to": address, "value": Web3.to_wei(1, "ether")}))
    collateral, _ = deploy_contract(w3, lifecycle_artifacts["DemoToken"], w3.eth.accounts[0], "Collateral", "COL")
    deployment = Deployment({"MarginRegistry": collateral.address, "CollateralAuction": collateral.address},
                            {"MarginRegistry": [], "CollateralAuction": []})
    (tmp_path / "key").write_text(key + "\n")
    (tmp_path / "bad").write_text("not a key\n")
    deployment.save(tmp_path / "deployment.json")
    runner = CliRunner()
    base = ["gate", "--rpc", "http://node.test", "--deployment", str(tmp_path / "deployment.json")]
    bad = runner.invoke(main, [*base, "--key-file", str(tmp_path / "bad"), "status", "1", "0x01"])
    assert bad.exit_code == 2 and bad.output == f"error: {tmp_path / 'bad'}: not a private key (0x + 64 hex digits)\n"
    both = runner.invoke(main, [*base, "--key-file", str(tmp_path / "key"), "--from", address, "status", "1", "0x01"])
    assert both.exit_code == 2 and "exclude each other" in both.output
    lifecycle = Lifecycle(w3, deployment, address)
    assert sign_locally(w3, tmp_path / "key") == address
    lifecycle.send("mint", collateral.functions.mint(address, 5))
    assert collateral.functions.balanceOf(address).call() == 5


@pytest.mark.slow
def test_demo_onchain_prints_every_state_change(keys: KeySet, tmp_path: Path) -> None:
    """``zkmargin demo --onchain``: both traders through the lifecycle, each transaction with its gas."""
    lines: list[str] = []
    lifecycle_demo(keys, tmp_path, lines.append, backend="native")
    text = "\n".join(lines)
    for event in ("EpochScheduled", "ProvedHealthy", "MarginCalled", "HolderLiquidated", "AuctionStarted",
                  "AuctionSold"):
        assert event in text, event
    assert lines[-2].split()[3:5] == ["healthy", "Healthy"] and lines[-1].split()[3:5] == ["delinquent", "Liquidated"]
    assert all(int(line.split(" gas ")[1].split()[0].replace(",", "")) > 21_000 for line in lines if " gas " in line)

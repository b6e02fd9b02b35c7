"""The margin-call lifecycle on an EVM chain, over web3 (the ``evm`` extra).

:func:`deploy_lifecycle` deploys a circuit's Groth16 verifier, a ``MarginRegistry`` (MarginGate
plus schedule, registrations, margin calls and liquidations) and optionally its reference
liquidation hook ``CollateralAuction``; the addresses and ABIs make a :class:`Deployment`
(``deployment.json`` for the ``zkmargin gate`` commands). :class:`Lifecycle` sends the
lifecycle's transactions from one account: each is first simulated with ``eth_call`` (a revert
raises :class:`~zkmargin.errors.OnchainError` naming the contract's custom error and its
arguments), then mined with an explicit gas limit (see the README: estimating the pairing is
slow on py-evm and wrong for ``verifyProof``); each returns a :class:`Tx` with its gas used and
the events it emitted. Times are unix seconds; thresholds are bps of MM (10000 = equity equals MM).
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_abi.abi import decode
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractLogicError
from web3.types import TxParams, TxReceipt

from prover.setup import KeySet
from zkmargin.bundle import ProofBundle
from zkmargin.errors import InputError, OnchainError
from zkmargin.models import Epoch

STATUSES = ("NotDue", "Pending", "Healthy", "MarginCall", "Cured", "Liquidatable", "Liquidated")
"""``MarginRegistry.Status`` by its uint8 value."""

TX_GAS_LIMIT = 1_000_000
"""Gas limit of every lifecycle transaction (checkMargin uses about 300,000)."""
DEPLOY_GAS_LIMIT = 6_000_000

DEPLOYMENT_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class AuctionTerms:
    """The reference liquidation hook's parameters.

    ``collateral_price``: payment-token units per 1e18 collateral units; ``start_premium_bps``:
    the auction's start price above the reference value, ``floor_bps``: its floor as bps of the
    reference value; ``duration``: seconds from start price to floor.
    """

    collateral: str
    payment: str
    collateral_price: int
    start_premium_bps: int = 1_000
    floor_bps: int = 8_000
    duration: int = 3_600


@dataclass(frozen=True)
class Deployment:
    """Deployed contracts: name -> address and name -> ABI, with the gas of each deployment."""

    addresses: dict[str, str]
    abis: dict[str, list[dict[str, Any]]]
    gas: dict[str, int] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        data = {"schema_version": DEPLOYMENT_SCHEMA_VERSION, "addresses": self.addresses, "abis": self.abis,
                "gas": self.gas}
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Deployment:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"{path}: no such file (write one with `zkmargin gate deploy -o`)") from None
        except ValueError as e:
            raise InputError(f"{path}: malformed JSON ({e})") from None
        if not isinstance(data, dict) or data.get("schema_version") != DEPLOYMENT_SCHEMA_VERSION:
            raise InputError(f"{path}: not a zkmargin deployment file (schema {DEPLOYMENT_SCHEMA_VERSION})")
        return cls(data["addresses"], data["abis"], data.get("gas", {}))


@dataclass(frozen=True)
class Tx:
    """A mined lifecycle transaction: what it was, its gas used, the events it emitted."""

    what: str
    gas_used: int
    events: list[tuple[str, dict[str, Any]]]
    receipt: TxReceipt


@dataclass(frozen=True)
class HolderStatus:
    """A holder's state in one epoch, read from the registry."""

    epoch: int
    holder: int
    status: str
    proven_threshold_bps: int
    required_threshold_bps: int
    deadline: int
    grace_end: int
    flagged: bool


def connect(rpc_url: str) -> Web3:
    """A web3 connection to the JSON-RPC endpoint ``rpc_url`` (http(s)://), checked by one request."""
    from web3 import HTTPProvider

    if not rpc_url.startswith(("http://", "https://")):
        raise InputError(f"--rpc {rpc_url}: an http(s):// URL")
    w3 = Web3(HTTPProvider(rpc_url))
    try:
        w3.eth.chain_id
    except Exception as e:  # any transport failure: the endpoint is unusable
        raise OnchainError(f"cannot reach the RPC endpoint {rpc_url}: {e}") from None
    return w3


def sign_locally(w3: Web3, key_file: Path) -> str:
    """Sign ``w3``'s transactions with the private key in ``key_file`` (0x + 64 hex digits; a file
    so that the key is on no command line); the key's address, to send from."""
    from eth_account import Account
    from web3.middleware import SignAndSendRawMiddlewareBuilder

    try:
        text = Path(key_file).read_text(encoding="utf-8", errors="replace").strip()
    except FileNotFoundError:
        raise InputError(f"{key_file}: no such file") from None
    try:
        account = Account.from_key(text)
    except (ValueError, TypeError):
        raise InputError(f"{key_file}: not a private key (0x + 64 hex digits)") from None
    w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(account), layer=0)
    return str(account.address)


def compiled_artifacts(keys: KeySet, out_dir: Path) -> dict[str, dict[str, Any]]:
    """Export and compile the circuit's verifier and the project's contracts into ``out_dir``;
    the compiled contracts by name (export-solidity's ``<Contract>.json``)."""
    from prover.solidity import export_contracts

    exported = export_contracts(keys, out_dir, compile_=True)
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in exported.artifacts}


def deploy_contract(w3: Web3, artifact: dict[str, Any], sender: str, *args: object) -> tuple[Contract, int]:
    """Deploy a compiled contract (an export-solidity ``<Contract>.json``); it and the gas used."""
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    tx = factory.constructor(*args).transact({"from": sender, "gas": DEPLOY_GAS_LIMIT})
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    if receipt["status"] != 1:
        raise OnchainError(f"deploy {artifact['contractName']}: the constructor reverted (arguments {args})")
    contract = w3.eth.contract(address=receipt["contractAddress"], abi=artifact["abi"])
    assert isinstance(contract, Contract)  # an address makes an instance, not a factory
    return contract, receipt["gasUsed"]


def deploy_lifecycle(w3: Web3, artifacts: dict[str, dict[str, Any]], owner: str, *, min_threshold_bps: int,
                     proof_window: int, grace_period: int, auction: AuctionTerms | None = None) -> Deployment:
    """Deploy Groth16Verifier, MarginRegistry (owned by ``owner``) and, with ``auction``, a
    CollateralAuction set as the registry's liquidation hook (proceeds to ``owner``)."""
    verifier, verifier_gas = deploy_contract(w3, artifacts["Groth16Verifier"], owner)
    registry, registry_gas = deploy_contract(w3, artifacts["MarginRegistry"], owner, verifier.address, owner,
                                             min_threshold_bps, proof_window, grace_period)
    addresses: dict[str, str] = {"Groth16Verifier": verifier.address, "MarginRegistry": registry.address}
    gas = {"deploy Groth16Verifier": verifier_gas, "deploy MarginRegistry": registry_gas}
    if auction is not None:
        hook, hook_gas = deploy_contract(
            w3, artifacts["CollateralAuction"], owner, registry.address, auction.collateral, auction.payment, owner,
            auction.collateral_price, auction.start_premium_bps, auction.floor_bps, auction.duration)
        addresses["CollateralAuction"] = hook.address
        gas["deploy CollateralAuction"] = hook_gas
    deployment = Deployment(addresses, {name: artifacts[name]["abi"] for name in addresses}, gas)
    if auction is not None:
        tx = Lifecycle(w3, deployment, owner).set_liquidation_hook(addresses["CollateralAuction"])
        gas["setLiquidationHook"] = tx.gas_used
    return deployment


def revert_data(error: Exception) -> bytes | None:
    """The revert data of a failed call: from web3's ContractLogicError (a JSON-RPC node) or
    eth-tester's TransactionFailed (in-process py-evm, which reports it as a bytes repr)."""
    if isinstance(error, ContractLogicError):
        return bytes.fromhex(error.data.removeprefix("0x")) if isinstance(error.data, str) else None
    text = str(error.args[0]) if error.args else ""
    if text.startswith("execution reverted: b"):
        data = ast.literal_eval(text.removeprefix("execution reverted: "))
        return data if isinstance(data, bytes) else None
    return None


def decode_revert(data: bytes, abis: Iterable[Sequence[Mapping[str, Any]]]) -> tuple[str, dict[str, Any]] | None:
    """The custom error (declared in one of ``abis``) that ``data`` encodes: name, arguments by name."""
    for abi in abis:
        for entry in abi:
            if entry["type"] != "error":
                continue
            types = [arg["type"] for arg in entry["inputs"]]
            if Web3.keccak(text=f"{entry['name']}({','.join(types)})")[:4] == data[:4]:
                values = decode(types, data[4:])
                return entry["name"], {arg["name"]: _shown(v, arg) for arg, v in zip(entry["inputs"], values)}
    return None


def describe_revert(error: Exception, abis: Iterable[Sequence[Mapping[str, Any]]]) -> str:
    """``reverted with Name(arg=value, ...)`` for a custom error in ``abis``, else the error's text."""
    data = revert_data(error)
    decoded = None if data is None else decode_revert(data, abis)
    if decoded is None:
        return f"reverted: {error}"
    name, args = decoded
    return f"reverted with {name}(" + ", ".join(f"{k}={v}" for k, v in args.items()) + ")"


def _shown(value: Any, arg: Mapping[str, Any]) -> Any:
    """An error argument as decoded, a registry status by its name."""
    return STATUSES[value] if arg.get("internalType") == "enum MarginRegistry.Status" else value


class Lifecycle:
    """The lifecycle's transactions and reads, sent from ``sender`` (an account the node signs for)."""

    def __init__(self, w3: Web3, deployment: Deployment, sender: str) -> None:
        self.w3 = w3
        self.deployment = deployment
        self.sender = Web3.to_checksum_address(sender)
        self.contracts = {name: w3.eth.contract(address=Web3.to_checksum_address(address), abi=deployment.abis[name])
                          for name, address in deployment.addresses.items()}
        self.registry = self.contracts["MarginRegistry"]

    @property
    def auction(self) -> Contract:
        if "CollateralAuction" not in self.contracts:
            raise InputError("this deployment has no CollateralAuction (deploy with --collateral/--payment)")
        return self.contracts["CollateralAuction"]

    # ---- owner -----------------------------------------------------------------------------------
    def publish_epoch(self, epoch: Epoch, profile: str) -> Tx:
        """Publish a venue epoch's roots for ``profile``'s snapshot (check its signature first)."""
        if profile not in epoch.snapshot_roots:
            raise InputError(f"epoch {epoch.epoch} of {epoch.venue} has no snapshot root for profile {profile} "
                             f"(it has: {', '.join(sorted(epoch.snapshot_roots))})")
        return self.send("publishEpoch", self.registry.functions.publishEpoch(
            epoch.epoch, epoch.snapshot_roots[profile], epoch.account_root))

    def register(self, holder: int, required_threshold_bps: int) -> Tx:
        return self.send("register", self.registry.functions.register(holder, required_threshold_bps))

    def set_liquidation_hook(self, hook: str) -> Tx:
        return self.send("setLiquidationHook", self.registry.functions.setLiquidationHook(hook))

    # ---- anyone --------------------------------------------------------------------------------
    def submit(self, bundle: ProofBundle) -> Tx:
        """``checkMargin`` with the bundle's epoch, holder, threshold and proof."""
        from verifier import parse_proof
        from zkmargin.calldata import proof_words

        w = proof_words(parse_proof(bundle.proof.model_dump()))
        signals = bundle.public_signals
        return self.send("checkMargin", self.registry.functions.checkMargin(
            bundle.epoch, int(signals.holder), int(signals.threshold_bps), w[0:2], [w[2:4], w[4:6]], w[6:8]))

    def flag(self, epoch: int, holder: int) -> Tx:
        return self.send("flagMarginCall", self.registry.functions.flagMarginCall(epoch, holder))

    def liquidate(self, epoch: int, holder: int) -> Tx:
        return self.send("liquidate", self.registry.functions.liquidate(epoch, holder))

    def set_debt(self, holder: int, amount: int) -> Tx:
        """Record what ``holder`` owes the protocol (payment-token units; the protocol only)."""
        return self.send("setDebt", self.auction.functions.setDebt(holder, amount))

    def deposit(self, amount: int) -> tuple[Tx, Tx]:
        """Escrow ``amount`` collateral units of the sender: approve, then deposit."""
        token = self._token("collateral")
        approve = self.send("approve collateral", token.functions.approve(self.auction.address, amount))
        return approve, self.send("deposit", self.auction.functions.deposit(amount))

    def bid(self, holder: int) -> tuple[Tx, Tx]:
        """Buy ``holder``'s auctioned collateral at the current price: approve it, then bid (the
        price only falls, so the approval covers the price the bid pays)."""
        price = self.read("currentPrice", self.auction.functions.currentPrice(holder))
        token = self._token("payment")
        approve = self.send("approve payment", token.functions.approve(self.auction.address, price))
        return approve, self.send("bid", self.auction.functions.bid(holder))

    # ---- reads ---------------------------------------------------------------------------------
    def status(self, epoch: int, holder: int) -> HolderStatus:
        r = self.registry.functions
        code = self.read("status", r.status(epoch, holder))
        _, deadline, grace_end = r.schedules(epoch).call()
        _, _, required = r.registrations(holder).call()
        return HolderStatus(epoch, holder, STATUSES[code], r.provenThresholdBps(epoch, holder).call(), required,
                            deadline, grace_end, r.flagged(epoch, holder).call())

    # ---- plumbing ------------------------------------------------------------------------------
    def send(self, what: str, fn: ContractFunction) -> Tx:
        """Simulate ``fn`` (OnchainError with the decoded custom error if it reverts), then mine it."""
        params: TxParams = {"from": self.sender, "gas": TX_GAS_LIMIT}
        self.read(what, fn)
        receipt = self.w3.eth.wait_for_transaction_receipt(fn.transact(params))
        if receipt["status"] != 1:
            raise OnchainError(f"{what}: the transaction {receipt['transactionHash'].hex()} failed")
        return Tx(what, receipt["gasUsed"], self.events(receipt), receipt)

    def read(self, what: str, fn: ContractFunction) -> Any:
        """``eth_call`` of ``fn`` from the sender: its result, or OnchainError naming the custom error."""
        try:
            return fn.call({"from": self.sender, "gas": TX_GAS_LIMIT})
        except Exception as e:  # a revert, whatever the provider's exception for it
            if revert_data(e) is None:
                raise
            raise OnchainError(f"{what}: {describe_revert(e, self.deployment.abis.values())}") from None

    def events(self, receipt: TxReceipt) -> list[tuple[str, dict[str, Any]]]:
        """The events of the deployment's contracts in ``receipt``, in log order."""
        by_topic = {}
        for contract in self.contracts.values():
            for entry in contract.abi:
                if entry["type"] == "event":
                    types = ",".join(arg["type"] for arg in entry["inputs"])
                    by_topic[Web3.keccak(text=f"{entry['name']}({types})")] = (contract, entry["name"])
        found = []
        for log in receipt["logs"]:
            if log["topics"] and log["topics"][0] in by_topic:
                contract, name = by_topic[log["topics"][0]]
                if log["address"] == contract.address:
                    found.append((name, dict(contract.events[name]().process_log(log)["args"])))
        return found

    def _token(self, which: str) -> Contract:
        address = getattr(self.auction.functions, which)().call()
        return self.w3.eth.contract(address=address, abi=ERC20_ABI)


ERC20_ABI: list[dict[str, Any]] = [
    {"type": "function", "name": "approve", "stateMutability": "nonpayable",
     "inputs": [{"name": "spender", "type": "address"}, {"name": "amount", "type": "uint256"}],
     "outputs": [{"name": "", "type": "bool"}]},
    {"type": "function", "name": "balanceOf", "stateMutability": "view",
     "inputs": [{"name": "owner", "type": "address"}], "outputs": [{"name": "", "type": "uint256"}]},
]
"""The two ERC-20 functions the lifecycle calls on the auction's tokens."""

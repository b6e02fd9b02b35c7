"""``zkmargin demo --onchain``: a venue epoch, a healthy and a delinquent trader through the
margin-call lifecycle on an in-process EVM (eth-tester's py-evm), each state change with its gas.

The chain's clock is moved forward (eth-tester's time travel) past the proof deadline, past the
grace period and half-way through the Dutch auction. Amounts: the collateral token has 18
decimals, the payment token (a stand-in for a dollar stablecoin) too; prices are printed in whole
payment units.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from prover.circuits import MarginCircuit
from prover.margin import MarginProver
from prover.setup import MANIFEST_NAME, KeySet
from zkmargin.bundle import Backend
from zkmargin.io import load_model
from zkmargin.models import RiskSnapshot
from zkmargin.onchain import AuctionTerms, Lifecycle, Tx, compiled_artifacts, deploy_contract, deploy_lifecycle
from zkmargin.venue import build_epoch, generate_key, read_ledger

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DEMO_TOKEN = Path(__file__).resolve().parent.parent / "contracts" / "demo" / "DemoToken.sol"
UNIT = 10**18
MIN_THRESHOLD_BPS = 1_000
REQUIRED_BPS = 12_000
PROOF_WINDOW = 3_600
GRACE_PERIOD = 1_800
AUCTION = {"collateral_price": 60_000 * UNIT, "start_premium_bps": 1_000, "floor_bps": 8_000, "duration": 3_600}
ESCROW = 10 * UNIT
DEBT = 400_000 * UNIT


def demo_keys(ptau: Path | None) -> KeySet:
    """The small portfolio circuit's keys: those a setup left (no ptau needed), else a setup."""
    from prover.margin import load_keys, setup_circuit

    circuit = MarginCircuit.named("portfolio", "small")
    if (circuit.keys_dir() / MANIFEST_NAME).is_file():
        return load_keys(circuit)
    return setup_circuit(circuit, ptau)


def lifecycle_demo(keys: KeySet, out_dir: Path, echo: Callable[[str], None], *, backend: Backend = "snarkjs") -> None:
    """Run the lifecycle on a fresh local chain (small portfolio circuit, ``keys``), printing it.

    ``out_dir`` receives the exported and compiled contracts.
    """
    from web3 import EthereumTesterProvider, Web3

    from prover.solidity import compile_sources

    w3 = Web3(EthereumTesterProvider())
    tester = w3.provider.ethereum_tester  # type: ignore[attr-defined]
    protocol, keeper, healthy, delinquent = list(w3.eth.accounts)[:4]

    def show(tx: Tx) -> None:
        echo(f"  {tx.what:<26} gas {tx.gas_used:>9,}  " + "; ".join(_event(name, args) for name, args in tx.events))

    def travel(seconds: int, why: str) -> None:
        now = w3.eth.get_block("latest")["timestamp"]
        tester.time_travel(now + seconds)
        tester.mine_blocks(1)
        echo(f"-- {seconds:,} s later: {why}")

    echo("== contracts: export, compile (pinned solc-js), deploy")
    artifacts = compiled_artifacts(keys, out_dir)
    token = compile_sources([DEMO_TOKEN])["DemoToken"]
    token_artifact = {"contractName": token.name, "abi": token.abi, "bytecode": token.bytecode}
    cbtc, _ = deploy_contract(w3, token_artifact, protocol, "Collateral BTC", "cBTC")
    usd, _ = deploy_contract(w3, token_artifact, protocol, "Demo dollar", "USD")
    deployment = deploy_lifecycle(w3, artifacts, protocol, min_threshold_bps=MIN_THRESHOLD_BPS,
                                  proof_window=PROOF_WINDOW, grace_period=GRACE_PERIOD,
                                  auction=AuctionTerms(cbtc.address, usd.address, **AUCTION))
    for what, gas in deployment.gas.items():
        echo(f"  {what:<26} gas {gas:>9,}")
    owner, anyone = Lifecycle(w3, deployment, protocol), Lifecycle(w3, deployment, keeper)
    holders = {"healthy": int(healthy, 16), "delinquent": int(delinquent, 16)}

    echo(f"== protocol: register both holders at {REQUIRED_BPS} bps; the delinquent escrows "
         f"{ESCROW // UNIT} cBTC against a {DEBT // UNIT:,} USD debt")
    for holder in holders.values():
        show(owner.register(holder, REQUIRED_BPS))
    cbtc.functions.mint(delinquent, ESCROW).transact({"from": protocol})
    for tx in Lifecycle(w3, deployment, delinquent).deposit(ESCROW):
        show(tx)
    show(owner.set_debt(holders["delinquent"], DEBT))

    echo("== venue: epoch over examples/ledger.jsonl (the two traders' holders are local accounts)")
    snapshot = load_model(RiskSnapshot, EXAMPLES / "snapshot_span16.json")
    books = {"healthy": "hedged_market_maker", "delinquent": "insolvent"}
    entries = [e.model_copy(update={"holder": holders[role]}) for role, account in books.items()
               for e in read_ledger(EXAMPLES / "ledger.jsonl") if e.account_id == account]
    built = build_epoch(entries, snapshot, generate_key())
    statements = {role: next(s for s in built.statements() if s.account_id == account)
                  for role, account in books.items()}
    show(owner.publish_epoch(built.epoch, "small"))

    prover = MarginProver(MarginCircuit.named("portfolio", "small"), keys, backend)
    echo(f"== traders prove ({backend}) and anyone submits")
    show(anyone.submit(prover.prove(statements["healthy"], snapshot, 15_000)))
    echo("  the delinquent account (about 0.2x MM) can prove only 2000 bps, below its requirement:")
    show(anyone.submit(prover.prove(statements["delinquent"], snapshot, 2_000)))
    _statuses(echo, owner, built.epoch.epoch, holders)

    travel(PROOF_WINDOW + 1, "the proof deadline passed")
    _statuses(echo, owner, built.epoch.epoch, holders)
    show(anyone.flag(built.epoch.epoch, holders["delinquent"]))
    travel(GRACE_PERIOD, "the grace period ended uncured")
    _statuses(echo, owner, built.epoch.epoch, holders)
    show(anyone.liquidate(built.epoch.epoch, holders["delinquent"]))
    travel(AUCTION["duration"] // 2, "half-way through the Dutch auction")
    price = anyone.auction.functions.currentPrice(holders["delinquent"]).call()
    _, start, floor, _, _ = anyone.auction.functions.auctions(holders["delinquent"]).call()
    echo(f"  price now {price / UNIT:,.2f} USD for {ESCROW // UNIT} cBTC, falling "
         f"{(start - floor) / AUCTION['duration'] / UNIT:,.0f} USD a second until the bid's block")
    usd.functions.mint(keeper, price).transact({"from": protocol})
    for tx in anyone.bid(holders["delinquent"]):
        show(tx)
    _statuses(echo, owner, built.epoch.epoch, holders)


def _statuses(echo: Callable[[str], None], lifecycle: Lifecycle, epoch: int, holders: dict[str, int]) -> None:
    for role, holder in holders.items():
        st = lifecycle.status(epoch, holder)
        echo(f"  status epoch {epoch} {role:<10} {st.status:<12} (proven {st.proven_threshold_bps} bps, "
             f"required {st.required_threshold_bps})")


def _event(name: str, args: dict[str, object]) -> str:
    return f"{name}(" + ", ".join(f"{k}={_shown(k, v)}" for k, v in args.items()) + ")"


def _shown(key: str, value: object) -> str:
    """Holders as addresses, token amounts in whole units (18 decimals), roots abbreviated."""
    if key == "holder" and isinstance(value, int):
        return f"0x{value:040x}"[:10] + ".."
    if key.endswith("Root"):
        return f"{str(value)[:8]}.."
    if isinstance(value, int) and value >= UNIT // 1000:
        return f"{value / UNIT:,.2f}"
    return f"{value[:10]}.." if isinstance(value, str) and value.startswith("0x") else str(value)

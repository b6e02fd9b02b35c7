"""The margin-call lifecycle (MarginRegistry + CollateralAuction) on py-evm, with time travel.

Each test gets a fresh chain (``world``): two ERC-20 DemoTokens, the verifier, a registry
(minimum 1000 bps, proof window :data:`WINDOW` s, grace :data:`GRACE` s) and its auction hook;
three registered holders (the hedged market maker and the insolvent account of the venue's epoch,
whose proofs are real, and a local account that escrows collateral and never proves), then
epoch 1 published from the venue's signed epoch.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract

from tests.onchain.conftest import PROVEN_BPS, SMALL
from tests.onchain.evm import readme_table
from zkmargin.bundle import ProofBundle
from zkmargin.commitment import SnapshotCommitment
from zkmargin.errors import OnchainError
from zkmargin.models import RiskSnapshot, Statement
from zkmargin.onchain import AuctionTerms, Deployment, Lifecycle, Tx, deploy_contract, deploy_lifecycle
from zkmargin.venue import EpochTree

UNIT = 10**18
MIN_BPS, REQUIRED_BPS, BELOW_BPS = 1_000, 12_000, 2_000
WINDOW, GRACE = 3_600, 1_800
TERMS = {"collateral_price": 50_000 * UNIT, "start_premium_bps": 1_000, "floor_bps": 8_000, "duration": 3_000}
ESCROW, DEBT = 10 * UNIT, 300_000 * UNIT


@dataclass
class World:
    w3: Web3
    owner: Lifecycle
    keeper: Lifecycle
    debtor: Lifecycle
    """The holder that escrows collateral and never proves (a local account)."""
    collateral: Contract
    payment: Contract
    deployment: Deployment
    epoch: int
    healthy: int
    insolvent: int
    delinquent: int
    gas: dict[str, int]
    """Gas of the set-up transactions, by README row."""

    @property
    def deadline(self) -> int:
        return int(self.owner.registry.functions.schedules(self.epoch).call()[1])

    def travel_to(self, timestamp: int) -> None:
        tester = self.w3.provider.ethereum_tester  # type: ignore[attr-defined]
        tester.time_travel(timestamp)
        tester.mine_blocks(1)

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def block_time(self, tx: Tx) -> int:
        """The timestamp of the block that mined ``tx``."""
        return int(self.w3.eth.get_block(tx.receipt["blockNumber"])["timestamp"])

    def status(self, holder: int) -> str:
        return self.owner.status(self.epoch, holder).status


@pytest.fixture(scope="session")
def below_bundle(provers: dict[str, Any], statements: dict[str, Statement], snapshot: RiskSnapshot) -> ProofBundle:
    """The insolvent account (about 0.2x MM) proves 2000 bps: below any holder's requirement."""
    return provers["native"].prove(statements["insolvent"], snapshot, BELOW_BPS)


def new_world(artifacts: dict[str, dict[str, Any]], epoch_tree: EpochTree, statements: dict[str, Statement],
              *, hostile_payment: bool = False) -> World:
    w3 = Web3(EthereumTesterProvider())
    protocol, keeper, debtor = list(w3.eth.accounts)[:3]
    collateral, _ = deploy_contract(w3, artifacts["DemoToken"], protocol, "Collateral", "COL")
    payment, _ = (deploy_contract(w3, artifacts["HostileToken"], protocol) if hostile_payment
                  else deploy_contract(w3, artifacts["DemoToken"], protocol, "Dollar", "USD"))
    deployment = deploy_lifecycle(w3, artifacts, protocol, min_threshold_bps=MIN_BPS, proof_window=WINDOW,
                                  grace_period=GRACE,
                                  auction=AuctionTerms(collateral.address, payment.address, **TERMS))
    owner = Lifecycle(w3, deployment, protocol)
    holders = (statements["hedged_market_maker"].holder, statements["insolvent"].holder, int(debtor, 16))
    gas = dict(deployment.gas)
    for holder in holders:
        gas["register"] = owner.register(holder, REQUIRED_BPS).gas_used
    collateral.functions.mint(debtor, ESCROW).transact({"from": protocol})
    debtor_side = Lifecycle(w3, deployment, debtor)
    gas["deposit (after approve)"] = debtor_side.deposit(ESCROW)[1].gas_used
    gas["setDebt"] = owner.set_debt(holders[2], DEBT).gas_used
    gas["publishEpoch (with schedule)"] = owner.publish_epoch(epoch_tree.epoch, SMALL.profile.name).gas_used
    return World(w3, owner, Lifecycle(w3, deployment, keeper), debtor_side, collateral, payment, deployment,
                 epoch_tree.epoch.epoch, *holders, gas)


@pytest.fixture
def world(lifecycle_artifacts: dict[str, dict[str, Any]], epoch_tree: EpochTree,
          statements: dict[str, Statement]) -> World:
    return new_world(lifecycle_artifacts, epoch_tree, statements)


def events(tx: Tx) -> list[str]:
    return [name for name, _ in tx.events]


def test_healthy_holder_stays_healthy(world: World, bundle: ProofBundle) -> None:
    assert world.status(world.healthy) == "Pending"
    tx = world.keeper.submit(bundle)
    assert events(tx) == ["MarginChecked", "ProvedHealthy"]
    world.travel_to(world.deadline + GRACE + 1)
    assert world.status(world.healthy) == "Healthy"
    with pytest.raises(OnchainError, match=r"WrongStatus\(.*status=Healthy\)"):
        world.keeper.flag(world.epoch, world.healthy)
    with pytest.raises(OnchainError, match=r"WrongStatus\(.*status=Healthy\)"):
        world.keeper.liquidate(world.epoch, world.healthy)


def test_proof_at_the_deadline_is_timely(world: World, bundle: ProofBundle) -> None:
    world.travel_to(world.deadline - 1)   # the proof's block is the next one, at the deadline at most
    world.keeper.submit(bundle)
    assert world.status(world.healthy) == "Healthy"


def test_missing_proof_margin_call_cured_within_grace(world: World, bundle: ProofBundle) -> None:
    world.travel_to(world.deadline + 1)
    assert world.status(world.healthy) == "MarginCall"
    flagged = world.keeper.flag(world.epoch, world.healthy)
    assert events(flagged) == ["MarginCalled"]
    with pytest.raises(OnchainError, match=r"AlreadyFlagged"):
        world.keeper.flag(world.epoch, world.healthy)
    assert world.owner.registry.functions.openMarginCalls(world.healthy).call() == 1
    with pytest.raises(OnchainError, match=r"OpenMarginCalls"):
        world.owner.send("deregister", world.owner.registry.functions.deregister(world.healthy))
    cured = world.keeper.submit(bundle)
    assert events(cured) == ["MarginChecked", "MarginCallCured"]
    assert world.owner.registry.functions.openMarginCalls(world.healthy).call() == 0
    world.travel_to(world.deadline + GRACE + 1)
    assert world.status(world.healthy) == "Cured"
    with pytest.raises(OnchainError, match=r"WrongStatus\(.*status=Cured\)"):
        world.keeper.liquidate(world.epoch, world.healthy)


def test_proof_after_the_grace_period_cures_nothing(world: World, bundle: ProofBundle) -> None:
    world.travel_to(world.deadline + GRACE + 1)
    late = world.keeper.submit(bundle)
    assert events(late) == ["MarginChecked"]   # recorded by the gate, no state change
    assert world.status(world.healthy) == "Liquidatable"


def test_proof_below_the_required_threshold_does_not_cure(world: World, below_bundle: ProofBundle) -> None:
    assert events(world.keeper.submit(below_bundle)) == ["MarginChecked"]
    assert world.status(world.insolvent) == "Pending"
    world.travel_to(world.deadline + 1)
    world.keeper.flag(world.epoch, world.insolvent)
    assert events(world.keeper.submit(below_bundle)) == ["MarginChecked"]
    assert world.status(world.insolvent) == "MarginCall"
    world.travel_to(world.deadline + GRACE + 1)
    assert world.status(world.insolvent) == "Liquidatable"


def test_lowered_requirement_lets_the_same_proof_qualify(world: World, below_bundle: ProofBundle) -> None:
    world.owner.send("setRequiredThreshold", world.owner.registry.functions.setRequiredThreshold(
        world.insolvent, BELOW_BPS))
    assert events(world.keeper.submit(below_bundle)) == ["MarginChecked", "ProvedHealthy"]


def price_at(start: int, floor: int, duration: int, elapsed: int) -> int:
    """The auction curve, reference: linear from start to floor, rounded up, floor after."""
    return floor if elapsed >= duration else start - (start - floor) * elapsed // duration


def test_missing_proof_liquidated_and_sold_at_the_interpolated_price(world: World) -> None:
    debtor, auction = world.delinquent, world.owner.auction
    world.travel_to(world.deadline + 1)
    world.keeper.flag(world.epoch, debtor)
    world.travel_to(world.deadline + GRACE + 1)
    assert world.status(debtor) == "Liquidatable"
    liquidated = world.keeper.liquidate(world.epoch, debtor)
    assert events(liquidated) == ["HolderLiquidated", "AuctionStarted"]
    started = dict(liquidated.events[1][1])
    value = ESCROW * TERMS["collateral_price"] // UNIT
    assert (started["amount"], started["startPrice"], started["floorPrice"]) == (ESCROW, value * 11_000 // 10_000,
                                                                                 value * 8_000 // 10_000)
    assert world.status(debtor) == "Liquidated"
    with pytest.raises(OnchainError, match=r"WrongStatus\(.*status=Liquidated\)"):
        world.keeper.liquidate(world.epoch, debtor)
    world.owner.send("deregister", world.owner.registry.functions.deregister(debtor))   # the call is closed
    with pytest.raises(OnchainError, match=r"AuctionLive"):
        world.debtor.send("withdraw", auction.functions.withdraw(1))
    start_time = world.block_time(liquidated)
    world.travel_to(start_time + 1_234)
    keeper = world.keeper.sender
    world.payment.functions.mint(keeper, started["startPrice"]).transact({"from": world.owner.sender})
    _, bid = world.keeper.bid(debtor)
    elapsed = world.block_time(bid) - start_time
    expected = price_at(started["startPrice"], started["floorPrice"], TERMS["duration"], elapsed)
    assert started["floorPrice"] < expected < started["startPrice"]
    (name, sold), = [e for e in bid.events if e[0] == "AuctionSold"]
    assert sold["price"] == expected and sold["toProtocol"] == DEBT and sold["toHolder"] == expected - DEBT
    balance = world.payment.functions.balanceOf
    assert balance(world.owner.sender).call() == DEBT
    assert balance(world.debtor.sender).call() == expected - DEBT
    assert world.collateral.functions.balanceOf(keeper).call() == ESCROW
    with pytest.raises(OnchainError, match=r"NoAuction"):
        world.keeper.bid(debtor)


def test_reentrant_liquidation_is_refused(world: World, lifecycle_artifacts: dict[str, dict[str, Any]],
                                          snapshot: RiskSnapshot, epoch_tree: EpochTree) -> None:
    """A hook re-entering ``liquidate`` for the same holder's other liquidatable epoch."""
    later = snapshot.model_copy(update={"epoch": world.epoch + 1})
    root = SnapshotCommitment(later, SMALL.profile).root
    registry = world.owner.registry
    world.owner.send("publishEpoch", registry.functions.publishEpoch(later.epoch, root, epoch_tree.epoch.account_root))
    world.travel_to(world.now() + WINDOW + GRACE + 10)
    assert world.owner.status(later.epoch, world.delinquent).status == "Liquidatable"
    hostile, _ = deploy_contract(world.w3, lifecycle_artifacts["ReentrantHook"], world.owner.sender,
                                 registry.address, later.epoch)
    world.owner.set_liquidation_hook(hostile.address)
    with pytest.raises(OnchainError, match=r"Reentrancy\(\)"):
        world.keeper.liquidate(world.epoch, world.delinquent)


def test_reentrant_bid_is_refused(lifecycle_artifacts: dict[str, dict[str, Any]], epoch_tree: EpochTree,
                                  statements: dict[str, Statement]) -> None:
    """A payment token calling back the auction (here ``withdraw``) in the middle of a bid."""
    world = new_world(lifecycle_artifacts, epoch_tree, statements, hostile_payment=True)
    world.travel_to(world.deadline + GRACE + 1)
    world.keeper.liquidate(world.epoch, world.delinquent)
    auction = world.owner.auction
    world.payment.functions.arm(auction.address, auction.encode_abi("withdraw", [1])).transact(
        {"from": world.owner.sender})
    with pytest.raises(OnchainError, match=r"bid: reverted with Reentrancy\(\)"):
        world.keeper.bid(world.delinquent)


def test_proofs_for_another_holder_epoch_or_an_unknown_epoch_are_refused(world: World, bundle: ProofBundle,
                                                                        snapshot: RiskSnapshot,
                                                                        epoch_tree: EpochTree) -> None:
    forged = bundle.model_copy(update={"public_signals": bundle.public_signals.model_copy(
        update={"holder": str(world.delinquent)})})
    with pytest.raises(OnchainError, match=r"InvalidProof\(epoch=1, holder=%d" % world.delinquent):
        world.keeper.submit(forged)
    later = snapshot.model_copy(update={"epoch": world.epoch + 1})
    registry = world.owner.registry.functions
    world.owner.send("publishEpoch", registry.publishEpoch(
        later.epoch, SnapshotCommitment(later, SMALL.profile).root, epoch_tree.epoch.account_root))
    with pytest.raises(OnchainError, match=r"InvalidProof\(epoch=2"):
        world.keeper.submit(bundle.model_copy(update={"epoch": later.epoch}))
    with pytest.raises(OnchainError, match=r"UnknownEpoch\(epoch=7\)"):
        world.keeper.submit(bundle.model_copy(update={"epoch": 7}))
    with pytest.raises(OnchainError, match=r"UnknownEpoch\(epoch=7\)"):
        world.owner.status(7, world.healthy)
    assert world.status(world.healthy) == "Pending"


def test_only_the_owner_publishes_and_changes_parameters(world: World, epoch_tree: EpochTree) -> None:
    keeper, registry, auction = world.keeper, world.owner.registry.functions, world.owner.auction.functions
    for what, fn in (("publishEpoch", registry.publishEpoch(9, 1, 2)), ("setSchedule", registry.setSchedule(1, 1)),
                     ("register", registry.register(5, REQUIRED_BPS)),
                     ("setRequiredThreshold", registry.setRequiredThreshold(world.healthy, REQUIRED_BPS)),
                     ("deregister", registry.deregister(world.healthy)),
                     ("setLiquidationHook", registry.setLiquidationHook(keeper.sender)),
                     ("setMinThresholdBps", registry.setMinThresholdBps(5)),
                     ("setRequireSenderIsHolder", registry.setRequireSenderIsHolder(True)),
                     ("transferOwnership", registry.transferOwnership(keeper.sender))):
        with pytest.raises(OnchainError, match=r"NotOwner"):
            keeper.send(what, fn)
    for what, fn in (("setDebt", auction.setDebt(1, 1)), ("setCollateralPrice", auction.setCollateralPrice(1))):
        with pytest.raises(OnchainError, match=r"NotProtocol"):
            keeper.send(what, fn)
    with pytest.raises(OnchainError, match=r"NotRegistry"):
        keeper.send("onLiquidatable", auction.onLiquidatable(world.delinquent, world.epoch))


def test_registration_rules(world: World, bundle: ProofBundle) -> None:
    owner, registry = world.owner, world.owner.registry.functions
    with pytest.raises(OnchainError, match=r"AlreadyRegistered"):
        owner.register(world.healthy, REQUIRED_BPS)
    with pytest.raises(OnchainError, match=r"InvalidRequiredThreshold\(requiredThresholdBps=999\)"):
        owner.register(5, MIN_BPS - 1)
    with pytest.raises(OnchainError, match=r"InvalidSchedule"):
        owner.send("setSchedule", registry.setSchedule(0, GRACE))
    owner.register(5, REQUIRED_BPS)   # registered after epoch 1 was published: not due for it
    assert world.status(5) == "NotDue"
    world.travel_to(world.deadline + 1)
    with pytest.raises(OnchainError, match=r"NotDue"):
        world.keeper.flag(world.epoch, 5)
    with pytest.raises(OnchainError, match=r"StillRegistered"):
        world.debtor.send("withdraw", world.owner.auction.functions.withdraw(ESCROW))
    owner.send("deregister", registry.deregister(world.delinquent))
    assert world.status(world.delinquent) == "MarginCall"   # epochs already due stay due
    with pytest.raises(OnchainError, match=r"NotRegistered"):
        owner.send("deregister", registry.deregister(world.delinquent))
    withdrawn = world.debtor.send("withdraw", world.owner.auction.functions.withdraw(ESCROW))
    assert events(withdrawn) == ["Withdrawn"]


@pytest.fixture(scope="module")
def curve(lifecycle_artifacts: dict[str, dict[str, Any]], epoch_tree: EpochTree,
          statements: dict[str, Statement]) -> Contract:
    return new_world(lifecycle_artifacts, epoch_tree, statements).owner.auction


@given(start=st.integers(0, 10**30), floor_share=st.integers(0, 10_000), duration=st.integers(1, 10**6),
       elapsed=st.integers(0, 2 * 10**6))
def test_auction_price_curve(curve: Contract, start: int, floor_share: int, duration: int, elapsed: int) -> None:
    """The contract's curve equals the reference, stays within [floor, start], never rises."""
    floor = start * floor_share // 10_000
    price = curve.functions.priceAt(start, floor, duration, elapsed).call()
    assert price == price_at(start, floor, duration, elapsed)
    assert floor <= price <= start
    assert curve.functions.priceAt(start, floor, duration, elapsed + 1).call() <= price
    assert curve.functions.priceAt(start, floor, duration, 0).call() == start


def measured_lifecycle_gas(world: World, bundle: ProofBundle, below_bundle: ProofBundle) -> dict[str, int]:
    """Gas of every lifecycle transaction (receipts), by README row."""
    gas = dict(world.gas)
    gas["checkMargin (healthy)"] = world.keeper.submit(bundle).gas_used
    registry = world.owner.registry.functions
    gas["setRequiredThreshold"] = world.owner.send(
        "setRequiredThreshold", registry.setRequiredThreshold(world.insolvent, BELOW_BPS)).gas_used
    world.travel_to(world.deadline + 1)
    gas["flagMarginCall"] = world.keeper.flag(world.epoch, world.delinquent).gas_used
    world.keeper.flag(world.epoch, world.insolvent)
    cure = world.keeper.submit(below_bundle)
    assert events(cure) == ["MarginChecked", "MarginCallCured"]
    gas["checkMargin (cures a flagged margin call)"] = cure.gas_used
    world.travel_to(world.deadline + GRACE + 1)
    gas["liquidate (starts the auction)"] = world.keeper.liquidate(world.epoch, world.delinquent).gas_used
    world.payment.functions.mint(world.keeper.sender, 10**30).transact({"from": world.owner.sender})
    gas["bid (after approve)"] = world.keeper.bid(world.delinquent)[1].gas_used
    return gas


def test_lifecycle_gas_matches_the_readme(lifecycle_artifacts: dict[str, dict[str, Any]], epoch_tree: EpochTree,
                                          statements: dict[str, Statement], bundle: ProofBundle,
                                          below_bundle: ProofBundle) -> None:
    w3 = new_world(lifecycle_artifacts, epoch_tree, statements)
    gas = measured_lifecycle_gas(w3, bundle, below_bundle)
    documented = readme_table()
    for row, used in gas.items():
        assert documented.get(row) == pytest.approx(used, rel=0.02), (row, used)

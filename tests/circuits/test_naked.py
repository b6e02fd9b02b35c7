"""The net-naked-short add-on (``NakedAddons``, ``OwnAddon``): witness equals the engine on books of
options that share keys, at the boundaries, and a cheating prover's hint or key has no witness.

Options of one (group, expiry, strike) share a key: with one collateral pool (portfolio, cross)
their add-on is charged once, on the key's net short quantity; under isolated margin each keyed
option pays on its own short quantity (``zkmargin.terms``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prover.circuits import WarmWitness
from prover.r1cs import R1cs, check_witness
from prover.witness import WitnessError
from tests.circuits.conftest import Case
from tests.circuits.test_cheating import copy_inputs
from tests.circuits.test_margin import assert_witness_matches_engine, check
from zkmargin import fixedpoint as fp
from zkmargin.commitment import SnapshotCommitment
from zkmargin.models import Account, Allocation, Balance, Instrument, Kind, Position, RiskSnapshot
from zkmargin.profiles import get_profile

MakeCase = Callable[..., Case]
C = fp.QTY_SCALE  # one contract
SHARE = fp.AMOUNT.hi // 4  # each position's allocation (isolated model), AMOUNT_SCALE


def funded(positions: dict[int, int]) -> Account:
    """``{instrument id: quantity}`` (QTY_SCALE) with the largest USDC balance, a quarter of it
    allocated to each position (so every model, isolated too, has collateral behind each one)."""
    amount = fp.format_decimal(SHARE, fp.AMOUNT_SCALE)
    return Account(positions=[Position(instrument=i, quantity=fp.format_decimal(q, fp.QTY_SCALE),
                                       allocation=Allocation(asset=0, amount=amount)) for i, q in positions.items()],
                   balances=[Balance(asset=0, amount=fp.format_decimal(fp.AMOUNT.hi, fp.AMOUNT_SCALE))])


def keyed(snapshot: RiskSnapshot) -> dict[int, list[Instrument]]:
    """The snapshot's options by naked key (keys with two options first)."""
    out: dict[int, list[Instrument]] = {}
    for ins in snapshot.instruments:
        if ins.naked_key:
            out.setdefault(ins.naked_key, []).append(ins)
    return dict(sorted(out.items(), key=lambda kv: -len(kv[1])))


def pair(snapshot: RiskSnapshot) -> tuple[Instrument, Instrument]:
    """A call and a put sharing a key."""
    both = next(v for v in keyed(snapshot).values() if len(v) == 2)
    return both[0], both[1]


def addon_total(case: Case) -> int:
    return sum(case.result.addon)  # type: ignore[attr-defined]


def one_key(snapshot: RiskSnapshot, count: int) -> RiskSnapshot:
    """``snapshot`` with its first ``count`` options of group 1 under one key (the first's add-on)."""
    options = [i for i in snapshot.instruments if i.kind in (Kind.CALL, Kind.PUT) and i.group == 1][:count]
    assert len(options) == count
    head = options[0]
    key = max(i.naked_key for i in snapshot.instruments) + 1
    chosen = {i.id for i in options}
    data = snapshot.model_dump()
    for ins in data["instruments"]:
        if ins["id"] in chosen:
            ins.update(naked_key=key, addon=head.addon)
    return RiskSnapshot.model_validate(data)


@pytest.fixture(scope="module")
def crowded(snapshot: RiskSnapshot) -> SnapshotCommitment:
    """Four options of one group under one key: every slot of the small profile can share it."""
    return SnapshotCommitment(one_key(snapshot, 4), get_profile("small"))


quantities = st.one_of(st.integers(fp.QTY.lo, fp.QTY.hi), st.sampled_from([fp.QTY.lo, fp.QTY.hi, -C, C, -1, 1]))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_witness_equals_engine_on_books_of_shared_keys(inspect: WarmWitness, snapshot: RiskSnapshot,
                                                       make_case: MakeCase, data: st.DataObject) -> None:
    groups = data.draw(st.sampled_from([(1,), (2,), (1, 2)]))
    pool = sorted(i.id for i in snapshot.instruments if i.group in groups and (i.naked_key or i.kind == Kind.FUTURE))
    ids = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique=True))
    qty = data.draw(st.lists(quantities.filter(bool), min_size=len(ids), max_size=len(ids)))
    threshold = data.draw(st.sampled_from([0, 10_000]))
    check(inspect, make_case(funded(dict(zip(ids, qty))), threshold))


def test_a_flat_strike_pays_no_addon_when_pooled(inspect: WarmWitness, snapshot: RiskSnapshot,
                                                 make_case: MakeCase, model: str) -> None:
    call, put = pair(snapshot)
    case = make_case(funded({call.id: 5 * C, put.id: -5 * C}), 0)
    # pooled: +5 and -5 of one strike net to 0; isolated: the short put pays on its own
    assert addon_total(case) == (5 * C * put.addon if model == "isolated" else 0)
    assert_witness_matches_engine(inspect, case)


def test_one_contract_net_short_is_charged_once(inspect: WarmWitness, snapshot: RiskSnapshot,
                                                make_case: MakeCase, model: str) -> None:
    call, put = pair(snapshot)
    case = make_case(funded({call.id: -3 * C, put.id: 2 * C}), 0)
    want = 3 * C * call.addon if model == "isolated" else C * call.addon
    assert addon_total(case) == want
    assert_witness_matches_engine(inspect, case)


@pytest.mark.parametrize("qty", [fp.QTY.lo, fp.QTY.hi, -C, 0])
def test_every_slot_under_one_key(inspect: WarmWitness, crowded: SnapshotCommitment, make_case: MakeCase,
                                  model: str, qty: int) -> None:
    """Four slots of one key at the same quantity (0: three longs and one short that cancel):
    the net reaches 4 * QTY.lo, the widest the circuit's range checks are sized for."""
    options = max(keyed(crowded.snapshot).values(), key=len)
    assert len(options) == 4
    sizes = [qty] * 4 if qty else [C, C, C, -3 * C]
    case = make_case(funded({i.id: q for i, q in zip(options, sizes)}), 0, crowded)
    addon = options[0].addon
    want = sum(max(-q, 0) for q in sizes) * addon if model == "isolated" else max(-sum(sizes), 0) * addon
    assert addon_total(case) == want
    check(inspect, case)


def short_case(snapshot: RiskSnapshot, make_case: MakeCase) -> Case:
    """Net short 3 contracts of one key, plus an unkeyed short future."""
    call, put = pair(snapshot)
    future = next(i for i in snapshot.instruments if i.kind == Kind.FUTURE and i.group == call.group)
    return make_case(funded({call.id: -5 * C, put.id: 2 * C, future.id: -C}), 0)


def no_witness(w: WarmWitness, inputs: dict[str, Any]) -> None:
    with pytest.raises(WitnessError):
        w.calculator.calculate(inputs)


@pytest.fixture
def pooled(model: str) -> None:
    if model == "isolated":
        pytest.skip("isolated margin has no naked_short hint: each option nets only against itself")


@pytest.mark.usefixtures("pooled")
@pytest.mark.parametrize("change", ["below", "above", "zero", "wrapped"])
def test_a_lowered_or_shifted_naked_short_has_no_witness(prod: WarmWitness, prod_r1cs: R1cs, snapshot: RiskSnapshot,
                                                        make_case: MakeCase, change: str) -> None:
    case = short_case(snapshot, make_case)
    first = next(i for i, s in enumerate(case.book.slots) if s.naked_key)
    honest = case.inputs["naked_short"][first]
    assert honest == 3 * C
    witness = prod.calculator.calculate(case.inputs)
    assert not check_witness(prod_r1cs, witness)
    inputs = copy_inputs(case.inputs)
    inputs["naked_short"][first] = {"below": honest - 1, "above": honest + 1, "zero": 0,
                                    "wrapped": (honest - (1 << 60)) % fp.R}[change]
    no_witness(prod, inputs)


@pytest.mark.usefixtures("pooled")
@pytest.mark.parametrize("claim", ["one", "minus_net"])
def test_a_net_long_strike_cannot_claim_a_short(prod: WarmWitness, snapshot: RiskSnapshot,
                                               make_case: MakeCase, claim: str) -> None:
    """A net long strike's hint is 0: neither a positive short nor ``-net`` (a field-negative
    short that would zero ``short + net`` and charge a negative add-on) has a witness."""
    call, put = pair(snapshot)
    case = make_case(funded({call.id: 2 * C, put.id: -C}), 0)
    inputs = copy_inputs(case.inputs)
    first = next(i for i, s in enumerate(case.book.slots) if s.naked_key)
    assert inputs["naked_short"][first] == 0
    inputs["naked_short"][first] = 1 if claim == "one" else (-C) % fp.R
    no_witness(prod, inputs)


def test_a_short_option_cannot_borrow_another_strikes_key(prod: WarmWitness, snapshot: RiskSnapshot,
                                                          make_case: MakeCase) -> None:
    """A short option given the key of a long option of another strike (so they would net) breaks
    the short's leaf: the key is hashed into it."""
    options = keyed(snapshot)
    long_key, short_key = [v[0] for v in options.values() if v[0].group == 1][:2]
    case = make_case(funded({long_key.id: 4 * C, short_key.id: -4 * C}), 0)
    inputs = copy_inputs(case.inputs)
    slots = {s.instrument: i for i, s in enumerate(case.book.slots)}
    inputs["leaf_naked_code"][slots[short_key.id]] = inputs["leaf_naked_code"][slots[long_key.id]]
    no_witness(prod, inputs)


@pytest.mark.parametrize("code", ["own id", "zero"])
def test_a_keyed_option_cannot_drop_its_key(prod: WarmWitness, snapshot: RiskSnapshot, make_case: MakeCase,
                                            code: str) -> None:
    """A keyed option posing as unkeyed (its code set to its instrument id, or 0) breaks its leaf."""
    case = short_case(snapshot, make_case)
    inputs = copy_inputs(case.inputs)
    slot = next(i for i, s in enumerate(case.book.slots) if s.naked_key)
    inputs["leaf_naked_code"][slot] = case.book.slots[slot].instrument if code == "own id" else 0
    no_witness(prod, inputs)

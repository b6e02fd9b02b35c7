"""Soundness: every way a prover could cheat a margin circuit is rejected (each model).

Two kinds of test: (1) a hand-edited witness of the PROVEN (O2) constraint system, checked by the
in-process R1CS checker -- the edited signal must break a constraint; (2) cheating inputs that a
dishonest prover would feed the witness generator (another book than the venue attested, another
holder or epoch, a leaf outside the tree, a value re-split across the leaf's packed words, field
wrap-around, understated requirement, merged groups, a foreign leaf, over-allocated collateral,
non-canonical slots from a faulty venue): circom's generated code checks every constraint while it
computes, so no witness comes out. Cheats that need a proof (replay, public inputs aliased by +r)
are in tests/test_end_to_end.py.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from prover.circuits import WarmWitness
from prover.r1cs import R1cs, check_witness
from prover.witness import WitnessError
from tests.circuits.conftest import HOLDER, Case, attest
from tests.factories import random_account
from zkmargin import fixedpoint as fp
from zkmargin.account_tree import LEAF_POSITIONS, LeafBook
from zkmargin.book import Slot
from zkmargin.circuit_input import book_inputs, hint_inputs
from zkmargin.commitment import SnapshotCommitment
from zkmargin.margin import margin_model
from zkmargin.models import Account, Balance, Position, RiskSnapshot, Statement

MakeCase = Callable[..., Case]

#: Signals whose +-1 edit must break a constraint, per model (plus COMMON for every model).
COMMON = ["qty[0]", "balance[1]", "leaf_risk[0][3]", "leaf_long_loss[0]", "instrument_root", "threshold_bps",
          "holder", "salt", "account_index", "account_path[0][1]", "account_path[9][2]", "account_root",
          "instrument[0]"]
EDITED = {
    "portfolio": ["scan_loss[0]", "scan_loss[1]", "group_req[0]", "collateral_split[1][0]", "group_sel[0][0]",
                  "group_id[0]", "health", "allocation_hash"],
    "cross": ["position_req[0]", "collateral_split[1][0]", "health", "allocation_hash"],
    "isolated": ["position_req[0]", "alloc_amount[0]", "alloc_asset[0]", "alloc_split[0][0]", "alloc_sel[0][0]",
                 "slot_health[0]"],
}


def copy_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of circuit inputs (nested lists of ints)."""
    def copy(v: Any) -> Any:
        return [copy(x) for x in v] if isinstance(v, list) else v
    return {k: copy(v) for k, v in inputs.items()}


@pytest.fixture(scope="session")
def honest(snapshot: RiskSnapshot, make_case: MakeCase, model: str) -> Case:
    """A healthy account with three positions in two groups, each with a requirement."""
    rng = random.Random(11)
    while True:
        account = random_account(snapshot, rng, positions=3, max_groups=2, assets=3, allocate=True)
        case = make_case(account, 5_000)
        reqs = case.inputs.get("position_req") or case.inputs["scan_loss"]
        if case.result.healthy and all(reqs[:2]) and len(set(case.book.slot_group) - {-1}) == 2:
            return case


@pytest.fixture(scope="session")
def indebted(snapshot: RiskSnapshot, make_case: MakeCase, model: str) -> Case:
    """A healthy account (cross and portfolio) holding a debt in asset 1: a short future, USDC,
    and a borrowed A1 balance."""
    future = next(i for i in snapshot.instruments if i.kind.value == "future")
    account = Account(positions=[Position(instrument=future.id, quantity="-1")],
                      balances=[Balance(asset=0, amount="100000000"), Balance(asset=1, amount="-2.5"),
                                Balance(asset=2, amount="1")])
    return make_case(account, 10_000)


def reattest(inputs: dict[str, Any], statement: Statement, book: LeafBook) -> dict[str, Any]:
    """Inputs re-rooted in an account tree over ``book``: what a faulty venue would hash."""
    leaf = attest(statement.account, statement.epoch, book=book)
    return dict(inputs, account_root=leaf.account_root, account_path=[list(x) for x in leaf.path])


def no_witness(w: WarmWitness, inputs: dict[str, Any]) -> None:
    with pytest.raises(WitnessError):
        w.calculator.calculate(inputs)


def test_the_honest_inputs_have_a_witness(prod: WarmWitness, prod_r1cs: R1cs, honest: Case,
                                          indebted: Case, model: str) -> None:
    """The baseline every cheat below departs from (so a cheat fails for its own reason)."""
    assert check_witness(prod_r1cs, prod.calculator.calculate(honest.inputs)) == []
    if model != "isolated":
        assert check_witness(prod_r1cs, prod.calculator.calculate(indebted.inputs)) == []


@pytest.mark.parametrize("which", range(max(len(v) for v in EDITED.values()) + len(COMMON)))
def test_hand_edited_witness_breaks_a_constraint(prod: WarmWitness, prod_r1cs: R1cs, honest: Case,
                                                 model: str, which: int) -> None:
    signals = COMMON + EDITED[model]
    if which >= len(signals):
        pytest.skip(f"{model} has {len(signals)} edited signals")
    signal = signals[which]
    witness = prod.calculator.calculate(honest.inputs)
    assert check_witness(prod_r1cs, witness) == []
    index = prod.signals[f"main.{signal}"]
    for delta in (-1, 1):
        edited = list(witness)
        edited[index] = (edited[index] + delta) % fp.R
        assert check_witness(prod_r1cs, edited), f"{signal} {delta:+d} still satisfies every constraint"


# ---- the account is the venue's: its leaf, its holder, its epoch, its tree -------------------
def test_a_leaf_outside_the_account_tree_has_no_witness(prod: WarmWitness, honest: Case) -> None:
    inputs = copy_inputs(honest.inputs)
    inputs["account_path"][3][1] += 1                       # another sibling: another root
    no_witness(prod, inputs)
    no_witness(prod, dict(honest.inputs, account_index=honest.inputs["account_index"] + 1))
    no_witness(prod, dict(honest.inputs, account_root=honest.inputs["account_root"] + 1))


def test_another_holders_leaf_cannot_be_proven_for_this_holder(prod: WarmWitness, honest: Case,
                                                              make_case: MakeCase) -> None:
    no_witness(prod, dict(honest.inputs, holder=HOLDER + 1))
    # a leaf the venue attested for another holder, claimed for HOLDER
    other = attest(honest.account, honest.statement.epoch, holder=HOLDER + 1)
    no_witness(prod, dict(honest.inputs, account_root=other.account_root,
                          account_path=[list(x) for x in other.path]))


def test_a_leaf_of_another_epoch_cannot_be_proven_under_this_snapshot(prod: WarmWitness, honest: Case) -> None:
    epoch = honest.statement.epoch
    later = attest(honest.account, epoch + 1)               # the same book, attested one epoch later
    no_witness(prod, dict(honest.inputs, account_root=later.account_root,
                          account_path=[list(x) for x in later.path]))
    no_witness(prod, dict(honest.inputs, epoch=epoch + 1))  # the snapshot root then breaks


def test_a_position_left_out_has_no_witness(prod: WarmWitness, honest: Case) -> None:
    inputs = copy_inputs(honest.inputs)
    empty = inputs["instrument"].index(0)
    last = empty - 1                                        # drop the last position: still canonical
    for key in ("instrument", "qty", "leaf_group", "leaf_mark", "leaf_addon", "leaf_som", "leaf_long_loss",
                "leaf_short_loss", "leaf_index", "leaf_risk", "leaf_siblings", "position_req", "alloc_asset",
                "alloc_amount", "alloc_sel", "alloc_split"):
        if key in inputs:
            inputs[key][last] = copy_inputs({"x": inputs[key][empty]})["x"]
    if "group_sel" in inputs:
        inputs["group_sel"][last] = [0] * len(inputs["group_sel"][last])
    no_witness(prod, inputs)


def test_a_debt_left_out_has_no_witness(prod: WarmWitness, indebted: Case, model: str) -> None:
    if model == "isolated":
        pytest.skip("an indebted account has no isolated witness at all (test_isolated_refuses_any_debt)")
    inputs = copy_inputs(indebted.inputs)
    assert fp.from_field(inputs["balance"][1]) < 0
    inputs["balance"][1] = 0
    inputs["collateral_split"][1] = [0, 0, 0]
    no_witness(prod, inputs)


def test_isolated_refuses_any_debt(prod: WarmWitness, indebted: Case, model: str) -> None:
    if model != "isolated":
        pytest.skip("isolated model only")
    assert not indebted.result.healthy
    no_witness(prod, indebted.inputs)


# ---- the packed leaf words cannot be re-split into other values -------------------------------
def test_a_debt_cannot_be_read_as_a_huge_credit(prod: WarmWitness, indebted: Case, model: str) -> None:
    """The leaf holds a debt -d as the 65-bit code 2**65 - d: reading that code as a credit keeps
    the leaf (and its membership) intact, so only the signed range check stands in the way."""
    if model == "isolated":
        pytest.skip("no isolated witness with a debt at all")
    inputs = copy_inputs(indebted.inputs)
    debt = fp.from_field(inputs["balance"][1])
    inputs["balance"][1] = (1 << fp.BALANCE.bits) + debt      # the same code, as a positive number
    no_witness(prod, inputs)
    inputs["balance"][1] = debt % fp.R + (1 << fp.BALANCE.bits)  # the field element r - d + 2**65
    no_witness(prod, inputs)


@pytest.mark.parametrize("field,carry", [("balance", fp.BALANCE.bits), ("qty", 80), ("alloc_amount", 68),
                                         ("alloc_asset", 4)])
def test_a_value_moved_between_packed_neighbours_has_no_witness(prod: WarmWitness, honest: Case, model: str,
                                                                field: str, carry: int) -> None:
    """word = code0 + code1 * 2**B: code0 + 2**B with code1 - 1 hashes to the same leaf; the range
    check on each part is what rejects it."""
    if field not in honest.inputs:
        pytest.skip(f"{model} has no {field}")
    inputs = copy_inputs(honest.inputs)
    shift = 1 << (carry if field != "alloc_asset" else fp.ASSET_INDEX.bits)
    if field == "alloc_asset":   # asset + 16 and the next slot's amount - 1: the same allocation words
        inputs["alloc_asset"][0] += shift
        inputs["alloc_amount"][1] -= 1
    else:
        inputs[field][0] = (inputs[field][0] + (1 << carry)) % fp.R
        inputs[field][1] = (inputs[field][1] - 1) % fp.R
    no_witness(prod, inputs)


# ---- canonical slots (a faulty venue's leaf) ------------------------------------------------------
def faulty_venue_inputs(honest: Case, model: str, commitment: SnapshotCommitment, slots: list[Slot]) -> dict[str, Any]:
    """Honest inputs for ``slots`` in place of the account's: every hint from the engine, the leaf
    as a venue would hash these slots (so only the canonical-order constraints can object)."""
    groups = honest.book.group_ids
    book = replace(honest.book, slots=tuple(slots),
                   slot_group=tuple(groups.index(s.group) if s.instrument else -1 for s in slots))
    result = margin_model(model)(book, 0)
    assert result.healthy, "the faulty book must pass the margin check, so only the slot order can fail"
    inputs = {**honest.inputs, **book_inputs(book, commitment), **hint_inputs(book, result)}
    pad = [(0, 0)] * (LEAF_POSITIONS - len(slots))
    leaf = LeafBook(tuple([(s.instrument, s.qty) for s in slots] + pad), LeafBook.of(honest.account).balances,
                    tuple([(s.alloc_asset, s.alloc_amount) for s in slots] + pad))
    if model == "isolated":
        inputs.pop("allocation_hash", None)
    else:
        inputs["allocation_hash"] = leaf.allocation_hash()
    return reattest(inputs, honest.statement, leaf)


def test_faulty_venue_inputs_pass_when_the_slots_are_canonical(prod: WarmWitness, honest: Case, model: str,
                                                               commitment: SnapshotCommitment) -> None:
    """The control of the two tests below: the same construction over the honest slots has a witness."""
    prod.calculator.calculate(faulty_venue_inputs(honest, model, commitment, list(honest.book.slots)))


def test_duplicate_slots_have_no_witness(prod: WarmWitness, honest: Case, model: str,
                                         commitment: SnapshotCommitment) -> None:
    """One position split over two slots of the same instrument (isolated: each with half the
    allocation, restarting the haircut tiers) is refused even when the venue's leaf holds it."""
    slots = list(honest.book.slots)
    first = slots[0]
    half = replace(first, qty=first.qty // 2, alloc_amount=first.alloc_amount // 2)
    rest = replace(first, qty=first.qty - half.qty, alloc_amount=first.alloc_amount - half.alloc_amount)
    used = [s for s in slots if s.instrument][1:]
    duplicated = [half, rest, *used][:len(slots)]
    duplicated += [slots[-1]] * (len(slots) - len(duplicated))          # the null slot
    no_witness(prod, faulty_venue_inputs(honest, model, commitment, duplicated))


def test_slots_out_of_order_have_no_witness(prod: WarmWitness, honest: Case, model: str,
                                            commitment: SnapshotCommitment) -> None:
    slots = list(honest.book.slots)
    slots[0], slots[1] = slots[1], slots[0]
    no_witness(prod, faulty_venue_inputs(honest, model, commitment, slots))


def test_an_empty_slot_cannot_hold_a_quantity(prod: WarmWitness, honest: Case) -> None:
    inputs = copy_inputs(honest.inputs)
    empty = inputs["instrument"].index(0)
    inputs["qty"][empty] = 1
    book = LeafBook.of(honest.account)
    slots = list(book.slots)
    slots[empty] = (0, 1)
    no_witness(prod, reattest(inputs, honest.statement, LeafBook(tuple(slots), book.balances, book.allocations)))


# ---- requirements and hints ----------------------------------------------------------------------
def test_understated_requirement_has_no_witness(prod: WarmWitness, honest: Case, model: str) -> None:
    cheat = copy_inputs(honest.inputs)
    if model == "portfolio":
        cheat["scan_loss"] = [x - 1 for x in cheat["scan_loss"]]
        cheat["group_req"] = [x - 1 for x in cheat["group_req"]]
    else:
        cheat["position_req"] = [x - 1 if x else 0 for x in cheat["position_req"]]
    no_witness(prod, cheat)


def test_overstated_requirement_is_allowed_but_only_lowers_health(inspect: WarmWitness, honest: Case,
                                                                   model: str) -> None:
    more = copy_inputs(honest.inputs)
    for key in ("scan_loss", "group_req") if model == "portfolio" else ("position_req",):
        more[key] = [x + 1 if x else 0 for x in more[key]]  # empty slots stay empty
    health = "main.slot_health[0]" if model == "isolated" else "main.health"
    before = fp.from_field(inspect.calculator.calculate(honest.inputs)[inspect.signals[health]])
    after = fp.from_field(inspect.calculator.calculate(more)[inspect.signals[health]])
    assert after < before


def test_threshold_past_its_bound_has_no_witness(prod: WarmWitness, honest: Case) -> None:
    no_witness(prod, dict(honest.inputs, threshold_bps=1 << 20))
    no_witness(prod, dict(honest.inputs, threshold_bps=fp.R - 1))


def test_a_position_cannot_borrow_another_risk_array(prod: WarmWitness, honest: Case) -> None:
    inputs = copy_inputs(honest.inputs)
    inputs["leaf_risk"][0] = [0] * len(inputs["leaf_risk"][0])
    inputs["leaf_long_loss"][0] = inputs["leaf_short_loss"][0] = 0
    no_witness(prod, inputs)


def test_a_real_position_cannot_open_the_null_leaf(prod: WarmWitness, honest: Case) -> None:
    inputs = copy_inputs(honest.inputs)
    empty = inputs["instrument"].index(0)
    for key in ("leaf_group", "leaf_mark", "leaf_addon", "leaf_som", "leaf_long_loss", "leaf_short_loss",
                "leaf_index", "leaf_risk", "leaf_siblings"):
        inputs[key][0] = copy_inputs({"x": inputs[key][empty]})["x"]
    if "group_sel" in inputs:
        inputs["group_sel"][0] = [0] * len(inputs["group_sel"][0])
    no_witness(prod, inputs)


def test_collateral_cannot_be_moved_into_a_cheaper_tier(prod: WarmWitness, honest: Case, model: str) -> None:
    key = "alloc_split" if model == "isolated" else "collateral_split"
    inputs = copy_inputs(honest.inputs)
    k = next(k for k, s in enumerate(inputs[key]) if s[1] > 0)   # reaches its second tier
    s = inputs[key][k]
    inputs[key][k] = [s[0] + s[1], 0, s[2]]                       # overfill the cheapest tier
    no_witness(prod, inputs)


def test_a_debt_cannot_be_split_into_haircut_tiers(prod: WarmWitness, indebted: Case, model: str) -> None:
    """A debt must count at full price: spreading it over tiers (as if it were a credit with a
    haircut) has no witness."""
    if model == "isolated":
        pytest.skip("no isolated witness with a debt at all")
    inputs = copy_inputs(indebted.inputs)
    inputs["collateral_split"][1] = [inputs["balance"][1], 0, 0]
    no_witness(prod, inputs)


def test_portfolio_positions_of_two_groups_cannot_net_in_one_group_slot(prod: WarmWitness, honest: Case,
                                                                          model: str) -> None:
    if model != "portfolio":
        pytest.skip("group netting exists only in the portfolio model")
    sel = [[1, 0] if any(row) else [0, 0] for row in honest.inputs["group_sel"]]
    no_witness(prod, dict(honest.inputs, group_sel=sel))
    ids = honest.inputs["group_id"]
    no_witness(prod, dict(honest.inputs, group_sel=sel, group_id=[ids[0], ids[0]]))


def test_isolated_collateral_cannot_back_two_positions(prod: WarmWitness, honest: Case, model: str) -> None:
    """Even a venue leaf that allocates an asset's whole balance to two positions has no witness."""
    if model != "isolated":
        pytest.skip("allocations exist only in the isolated model")
    inputs = copy_inputs(honest.inputs)
    k = inputs["alloc_asset"][0]
    whole = inputs["balance"][k]
    for i in (0, 1):   # both positions claim the asset's whole balance
        inputs["alloc_asset"][i], inputs["alloc_amount"][i] = k, whole
        inputs["alloc_sel"][i] = [int(j == k) for j in range(len(inputs["balance"]))]
    book = LeafBook.of(honest.account)
    allocations = ((k, whole), (k, whole), *book.allocations[2:])
    no_witness(prod, reattest(inputs, honest.statement, LeafBook(book.slots, book.balances, allocations)))


def test_isolated_allocation_cannot_be_valued_as_another_asset(prod: WarmWitness, honest: Case,
                                                               model: str) -> None:
    if model != "isolated":
        pytest.skip("allocations exist only in the isolated model")
    inputs = copy_inputs(honest.inputs)
    k = inputs["alloc_asset"][0]
    inputs["alloc_sel"][0] = [int(j == (k + 1) % 3) for j in range(len(inputs["balance"]))]
    no_witness(prod, inputs)

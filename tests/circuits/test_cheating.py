"""Soundness: every way a prover could cheat a margin circuit is rejected (each model).

Two kinds of test: (1) a hand-edited witness of the PROVEN (O2) constraint system, checked by the
in-process R1CS checker -- the edited signal must break a constraint; (2) cheating inputs that a
dishonest prover would feed the witness generator (field wrap-around, understated requirement,
merged groups, a foreign leaf, over-allocated collateral): circom's generated code checks every
constraint while it computes, so no witness comes out. Cheats that need a proof (replay,
tampering) are in tests/test_end_to_end.py.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from prover.circuits import WarmWitness
from prover.r1cs import R1cs, check_witness
from prover.witness import WitnessError
from tests.circuits.conftest import Case
from tests.factories import random_account
from zkmargin import fixedpoint as fp
from zkmargin.commitment import account_commitment
from zkmargin.models import RiskSnapshot

MakeCase = Callable[..., Case]

#: Signals whose +-1 edit must break a constraint, per model (plus COMMON for every model).
COMMON = ["qty[0]", "balance[1]", "leaf_risk[0][3]", "leaf_long_loss[0]", "instrument_root", "threshold_bps"]
EDITED = {
    "portfolio": ["scan_loss[0]", "scan_loss[1]", "group_req[0]", "collateral_split[1][0]", "group_sel[0][0]",
                  "group_id[0]", "health"],
    "cross": ["position_req[0]", "collateral_split[1][0]", "health"],
    "isolated": ["position_req[0]", "alloc_amount[0]", "alloc_split[0][0]", "alloc_sel[0][0]", "slot_health[0]"],
}


def copy_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    return {k: [list(x) if isinstance(x, list) else x for x in v] if isinstance(v, list) else v
            for k, v in inputs.items()}


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


def recommit(inputs: dict[str, Any]) -> dict[str, Any]:
    """Recompute the account commitment over (possibly cheating) inputs, as a cheater would."""
    slots = list(zip(inputs["instrument"], map(fp.from_field, inputs["qty"])))
    allocations = list(zip(inputs["alloc_asset"], inputs["alloc_amount"])) if "alloc_asset" in inputs else None
    inputs["account_commitment"] = account_commitment(slots, inputs["balance"], inputs["salt"], allocations)
    return inputs


def no_witness(w: WarmWitness, inputs: dict[str, Any]) -> None:
    with pytest.raises(WitnessError):
        w.calculator.calculate(inputs)


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


def test_understated_requirement_has_no_witness(prod: WarmWitness, honest: Case, model: str) -> None:
    cheat = copy_inputs(honest.inputs)
    if model == "portfolio":
        cheat["scan_loss"] = [x - 1 for x in cheat["scan_loss"]]
        cheat["group_req"] = [x - 1 for x in cheat["group_req"]]
    else:
        cheat["position_req"] = [x - 1 if x else 0 for x in cheat["position_req"]]
    no_witness(prod, cheat)


def test_overstated_requirement_is_allowed_but_only_hurts(prod: WarmWitness, honest: Case, model: str) -> None:
    more = copy_inputs(honest.inputs)
    for key in ("scan_loss", "group_req") if model == "portfolio" else ("position_req",):
        more[key] = [x + 1 if x else 0 for x in more[key]]  # empty slots stay empty
    prod.calculator.calculate(more)


@pytest.mark.parametrize("field,value", [
    ("balance", fp.R - 1),                 # a "negative" balance wrapped into the field
    ("balance", 1 << 64),                  # past the 64-bit bound
    ("qty", 1 << 47),                      # past the signed 48-bit bound
    ("qty", fp.R - (1 << 47) - 1),         # below -2^47
])
def test_out_of_range_account_values_have_no_witness(prod: WarmWitness, honest: Case, field: str,
                                                     value: int) -> None:
    inputs = copy_inputs(honest.inputs)
    inputs[field][0] = value
    if field == "balance" and "collateral_split" in inputs:
        inputs["collateral_split"][0] = [value, 0, 0]
    no_witness(prod, recommit(inputs))


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
        inputs[key][0] = inputs[key][empty]
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


def test_portfolio_positions_of_two_groups_cannot_net_in_one_group_slot(prod: WarmWitness, honest: Case,
                                                                          model: str) -> None:
    if model != "portfolio":
        pytest.skip("group netting exists only in the portfolio model")
    sel = [[1, 0] if any(row) else [0, 0] for row in honest.inputs["group_sel"]]
    no_witness(prod, dict(honest.inputs, group_sel=sel))
    ids = honest.inputs["group_id"]
    no_witness(prod, dict(honest.inputs, group_sel=sel, group_id=[ids[0], ids[0]]))


def test_isolated_collateral_cannot_back_two_positions(prod: WarmWitness, honest: Case, model: str) -> None:
    if model != "isolated":
        pytest.skip("allocations exist only in the isolated model")
    inputs = copy_inputs(honest.inputs)
    k = inputs["alloc_asset"][0]
    whole = inputs["balance"][k]
    for i in (0, 1):   # both positions claim the asset's whole balance
        inputs["alloc_asset"][i], inputs["alloc_amount"][i] = k, whole
        inputs["alloc_sel"][i] = [int(j == k) for j in range(len(inputs["balance"]))]
    no_witness(prod, recommit(inputs))


def test_isolated_allocation_cannot_be_valued_as_another_asset(prod: WarmWitness, honest: Case,
                                                               model: str) -> None:
    if model != "isolated":
        pytest.skip("allocations exist only in the isolated model")
    inputs = copy_inputs(honest.inputs)
    k = inputs["alloc_asset"][0]
    inputs["alloc_sel"][0] = [int(j == (k + 1) % 3) for j in range(len(inputs["balance"]))]
    no_witness(prod, inputs)

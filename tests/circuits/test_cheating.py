"""Soundness: every way a prover could cheat the portfolio circuit is rejected.

Two kinds of test: (1) a hand-edited witness of the PROVEN (O2) constraint system, checked by the
in-process R1CS checker -- the edited signal must break a constraint; (2) cheating inputs that a
dishonest prover would feed the witness generator (field wrap-around, understated loss, merged
groups, a foreign leaf): circom's generated code checks every constraint while it computes, so no
witness comes out. Cheats that need a proof (replay, tampering) are in tests/test_end_to_end.py.
"""

from __future__ import annotations

import random
from collections.abc import Callable

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


@pytest.fixture(scope="module")
def honest(snapshot: RiskSnapshot, make_case: MakeCase) -> Case:
    """A healthy account touching two groups, with losses in both."""
    rng = random.Random(11)
    while True:
        case = make_case(random_account(snapshot, rng, positions=3, max_groups=2, assets=3), 5_000)
        if case.result.healthy and all(case.result.scan_loss) and len(set(case.book.slot_group)) == 2:
            return case


def recommit(inputs: dict, salt: int | None = None) -> dict:
    """Recompute the account commitment over (possibly cheating) inputs, as a cheater would."""
    slots = list(zip(inputs["instrument"], map(fp.from_field, inputs["qty"])))
    inputs["account_commitment"] = account_commitment(slots, inputs["balance"], salt or inputs["salt"])
    return inputs


@pytest.mark.parametrize("signal", ["scan_loss[0]", "scan_loss[1]", "group_req[0]", "collateral_split[1][0]",
                                    "group_sel[0][0]", "group_id[0]", "qty[0]", "balance[1]",
                                    "leaf_risk[0][3]", "instrument_root", "threshold_bps", "health"])
def test_hand_edited_witness_breaks_a_constraint(prod_small: WarmWitness, prod_r1cs: R1cs, honest: Case,
                                                 signal: str) -> None:
    witness = prod_small.calculator.calculate(honest.inputs)
    assert check_witness(prod_r1cs, witness) == []
    index = prod_small.signals[f"main.{signal}"]
    for delta in (-1, 1):
        edited = list(witness)
        edited[index] = (edited[index] + delta) % fp.R
        assert check_witness(prod_r1cs, edited), f"{signal} {delta:+d} still satisfies every constraint"


def test_understated_scanning_loss_has_no_witness(prod_small: WarmWitness, honest: Case) -> None:
    cheat = dict(honest.inputs, scan_loss=[x - 1 for x in honest.inputs["scan_loss"]],
                 group_req=[x - 1 for x in honest.inputs["group_req"]])
    with pytest.raises(WitnessError):
        prod_small.calculator.calculate(cheat)


def test_overstated_scanning_loss_is_allowed_but_only_hurts(prod_small: WarmWitness, honest: Case) -> None:
    bump = [x + 1 for x in honest.inputs["group_req"]]
    prod_small.calculator.calculate(dict(honest.inputs, scan_loss=[x + 1 for x in honest.inputs["scan_loss"]],
                                         group_req=bump))


@pytest.mark.parametrize("field,value", [
    ("balance", fp.R - 1),                 # a "negative" balance wrapped into the field
    ("balance", 1 << 64),                  # past the 64-bit bound
    ("qty", 1 << 47),                      # past the signed 48-bit bound
    ("qty", fp.R - (1 << 47) - 1),         # below -2^47
])
def test_out_of_range_account_values_have_no_witness(prod_small: WarmWitness, honest: Case, field: str,
                                                     value: int) -> None:
    inputs = {k: (list(v) if isinstance(v, list) else v) for k, v in honest.inputs.items()}
    inputs[field][0] = value
    if field == "balance":
        inputs["collateral_split"] = [[value, 0, 0]] + inputs["collateral_split"][1:]
    with pytest.raises(WitnessError):
        prod_small.calculator.calculate(recommit(inputs))


def test_threshold_past_its_bound_has_no_witness(prod_small: WarmWitness, honest: Case) -> None:
    with pytest.raises(WitnessError):
        prod_small.calculator.calculate(dict(honest.inputs, threshold_bps=1 << 20))
    with pytest.raises(WitnessError):
        prod_small.calculator.calculate(dict(honest.inputs, threshold_bps=fp.R - 1))


def test_collateral_cannot_be_moved_into_a_cheaper_tier(prod_small: WarmWitness, honest: Case,
                                                        snapshot: RiskSnapshot) -> None:
    split = [list(x) for x in honest.inputs["collateral_split"]]
    k = next(k for k, s in enumerate(split) if s[1] > 0)    # an asset reaching its second tier
    split[k] = [split[k][0] + split[k][1], 0, split[k][2]]  # overfill the first (cheapest) tier
    with pytest.raises(WitnessError):
        prod_small.calculator.calculate(dict(honest.inputs, collateral_split=split))


def test_positions_of_two_groups_cannot_net_in_one_group_slot(prod_small: WarmWitness, honest: Case) -> None:
    sel = [[1, 0] if any(row) else [0, 0] for row in honest.inputs["group_sel"]]
    with pytest.raises(WitnessError):
        prod_small.calculator.calculate(dict(honest.inputs, group_sel=sel))
    ids = honest.inputs["group_id"]
    with pytest.raises(WitnessError):
        prod_small.calculator.calculate(dict(honest.inputs, group_sel=sel, group_id=[ids[0], ids[0]]))


def test_a_position_cannot_borrow_another_instruments_risk_array(prod_small: WarmWitness, honest: Case) -> None:
    risk = [list(r) for r in honest.inputs["leaf_risk"]]
    risk[0] = [0] * len(risk[0])
    with pytest.raises(WitnessError):
        prod_small.calculator.calculate(dict(honest.inputs, leaf_risk=risk))


def test_a_real_position_cannot_open_the_null_leaf(prod_small: WarmWitness, honest: Case) -> None:
    inputs = dict(honest.inputs)
    null_index = next(i for i, x in enumerate(inputs["instrument"]) if x == 0) if 0 in inputs["instrument"] else None
    if null_index is None:
        pytest.skip("every slot is used")
    for key in ("leaf_group", "leaf_mark", "leaf_addon", "leaf_som", "leaf_index"):
        inputs[key] = [inputs[key][null_index]] + inputs[key][1:]
    inputs["leaf_risk"] = [inputs["leaf_risk"][null_index]] + inputs["leaf_risk"][1:]
    inputs["leaf_siblings"] = [inputs["leaf_siblings"][null_index]] + inputs["leaf_siblings"][1:]
    inputs["group_sel"] = [[0, 0]] + inputs["group_sel"][1:]
    with pytest.raises(WitnessError):
        prod_small.calculator.calculate(inputs)

"""Edge models: lossless JSON round trips, and every bad input refused with the field named."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.factories import accounts, extreme_snapshot, snapshots, synthetic_snapshot
from zkmargin import fixedpoint as fp
from zkmargin.errors import BoundError
from zkmargin.models import Account, Allocation, CollateralAsset, HaircutTier, Position, RiskSnapshot

SNAPSHOT = synthetic_snapshot()
QTY_RANGE = "[-140737488.355328, 140737488.355327]"
BALANCE_RANGE = "[-18446744073709.551616, 18446744073709.551615]"


def _account_json(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"positions": [{"instrument": 100, "quantity": "1.5"}],
                            "balances": [{"asset": 0, "amount": "1000"}]}
    return data | changes


def _snapshot_json(edit: Any) -> str:
    """The synthetic snapshot as JSON after ``edit(data)`` changed the decoded dict in place."""
    data = json.loads(SNAPSHOT.model_dump_json())
    edit(data)
    return json.dumps(data)


def _refusal(model: type[Account | RiskSnapshot], text: str) -> tuple[str, str]:
    """The (field path, message) of the first validation error of ``text``."""
    with pytest.raises(ValidationError) as e:
        model.model_validate_json(text)
    first = e.value.errors()[0]
    return ".".join(map(str, first["loc"])), first["msg"]


# ---- round trips ----
@given(st.data())
def test_account_json_round_trip_is_lossless(data: st.DataObject) -> None:
    account = data.draw(accounts(SNAPSHOT, max_positions=fp.MAX_POSITIONS))
    text = account.model_dump_json()
    again = Account.model_validate_json(text)
    assert again == account and again.model_dump_json() == text


@given(snapshots())
def test_snapshot_json_round_trip_is_lossless(snapshot: RiskSnapshot) -> None:
    text = snapshot.model_dump_json()
    again = RiskSnapshot.model_validate_json(text)
    assert again == snapshot and again.model_dump_json() == text


def test_snapshot_at_every_bound_round_trips() -> None:
    snapshot = extreme_snapshot()
    assert RiskSnapshot.model_validate_json(snapshot.model_dump_json()) == snapshot


def test_account_writes_quantities_and_amounts_as_decimal_strings() -> None:
    account = Account.model_validate(_account_json())
    dumped = json.loads(account.model_dump_json())
    assert dumped["positions"] == [{"instrument": 100, "quantity": "1.5"}]
    assert dumped["balances"] == [{"asset": 0, "amount": "1000"}]
    assert dumped["schema_version"] == 1 and "salt" not in dumped


# ---- accounts: bad input ----
def test_accepts_a_debt_down_to_minus_2_64_units() -> None:
    account = Account.model_validate(_account_json(balances=[{"asset": 0, "amount": "-18446744073709.551616"}]))
    assert account.balances[0].amount == fp.BALANCE.lo == -(1 << 64)


@pytest.mark.parametrize("amount", ["18446744073709.551616", "-18446744073709.551617"])
def test_rejects_a_balance_beyond_65_signed_bits(amount: str) -> None:
    where, msg = _refusal(Account, json.dumps(_account_json(balances=[{"asset": 0, "amount": amount}])))
    assert where == "balances.0.amount" and msg == f"Value error, balance = {amount}: must lie in {BALANCE_RANGE}"


def test_rounds_a_debt_with_extra_decimals_down_so_it_grows() -> None:
    account = Account.model_validate(_account_json(balances=[{"asset": 0, "amount": "-1.0000001"}]))
    assert account.balances[0].amount == -1_000_001


def test_rejects_allocations_beyond_the_balance_and_any_of_a_debt() -> None:
    alloc = [{"instrument": 100, "quantity": "1", "allocation": {"asset": 0, "amount": "1"}}]
    for balance in ("0.999999", "-5"):
        where, msg = _refusal(Account, json.dumps(_account_json(positions=alloc, balances=[{"asset": 0, "amount": balance}])))
        assert where == "" and msg.startswith("Value error, allocations of asset 0 (1) exceed its balance")


def test_accepts_balance_at_2_64_minus_one_unit() -> None:
    account = Account.model_validate(_account_json(balances=[{"asset": 0, "amount": "18446744073709.551615"}]))
    assert account.balances[0].amount == fp.AMOUNT.hi


def test_rounds_extra_amount_decimals_down_against_the_trader() -> None:
    account = Account.model_validate(_account_json(balances=[{"asset": 0, "amount": "1.0000009"}]))
    assert account.balances[0].amount == 1_000_000


@pytest.mark.parametrize("quantity", ["140737488.355328", "-140737488.355329"])
def test_rejects_quantity_beyond_the_bound_with_the_bound_in_the_message(quantity: str) -> None:
    where, msg = _refusal(Account, json.dumps(_account_json(positions=[{"instrument": 100, "quantity": quantity}])))
    assert where == "positions.0.quantity"
    assert msg == f"Value error, quantity = {quantity}: must lie in {QTY_RANGE}"


@pytest.mark.parametrize("quantity", ["140737488.355327", "-140737488.355328"])
def test_accepts_quantity_at_both_ends_of_the_bound(quantity: str) -> None:
    account = Account.model_validate(_account_json(positions=[{"instrument": 100, "quantity": quantity}]))
    assert account.positions[0].quantity in (fp.QTY.lo, fp.QTY.hi)


def test_rejects_quantity_with_more_than_six_decimals() -> None:
    where, msg = _refusal(Account, json.dumps(_account_json(positions=[{"instrument": 100, "quantity": "0.0000001"}])))
    assert where == "positions.0.quantity" and msg.endswith("has more than 6 decimals")


@pytest.mark.parametrize(("field", "value"), [("quantity", 1.5), ("amount", 2.0)])
def test_rejects_a_float_where_a_decimal_string_is_required(field: str, value: float) -> None:
    item = {"instrument": 100, "quantity": value} if field == "quantity" else {"asset": 0, "amount": value}
    key = "positions" if field == "quantity" else "balances"
    where, msg = _refusal(Account, json.dumps(_account_json(**{key: [item]})))
    assert where == f"{key}.0.{field}" and "floats are not exact" in msg


def test_rejects_duplicate_instrument_ids_in_an_account() -> None:
    positions = [{"instrument": 100, "quantity": "1"}, {"instrument": 100, "quantity": "-2"}]
    assert _refusal(Account, json.dumps(_account_json(positions=positions))) == \
        ("", "Value error, duplicate position in instrument 100")


def test_rejects_duplicate_balances_of_one_asset() -> None:
    balances = [{"asset": 1, "amount": "1"}, {"asset": 1, "amount": "2"}]
    assert _refusal(Account, json.dumps(_account_json(balances=balances)))[1].endswith("duplicate balance for asset 1")


def test_rejects_more_positions_than_the_largest_profile() -> None:
    positions = [{"instrument": i, "quantity": "1"} for i in range(1, fp.MAX_POSITIONS + 2)]
    where, msg = _refusal(Account, json.dumps(_account_json(positions=positions)))
    assert where == "positions" and "at most 64 items" in msg


@pytest.mark.parametrize(("changes", "where"), [
    ({"positions": [{"instrument": 0, "quantity": "1"}]}, "positions.0.instrument"),
    ({"positions": [{"instrument": 1 << 32, "quantity": "1"}]}, "positions.0.instrument"),
    ({"balances": [{"asset": fp.MAX_ASSETS, "amount": "1"}]}, "balances.0.asset"),
    ({"salt": "7"}, "salt"),
    ({"schema_version": 2}, "schema_version"),
    ({"colour": "red"}, "colour"),
])
def test_rejects_malformed_account_fields_naming_the_field(changes: dict[str, Any], where: str) -> None:
    assert _refusal(Account, json.dumps(_account_json(**changes)))[0] == where


@pytest.mark.parametrize(("build", "field", "value"), [
    (lambda: Position(instrument=1, quantity="1e9"), "quantity", "1e9"),
    (lambda: Allocation(asset=0, amount=-1), "amount", -1),
])
def test_validation_errors_carry_a_bound_error_with_field_and_value(build: Any, field: str, value: object) -> None:
    with pytest.raises(ValidationError) as e:
        build()
    error = e.value.errors()[0]["ctx"]["error"]
    assert isinstance(error, BoundError) and (error.field, error.value) == (field, value)


# ---- snapshots: bad input ----
def test_rejects_duplicate_instrument_ids_in_a_snapshot() -> None:
    text = _snapshot_json(lambda d: d["instruments"][1].update(id=d["instruments"][0]["id"]))
    assert _refusal(RiskSnapshot, text) == ("", "Value error, duplicate instrument id")


def test_rejects_duplicate_instrument_symbols_and_group_ids() -> None:
    symbols = _snapshot_json(lambda d: d["instruments"][1].update(symbol=d["instruments"][0]["symbol"]))
    assert _refusal(RiskSnapshot, symbols)[1].endswith("duplicate instrument symbol")
    groups = _snapshot_json(lambda d: d["groups"].append(d["groups"][0]))
    assert _refusal(RiskSnapshot, groups)[1].endswith("duplicate group id")


def test_rejects_a_risk_array_of_the_wrong_length_naming_the_instrument() -> None:
    text = _snapshot_json(lambda d: d["instruments"][2]["risk"].pop())
    assert _refusal(RiskSnapshot, text)[1].endswith("instrument I2: 15 risk values for 16 scenarios")


def test_rejects_an_instrument_in_an_unknown_group() -> None:
    text = _snapshot_json(lambda d: d["instruments"][0].update(group=99))
    assert _refusal(RiskSnapshot, text)[1].endswith("instrument I0: unknown group 99")


def test_rejects_collateral_indices_out_of_order() -> None:
    text = _snapshot_json(lambda d: d["collateral"].reverse())
    assert _refusal(RiskSnapshot, text)[1].endswith("collateral indices must be 0, 1, 2, ... in order")


@pytest.mark.parametrize(("field", "value"), [("mark", 1.0), ("mark", "5"), ("mark", True), ("risk", [0.5] * 16)])
def test_rejects_non_integers_where_the_snapshot_holds_fixed_point_integers(field: str, value: object) -> None:
    where, msg = _refusal(RiskSnapshot, _snapshot_json(lambda d: d["instruments"][0].update({field: value})))
    assert where.startswith(f"instruments.0.{field}") and "must be a JSON integer" in msg


@pytest.mark.parametrize(("field", "value"), [
    ("mark", 1 << 47), ("mark", -1), ("addon", 1 << 47), ("short_option_min", -1), ("risk", [1 << 47] * 16)])
def test_rejects_snapshot_values_beyond_their_bound(field: str, value: object) -> None:
    where, msg = _refusal(RiskSnapshot, _snapshot_json(lambda d: d["instruments"][0].update({field: value})))
    assert where.startswith(f"instruments.0.{field}") and "must lie in [" in msg


def _tiers(*rows: tuple[int, int, int]) -> list[HaircutTier]:
    return [HaircutTier(from_amount=f, mm_bps=m, im_bps=i) for f, m, i in rows]


@pytest.mark.parametrize(("tiers", "message"), [
    (_tiers((0, 500, 1000), (10, 400, 1000)), "haircuts must not decrease with the tier"),
    (_tiers((0, 500, 1000), (10, 500, 900)), "haircuts must not decrease with the tier"),
    (_tiers((0, 500, 1000), (10, 600, 1100), (10, 700, 1200)), "tier starts must increase strictly"),
    (_tiers((5, 500, 1000)), "the first tier must start at amount 0"),
    (_tiers((0, 1000, 500)), "the MM haircut must not exceed the IM haircut"),
])
def test_rejects_haircut_tiers_that_are_not_monotone(tiers: list[HaircutTier], message: str) -> None:
    with pytest.raises(ValidationError, match=f"collateral BTC: {message}"):
        CollateralAsset(index=0, symbol="BTC", price=1, tiers=tiers)


def test_rejects_a_haircut_above_10000_bps() -> None:
    with pytest.raises(ValidationError, match="must lie in \\[0, 10000\\]"):
        HaircutTier(from_amount=0, mm_bps=0, im_bps=10_001)


def test_rejects_more_than_four_haircut_tiers() -> None:
    with pytest.raises(ValidationError, match="at most 4 items"):
        CollateralAsset(index=0, symbol="BTC", price=1, tiers=_tiers(*((t, 0, 0) for t in range(5))))

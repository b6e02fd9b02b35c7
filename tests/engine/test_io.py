"""JSON files at the edge: one-line InputErrors naming file and field, atomic round trips."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import account_of, synthetic_snapshot
from zkmargin.errors import InputError
from zkmargin.io import load_model, parse_model, save_model
from zkmargin.models import Account, RiskSnapshot


def _refusal(text: str, model: type[Account | RiskSnapshot] = Account) -> str:
    with pytest.raises(InputError) as e:
        parse_model(model, text, source="acct.json")
    message = str(e.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("text", ["{", "", "[1,", "{'salt': '1'}", b"\xff"])
def test_malformed_json_is_one_line_input_error_naming_the_source(text: str | bytes) -> None:
    with pytest.raises(InputError, match=r"^acct\.json: malformed JSON: ") as e:
        parse_model(Account, text, source="acct.json")
    assert "\n" not in str(e.value)


def test_wrong_schema_version_is_one_line_input_error() -> None:
    assert _refusal('{"schema_version": 2}') == "acct.json: schema_version: Input should be 1"


def test_input_error_names_the_nested_field_and_counts_the_other_errors() -> None:
    text = ('{"positions": [{"instrument": 1, "quantity": 1.5}], '
            '"balances": [{"asset": 16, "amount": "1"}]}')
    assert _refusal(text) == ('acct.json: positions.0.quantity: quantity = 1.5: must be a decimal string such '
                              'as "1.25" (floats are not exact) (+1 more)')


def test_model_level_errors_are_reported_at_the_root() -> None:
    text = '{"positions": [{"instrument": 1, "quantity": "1"}, {"instrument": 1, "quantity": "2"}]}'
    assert _refusal(text) == "acct.json: (root): duplicate position in instrument 1"


def test_missing_field_is_named() -> None:
    assert _refusal('{"positions": [{"quantity": "1"}]}') == "acct.json: positions.0.instrument: Field required"


def test_huge_exponent_is_an_input_error() -> None:
    assert _refusal('{"positions": [{"instrument": 1, "quantity": "1e999999"}]}').startswith(
        "acct.json: positions.0.quantity: quantity = 1e999999: is not a decimal number")


def test_load_model_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.json: no such file$"):
        load_model(Account, tmp_path / "nope.json")


def test_save_then_load_gives_the_same_models(tmp_path: Path) -> None:
    account = account_of({100: -1_500_000, 103: 7}, {0: 10**6, 2: 1})
    snapshot = synthetic_snapshot()
    save_model(account, tmp_path / "a" / "account.json")
    save_model(snapshot, tmp_path / "snapshot.json")
    assert load_model(Account, tmp_path / "a" / "account.json") == account
    assert load_model(RiskSnapshot, tmp_path / "snapshot.json") == snapshot
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "account.json", "snapshot.json"]

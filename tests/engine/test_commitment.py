"""Commitments: unlinkable account commitments that match the resolved book, and the snapshot root."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import account_of, accounts, synthetic_snapshot
from zkmargin.book import null_slot, resolve
from zkmargin.commitment import SnapshotCommitment, book_commitment, commit_account, leaf_fields, leaf_hash
from zkmargin.errors import InputError
from zkmargin.fixedpoint import R
from zkmargin.models import Account, RiskSnapshot
from zkmargin.profiles import PROFILES, Profile

SNAPSHOT = synthetic_snapshot(instruments=20, groups=3, scenarios=16, assets=3)
SMALL = PROFILES["small"]
COMMITTED = SnapshotCommitment(SNAPSHOT, SMALL)


def _small_accounts() -> st.SearchStrategy[Account]:
    return accounts(SNAPSHOT, max_positions=SMALL.positions, max_groups=SMALL.groups)


def _edited(edit: str, value: object) -> RiskSnapshot:
    """SNAPSHOT with one field changed: ``epoch``, ``risk`` (first instrument, scenario 0),
    ``params`` (mm factor) or ``haircut`` (second asset, first tier)."""
    data = SNAPSHOT.model_dump()
    if edit == "epoch":
        data["epoch"] = value
    elif edit == "risk":
        data["instruments"][0]["risk"][0] = value
    elif edit == "params":
        data["params"]["mm_factor_bps"] = value
    else:
        data["collateral"][1]["tiers"][0]["mm_bps"] = value
    return RiskSnapshot.model_validate(data)


# ---- account commitment ----
@given(_small_accounts())
def test_the_same_account_with_a_new_salt_gets_an_unlinkable_commitment(account: Account) -> None:
    assert commit_account(account.with_new_salt(), SMALL) != commit_account(account, SMALL)


@given(_small_accounts())
def test_the_same_account_and_salt_always_get_the_same_commitment(account: Account) -> None:
    shuffled = account.model_copy(update={"positions": account.positions[::-1], "balances": account.balances[::-1]})
    assert commit_account(shuffled, SMALL) == commit_account(account, SMALL)
    reloaded = Account.model_validate_json(account.model_dump_json())
    assert commit_account(reloaded, SMALL) == commit_account(account, SMALL)


@given(_small_accounts())
def test_commit_account_equals_the_commitment_of_the_resolved_book(account: Account) -> None:
    assert commit_account(account, SMALL) == book_commitment(resolve(account, SNAPSHOT, SMALL), account.salt)


@given(_small_accounts(), st.data())
def test_changing_one_quantity_or_balance_by_one_unit_changes_the_commitment(
        account: Account, data: st.DataObject) -> None:
    positions = {p.instrument: p.quantity for p in account.positions}
    balances = {b.asset: b.amount for b in account.balances}
    change_a_position = data.draw(st.booleans())
    if positions and change_a_position:
        i = data.draw(st.sampled_from(sorted(positions)))
        positions[i] += -1 if positions[i] > 0 else 1
    else:
        a = data.draw(st.sampled_from(sorted(balances)))
        balances[a] += -1 if balances[a] else 1
    changed = account_of(positions, balances, salt=account.salt)
    assert commit_account(changed, SMALL) != commit_account(account, SMALL)


def test_a_short_and_a_long_position_commit_differently() -> None:
    assert commit_account(account_of({100: 5}), SMALL) != commit_account(account_of({100: -5}), SMALL)


def test_commit_account_refuses_more_positions_than_the_profile_holds() -> None:
    with pytest.raises(InputError, match=r"^account has 5 positions; profile small holds 4$"):
        commit_account(account_of({i: 1 for i in range(1, 6)}), SMALL)


def test_commit_account_refuses_a_balance_beyond_the_profile_assets() -> None:
    with pytest.raises(InputError, match=r"^balance in asset 4: profile small holds assets 0\.\.3$"):
        commit_account(account_of({}, {4: 1}), SMALL)


# ---- snapshot commitment ----
@given(_small_accounts())
def test_membership_proofs_of_every_slot_open_to_the_instrument_root(account: Account) -> None:
    book = resolve(account, SNAPSHOT, SMALL)
    for slot, proof in zip(book.slots, COMMITTED.membership(book)):
        assert proof.index == slot.leaf_index and proof.leaf == leaf_hash(slot)
        assert proof.root() == COMMITTED.tree.root


def test_leaf_zero_is_the_null_instrument_and_risk_is_signed_encoded() -> None:
    assert COMMITTED.tree.levels[0][0] == leaf_hash(null_slot(SMALL.scenarios))
    slot = resolve(account_of({100: 1}), SNAPSHOT, SMALL).slots[0]
    fields = leaf_fields(slot)
    assert fields[:7] == [slot.instrument, slot.group, slot.mark, slot.addon, slot.som,
                          max(0, *(-r for r in slot.risk)), max(0, *slot.risk)]
    assert fields[7:] == [r % R for r in slot.risk] and all(0 <= f < R for f in fields)


@pytest.mark.parametrize(("edit", "value"), [("epoch", 8), ("risk", 12345), ("params", 7000), ("haircut", 600)])
def test_the_snapshot_root_changes_with_any_committed_value(edit: str, value: int) -> None:
    assert SnapshotCommitment(_edited(edit, value), SMALL).root != COMMITTED.root


def test_the_snapshot_root_depends_on_the_profile() -> None:
    assert SnapshotCommitment(SNAPSHOT, PROFILES["standard"]).root != COMMITTED.root


def test_a_snapshot_with_more_instruments_than_leaves_is_an_input_error() -> None:
    tiny = Profile("tiny", positions=4, scenarios=16, depth=4, assets=4, groups=2, tiers=3)
    with pytest.raises(InputError, match=r"^21 leaves do not fit a Merkle tree of depth 4 \(16 leaves\)$"):
        _ = SnapshotCommitment(SNAPSHOT, tiny).root


def test_committing_a_snapshot_larger_than_the_profile_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"^snapshot has 17 scenarios; profile small holds 16$"):
        SnapshotCommitment(synthetic_snapshot(scenarios=SMALL.scenarios + 1), SMALL)

"""The snapshot root: instrument leaves, membership of every slot, and what the root depends on
(account leaves: test_account_tree.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import account_of, accounts, synthetic_snapshot
from zkmargin.book import null_slot, resolve
from zkmargin.commitment import SnapshotCommitment, leaf_fields, leaf_hash
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
    assert fields[:8] == [slot.instrument, slot.group, slot.mark, slot.addon, slot.som,
                          max(0, *(-r for r in slot.risk)), max(0, *slot.risk), slot.naked_code]
    assert fields[8:] == [r % R for r in slot.risk] and all(0 <= f < R for f in fields)


@pytest.mark.parametrize(("edit", "value"), [("epoch", 8), ("risk", 12345), ("params", 7000), ("haircut", 600)])
def test_the_snapshot_root_changes_with_any_committed_value(edit: str, value: int) -> None:
    assert SnapshotCommitment(_edited(edit, value), SMALL).root != COMMITTED.root


def test_the_snapshot_root_depends_on_the_profile() -> None:
    assert SnapshotCommitment(SNAPSHOT, PROFILES["standard"]).root != COMMITTED.root


def test_a_snapshot_with_more_instruments_than_leaves_is_an_input_error() -> None:
    tiny = Profile("tiny", positions=4, scenarios=16, depth=2, assets=4, groups=2, tiers=3)
    with pytest.raises(InputError, match=r"^21 leaves do not fit a 4-ary Merkle tree of depth 2 \(16 leaves\)$"):
        _ = SnapshotCommitment(SNAPSHOT, tiny).root


def test_committing_a_snapshot_larger_than_the_profile_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"^snapshot has 17 scenarios; profile small holds 16$"):
        SnapshotCommitment(synthetic_snapshot(scenarios=SMALL.scenarios + 1), SMALL)

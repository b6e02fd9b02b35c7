"""Resolving an account against a snapshot: the padded integer book the circuit sees."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import account_of, accounts, synthetic_snapshot
from zkmargin import fixedpoint as fp
from zkmargin.book import PAD_TIER_FROM, empty_asset, null_slot, resolve
from zkmargin.errors import InputError
from zkmargin.models import RiskSnapshot
from zkmargin.profiles import PROFILES, Profile

SNAPSHOT = synthetic_snapshot(instruments=20, groups=3, scenarios=16, assets=3)
SMALL = PROFILES["small"]
STANDARD = PROFILES["standard"]
IDS = sorted(i.id for i in SNAPSHOT.instruments)


def test_unknown_instrument_is_an_input_error_naming_id_and_snapshot() -> None:
    with pytest.raises(InputError, match=r"^position in instrument 101: no such instrument in snapshot test epoch 7$"):
        resolve(account_of({100: 1, 101: 1}), SNAPSHOT)


def test_too_many_positions_for_the_profile_is_an_input_error() -> None:
    account = account_of({i: 1 for i in IDS[:5]})
    with pytest.raises(InputError, match=r"^account has 5 positions; profile small holds 4$"):
        resolve(account, SNAPSHOT, SMALL)


def test_too_many_risk_groups_for_the_profile_is_an_input_error() -> None:
    account = account_of({IDS[0]: 1, IDS[1]: 1, IDS[2]: 1})  # groups 1, 2 and 3
    with pytest.raises(InputError, match=r"^account touches 3 risk groups; profile small holds 2$"):
        resolve(account, SNAPSHOT, SMALL)


@pytest.mark.parametrize(("snapshot", "message"), [
    (synthetic_snapshot(scenarios=17), "snapshot has 17 scenarios; profile small holds 16"),
    (synthetic_snapshot(assets=5), "snapshot has 5 collateral assets; profile small holds 4"),
])
def test_a_snapshot_larger_than_the_profile_is_an_input_error(snapshot: RiskSnapshot, message: str) -> None:
    with pytest.raises(InputError, match=f"^{message}$"):
        resolve(account_of({}), snapshot, SMALL)


def test_a_balance_in_an_asset_the_snapshot_does_not_list_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"^balance in asset 3: the snapshot lists assets 0\.\.2$"):
        resolve(account_of({}, {3: 1}), SNAPSHOT)


def test_unpadded_book_holds_exactly_the_positions_sorted_by_id() -> None:
    book = resolve(account_of({IDS[4]: -3, IDS[1]: 2}, {1: 50}), SNAPSHOT)
    assert [(s.instrument, s.qty) for s in book.slots] == [(IDS[1], 2), (IDS[4], -3)]
    assert book.group_ids == (2,) and book.slot_group == (0, 0)
    assert book.balances == (0, 50, 0) and book.n_scenarios == 16
    assert book.mm_factor_bps == SNAPSHOT.params.mm_factor_bps


def test_book_of_an_empty_account_has_no_slots_and_no_groups() -> None:
    book = resolve(account_of({}), SNAPSHOT)
    assert (book.slots, book.group_ids, book.n_scenarios) == ((), (), 0)


def test_padded_book_fills_every_shape_of_the_profile() -> None:
    profile = Profile("wide", positions=5, scenarios=20, depth=6, assets=5, groups=3, tiers=4)
    book = resolve(account_of({IDS[3]: 7}, {2: 9}), SNAPSHOT, profile)
    assert book.slots[1:] == (null_slot(20),) * 4
    assert book.slots[0].risk[16:] == (0,) * 4 and len(book.slots[0].risk) == 20
    assert book.group_ids == (1, 0, 0) and book.slot_group == (0, -1, -1, -1, -1)
    assert book.balances == (0, 0, 9, 0, 0)
    assert book.assets[3:] == (empty_asset(4), empty_asset(4))
    usdc, btc = book.assets[0], book.assets[1]
    assert usdc.tier_from == (0, PAD_TIER_FROM, PAD_TIER_FROM, PAD_TIER_FROM) and usdc.hc_mm == (0, 0, 0, 0)
    assert btc.tier_from[3] == PAD_TIER_FROM and btc.hc_im[3] == btc.hc_im[2]


def test_padding_tiers_start_at_the_largest_balance() -> None:
    assert PAD_TIER_FROM == fp.AMOUNT.hi


@given(st.data())
def test_every_resolved_book_is_sorted_padded_and_consistent(data: st.DataObject) -> None:
    account = data.draw(accounts(SNAPSHOT, max_positions=STANDARD.positions, max_groups=STANDARD.groups))
    book = resolve(account, SNAPSHOT, STANDARD)
    held = [s for s in book.slots if s.instrument]
    assert len(book.slots) == STANDARD.positions and len(held) == len(account.positions)
    assert [s.instrument for s in held] == sorted(p.instrument for p in account.positions)
    assert all(s.instrument == 0 and s == null_slot(STANDARD.scenarios) for s in book.slots[len(held):])
    by_id = SNAPSHOT.instruments_by_id
    for slot, g in zip(held, book.slot_group):
        ins = by_id[slot.instrument]
        assert slot.leaf_index == IDS.index(slot.instrument) + 1
        assert (slot.group, slot.mark, slot.addon, slot.som) == (ins.group, ins.mark, ins.addon, ins.short_option_min)
        assert slot.risk == tuple(ins.risk) + (0,) * (STANDARD.scenarios - len(ins.risk))
        assert book.group_ids[g] == slot.group
    groups = [g for g in book.group_ids if g]
    assert groups == sorted({s.group for s in held})
    assert book.group_ids[len(groups):] == (0,) * (STANDARD.groups - len(groups))
    assert book.balances == tuple(b.amount for b in account.balances) + (0,) * (STANDARD.assets - len(account.balances))

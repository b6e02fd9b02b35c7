"""Accounts the differential check runs: random ones and a boundary set, for any margin model.

Every account carries allocations too (only the isolated model reads them), so the same
generator serves every model. Values reach the fixed-point bounds (``zkmargin.fixedpoint``):
quantities at +-2^47, balances from a debt of 2^64 to a credit of 2^64 - 1, instrument ids at
the snapshot's ends. The harness has the venue attest them (:func:`zkmargin.venue.attest`), so
every case is proven from a statement, as a trader's would be.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

from zkmargin import fixedpoint as fp
from zkmargin.models import (
    Account,
    Allocation,
    Balance,
    Instrument,
    Position,
    RiskSnapshot,
)
from zkmargin.profiles import Profile

THRESHOLDS = (0, 5_000, 10_000, 12_500, fp.THRESHOLD.hi)
"""Claimed health of random cases, in bps of MM."""


def account_of(positions: Sequence[tuple[int, int, tuple[int, int] | None]], balances: dict[int, int]) -> Account:
    """An account from integers: (instrument id, qty at QTY_SCALE, (asset, amount) allocation or
    None) per position, in the order given, and {asset: signed balance at AMOUNT_SCALE} (a debt
    is negative)."""
    return Account.model_validate({
        "positions": [Position(instrument=i, quantity=fp.format_decimal(q, fp.QTY_SCALE),
                               allocation=None if a is None else Allocation(
                                   asset=a[0], amount=fp.format_decimal(a[1], fp.AMOUNT_SCALE)))
                      for i, q, a in positions],
        "balances": [Balance(asset=k, amount=fp.format_decimal(x, fp.AMOUNT_SCALE))
                     for k, x in balances.items()]})


def random_account(snapshot: RiskSnapshot, profile: Profile, rng: random.Random) -> Account:
    """Up to P positions in up to G groups, quantities and balances from tiny to the bounds (some
    balances are debts; allocations come out of the credits)."""
    groups = sorted({i.group for i in snapshot.instruments})
    chosen_groups = rng.sample(groups, k=rng.randint(1, min(profile.groups, len(groups))))
    pool = [i for i in snapshot.instruments if i.group in chosen_groups]
    chosen = rng.sample(pool, k=rng.randint(0, min(profile.positions, len(pool))))
    balances = {k: _amount(rng) for k in range(_assets(snapshot, profile))}
    left = {k: x for k, x in balances.items() if x > 0}
    positions = []
    for instrument in chosen:
        allocation = None
        if left and rng.random() < 0.7:
            asset = rng.choice(sorted(left))
            allocation = (asset, rng.randint(0, left[asset]))
            left[asset] -= allocation[1]
        positions.append((instrument.id, _quantity(rng), allocation))
    return account_of(positions, balances)


def boundary_accounts(snapshot: RiskSnapshot, profile: Profile) -> Iterator[tuple[str, Account, int]]:
    """(label, account, threshold_bps): empty, every slot at the quantity bounds with every
    balance at its upper bound, debts at the lower bound (alone, beside a credit at the bound,
    and a least debt in a healthy account), a lone short without collateral, the largest
    threshold, tier edges, and canonical-slot edges (positions listed in descending id order,
    the snapshot's smallest and largest instrument ids, every slot filled)."""
    full = _first_slots(snapshot, profile)
    assets = _assets(snapshot, profile)
    top = {k: fp.BALANCE.hi for k in range(assets)}
    share = fp.AMOUNT.hi // max(len(full), 1)
    yield "empty account", account_of([], {}), 10_000
    for label, qty in (("every slot long at the bound", fp.QTY.hi),
                       ("every slot short at the bound", fp.QTY.lo)):
        slots = [(i.id, qty, (0, share)) for i in full]
        yield label, account_of(slots, top), 0
    one = [(full[0].id, fp.QTY_SCALE, None)]
    yield "every balance a debt at the bound", account_of(one, {k: fp.BALANCE.lo for k in range(assets)}), 0
    yield ("a debt at the bound beside a credit at the bound",
           account_of(one, {0: fp.BALANCE.hi, assets - 1: fp.BALANCE.lo}), 0)
    yield "the least debt in a healthy account", account_of(one, {0: fp.BALANCE.hi, assets - 1: -1}), 10_000
    yield "short without collateral", account_of([(full[0].id, -fp.QTY_SCALE, None)], {}), 10_000
    yield "largest threshold", account_of([(full[0].id, fp.QTY_SCALE, (0, 1))], top), fp.THRESHOLD.hi
    edges = {k: asset.tiers[-1].from_amount for k, asset in enumerate(snapshot.collateral[:assets])}
    yield "balances at their last tier edge", account_of([(full[0].id, -fp.QTY_SCALE, None)], edges), 10_000
    yield ("every slot filled, listed in descending id order",
           account_of([(i.id, fp.QTY_SCALE, None) for i in reversed(full)], top), 10_000)
    ids = sorted(snapshot.instruments_by_id)
    yield ("the smallest and the largest instrument ids",
           account_of([(ids[-1], -fp.QTY_SCALE, None), (ids[0], fp.QTY_SCALE, None)], top), 10_000)


def _first_slots(snapshot: RiskSnapshot, profile: Profile) -> list[Instrument]:
    """P instruments taken in turn from the first G groups, so a full account touches every group
    slot of the circuit (a group slot no witness uses would look unconstrained to the scan)."""
    by_group: dict[int, list[Instrument]] = {}
    for instrument in snapshot.instruments:
        by_group.setdefault(instrument.group, []).append(instrument)
    columns = [by_group[g] for g in sorted(by_group)[: profile.groups]]
    in_turn = [column[k] for k in range(max(map(len, columns))) for column in columns if k < len(column)]
    return in_turn[: profile.positions]


def _assets(snapshot: RiskSnapshot, profile: Profile) -> int:
    return min(profile.assets, len(snapshot.collateral))


def _quantity(rng: random.Random) -> int:
    if rng.random() < 0.1:
        return rng.choice((fp.QTY.lo, fp.QTY.hi))
    magnitude = rng.randint(1, 10 ** rng.randint(1, 12))
    return magnitude if rng.random() < 0.5 else -magnitude


def _amount(rng: random.Random) -> int:
    """A signed balance: none, a credit (tiny to the bound) or, one time in three, a debt (to the bound)."""
    return rng.choice((0, fp.BALANCE.hi, rng.randrange(10 ** 9), rng.randrange(10 ** 15),
                       -rng.randrange(1, 10 ** 12), fp.BALANCE.lo))

"""Synthetic snapshots and accounts for tests: random but valid, with knobs for the boundaries."""

from __future__ import annotations

import random
from collections.abc import Mapping

from hypothesis import strategies as st

from zkmargin import fixedpoint as fp
from zkmargin.models import (Account, Allocation, Balance, CollateralAsset, Group, HaircutTier, Instrument, Kind,
                             MarginParams, Position, RiskSnapshot, Scenario)


def synthetic_snapshot(*, seed: int = 1, instruments: int = 20, groups: int = 3, scenarios: int = 16,
                       assets: int = 3, magnitude: int = 10**10, epoch: int = 7,
                       naked_keys: bool = False) -> RiskSnapshot:
    """A valid snapshot with random risk arrays of the given magnitude (PRICE_SCALE). With
    ``naked_keys``, options get net-naked-short keys (:func:`with_naked_keys`)."""
    rng = random.Random(seed)
    kinds = list(Kind)
    ins = []
    for k in range(instruments):
        kind = kinds[k % len(kinds)]
        option = kind in (Kind.CALL, Kind.PUT)
        ins.append(Instrument(
            id=100 + 3 * k, symbol=f"I{k}", kind=kind, group=1 + k % groups,
            mark=rng.randrange(0, magnitude) if kind not in (Kind.FUTURE, Kind.PERP) else 0,
            addon=rng.randrange(0, magnitude // 100 + 1), short_option_min=rng.randrange(0, magnitude // 10) if option else 0,
            risk=[rng.randrange(-magnitude, magnitude) for _ in range(scenarios)]))
    coll = [CollateralAsset(index=0, symbol="USDC", price=fp.PRICE_SCALE,
                            tiers=[HaircutTier(from_amount=0, mm_bps=0, im_bps=0)])]
    for a in range(1, assets):
        coll.append(CollateralAsset(index=a, symbol=f"A{a}", price=rng.randrange(1, 10**11), tiers=[
            HaircutTier(from_amount=0, mm_bps=500, im_bps=1000),
            HaircutTier(from_amount=10 * fp.AMOUNT_SCALE, mm_bps=1000, im_bps=2000),
            HaircutTier(from_amount=100 * fp.AMOUNT_SCALE, mm_bps=3000, im_bps=5000)]))
    return RiskSnapshot(
        venue="test", epoch=epoch,
        scenarios=[Scenario(label=f"s{i}", price_shock_bps=100 * i) for i in range(scenarios)],
        groups=[Group(id=g, underlying=f"U{g}") for g in range(1, groups + 1)],
        instruments=with_naked_keys(ins) if naked_keys else ins, collateral=coll,
        params=MarginParams(mm_factor_bps=8000, contingency_bps=100, short_option_min_bps=1000))


def with_naked_keys(instruments: list[Instrument]) -> list[Instrument]:
    """Options keyed by (group, position // 10 in the list), every third block of ten left unkeyed:
    a key holds one or two calls and puts (the second takes the first's add-on), so books mix keys
    shared by two slots, keys of one slot and unkeyed options."""
    first: dict[tuple[int, int], Instrument] = {}
    out = []
    for k, ins in enumerate(instruments):
        if ins.kind in (Kind.CALL, Kind.PUT) and (k // 10) % 3 != 2:
            head = first.get((ins.group, k // 10))
            if head is None:
                ins = first[(ins.group, k // 10)] = ins.model_copy(update={"naked_key": len(first) + 1})
            else:
                ins = ins.model_copy(update={"naked_key": head.naked_key, "addon": head.addon})
        out.append(ins)
    return out


def random_account(snapshot: RiskSnapshot, rng: random.Random, *, positions: int, max_groups: int,
                   assets: int, qty_max: int = 10**8, amount_max: int = 10**12, debt_max: int = 0,
                   allocate: bool = False) -> Account:
    """A random account using at most ``max_groups`` groups and the first ``assets`` assets, each
    balance in ``[-debt_max, amount_max)`` (AMOUNT_SCALE; a negative one is a debt); with
    ``allocate``, each position also carries a random share of one asset it is not indebted in
    (isolated model)."""
    groups = rng.sample(sorted({i.group for i in snapshot.instruments}), k=max_groups)
    pool = [i for i in snapshot.instruments if i.group in groups]
    chosen = rng.sample(pool, k=min(positions, len(pool)))
    balances = {a: rng.randrange(-debt_max, amount_max) for a in range(min(assets, len(snapshot.collateral)))}
    left = {a: x for a, x in balances.items() if x >= 0}
    allocations: list[Allocation | None] = []
    for _ in chosen:
        asset = rng.choice(sorted(left)) if allocate and left else None
        amount = rng.randint(0, left[asset]) if asset is not None else 0
        if asset is not None:
            left[asset] -= amount
        allocations.append(Allocation(asset=asset, amount=fp.format_decimal(amount, fp.AMOUNT_SCALE))
                           if asset is not None else None)
    return Account(
        positions=[Position(instrument=i.id, quantity=fp.format_decimal(rng.randint(-qty_max, qty_max), fp.QTY_SCALE),
                            allocation=alloc)
                   for i, alloc in zip(chosen, allocations)],
        balances=[Balance(asset=a, amount=fp.format_decimal(x, fp.AMOUNT_SCALE)) for a, x in balances.items()])


def account_of(positions: Mapping[int, int], balances: Mapping[int, int] | None = None) -> Account:
    """An account from fixed-point integers: ``{instrument id: quantity}`` (QTY_SCALE) and
    ``{asset index: amount}`` (AMOUNT_SCALE), written as the decimal strings of an account file."""
    return Account(
        positions=[Position(instrument=i, quantity=fp.format_decimal(q, fp.QTY_SCALE)) for i, q in positions.items()],
        balances=[Balance(asset=a, amount=fp.format_decimal(x, fp.AMOUNT_SCALE)) for a, x in (balances or {}).items()])


def single_tier(snapshot: RiskSnapshot) -> RiskSnapshot:
    """The snapshot with every collateral asset cut to its first haircut tier, so that collateral
    value is linear in the balance."""
    data = snapshot.model_dump()
    for asset in data["collateral"]:
        asset["tiers"] = asset["tiers"][:1]
    return RiskSnapshot.model_validate(data)


def extreme_snapshot(*, groups: int = 1) -> RiskSnapshot:
    """Every snapshot value at its bound, in the largest shape the fixed-point bounds are argued for
    (``fixedpoint.MAX_*``, wider than any circuit profile: resolve its books without a profile):
    64 instruments (ids 1..64, spread round-robin over ``groups`` groups) with mark, add-on and
    short-option minimum at their maxima and risk ``[RISK.lo, RISK.hi, 0, 1]``; 16 assets at the
    top price, 4 tiers of zero haircut."""
    instruments = [
        Instrument(id=k, symbol=f"X{k}", kind=Kind.CALL, group=1 + (k - 1) % groups, mark=fp.MARK.hi,
                   addon=fp.ADDON.hi, short_option_min=fp.SOM.hi, risk=[fp.RISK.lo, fp.RISK.hi, 0, 1])
        for k in range(1, fp.MAX_POSITIONS + 1)]
    tiers = [HaircutTier(from_amount=t, mm_bps=0, im_bps=0) for t in range(4)]
    return RiskSnapshot(
        venue="extreme", epoch=fp.EPOCH.hi,
        scenarios=[Scenario(label=f"s{i}", price_shock_bps=0) for i in range(4)],
        groups=[Group(id=g, underlying=f"U{g}") for g in range(1, groups + 1)],
        instruments=instruments,
        collateral=[CollateralAsset(index=a, symbol=f"A{a}", price=fp.ASSET_PRICE.hi, tiers=tiers)
                    for a in range(fp.MAX_ASSETS)],
        params=MarginParams(mm_factor_bps=fp.BPS, contingency_bps=fp.BPS, short_option_min_bps=fp.BPS))


def extreme_account(snapshot: RiskSnapshot, qty: int, amount: int = fp.AMOUNT.hi) -> Account:
    """Quantity ``qty`` (QTY_SCALE) in every instrument, ``amount`` (AMOUNT_SCALE) of every asset."""
    return account_of({i.id: qty for i in snapshot.instruments}, {c.index: amount for c in snapshot.collateral})


def snapshots(*, max_instruments: int = 24, max_scenarios: int = 20) -> st.SearchStrategy[RiskSnapshot]:
    """Synthetic snapshots of random shape whose risk arrays and marks reach up to the bounds."""
    return st.builds(synthetic_snapshot, seed=st.integers(0, 2**32), instruments=st.integers(1, max_instruments),
                     groups=st.integers(1, 4), scenarios=st.integers(1, max_scenarios), assets=st.integers(1, 4),
                     magnitude=st.sampled_from([10, 10**6, 10**10, 2**47]), naked_keys=st.booleans())


def accounts(snapshot: RiskSnapshot, *, max_positions: int = 8, max_groups: int = fp.MAX_GROUPS,
             qty: st.SearchStrategy[int] | None = None,
             amount: st.SearchStrategy[int] | None = None) -> st.SearchStrategy[Account]:
    """Accounts on ``snapshot``: distinct instruments from at most ``max_groups`` groups, a balance
    (possibly 0, possibly a debt) in every asset. ``qty`` (QTY_SCALE) and ``amount`` (AMOUNT_SCALE)
    default to the full signed bounds; hypothesis favours their edges."""
    qty = qty if qty is not None else st.integers(fp.QTY.lo, fp.QTY.hi)
    amount = amount if amount is not None else st.integers(fp.BALANCE.lo, fp.BALANCE.hi)
    all_groups = sorted({i.group for i in snapshot.instruments})

    n_assets = len(snapshot.collateral)

    @st.composite
    def account(draw: st.DrawFn) -> Account:
        groups = draw(st.lists(st.sampled_from(all_groups), min_size=1, max_size=max_groups, unique=True))
        pool = [i.id for i in snapshot.instruments if i.group in groups]
        ids = draw(st.lists(st.sampled_from(pool), max_size=max_positions, unique=True))
        quantities = draw(st.lists(qty, min_size=len(ids), max_size=len(ids)))
        amounts = draw(st.lists(amount, min_size=n_assets, max_size=n_assets))
        return account_of(dict(zip(ids, quantities)), dict(enumerate(amounts)))

    return account()

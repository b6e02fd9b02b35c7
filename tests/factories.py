"""Synthetic snapshots and accounts for tests: random but valid, with knobs for the boundaries."""

from __future__ import annotations

import random

from zkmargin import fixedpoint as fp
from zkmargin.models import (Account, Balance, CollateralAsset, Group, HaircutTier, Instrument, Kind,
                             MarginParams, Position, RiskSnapshot, Scenario)


def synthetic_snapshot(*, seed: int = 1, instruments: int = 20, groups: int = 3, scenarios: int = 16,
                       assets: int = 3, magnitude: int = 10**10, epoch: int = 7) -> RiskSnapshot:
    """A valid snapshot with random risk arrays of the given magnitude (PRICE_SCALE)."""
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
        instruments=ins, collateral=coll,
        params=MarginParams(mm_factor_bps=8000, contingency_bps=100, short_option_min_bps=1000))


def random_account(snapshot: RiskSnapshot, rng: random.Random, *, positions: int, max_groups: int,
                   assets: int, qty_max: int = 10**8, amount_max: int = 10**12) -> Account:
    """A random account using at most ``max_groups`` groups and the first ``assets`` assets."""
    groups = rng.sample(sorted({i.group for i in snapshot.instruments}), k=max_groups)
    pool = [i for i in snapshot.instruments if i.group in groups]
    chosen = rng.sample(pool, k=min(positions, len(pool)))
    return Account(
        positions=[Position(instrument=i.id, quantity=fp.format_decimal(rng.randint(-qty_max, qty_max), fp.QTY_SCALE))
                   for i in chosen],
        balances=[Balance(asset=a, amount=fp.format_decimal(rng.randrange(0, amount_max), fp.AMOUNT_SCALE))
                  for a in range(min(assets, len(snapshot.collateral)))],
        salt=str(rng.getrandbits(248)))

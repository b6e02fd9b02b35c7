"""Scenario grids as data: the price x vol shocks every risk array is evaluated under.

Shock conventions, shared by every grid and by :mod:`zkmargin.riskarrays`:

* ``price_shock_bps``: relative move of the underlying, ``S' = S * (1 + p / 10000)``; every
  forward of the underlying moves by the same factor. Must exceed -10000 (prices stay positive).
* ``vol_shock_bps``: relative move of every implied vol, ``vol' = vol * (1 + v / 10000)``, the
  same for all strikes and expiries (relative shocks keep vols positive). Must exceed -10000.
* ``weight_bps``: the share of the scenario's P&L that counts (SPAN's 35 % cover fraction of the
  extreme moves, the dampeners of a tail table).

Time does not pass inside a scenario (no theta), and every group uses the same grid: the
snapshot stores one scenario list, and each instrument's risk array is aligned with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkmargin import fixedpoint as fp
from zkmargin.errors import InputError
from zkmargin.models.snapshot import Scenario


def _vol_label(vol_bps: int) -> str:
    return "vol up" if vol_bps > 0 else "vol down" if vol_bps < 0 else "vol flat"


@dataclass(frozen=True)
class Span16:
    """CME SPAN's 16 scenarios (the standard SPAN risk array).

    1-14: price unchanged, up/down 1/3, 2/3 and 3/3 of the price scan range, each with vol up and
    vol down by the vol scan range; 15-16: price up/down ``extreme_multiple`` x the scan range, vol
    unchanged, counted at ``extreme_weight_bps`` (SPAN's 35 % cover fraction).

    Defaults: a 15 % price scan range (about six daily standard deviations at 50 % annual vol) and a
    25 % relative vol scan range.
    """

    price_scan_bps: int = 1500
    vol_scan_bps: int = 2500
    extreme_multiple: int = 2
    extreme_weight_bps: int = 3500

    def scenarios(self) -> tuple[Scenario, ...]:
        """The 16 scenarios in SPAN's order."""
        if self.price_scan_bps % 3:
            raise ValueError(f"span16: price_scan_bps={self.price_scan_bps} must be divisible by 3 (moves of 1/3)")
        third = self.price_scan_bps // 3
        out = []
        for thirds, sign in ((0, 1), (1, 1), (1, -1), (2, 1), (2, -1), (3, 1), (3, -1)):
            move = "price flat" if thirds == 0 else f"{'+' if sign > 0 else '-'}{thirds}/3 range"
            for vol in (self.vol_scan_bps, -self.vol_scan_bps):
                out.append(Scenario(label=f"{move}, {_vol_label(vol)}",
                                    price_shock_bps=sign * thirds * third, vol_shock_bps=vol))
        extreme = self.extreme_multiple * self.price_scan_bps
        for sign in (1, -1):
            out.append(Scenario(label=f"{'+' if sign > 0 else '-'}{self.extreme_multiple}x range extreme",
                                price_shock_bps=sign * extreme, vol_shock_bps=0,
                                weight_bps=self.extreme_weight_bps))
        return tuple(out)


#: Deribit-style tail table: (price move bps, vol move bps, dampener = weight bps).
DERIBIT_TAIL: tuple[tuple[int, int, int], ...] = (
    (-5000, 3000, 3000),
    (-3300, 3000, 5000),
    (3300, 3000, 5000),
    (5000, 3000, 3000),
    (10000, 3000, 1500),
)


@dataclass(frozen=True)
class Deribit:
    """A Deribit-style portfolio-margin risk matrix: 27 core scenarios and a dampened tail table.

    Core: price moves from ``-price_range_bps`` to ``+price_range_bps`` in ``2 * price_steps + 1``
    equal buckets (defaults: -16 %, -12 %, ..., +16 %), each with vol up by ``vol_up_bps``,
    unchanged, and down by ``vol_down_bps`` (defaults +30 % / -20 % relative), full weight.
    Tail: :data:`DERIBIT_TAIL`, crashes and squeezes of 33-100 % with vol up, counted at 15-50 %.
    """

    price_range_bps: int = 1600
    price_steps: int = 4
    vol_up_bps: int = 3000
    vol_down_bps: int = 2000
    tail: tuple[tuple[int, int, int], ...] = DERIBIT_TAIL

    def scenarios(self) -> tuple[Scenario, ...]:
        """Core matrix (price-major, vol up / flat / down), then the tail table."""
        if self.price_range_bps % self.price_steps:
            raise ValueError(f"deribit: price_range_bps={self.price_range_bps} must be a multiple of "
                             f"price_steps={self.price_steps}")
        step = self.price_range_bps // self.price_steps
        out = []
        for k in range(-self.price_steps, self.price_steps + 1):
            for vol in (self.vol_up_bps, 0, -self.vol_down_bps):
                out.append(Scenario(label=f"{k * step / 100:+g}%, {_vol_label(vol)}",
                                    price_shock_bps=k * step, vol_shock_bps=vol))
        for price, vol, weight in self.tail:
            out.append(Scenario(label=f"tail {price / 100:+g}%, {_vol_label(vol)}, x{weight / fp.BPS:g}",
                                price_shock_bps=price, vol_shock_bps=vol, weight_bps=weight))
        return tuple(out)


#: Named presets, as accepted by ``zkmargin snapshot build --preset``.
PRESETS: dict[str, Span16 | Deribit] = {"span16": Span16(), "deribit": Deribit()}


def preset_scenarios(name: str) -> tuple[Scenario, ...]:
    """The scenarios of a named preset; :class:`InputError` lists the known names."""
    grid = PRESETS.get(name)
    if grid is None:
        raise InputError(f"unknown scenario preset {name!r}; known: {', '.join(PRESETS)}")
    return grid.scenarios()


def check_scenario(s: Scenario) -> None:
    """Refuse shocks the pricing cannot evaluate: non-positive prices or vols, weights above 100 %."""
    if s.price_shock_bps <= -fp.BPS or s.vol_shock_bps <= -fp.BPS:
        raise InputError(f"scenario {s.label!r}: shocks must exceed -10000 bps")
    if not 0 <= s.weight_bps <= fp.BPS:
        raise InputError(f"scenario {s.label!r}: weight_bps must lie in [0, 10000]")

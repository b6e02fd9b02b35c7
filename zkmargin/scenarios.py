"""A methodology's scenarios on one market: exact price moves and weights per risk group.

Conventions, shared with :mod:`zkmargin.riskarrays`:

* a price move ``m`` (exact fraction, > -1) moves the spot, every forward and the perp mark of
  the group by the factor ``1 + m``; the move of a scan-relative scenario is its multiple of the
  group's own price scan (:meth:`zkmargin.methodology.Methodology.scan`);
* the vol move is a direction (``up`` / ``none`` / ``down``) resolved per option by
  :func:`zkmargin.methodology.shocked_vol` (relative or absolute, term-scaled, floored);
* ``weight``: the share of the scenario's P&L that counts (SPAN's cover fraction of the extreme
  moves, a tail table's weights, capped for linear positions if the methodology says so);
* ``edge``: for a capped tail scenario, the core grid's edge move on the scenario's side: a linear
  contract (futures, perps, spot; coin-settled ones included) loses there at most what it loses at
  that edge (Deribit's extended table values a linear position at the edge of the price range);
* time passes by the methodology's look-ahead inside every scenario (0: none).

The snapshot stores one scenario list for all groups; its ``price_shock_bps``, ``vol_shock_bps``
and ``weight_bps`` are informational (the lowest group id's values, in whole bps): the risk arrays
carry the exact result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from zkmargin.errors import InputError
from zkmargin.market import Market
from zkmargin.methodology import Methodology, ScenarioShape, VolDirection, shock_bps
from zkmargin.models.snapshot import Scenario


@dataclass(frozen=True)
class ScenarioSet:
    """Scenarios of ``methodology`` on a market: ``moves[g][s]``, ``weights[g][s]`` and the linear
    cap's ``edges[g][s]`` per group id (no entry for a group: no capped scenario)."""

    methodology: Methodology
    shapes: tuple[ScenarioShape, ...]
    moves: dict[int, tuple[Fraction, ...]]
    weights: dict[int, tuple[Fraction, ...]]
    edges: dict[int, tuple[Fraction | None, ...]] = field(default_factory=dict)

    @property
    def vol(self) -> tuple[VolDirection, ...]:
        """The vol direction of each scenario."""
        return tuple(s.vol for s in self.shapes)

    def snapshot_scenarios(self) -> list[Scenario]:
        """The snapshot's scenario list (informational shocks of the lowest group id)."""
        return self.group_scenarios(min(self.moves))

    def group_scenarios(self, g: int) -> list[Scenario]:
        """The scenarios of group id ``g`` with its own price shocks and weights (whole bps, informational)."""
        v = self.methodology.vol
        vol_bps = {"up": shock_bps(Fraction(v.up)), "none": 0, "down": -shock_bps(Fraction(v.down))}
        return [Scenario(label=s.label, price_shock_bps=shock_bps(m), vol_shock_bps=vol_bps[s.vol],
                         weight_bps=shock_bps(w))
                for s, m, w in zip(self.shapes, self.moves[g], self.weights[g])]


def scenario_set(methodology: Methodology, market: Market) -> ScenarioSet:
    """Resolve every scenario's move and weight per underlying; refuse a move at or below -100 %."""
    shapes = methodology.shapes()
    unknown = set(methodology.underlyings) - {u.name for u in market.underlyings}
    if unknown:
        raise InputError(f"methodology {methodology.name}: no underlying named {', '.join(sorted(unknown))} "
                         "in the market")
    moves, weights, edges = {}, {}, {}
    for u in market.underlyings:
        scan = methodology.scan(u.name).fraction_of(u.spot)
        moves[u.id] = tuple(s.move(scan) for s in shapes)
        weights[u.id] = tuple(s.weight_at(scan) for s in shapes)
        edges[u.id] = tuple(s.edge_at(scan) for s in shapes)
        for s, m in zip(shapes, moves[u.id]):
            if m <= -1:
                raise InputError(f"methodology {methodology.name}: scenario {s.label!r} moves {u.name} by "
                                 f"{float(m):.6g} (prices must stay positive: moves must exceed -1)")
    return ScenarioSet(methodology, shapes, moves, weights, edges)

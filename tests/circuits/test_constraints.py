"""Constraint counts pinned per model and profile, so growth is visible in review (docs/circuits.md)."""

from __future__ import annotations

import pytest

from prover.circuits import MarginCircuit

#: (model, profile) -> (constraints with --O2, public inputs). Account membership (a 4-ary tree of
#: depth 10), the account leaf, signed balances, canonical slots and the net-naked-short add-on
#: (issue 18) included; the standard profile's budget is 85,000 (issue 12).
PINNED = {
    ("portfolio", "small"): (21_517, 4),
    ("cross", "small"): (18_293, 4),
    ("isolated", "small"): (19_379, 4),
    ("portfolio", "standard"): (82_897, 4),
    ("cross", "standard"): (69_561, 4),
    ("isolated", "standard"): (75_695, 4),
}
STANDARD_BUDGET = 85_000


@pytest.mark.parametrize("model,profile", sorted(PINNED))
def test_constraint_count_is_pinned(model: str, profile: str) -> None:
    build = MarginCircuit.named(model, profile).build()
    assert (build.n_constraints, build.n_public) == PINNED[model, profile]


def test_every_pinned_standard_circuit_is_within_budget() -> None:
    assert all(n <= STANDARD_BUDGET for (_, profile), (n, _) in PINNED.items() if profile == "standard")

"""Constraint counts pinned per profile, so growth is visible in review (docs/circuits.md)."""

from __future__ import annotations

import pytest

from prover.circuits import MarginCircuit

#: (model, profile) -> (constraints with --O2, wires, public inputs)
PINNED = {
    ("portfolio", "small"): (20_346, 20_452, 3),
    ("portfolio", "standard"): (90_619, 91_257, 3),
}


@pytest.mark.parametrize("model,profile", sorted(PINNED))
def test_constraint_count_is_pinned(model: str, profile: str) -> None:
    build = MarginCircuit.named(model, profile).build()
    assert (build.n_constraints, build.header.n_wires, build.n_public) == PINNED[model, profile]

"""Constraint counts pinned per model and profile, so growth is visible in review (docs/circuits.md)."""

from __future__ import annotations

import pytest

from prover.circuits import MarginCircuit

#: (model, profile) -> (constraints with --O2, public inputs)
PINNED = {
    ("portfolio", "small"): (20_546, 3),
    ("cross", "small"): (17_322, 3),
    ("isolated", "small"): (18_922, 3),
    ("portfolio", "standard"): (91_227, 3),
    ("cross", "standard"): (77_891, 3),
    ("isolated", "standard"): (87_079, 3),
}


@pytest.mark.parametrize("model,profile", sorted(PINNED))
def test_constraint_count_is_pinned(model: str, profile: str) -> None:
    build = MarginCircuit.named(model, profile).build()
    assert (build.n_constraints, build.n_public) == PINNED[model, profile]

"""Circuit size profiles: the single source of truth for template parameters and public signals.

A profile fixes the padded shape of an account and a snapshot: position slots, scenarios, Merkle
depth, collateral assets, risk groups and haircut tiers. The circuit mains under
``circuits/main/`` are generated from this table (``zkmargin.circuitgen``), the engine pads to it,
and the prover, the verifier and the Solidity export read the public-signal order from here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from zkmargin import fixedpoint as fp
from zkmargin.account_tree import LEAF_ASSETS, LEAF_POSITIONS
from zkmargin.errors import InputError

#: Public signals of every margin circuit, in the order snarkjs lists them.
PUBLIC_SIGNALS: tuple[str, ...] = ("snapshot_root", "account_root", "holder", "threshold_bps")


@dataclass(frozen=True)
class Profile:
    """Sizes of one circuit instance (all static template parameters)."""

    name: str
    positions: int   # P: position slots
    scenarios: int   # S: risk scenarios per instrument
    depth: int       # D: instrument Merkle tree depth, 4-ary (4**D leaves, leaf 0 = null instrument)
    assets: int      # K: collateral assets
    groups: int      # G: risk groups an account may touch
    tiers: int       # T: haircut tiers per asset

    def __post_init__(self) -> None:
        assert 1 <= self.positions <= fp.MAX_POSITIONS
        assert 1 <= self.groups <= fp.MAX_GROUPS
        assert 1 <= self.assets <= fp.MAX_ASSETS
        assert 1 <= self.tiers <= 4 and 1 <= self.depth <= 16 and self.scenarios >= 1

    @property
    def template_args(self) -> list[int]:
        """Size arguments of the ``Margin`` template (after MODEL), in declaration order."""
        return [self.positions, self.scenarios, self.depth, self.assets, self.groups, self.tiers]

    def as_dict(self) -> dict[str, int | str]:
        return asdict(self)


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("small", positions=4, scenarios=16, depth=4, assets=4, groups=2, tiers=3),
        Profile("standard", positions=16, scenarios=32, depth=5, assets=8, groups=4, tiers=3),
    )
}


# one account leaf layout serves every circuit profile
assert all(p.positions <= LEAF_POSITIONS and p.assets <= LEAF_ASSETS for p in PROFILES.values())


def get_profile(name: str) -> Profile:
    """Look a profile up by name, with an error listing the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise InputError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}") from None

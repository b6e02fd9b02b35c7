"""Circuit size, compile only: constraints per profile, scaling with slots and depth, template costs.

Used by ``benchmarks/prove.py``. The scaling circuits are the portfolio main of
``zkmargin.circuitgen`` at profiles derived from ``standard`` (only the slot count or the tree depth
changes), compiled with ``--O1`` only: O2 keeps the non-linear constraints of O1 (to within 1%,
shown by the named profiles, compiled both ways) and takes minutes at these sizes. Template costs
compile one template as a main with ``--O2``. Builds are cached under ``<build>/bench``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import pairwise

from prover.build import CircuitBuild, Optimization, compile_circuit
from prover.circuits import MarginCircuit, include_dirs
from prover.r1cs import count_constraint_kinds
from zkmargin.book import null_slot
from zkmargin.circuitgen import PRAGMA, main_source
from zkmargin.account_tree import ACCOUNT_TREE_DEPTH
from zkmargin.commitment import leaf_fields
from zkmargin.paths import build_root
from zkmargin.profiles import PROFILES, Profile

MODEL = "portfolio"
SCALING_SLOTS = (4, 8, 16)  # the account leaf holds 16 slots (zkmargin.account_tree.LEAF_POSITIONS)
SCALING_DEPTHS = (5, 8)  # 4-ary: 1,024 and 65,536 instruments


@dataclass(frozen=True)
class Size:
    """Constraint counts of one circuit."""

    name: str
    slots: int
    depth: int
    nonlinear: int
    """Non-linear constraints of the O1 build."""
    linear: int
    """Linear constraints of the O1 build."""
    wires: int
    """Wires of the O1 build, or of the O2 build when there is one."""
    public: int
    o2: int | None = None
    """Constraints of the O2 (proving) build, all non-linear; None when not compiled."""

    @property
    def per_slot(self) -> float:
        """All-in constraints per position slot (O2 when compiled, else O1 non-linear)."""
        return (self.o2 if self.o2 is not None else self.nonlinear) / self.slots


def profile_size(name: str) -> Size:
    """The named profile's circuit compiled both ways (the same builds the prover and tests use)."""
    circuit = MarginCircuit.named(MODEL, name)
    o1, o2 = circuit.build(1), circuit.build(2)
    nonlinear, linear = count_constraint_kinds(o1.r1cs)
    return Size(name, circuit.profile.positions, circuit.profile.depth, nonlinear, linear,
                o2.header.n_wires, o2.n_public, o2.n_constraints)


def scaling_profiles() -> list[Profile]:
    """``standard`` with 4..16 slots at its depth, and with 4-ary depths 5 and 8 at its slot count."""
    base = PROFILES["standard"]
    by_slots = [replace(base, name=f"p{p}_d{base.depth}", positions=p) for p in SCALING_SLOTS]
    by_depth = [replace(base, name=f"p{base.positions}_d{d}", depth=d) for d in SCALING_DEPTHS]
    return list({p.name: p for p in by_slots + by_depth}.values())


def scaled_size(profile: Profile) -> Size:
    """Compile-only (O1) counts of the portfolio circuit at ``profile``."""
    build = compile_main(f"{MODEL}_{profile.name}", main_source(MODEL, profile), optimization=1)
    nonlinear, linear = count_constraint_kinds(build.r1cs)
    return Size(profile.name, profile.positions, profile.depth, nonlinear, linear,
                build.header.n_wires, build.n_public)


def marginal_per_slot(sizes: list[Size]) -> dict[str, float]:
    """Constraints each extra slot adds, between consecutive rows of equal depth (by name)."""
    marginal: dict[str, float] = {}
    for before, after in pairwise(sizes):
        if after.depth == before.depth and after.slots > before.slots:
            marginal[after.name] = (after.nonlinear - before.nonlinear) / (after.slots - before.slots)
    return marginal


def template_costs(profile: Profile) -> dict[str, int]:
    """O2 constraints of the per-slot templates at ``profile``'s sizes, and of the hash widths
    a cheaper design would use."""
    s, d, p, k = profile.scenarios, profile.depth, profile.positions, profile.assets
    leaf = len(leaf_fields(null_slot(s)))
    templates = {
        f"PositionSlot({s}, {d}): one slot's leaf, path and terms":
            ('include "fixedpoint_constants.circom";\ninclude "position.circom";',
             f"PositionSlot({s}, {d}, QTY_BITS())"),
        f"QuadMerkleRoot({d}): an instrument's path": ('include "merkle.circom";', f"QuadMerkleRoot({d})"),
        f"HashVector({leaf}): the instrument leaf hash": ('include "hash.circom";', f"HashVector({leaf})"),
        f"QuadMerkleRoot({ACCOUNT_TREE_DEPTH}): the account's path":
            ('include "merkle.circom";', f"QuadMerkleRoot({ACCOUNT_TREE_DEPTH})"),
        f"AccountLeaf({p}, {k}): the account leaf hash": ('include "account.circom";', f"AccountLeaf({p}, {k})"),
        f"CanonicalSlots({p}): slot order": ('include "account.circom";', f"CanonicalSlots({p})"),
        "Poseidon(4): a 4-ary tree node": ('include "poseidon.circom";', "Poseidon(4)"),
        "Num2Bits(48): one 48-bit range check": ('include "bitify.circom";', "Num2Bits(48)"),
    }
    costs = {}
    for label, (includes, component) in templates.items():
        name = "t_" + "".join(ch if ch.isalnum() else "_" for ch in component)
        source = f"{PRAGMA}\n\n{includes}\n\ncomponent main = {component};\n"
        costs[label] = compile_main(name, source, optimization=2).n_constraints
    return costs


def compile_main(name: str, source: str, *, optimization: Optimization) -> CircuitBuild:
    """Compile ``source`` as ``<build>/bench/mains/<name>/<name>.circom`` (cached by content)."""
    bench = build_root() / "bench"
    main = bench / "mains" / name / f"{name}.circom"
    main.parent.mkdir(parents=True, exist_ok=True)
    if not main.is_file() or main.read_text(encoding="utf-8") != source:
        main.write_text(source, encoding="utf-8")
    return compile_circuit(main, include_dirs=include_dirs(), build_root=bench / f"O{optimization}",
                           optimization=optimization)

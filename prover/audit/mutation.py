"""Check 5, under-constraint scan of the PROVEN (O2) constraint system.

For each valid witness, every private wire (private inputs and internal signals; wire 0 and the
public wires are fixed by the verifier) is perturbed by +1 and the constraints are re-checked. To
stay fast, the constraints are indexed by the wires they touch and each constraint's three linear
combinations are evaluated once per witness: perturbing wire w by one adds w's coefficients to
them, so only the constraints touching w are re-checked, each in O(1). A wire whose perturbation
keeps every constraint satisfied in every scanned witness is under-constrained: reported unless
the allowlist explains it (its subject is the wire's first signal name in the .sym).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from prover.audit.result import CheckResult, Finding
from prover.build import CircuitBuild
from prover.r1cs import R1cs, check_witness, parse_sym

TITLE = "Under-constraint scan (O2)"

Touch = tuple[int, int, int, int]
"""(constraint index, coefficient of the wire in A, in B, in C)."""


def index_constraints(r1cs: R1cs) -> list[list[Touch]]:
    """For every wire, the constraints it appears in with its three coefficients."""
    by_wire: list[dict[int, list[int]]] = [{} for _ in range(r1cs.header.n_wires)]
    for number, combinations in enumerate(r1cs.constraints):
        for side, (wires, coefficients) in enumerate(combinations):
            for wire, coefficient in zip(wires, coefficients):
                by_wire[wire].setdefault(number, [0, 0, 0])[side] += coefficient
    return [[(number, a, b, c) for number, (a, b, c) in touches.items()] for touches in by_wire]


def free_wires(r1cs: R1cs, touches: list[list[Touch]], witness: Sequence[int]) -> set[int]:
    """Private wires whose +1 perturbation of ``witness`` satisfies every constraint."""
    prime = r1cs.header.prime
    values = [tuple(sum(c * witness[w] for w, c in zip(*lc)) % prime for lc in constraint)
              for constraint in r1cs.constraints]
    first_private = 1 + r1cs.header.n_public
    free = set()
    for wire in range(first_private, r1cs.header.n_wires):
        if all(((values[n][0] + a) * (values[n][1] + b) - values[n][2] - c) % prime == 0
               for n, a, b, c in touches[wire]):
            free.add(wire)
    return free


def under_constraint_scan(build: CircuitBuild, r1cs: R1cs,
                          witnesses: Sequence[Sequence[int]]) -> CheckResult:
    """Scan each witness (they must satisfy ``r1cs``); report wires free in all of them."""
    started = time.monotonic()
    if not witnesses:
        return CheckResult("mutation", TITLE, error="no valid witness to perturb")
    broken = [n for n, witness in enumerate(witnesses) if check_witness(r1cs, witness)]
    if broken:
        return CheckResult("mutation", TITLE, error=f"witnesses {broken} violate the constraints")
    touches = index_constraints(r1cs)
    free = set.intersection(*(free_wires(r1cs, touches, witness) for witness in witnesses))
    names: dict[int, list[str]] = {}
    for name, wire in parse_sym(build.sym).items():
        names.setdefault(wire, []).append(name)
    findings = [Finding(min(names.get(wire, [f"wire {wire}"])),
                        f"wire {wire} ({', '.join(sorted(names.get(wire, ['unnamed']))[:3])}): "
                        "+1 keeps every constraint satisfied")
                for wire in sorted(free)]
    scanned = r1cs.header.n_wires - 1 - r1cs.header.n_public
    facts = [("wires perturbed", f"{scanned:,} private wires x {len(witnesses)} witnesses"),
             ("constraints", f"{r1cs.header.n_constraints:,}"),
             ("free in every witness", str(len(free)))]
    return CheckResult("mutation", TITLE, facts, findings,
                       {"scanned_wires": scanned, "witnesses": len(witnesses),
                        "free_wires": sorted(free)}, time.monotonic() - started)

"""Many distinct valid proofs from one: Groth16 re-randomisation, for load tests and the benchmark.

(A, B, C) verifies iff (A / 2^i, 2^i B, C) does (e(A/k, kB) = e(A, B)). Each variant is a
different proof (a different digest) of the same statement: the service stores each once.
"""

from __future__ import annotations

from collections.abc import Iterator

from py_ecc.optimized_bn128.optimized_curve import curve_order, double, multiply, normalize

from verifier.bn254 import g1_to_py, g2_to_py
from verifier.encoding import g1_to_json, g2_to_json
from verifier.proof import parse_proof
from zkmargin.bundle import Groth16Proof, ProofBundle

INV2 = pow(2, -1, curve_order)


def variants(bundle: ProofBundle, n: int) -> Iterator[ProofBundle]:
    """``n`` re-randomised copies of ``bundle`` (the first is the original), all valid."""
    p = parse_proof(bundle.proof.model_dump())
    a, b = g1_to_py(p.a), g2_to_py(p.b)
    for _ in range(n):
        (ax, ay), (bx, by) = normalize(a), normalize(b)
        proof = Groth16Proof(pi_a=g1_to_json((ax.n, ay.n)), pi_c=g1_to_json(p.c),
                             pi_b=g2_to_json(((bx.coeffs[0], bx.coeffs[1]), (by.coeffs[0], by.coeffs[1]))))
        yield bundle.model_copy(update={"proof": proof})
        a, b = multiply(a, INV2), double(b)

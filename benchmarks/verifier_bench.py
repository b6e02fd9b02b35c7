"""Time the pure-Python Groth16 verifier on the committed mul.circom fixtures.

Run from the repository root: ``python -m benchmarks.verifier_bench [--rounds N]``.

Measures a single verification with the cached e(alpha, beta) (three Miller loops) and without it
(four Miller loops, product compared to 1), the one-off cost of the cache, proof parsing (which
includes the G2 subgroup check), and batch verification per proof at sizes 10 and 100. The batch
proofs are distinct valid proofs made by re-randomising the fixtures:
A' = A/t, B' = t B + s delta, C' = C + (s/t) A.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from py_ecc.fields import optimized_bn128_FQ12 as FQ12
from py_ecc.optimized_bn128.optimized_curve import add, multiply, normalize

from verifier import (
    Proof,
    VerifyingKey,
    load_proof,
    load_public_signals,
    load_verifying_key,
    verify,
    verify_batch,
)
from verifier.bn254 import (
    CURVE_ORDER,
    PyG1,
    PyG2,
    final_exponentiate,
    g1_neg,
    g1_to_py,
    g2_to_py,
    miller_loop,
)
from verifier.groth16 import public_input_point

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "verifier" / "fixtures" / "mul"
Item = tuple[Proof, list[int]]


def _affine1(point: PyG1) -> tuple[int, int]:
    x, y = normalize(point)
    return (x.n, y.n)


def _affine2(point: PyG2) -> tuple[tuple[int, int], tuple[int, int]]:
    x, y = normalize(point)
    return ((int(x.coeffs[0]), int(x.coeffs[1])), (int(y.coeffs[0]), int(y.coeffs[1])))


def rerandomise(vk: VerifyingKey, proof: Proof) -> Proof:
    """Return a fresh valid proof of the same statement."""
    t = 1 + secrets.randbelow(CURVE_ORDER - 1)
    s = secrets.randbelow(CURVE_ORDER)
    t_inv = pow(t, -1, CURVE_ORDER)
    a = multiply(g1_to_py(proof.a), t_inv)
    b = add(multiply(g2_to_py(proof.b), t), multiply(g2_to_py(vk.delta_2), s))
    c = add(g1_to_py(proof.c), multiply(g1_to_py(proof.a), s * t_inv % CURVE_ORDER))
    return Proof(_affine1(a), _affine2(b), _affine1(c))


def verify_without_cache(vk: VerifyingKey, proof: Proof, public: list[int]) -> bool:
    """Verify in the four-Miller-loop form: ML(B,A) ML(beta,-alpha) ML(gamma,-vk_x) ML(delta,-C), FE, == 1."""
    product = (
        miller_loop(g2_to_py(proof.b), g1_to_py(proof.a))
        * miller_loop(g2_to_py(vk.beta_2), g1_neg(g1_to_py(vk.alpha_1)))
        * miller_loop(g2_to_py(vk.gamma_2), g1_neg(public_input_point(vk, public)))
        * miller_loop(g2_to_py(vk.delta_2), g1_neg(g1_to_py(proof.c)))
    )
    return bool(final_exponentiate(product) == FQ12.one())


def seconds(action: Callable[[], object], rounds: int) -> float:
    """Median wall time of ``rounds`` calls."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    """Print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="repetitions of each single-proof timing")
    rounds = parser.parse_args().rounds

    vk = load_verifying_key(FIXTURES / "verification_key.json")
    proof = load_proof(FIXTURES / "proof_1.json")
    public = load_public_signals(FIXTURES / "public_1.json")

    start = time.perf_counter()
    assert verify(vk, proof, public)
    print(f"first verify (computes and caches e(alpha,beta)): {time.perf_counter() - start:.3f} s")
    print(
        f"single verify, GT cache on  (3 Miller loops):   {seconds(lambda: verify(vk, proof, public), rounds):.3f} s"
    )
    assert verify_without_cache(vk, proof, public)
    cache_off = seconds(lambda: verify_without_cache(vk, proof, public), rounds)
    print(f"single verify, GT cache off (4 Miller loops):   {cache_off:.3f} s")
    load = seconds(lambda: load_proof(FIXTURES / "proof_1.json"), rounds)
    print(f"load_proof (parse + curve + G2 subgroup check): {load:.3f} s")

    items: list[Item] = [(rerandomise(vk, proof), public) for _ in range(100)]
    for size in (10, 100):
        start = time.perf_counter()
        assert verify_batch(vk, items[:size]) == [True] * size
        print(f"batch of {size:3d}, all valid: {(time.perf_counter() - start) / size:.3f} s per proof")
    bad = list(items)
    bad[37] = (bad[37][0], [public[0], public[1] + 1])
    start = time.perf_counter()
    assert verify_batch(vk, bad) == [index != 37 for index in range(100)]
    print(f"batch of 100, one invalid: {(time.perf_counter() - start) / 100:.3f} s per proof")


if __name__ == "__main__":
    main()

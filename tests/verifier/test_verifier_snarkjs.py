"""Cross-check against ``snarkjs groth16 verify`` (skipped where Node or snarkjs is absent)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from py_ecc.fields import optimized_bn128_FQ2 as FQ2

from verifier import Proof, VerifyingKey, verify_files
from verifier.bn254 import CURVE_ORDER, FIELD_MODULUS

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    shutil.which("npx") is None or not (REPO / "node_modules" / "snarkjs").is_dir(),
    reason="needs Node (npx) and the pinned snarkjs in node_modules (npm ci)",
)


def _snarkjs_verify(vk: Path, public: Path, proof: Path) -> bool:
    result = subprocess.run(
        ["npx", "--no-install", "snarkjs", "groth16", "verify", str(vk), str(public), str(proof)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    return result.returncode == 0


def _write(path: Path, obj: object) -> Path:
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("circuit", "n"), [("mul", 1), ("mul", 2), ("mul", 3), ("mul", 4), ("mul", 5), ("nopub", 1)]
)
def test_snarkjs_accepts_the_valid_fixtures_too(fixtures_dir: Path, circuit: str, n: int) -> None:
    vk, proof, public = (
        fixtures_dir / circuit / name
        for name in ("verification_key.json", f"proof_{n}.json", f"public_{n}.json")
    )
    assert verify_files(vk, proof, public)
    assert _snarkjs_verify(vk, public, proof)


def test_snarkjs_agrees_on_tampered_and_rewritten_proofs(
    tmp_path: Path, mul_vk: VerifyingKey, mul_items: list[tuple[Proof, list[int]]]
) -> None:
    vk = _write(tmp_path / "vk.json", mul_vk.to_json())
    (p1, s1), (p2, _) = mul_items[:2]
    lam = 31337
    g1_jacobian = p1.to_json()
    g1_jacobian["pi_a"] = [
        str(p1.a[0] * lam**2 % FIELD_MODULUS),
        str(p1.a[1] * lam**3 % FIELD_MODULUS),
        str(lam),
    ]
    mu = FQ2([lam, 7])
    g2_jacobian = p1.to_json()
    g2_jacobian["pi_b"] = [
        [str(c) for c in (FQ2(p1.b[0]) * mu**2).coeffs],
        [str(c) for c in (FQ2(p1.b[1]) * mu**3).coeffs],
        [str(c) for c in mu.coeffs],
    ]
    cases = [
        (g1_jacobian, s1, True),
        (g2_jacobian, s1, True),
        (p1.to_json(), [s1[1], s1[0]], False),
        (p1.to_json(), [s1[0], (s1[1] + 1) % CURVE_ORDER], False),
        (Proof(p1.a, p2.b, p1.c).to_json(), s1, False),
        (Proof(p1.a, p1.b, p2.c).to_json(), s1, False),
    ]
    for k, (proof_obj, public, expected) in enumerate(cases):
        proof = _write(tmp_path / f"proof_{k}.json", proof_obj)
        public_path = _write(tmp_path / f"public_{k}.json", [str(v) for v in public])
        assert verify_files(vk, proof, public_path) is expected, k
        assert _snarkjs_verify(vk, public_path, proof) is expected, k

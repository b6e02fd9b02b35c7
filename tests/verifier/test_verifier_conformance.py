"""Conformance: every verifier, through the API and the CLI, gives the same verdict on each case.

The cases (``fixtures/mul/conformance.json``) are edits of a snarkjs proof of the toy circuit
``mul.circom``, computed with ffjavascript (snarkjs's curve library) by ``conformance.cjs``, not by
this project's code: the valid proof, the malleated (-A, -B) one, doubled and negated points,
off-curve, non-canonical (+q), Fp2-swapped and outside-G2 points, and public signals +1, +r,
reordered, too few, too many and negative. Each case's verdict is valid (accept), invalid (a
well-formed proof that does not verify) or malformed (refused before any pairing). The CLI's plain
snarkjs mode must exit 0, 1 and 2 for them, printing one line.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import pytest
from click.testing import CliRunner

from prover.backends import VERIFIERS, proof_check
from verifier import verify_files
from zkmargin.bundle import Verifier
from zkmargin.cli import main
from zkmargin.errors import VerificationError

FIXTURES = Path(__file__).parent / "fixtures" / "mul"
VK = FIXTURES / "verification_key.json"
CASES: list[dict[str, Any]] = json.loads((FIXTURES / "conformance.json").read_text(encoding="utf-8"))
EXIT_CODES = {"valid": 0, "invalid": 1, "malformed": 2}

Verdict = Literal["valid", "invalid", "malformed"]


MISSING: dict[str, tuple[bool, str]] = {
    "py_ecc": (False, "pure Python, always available"),
    "native": (importlib.util.find_spec("groth16py") is None, "needs groth16py (pip install '.[native]')"),
    "snarkjs": (shutil.which("node") is None, "needs Node and the pinned snarkjs (npm ci)"),
}


BACKENDS = [
    pytest.param(name, marks=pytest.mark.skipif(MISSING[name][0], reason=MISSING[name][1])) for name in VERIFIERS
]
CASE_IDS = [case["name"] for case in CASES]


def _verdict(run: Callable[[], bool]) -> Verdict:
    try:
        return "valid" if run() else "invalid"
    except VerificationError:
        return "malformed"


@pytest.fixture(scope="module")
def checks() -> dict[Verifier, Callable[..., bool]]:
    """Each verifier bound to the toy key, built on first use."""
    return {}


def test_cases_cover_the_issue_list() -> None:
    verdicts = [case["verdict"] for case in CASES]
    assert len(CASES) >= 25 and verdicts.count("valid") == 2
    assert {"invalid", "malformed"} <= set(verdicts)


@pytest.mark.parametrize("verifier", BACKENDS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_api_verdict(case: dict[str, Any], verifier: Verifier, checks: dict[Verifier, Callable[..., bool]]) -> None:
    if verifier not in checks:
        checks[verifier] = proof_check(verifier, VK)
    public = [int(value) for value in case["public"]]
    assert _verdict(lambda: checks[verifier](case["proof"], public)) == case["verdict"]


@pytest.fixture
def case_files(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[Path, Path]:
    case: dict[str, Any] = request.param
    proof, public = tmp_path / "proof.json", tmp_path / "public.json"
    proof.write_text(json.dumps(case["proof"]), encoding="utf-8")
    public.write_text(json.dumps(case["public"]), encoding="utf-8")
    return proof, public


@pytest.mark.parametrize(("case_files", "verdict"), [(case, case["verdict"]) for case in CASES],
                         ids=CASE_IDS, indirect=["case_files"])
def test_file_api_verdict(case_files: tuple[Path, Path], verdict: Verdict) -> None:
    proof, public = case_files
    assert _verdict(lambda: verify_files(VK, proof, public)) == verdict


@pytest.mark.parametrize("verifier", BACKENDS)
@pytest.mark.parametrize(("case_files", "verdict"), [(case, case["verdict"]) for case in CASES],
                         ids=CASE_IDS, indirect=["case_files"])
def test_cli_exit_code_and_one_line(case_files: tuple[Path, Path], verdict: Verdict, verifier: Verifier,
                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proof, public = case_files
    monkeypatch.chdir(tmp_path)  # relative paths resolve against the caller's folder on every backend
    shutil.copy(VK, tmp_path / "verification_key.json")
    result = CliRunner().invoke(main, ["verify", "--vk", "verification_key.json", "--proof", proof.name,
                                       "--public", public.name, "--backend", verifier])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == EXIT_CODES[verdict], result.output
    assert len(result.output.strip().splitlines()) == 1, result.output

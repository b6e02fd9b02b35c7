"""Both proving backends against every verifier, on the small profile.

A proof from either prover (snarkjs, native) verifies under py_ecc, snarkjs and native, a tampered
one fails under all three, bundles record their backend, and without groth16py the native backend
says how to install it while snarkjs keeps working. Keys, snapshot and account are the session
fixtures of ``tests/conftest.py``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from prover.backends import BACKENDS, VERIFIERS, NativeBackend, proof_check
from prover.circuits import MarginCircuit
from prover.margin import MarginProver
from prover.setup import KeySet
from verifier import VerifyingKey
from verifier.bundle import Policy, ProofCheck, check_bundle
from verifier.native import snarkjs_proof
from zkmargin import fixedpoint as fp
from zkmargin.bundle import Backend, ProofBundle, Verifier
from zkmargin.cli import main
from zkmargin.errors import ProverError, ToolchainError, VerificationError
from zkmargin.io import save_model
from zkmargin.models import RiskSnapshot, Statement
from zkmargin.venue import EpochTree

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SMALL = MarginCircuit.named("portfolio", "small")

Proof = dict[str, Any]
Tamper = Callable[[Proof, list[int]], tuple[Proof, list[int]]]

TAMPERINGS: dict[str, Tamper] = {
    "A and C swapped": lambda proof, public: ({**proof, "pi_a": proof["pi_c"], "pi_c": proof["pi_a"]}, public),
    "other snapshot root": lambda proof, public: (proof, [public[0] + 1, *public[1:]]),
    "other account root": lambda proof, public: (proof, [public[0], public[1] + 1, *public[2:]]),
    "other holder": lambda proof, public: (proof, [*public[:2], public[2] + 1, public[3]]),
    "higher threshold": lambda proof, public: (proof, [*public[:3], public[3] + 1]),
}


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    name: Backend = request.param
    return name


@pytest.fixture(scope="session")
def backend_bundle(backend: Backend, keys: KeySet, statement: Statement, snapshot: RiskSnapshot) -> ProofBundle:
    return MarginProver(SMALL, keys, backend).prove(statement, snapshot, 15_000)


@pytest.fixture(scope="session")
def checks(keys: KeySet) -> dict[Verifier, ProofCheck]:
    return {name: proof_check(name, keys.vk) for name in VERIFIERS}


@pytest.fixture(scope="session")
def cli_bundle(backend: Backend, tmp_path_factory: pytest.TempPathFactory, keys: KeySet, published: Path) -> Path:
    out = tmp_path_factory.mktemp(f"cli-{backend}") / "proof.json"
    r = CliRunner().invoke(main, ["prove", str(published / "statements" / "naked_short_calls.json"),
                                  str(EXAMPLES / "snapshot_span16.json"), "--epoch-file", str(published / "epoch.json"),
                                  "-o", str(out), "--backend", backend])
    assert r.exit_code == 0, r.output
    return out


def test_bundle_records_its_backend(backend_bundle: ProofBundle, backend: Backend) -> None:
    assert backend_bundle.prover_backend == backend


@pytest.mark.parametrize("verifier", VERIFIERS)
def test_proof_verifies_under_every_verifier(backend_bundle: ProofBundle, checks: dict[Verifier, ProofCheck],
                                             verifier: Verifier) -> None:
    assert checks[verifier](backend_bundle.proof.model_dump(), backend_bundle.public_signals.as_list())


@pytest.mark.parametrize("verifier", VERIFIERS)
@pytest.mark.parametrize("tamper", TAMPERINGS.values(), ids=TAMPERINGS.keys())
def test_tampered_proof_fails_under_every_verifier(backend_bundle: ProofBundle, checks: dict[Verifier, ProofCheck],
                                                   verifier: Verifier, tamper: Tamper) -> None:
    proof, public = tamper(backend_bundle.proof.model_dump(), backend_bundle.public_signals.as_list())
    assert not checks[verifier](proof, public)


@pytest.mark.parametrize("verifier", VERIFIERS)
def test_public_input_at_or_above_r_is_malformed(backend_bundle: ProofBundle, checks: dict[Verifier, ProofCheck],
                                                 verifier: Verifier) -> None:
    public = backend_bundle.public_signals.as_list()
    public[2] += fp.R
    with pytest.raises(VerificationError):
        checks[verifier](backend_bundle.proof.model_dump(), public)


@pytest.mark.parametrize("verifier", VERIFIERS)
def test_bundle_meets_a_policy_under_every_verifier(backend_bundle: ProofBundle, vk: VerifyingKey,
                                                    checks: dict[Verifier, ProofCheck], verifier: Verifier,
                                                    statement: Statement, epoch: EpochTree,
                                                    venue_key: Ed25519PrivateKey, snapshot: RiskSnapshot) -> None:
    policy = Policy(snapshot, epoch.epoch, venue_key.public_key(), "portfolio", frozenset({statement.holder}), 15_000)
    verdict = check_bundle(backend_bundle, vk, policy, checks[verifier])
    assert verdict.ok, verdict.reason


@pytest.mark.parametrize("verifier", VERIFIERS)
def test_cli_verifies_a_bundle_from_either_backend(cli_bundle: Path, keys: KeySet, verifier: Verifier,
                                                  published: Path) -> None:
    holder = json.loads((published / "statements" / "naked_short_calls.json").read_text())["holder"]
    args = ["verify", str(cli_bundle), "--snapshot", str(EXAMPLES / "snapshot_span16.json"), "--vk", str(keys.vk),
            "--backend", verifier, "--epoch-file", str(published / "epoch.json"), "--venue-key",
            str(published / "venue.pub"), "--holder", holder, "--model", "portfolio"]
    ok = CliRunner().invoke(main, args)
    assert ok.exit_code == 0 and ok.output.startswith("valid:"), ok.output
    bad = CliRunner().invoke(main, [*args, "--min-threshold", "99999"])
    assert bad.exit_code == 1 and bad.output.startswith("invalid: proven threshold")


def test_native_key_is_imported_once_per_process(keys: KeySet) -> None:
    assert NativeBackend(keys.zkey).key is NativeBackend(keys.zkey).key


def test_native_refuses_a_witness_of_the_wrong_size(keys: KeySet) -> None:
    with pytest.raises(ProverError, match="the witness has 3 values"):
        NativeBackend(keys.zkey).prove([1, 2, 3])


def test_native_proof_of_the_wrong_length_is_malformed() -> None:
    with pytest.raises(VerificationError, match="255 bytes"):
        snarkjs_proof(bytes(255))


def test_without_groth16py_native_says_how_to_install_and_snarkjs_still_proves(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, keys: KeySet, statement: Statement, snapshot: RiskSnapshot,
        bundle: ProofBundle, published: Path) -> None:
    saved = tmp_path / "bundle.json"
    save_model(bundle, saved)
    monkeypatch.setitem(sys.modules, "groth16py", None)
    with pytest.raises(ToolchainError, match=r"pip install '\.\[native\]'"):
        MarginProver(SMALL, keys, "native")
    snap = str(EXAMPLES / "snapshot_span16.json")
    epoch_file = str(published / "epoch.json")
    for args in (["prove", str(published / "statements" / "hedged_market_maker.json"), snap, "--epoch-file",
                  epoch_file, "-o", str(tmp_path / "p.json"), "--backend", "native"],
                 ["verify", str(saved), "--snapshot", snap, "--vk", str(keys.vk), "--backend", "native",
                  "--epoch-file", epoch_file, "--venue-key", str(published / "venue.pub"), "--model", "portfolio",
                  "--holder", str(statement.holder)]):
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 2 and "pip install '.[native]'" in r.output, r.output
        assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output
    assert MarginProver(SMALL, keys).prove(statement, snapshot, 15_000).prover_backend == "snarkjs"

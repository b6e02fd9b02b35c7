"""Verifying many proof bundles: policy checks here, pairings batched in chunks across processes.

Each bundle is read (a truncated or malformed file fails by name), then checked against the
policy (verifying-key fingerprint, snapshot root recomputed once per profile, expected account
commitment, least threshold), then its proof joins a chunk. With the py_ecc verifier every chunk
is one random-linear-combination batch (:func:`verifier.verify_batch`: n + 2 Miller loops, one
final exponentiation, bisected to the failing proofs); the native and snarkjs verifiers check
the chunk's proofs one by one. Chunks run in a pool of processes that load the key once; a
single chunk runs in this process.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from prover.backends import proof_check
from prover.batch_files import BUNDLE_SUFFIX, bundle_files
from prover.batch_pool import run_pool
from verifier import Proof, load_verifying_key, parse_proof, verify_batch
from verifier.bundle import Policy, check_policy
from verifier.groth16 import check_public_inputs
from zkmargin.bundle import ProofBundle, Verifier
from zkmargin.commitment import SnapshotCommitment
from zkmargin.errors import InputError, VerificationError
from zkmargin.files import FIELD_DECIMAL, read_input
from zkmargin.io import load_model
from zkmargin.models import RiskSnapshot
from zkmargin.profiles import get_profile

CHUNK_SIZE = 32
"""Proofs per batched pairing check (one final exponentiation each)."""

Item = tuple[str, dict[str, object], list[int]]
"""(account, snarkjs proof, public signals): one proof to pair."""


@dataclass(frozen=True)
class BundleCheck:
    """The verdict on one account's bundle."""

    name: str
    ok: bool
    reason: str


def verify_folder(
    out_dir: Path,
    snapshot: RiskSnapshot,
    vk_path: Path,
    *,
    commitments: Mapping[str, int] | None,
    min_threshold_bps: int,
    workers: int,
    model: str | None = None,
    verifier: Verifier = "py_ecc",
) -> list[BundleCheck]:
    """Check every ``*.proof.json`` in ``out_dir``, by account name. With ``commitments``
    (account -> expected commitment), a listed account without a bundle and a bundle of an
    unlisted account fail too."""
    paths = bundle_files(out_dir)
    if not paths and not commitments:
        raise InputError(f"{out_dir}: no *{BUNDLE_SUFFIX} bundles")
    checks: dict[str, BundleCheck] = {}
    if commitments is not None:
        checks |= {name: BundleCheck(name, False, "no bundle") for name in commitments if name not in paths}
        checks |= {name: BundleCheck(name, False, "account is not in the commitments file")
                   for name in paths if name not in commitments}
    listed = {name: path for name, path in paths.items() if name not in checks}
    checks |= check_bundles(listed, vk_path, snapshot, expected=commitments or {},
                            min_threshold_bps=min_threshold_bps, workers=workers, model=model,
                            verifier=verifier)
    return [checks[name] for name in sorted(checks)]


def load_commitments(path: Path) -> dict[str, int]:
    """A JSON object ``{"<account>": "<commitment>"}`` (decimal field elements)."""
    try:
        data = json.loads(read_input(path, "commitments"))
    except ValueError as e:
        raise InputError(f"{path}: malformed JSON: {e}") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) and FIELD_DECIMAL.fullmatch(v) for v in data.values()):
        raise InputError(f'{path}: expected a JSON object {{"<account>": "<decimal commitment>"}} '
                         "(decimal strings of at most 78 digits)")
    return {name: int(value) for name, value in data.items()}


def check_bundles(
    paths: Mapping[str, Path],
    vk_path: Path,
    snapshot: RiskSnapshot,
    *,
    expected: Mapping[str, int],
    min_threshold_bps: int,
    workers: int,
    model: str | None = None,
    verifier: Verifier = "py_ecc",
) -> dict[str, BundleCheck]:
    """Check the bundle of each account in ``paths``; ``expected`` gives account commitments
    (accounts absent from it are not checked for one), ``model`` the required margin model,
    ``verifier`` who checks the proofs (py_ecc: batched; native or snarkjs: one by one)."""
    local = ChunkVerifier(vk_path, verifier)  # here first: a missing verifier fails before any work
    roots: dict[str, int] = {}
    checks: dict[str, BundleCheck] = {}
    items: list[Item] = []
    for name, path in paths.items():
        try:
            bundle = load_model(ProofBundle, path)
            if bundle.profile not in roots:
                roots[bundle.profile] = SnapshotCommitment(snapshot, get_profile(bundle.profile)).root
        except InputError as e:
            checks[name] = BundleCheck(name, False, f"unreadable bundle: {e}")
            continue
        policy = Policy(snapshot, expected.get(name), min_threshold_bps, model)
        verdict = check_policy(bundle, local.vk, policy, roots[bundle.profile])
        if verdict.ok:
            items.append((name, bundle.proof.model_dump(), bundle.public_signals.as_list()))
        else:
            checks[name] = BundleCheck(name, False, verdict.reason)
    chunks = [items[i:i + CHUNK_SIZE] for i in range(0, len(items), CHUNK_SIZE)]
    if len(chunks) <= 1 or workers <= 1:
        checks |= {check.name: check for chunk in chunks for check in local.verify(chunk)}
    else:
        def give_up(chunk: list[Item], deaths: int) -> None:
            checks.update({name: BundleCheck(name, False, f"verifier process died {deaths} times")
                           for name, _, _ in chunk})

        run_pool(chunks, verify_chunk, workers=workers, initializer=init_verifier, initargs=(vk_path, verifier),
                 on_result=lambda _chunk, done, _runs: checks.update({check.name: check for check in done}),
                 on_give_up=give_up)
    return {name: checks[name] for name in paths}


class ChunkVerifier:
    """Verifies chunks of proofs under one key, loaded once."""

    def __init__(self, vk_path: Path, verifier: Verifier) -> None:
        self.vk = load_verifying_key(vk_path)
        self.check = None if verifier == "py_ecc" else proof_check(verifier, vk_path)

    def verify(self, chunk: list[Item]) -> list[BundleCheck]:
        """One py_ecc batch for the chunk (or one check per proof); a malformed proof or public
        signal fails alone."""
        checks: list[BundleCheck] = []
        parsed: list[tuple[str, Proof, list[int]]] = []
        for name, proof, public in chunk:
            try:
                signals = check_public_inputs(self.vk, public, "public signals")
                if self.check is None:
                    parsed.append((name, parse_proof(proof), signals))
                else:
                    checks.append(_verdict(name, self.check(proof, signals)))
            except VerificationError as e:
                checks.append(BundleCheck(name, False, f"malformed proof: {e}"))
        results = verify_batch(self.vk, [(proof, signals) for _, proof, signals in parsed])
        return checks + [_verdict(name, ok) for (name, _, _), ok in zip(parsed, results, strict=True)]


def _verdict(name: str, valid: bool) -> BundleCheck:
    return BundleCheck(name, valid, "valid" if valid else "the Groth16 proof does not verify for its public signals")


_verifier: ChunkVerifier | None = None
"""This pool process's verifier, built once by :func:`init_verifier`."""


def init_verifier(vk_path: Path, verifier: Verifier) -> None:
    """Pool initializer: load the key (and the verifier) once per process."""
    global _verifier
    _verifier = ChunkVerifier(vk_path, verifier)


def verify_chunk(chunk: list[Item]) -> list[BundleCheck]:
    """Pool task: verify one chunk with this process's verifier."""
    if _verifier is None:
        raise VerificationError("verifier process was not initialized")
    return _verifier.verify(chunk)

"""Verifying many proof bundles: policy checks here, pairings batched in chunks across processes.

Each bundle is read (a truncated or malformed file fails by name), then checked against the
verifier policy of :mod:`verifier.bundle` (the venue's signature on the epoch, the trusted key's
fingerprint and model, the epoch's snapshot root, recomputed once per profile, and account root,
the expected holders, the least threshold), then its proof joins a chunk. With the py_ecc verifier
every chunk is one random-linear-combination batch (:func:`verifier.verify_batch`: n + 2 Miller
loops, one final exponentiation, bisected to the failing proofs); the native and snarkjs verifiers
check the chunk's proofs one by one. Chunks run in a pool of processes that load the key once; a
single chunk runs in this process. Every verdict names the holder the bundle claims.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from prover.backends import proof_check
from prover.batch_files import BUNDLE_SUFFIX, bundle_files
from prover.batch_pool import run_pool
from verifier import Proof, load_verifying_key, parse_proof, verify_batch
from verifier.bundle import Policy, check_policy
from verifier.groth16 import check_public_inputs
from zkmargin.bundle import ProofBundle, Verifier
from zkmargin.commitment import SnapshotCommitment
from zkmargin.errors import InputError, VerificationError
from zkmargin.files import read_input
from zkmargin.io import load_model
from zkmargin.models import Epoch, RiskSnapshot
from zkmargin.models.types import format_holder, holder_from_text
from zkmargin.profiles import get_profile

CHUNK_SIZE = 32
"""Proofs per batched pairing check (one final exponentiation each)."""

Item = tuple[str, dict[str, object], list[int]]
"""(account, snarkjs proof, public signals): one proof to pair."""


@dataclass(frozen=True)
class BundleCheck:
    """The verdict on one account's bundle, with the holder it claims (None: none read)."""

    name: str
    ok: bool
    reason: str
    holder: int | None = None

    def line(self) -> str:
        """``<account>: holder <H>: valid`` or ``...: invalid: <reason>`` (one line)."""
        holder = "" if self.holder is None else f" holder {format_holder(self.holder)}:"
        return f"{self.name}:{holder} {'valid' if self.ok else 'invalid: ' + self.reason}"


@dataclass(frozen=True)
class BatchPolicy:
    """The verifier policy of a batch: one :class:`~verifier.bundle.Policy` per bundle, all alike
    but for the holders they accept.

    ``holders`` is one set for every bundle (the verifier's expected holders), the holder of each
    account by name (a prover checking its own earlier bundles against the venue's statements), or
    None for any holder, spelled out by the caller (each bundle's holder is still reported).
    """

    snapshot: RiskSnapshot
    epoch: Epoch
    venue_key: Ed25519PublicKey
    model: str
    min_threshold_bps: int
    holders: frozenset[int] | Mapping[str, int] | None

    def __post_init__(self) -> None:
        if self.holders is not None and not self.holders:
            raise InputError("a batch policy names the holders it expects (or accepts any holder explicitly)")

    def for_bundle(self, name: str, holder: int) -> Policy | None:
        """The policy of account ``name``'s bundle, which claims ``holder``; None if the policy
        expects no bundle of that account."""
        if self.holders is None:
            accepted = frozenset({holder})
        elif isinstance(self.holders, frozenset):
            accepted = self.holders
        elif name in self.holders:
            accepted = frozenset({self.holders[name]})
        else:
            return None
        return Policy(self.snapshot, self.epoch, self.venue_key, self.model, accepted, self.min_threshold_bps)


def verify_folder(out_dir: Path, vk_path: Path, policy: BatchPolicy, *, workers: int,
                  verifier: Verifier = "py_ecc") -> list[BundleCheck]:
    """Check every ``*.proof.json`` in ``out_dir``, by account name. With a set of expected
    holders, an expected holder without a valid bundle fails too (named ``holder <H>``)."""
    paths = bundle_files(out_dir)
    if not paths:
        raise InputError(f"{out_dir}: no *{BUNDLE_SUFFIX} bundles")
    checks = check_bundles(paths, vk_path, policy, workers=workers, verifier=verifier)
    found = {check.holder for check in checks.values() if check.ok}
    missing = sorted(policy.holders - found) if isinstance(policy.holders, frozenset) else []
    lost = [BundleCheck(f"holder {format_holder(h)}", False, "no valid bundle for this expected holder")
            for h in missing]
    return [checks[name] for name in sorted(checks)] + lost


def load_holders(path: Path) -> frozenset[int]:
    """Expected holders: a JSON list, or one per line (EVM addresses ``0x...`` or decimals)."""
    try:
        text = read_input(path, "holders").decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except ValueError as e:
            raise InputError(f"{path}: malformed JSON: {e}") from None
        if not all(isinstance(item, str) or type(item) is int for item in items):
            raise InputError(f"{path}: expected a JSON list of holders (strings: 0x addresses or decimals)")
        values = [str(item) for item in items]
    else:
        values = [line.strip() for line in text.splitlines() if line.strip()]
    if not values:
        raise InputError(f"{path}: no holders (a JSON list, or one per line)")
    return frozenset(_holder(value, path) for value in values)


def _holder(value: str, path: Path) -> int:
    """One holder of the file ``path`` as a field element (InputError naming it)."""
    try:
        return holder_from_text(value)
    except ValueError as e:
        raise InputError(f"{path}: holder {value[:80]!r}: {e}") from None


def check_bundles(paths: Mapping[str, Path], vk_path: Path, policy: BatchPolicy, *, workers: int,
                  verifier: Verifier = "py_ecc") -> dict[str, BundleCheck]:
    """Check the bundle of each account in ``paths`` against ``policy``; ``verifier`` checks the
    proofs (py_ecc: batched; native or snarkjs: one by one)."""
    local = ChunkVerifier(vk_path, verifier)  # here first: a missing verifier fails before any work
    roots: dict[str, int] = {}
    checks: dict[str, BundleCheck] = {}
    holders: dict[str, int] = {}
    items: list[Item] = []
    for name, path in paths.items():
        try:
            bundle = load_model(ProofBundle, path)
            if bundle.profile not in roots:
                roots[bundle.profile] = SnapshotCommitment(policy.snapshot, get_profile(bundle.profile)).root
        except InputError as e:
            checks[name] = BundleCheck(name, False, f"unreadable bundle: {e}")
            continue
        holders[name] = holder = int(bundle.public_signals.holder)
        expected = policy.for_bundle(name, holder)
        verdict = (check_policy(bundle, local.vk, expected, roots[bundle.profile]) if expected is not None
                   else None)
        if verdict is None:
            checks[name] = BundleCheck(name, False, "no bundle of this account is expected", holder)
        elif verdict.ok:
            items.append((name, bundle.proof.model_dump(), bundle.public_signals.as_list()))
        else:
            checks[name] = BundleCheck(name, False, verdict.reason, holder)
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
    return {name: _with_holder(checks[name], holders.get(name)) for name in paths}


def _with_holder(check: BundleCheck, holder: int | None) -> BundleCheck:
    return check if check.holder is not None or holder is None else BundleCheck(check.name, check.ok,
                                                                                 check.reason, holder)


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

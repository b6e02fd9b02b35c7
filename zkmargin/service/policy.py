"""What the service accepts, and the verification of one submission against it.

A :class:`ServiceConfig` is the fail-closed policy of the risk desk: the venue's public key, the
accepted circuits by verifying-key fingerprint, the margin model it requires, and the registered
holders with the minimum threshold each must prove (bps of maintenance margin). Nothing comes from
the bundle: an unknown key, an unregistered holder, an epoch the venue has not signed (or whose
snapshot the service has not checked) is refused with one line.

A proof that verifies but proves less than the holder's minimum is *kept*: it is the holder's
proven health, and the holder is in margin call for that epoch.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from verifier import VerifyingKey, load_verifying_key
from verifier.bundle import Policy, ProofCheck, check_bundle
from zkmargin.bundle import ProofBundle
from zkmargin.commitment import SnapshotCommitment
from zkmargin.errors import InputError, ToolchainError, VerificationError
from zkmargin.io import parse_model
from zkmargin.models import Epoch, RiskSnapshot
from zkmargin.models.types import format_holder, holder_from_text
from zkmargin.profiles import get_profile
from zkmargin.service.store import StoredProof
from zkmargin.venue import check_epoch_signature

PairingBackend = Literal["native", "py_ecc"]
M = TypeVar("M", ProofBundle, Epoch, RiskSnapshot)


class Refused(InputError):
    """A submission the service refuses; ``status`` is the HTTP code (4xx), the message one line."""

    def __init__(self, message: str, status: int = 422, digest: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.digest = digest


@dataclass(frozen=True)
class TrustedKey:
    """An accepted circuit: its verifying key and the pairing check bound to it."""

    vk: VerifyingKey
    check: ProofCheck | None  # None: py_ecc with ``vk``


def default_backend() -> PairingBackend:
    """native (groth16py) when installed, py_ecc otherwise."""
    try:
        import groth16py  # noqa: F401
    except ImportError:
        return "py_ecc"
    return "native"


def load_registry(path: Path) -> dict[str, int]:
    """``holders.json``: {holder (0x address or decimal): minimum threshold in bps}; keys normalised."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: {e}") from None
    if not isinstance(raw, dict) or not raw:
        raise InputError(f"{path}: a JSON object of holder -> minimum threshold (bps), at least one holder")
    registry = {}
    for holder, bps in raw.items():
        try:
            key = format_holder(holder_from_text(holder))
        except ValueError as e:
            raise InputError(f"{path}: holder {holder!r}: {e}") from None
        if type(bps) is not int or not 1 <= bps < 2**20:
            raise InputError(f"{path}: holder {holder}: the minimum threshold is an integer in [1, 2^20) bps")
        registry[key] = bps
    return registry


@dataclass
class ServiceConfig:
    """The risk desk's policy (see the module docstring); ``window_s``: seconds a holder has to prove after an epoch is posted."""

    venue_key: Ed25519PublicKey
    keys: Mapping[str, TrustedKey]      # by verifying-key fingerprint
    model: str
    registry: Mapping[str, int]         # holder (format_holder) -> minimum threshold, bps
    window_s: float = 3600.0
    backend: PairingBackend = "py_ecc"

    @classmethod
    def build(cls, venue_key: Ed25519PublicKey, vk_files: list[Path], model: str, registry: Mapping[str, int],
              window_s: float, backend: PairingBackend) -> ServiceConfig:
        """Load the trusted keys (each with the ``backend`` pairing); InputError names a bad file."""
        if not vk_files:
            raise InputError("give at least one trusted --vk verification_key.json")
        keys: dict[str, TrustedKey] = {}
        for path in vk_files:
            try:
                vk = load_verifying_key(path)
                check = None
                if backend == "native":
                    from verifier.native import NativeVerifier

                    check = NativeVerifier(path).verify
            except (VerificationError, ToolchainError) as e:
                raise InputError(f"--vk {path}: {e}") from None
            keys[vk.fingerprint()] = TrustedKey(vk, check)
        return cls(venue_key, keys, model, dict(registry), window_s, backend)


def proof_digest(bundle: ProofBundle) -> str:
    """SHA-256 of what a proof attests (key fingerprint, public signals, proof): metadata aside,
    the same proof submitted twice has the same digest."""
    content = {"vk": bundle.vk_fingerprint, "public": bundle.public_signals.model_dump(),
               "proof": bundle.proof.model_dump()}
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class EpochPolicy:
    """A posted epoch with its checked snapshot: the verifier policy and the snapshot roots per profile."""

    policy: Policy
    roots: Mapping[str, int]


@dataclass
class Verifier:
    """Checks epochs, snapshots and proofs against a :class:`ServiceConfig` (thread-safe)."""

    config: ServiceConfig
    _policies: dict[int, EpochPolicy] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check_epoch(self, raw: bytes) -> Epoch:
        """The posted ``epoch.json``, its signature checked against the venue key; Refused otherwise."""
        epoch = _parse(Epoch, raw, "epoch")
        try:
            check_epoch_signature(epoch, self.config.venue_key)
        except InputError as e:
            raise Refused(str(e)) from None
        return epoch

    def check_snapshot(self, snapshot: RiskSnapshot, epoch: Epoch) -> EpochPolicy:
        """The policy of ``epoch`` if the snapshot's root under every profile it signs is the signed root."""
        if snapshot.epoch != epoch.epoch:
            raise Refused(f"snapshot of epoch {snapshot.epoch}, not {epoch.epoch}")
        roots = {}
        for name, signed in epoch.snapshot_roots.items():
            try:
                root = SnapshotCommitment(snapshot, get_profile(name)).root
            except InputError as e:
                raise Refused(f"epoch {epoch.epoch} signs profile {name!r}: {e}") from None
            if root != signed:
                raise Refused(f"snapshot root {root} under profile {name} is not the root the venue signed for epoch "
                              f"{epoch.epoch} ({signed})")
            roots[name] = root
        return self.remember(epoch, snapshot, roots)

    def remember(self, epoch: Epoch, snapshot: RiskSnapshot, roots: Mapping[str, int]) -> EpochPolicy:
        """Cache the verifier policy of an epoch whose snapshot was checked."""
        policy = Policy(snapshot, epoch, self.config.venue_key, self.config.model,
                        frozenset(holder_from_text(h) for h in self.config.registry), 1)
        entry = EpochPolicy(policy, dict(roots))
        with self._lock:
            self._policies[epoch.epoch] = entry
        return entry

    def policy(self, epoch: int) -> EpochPolicy | None:
        with self._lock:
            return self._policies.get(epoch)

    def parse_bundle(self, raw: bytes) -> ProofBundle:
        return _parse(ProofBundle, raw, "proof bundle")

    def check_proof(self, bundle: ProofBundle, entry: EpochPolicy) -> StoredProof:
        """Verify ``bundle`` under the epoch's policy (the holder's minimum applied afterwards); Refused if invalid."""
        digest = proof_digest(bundle)
        key = self.config.keys.get(bundle.vk_fingerprint)
        if key is None:
            raise Refused(f"proof was made for verifying key {bundle.vk_fingerprint[:16]}..., not a key this "
                          f"service trusts", digest=digest)
        try:
            verdict = check_bundle(bundle, key.vk, entry.policy, key.check, entry.roots.get(bundle.profile))
        except VerificationError as e:
            raise Refused(str(e), digest=digest) from None
        if not verdict.ok:
            raise Refused(verdict.reason, digest=digest)
        holder = format_holder(int(bundle.public_signals.holder))
        proven, required = int(bundle.public_signals.threshold_bps), self.config.registry[holder]
        return StoredProof(digest, bundle.epoch, holder, proven, required, proven >= required, time.time())


def _parse(model: type[M], raw: bytes, what: str) -> M:
    try:
        return parse_model(model, raw, source=what)
    except InputError as e:
        raise Refused(str(e)) from None

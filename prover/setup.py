"""Groth16 circuit-specific setup (phase 2) and the key manifest that ties keys to sources.

:func:`setup_keys` runs ``groth16 setup`` on a prepared ptau, one secret contribution, a public
beacon and ``zkey verify`` against the r1cs and the ptau, then exports the verification key and
writes ``manifest.json``: the circuit id, the build's source hash, the sha256 of every artefact
(r1cs, wasm, zkey, verification key, ptau) and the tool versions. An auditor recomputes these
hashes to check that a proving key belongs to a circuit. If a manifest already matches the current
inputs and outputs, nothing is rerun.

The ptau side (size rule, lookup, dev generation) lives in :mod:`prover.ptau`; its
:func:`resolve_ptau` and :func:`required_power` are re-exported here for callers of setup.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prover import snarkjs
from prover.build import CircuitBuild
from prover.cache import cached_sha256, exclusive_lock, sha256_file, sweep_scratch
from prover.progress import StepReporter
from prover.ptau import check_ptau, required_power, resolve_ptau
from prover.toolchain import PROJECT_ROOT, locked_version
from zkmargin.errors import ProverError
from zkmargin.files import read_input, require_regular_file
from zkmargin.io import dump_json

__all__ = [
    "DEV_KEY_BEACON",
    "MANIFEST_NAME",
    "VK_NAME",
    "KeySet",
    "key_manifest",
    "read_keys",
    "required_power",
    "resolve_ptau",
    "setup_keys",
    "write_manifest",
]

MANIFEST_NAME = "manifest.json"
VK_NAME = "verification_key.json"
MANIFEST_VERSION = 1
SETUP_LOCK = ".setup.lock"
SETUP_SCRATCH = "setup-"
"""Prefix of a running setup's scratch folder in the keys folder (a killed one's is swept)."""
SETUP_SECONDS_PER_CONSTRAINT = 0.0055
"""Setup wall time per constraint for the estimate: 113 s for the 20,546 of portfolio_small on a
shared 2-core VM (most of it snarkjs's zkey verify and contribution, linear in the size)."""

DEV_KEY_BEACON = hashlib.sha256(b"zkmargin development phase-2 beacon").hexdigest()
"""Default public phase-2 beacon hash, fixed and derivable by anyone: fine for development only.
A production setup passes a beacon nobody could know in advance (e.g. a future block hash)."""

DEV_BEACON_ITERATIONS_EXP = 10
"""The beacon is hashed 2^10 times: enough for development, production uses far more."""


@dataclass(frozen=True)
class KeySet:
    """The proving and verification keys of one circuit, with the manifest that describes them."""

    circuit_id: str
    zkey: Path
    vk: Path
    manifest_path: Path
    manifest: dict[str, Any]
    cached: bool
    """True when existing keys matched the manifest and nothing was rerun."""
    seconds: float
    """Wall time of this call."""


def setup_keys(
    build: CircuitBuild,
    ptau: Path,
    out_dir: Path,
    *,
    circuit_id: str,
    contribution_entropy: str | None = None,
    beacon: str = DEV_KEY_BEACON,
    beacon_iterations_exp: int = DEV_BEACON_ITERATIONS_EXP,
) -> KeySet:
    """Make or reuse ``<out_dir>/<circuit_id>.zkey``, ``verification_key.json``, ``manifest.json``.

    ``contribution_entropy`` seeds the phase-2 contribution (fresh ``secrets`` randomness if None;
    it reaches snarkjs on stdin and is never written anywhere). ``beacon`` is the hex beacon hash,
    applied with 2^``beacon_iterations_exp`` iterations. Raises InputError if ``ptau`` is not a
    prepared BN254 ptau big enough for the circuit, ProverError if a snarkjs step fails.
    """
    started = time.monotonic()
    ptau_info = check_ptau(ptau, required_power(build.header))
    out_dir.mkdir(parents=True, exist_ok=True)
    zkey, vk, manifest_path = (
        out_dir / f"{circuit_id}.zkey",
        out_dir / VK_NAME,
        out_dir / MANIFEST_NAME,
    )
    inputs = _setup_inputs(build, ptau, circuit_id, beacon, beacon_iterations_exp)
    with exclusive_lock(out_dir / SETUP_LOCK, waiting=f"waiting for another setup of {circuit_id} to finish"):
        sweep_scratch(out_dir, SETUP_SCRATCH)  # a killed setup's partial keys
        manifest = _matching_manifest(manifest_path, inputs, zkey, vk)
        cached = manifest is not None
        if manifest is None:
            manifest_path.unlink(missing_ok=True)
            _make_keys(
                build,
                ptau,
                zkey,
                vk,
                circuit_id=circuit_id,
                entropy=contribution_entropy or secrets.token_hex(32),
                beacon=beacon,
                beacon_iterations_exp=beacon_iterations_exp,
            )
            manifest = key_manifest(
                inputs=inputs,
                zkey=zkey,
                vk=vk,
                ptau_file=ptau.name,
                ptau_power=ptau_info.power,
                constraints=build.n_constraints,
                public_signals=build.n_public,
                optimization=f"O{build.optimization}",
                compiler_version=build.compiler_version,
            )
            write_manifest(manifest_path, manifest)
    return KeySet(circuit_id, zkey, vk, manifest_path, manifest, cached, time.monotonic() - started)


def _make_keys(
    build: CircuitBuild,
    ptau: Path,
    zkey: Path,
    vk: Path,
    *,
    circuit_id: str,
    entropy: str,
    beacon: str,
    beacon_iterations_exp: int,
) -> None:
    """setup -> contribution -> beacon -> verify into ``zkey``, then export ``vk``, each step
    announced on stderr; the intermediate zkeys live in a scratch dir and are deleted (by the next
    setup if this one is killed)."""
    steps = StepReporter(f"setup {circuit_id}", 5, SETUP_SECONDS_PER_CONSTRAINT * build.n_constraints)
    with tempfile.TemporaryDirectory(prefix=SETUP_SCRATCH, dir=zkey.parent) as scratch:
        initial, contributed, final = (
            Path(scratch) / f"{circuit_id}_{step}.zkey" for step in range(3)
        )
        steps.step("groth16 setup")
        snarkjs.groth16_setup(build.r1cs, ptau, initial)
        steps.step("phase-2 contribution")
        snarkjs.zkey_contribute(
            initial, contributed, name=f"{circuit_id} phase-2 contribution", entropy=entropy
        )
        steps.step("beacon")
        snarkjs.zkey_beacon(
            contributed,
            final,
            beacon_hash=beacon,
            iterations_exp=beacon_iterations_exp,
            name=f"{circuit_id} beacon",
        )
        steps.step("zkey verify")
        snarkjs.zkey_verify(build.r1cs, ptau, final)
        shutil.move(final, zkey)
    steps.step("export verification key")
    snarkjs.export_vk(zkey, vk)
    steps.finish()


def _setup_inputs(
    build: CircuitBuild, ptau: Path, circuit_id: str, beacon: str, beacon_iterations_exp: int
) -> dict[str, Any]:
    """The manifest fields fixed by the setup's inputs; equal fields mean the keys can be reused."""
    return {
        "circuit_id": circuit_id,
        "source_hash": build.key,
        "r1cs_sha256": sha256_file(build.r1cs),
        "wasm_sha256": sha256_file(build.wasm),
        "ptau_sha256": cached_sha256(ptau),
        "beacon_hash": beacon,
        "beacon_iterations_exp": beacon_iterations_exp,
    }


def _matching_manifest(
    path: Path, inputs: dict[str, Any], zkey: Path, vk: Path
) -> dict[str, Any] | None:
    """The manifest at ``path`` if it records ``inputs`` and the keys on disk hash as it lists."""
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("manifest_version") != MANIFEST_VERSION:
        return None
    if any(manifest.get(field) != value for field, value in inputs.items()):
        return None
    for key_file, field in ((zkey, "zkey_sha256"), (vk, "vk_sha256")):
        if not key_file.is_file() or sha256_file(key_file) != manifest.get(field):
            return None
    return manifest


def read_keys(keys_dir: Path, circuit_id: str, *, hint: str) -> KeySet:
    """The keys a setup (or a ceremony export) left in ``keys_dir``, checked before any use.

    The manifest must be a JSON object naming ``circuit_id`` and recording ``zkey_sha256`` and
    ``vk_sha256``; the zkey and the verification key on disk must hash as it says (a memoised
    sha256, recomputed when a file changes). Anything else raises ProverError in one line;
    ``hint`` says how to make the keys (e.g. the setup command).
    """
    manifest_path = keys_dir / MANIFEST_NAME
    if not manifest_path.exists():
        raise ProverError(f"no keys for {circuit_id} in {keys_dir}: {hint}")
    try:
        manifest = _checked_manifest(manifest_path, circuit_id)
    except ProverError as exc:
        raise ProverError(f"{exc}: {hint}") from None
    return KeySet(circuit_id, keys_dir / f"{circuit_id}.zkey", keys_dir / VK_NAME, manifest_path, manifest, True, 0.0)


def _checked_manifest(manifest_path: Path, circuit_id: str) -> dict[str, Any]:
    """The manifest at ``manifest_path`` after checking its shape and the key hashes it lists."""
    try:
        manifest = json.loads(read_input(manifest_path, "key manifest", ProverError))
    except ValueError as exc:
        raise ProverError(f"key manifest {manifest_path}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("circuit_id") != circuit_id:
        raise ProverError(f"key manifest {manifest_path}: not a manifest of {circuit_id}")
    for name, field in ((f"{circuit_id}.zkey", "zkey_sha256"), (VK_NAME, "vk_sha256")):
        key_file = require_regular_file(manifest_path.parent / name, f"{circuit_id} key", ProverError)
        if cached_sha256(key_file) != manifest.get(field):
            raise ProverError(f"{key_file} does not match the {field} of {manifest_path} (a partial "
                              "or replaced key)")
    return manifest


def key_manifest(
    *,
    inputs: dict[str, Any],
    zkey: Path,
    vk: Path,
    ptau_file: str,
    ptau_power: int,
    constraints: int,
    public_signals: int,
    optimization: str,
    compiler_version: str,
) -> dict[str, Any]:
    """The manifest of keys made from ``inputs`` (the fields of :func:`_setup_inputs`): the key
    hashes, the ptau, the circuit's sizes and the pinned tool versions. Also written by
    :meth:`prover.ceremony.Ceremony.export`."""
    return {
        "manifest_version": MANIFEST_VERSION,
        **inputs,
        "zkey_sha256": sha256_file(zkey),
        "vk_sha256": sha256_file(vk),
        "ptau_file": ptau_file,
        "ptau_power": ptau_power,
        "constraints": constraints,
        "public_signals": public_signals,
        "optimization": optimization,
        "versions": {
            "circom": compiler_version,
            **{
                package: locked_version(PROJECT_ROOT, package)
                for package in ("circom2", "circomlib", "snarkjs")
            },
        },
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_manifest(path: Path, content: dict[str, Any]) -> None:
    """Write ``content`` as indented JSON, atomically (a reader never sees half a manifest)."""
    dump_json(content, path)

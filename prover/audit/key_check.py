"""Check 2, keys: the proving key belongs to the circuit, the verification key to the proving key.

``snarkjs zkey verify`` re-derives the key from the (freshly built) r1cs and the ptau and checks
every phase-2 contribution; its report lists the contributions and the beacon, which are shown.
The verification key exported from the zkey must equal the shipped one, and the zkey, vk and ptau
hashes must be the manifest's. The ptau is named when it is a known public ceremony file; keys on
the dev ptau are flagged as development keys (a note, not a failure).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from prover import snarkjs
from prover.audit.result import CheckResult, Finding
from prover.build import CircuitBuild
from prover.cache import cached_sha256, sha256_file
from prover.ceremony import (
    DEV_PTAU_SHA256,
    Contribution,
    known_ptau,
    parse_contributions,
    ptau_blake2b,
)
from prover.setup import VK_NAME
from zkmargin.errors import ProverError

TITLE = "Key check"


def key_check(build: CircuitBuild, keys_dir: Path, circuit_id: str, manifest: dict[str, Any],
              ptau: Path | None, scratch: Path) -> CheckResult:
    """Verify ``keys_dir``'s zkey and vk against ``build``'s r1cs, ``ptau`` and ``manifest``."""
    started = time.monotonic()
    if ptau is None:
        return CheckResult("keys", TITLE, error="no ptau: pass --ptau (or set ZKMARGIN_PTAU) with "
                           "the powers-of-tau file the keys were made from")
    zkey, vk = keys_dir / f"{circuit_id}.zkey", keys_dir / VK_NAME
    findings = [
        Finding(f"keys/{field}", f"{path.name}: sha256 {digest}, manifest records {manifest.get(field)}")
        for path, field, digest in ((zkey, "zkey_sha256", sha256_file(zkey)),
                                    (vk, "vk_sha256", sha256_file(vk)),
                                    (ptau, "ptau_sha256", cached_sha256(ptau)))
        if manifest.get(field) != digest
    ]
    try:
        contributions = parse_contributions(snarkjs.zkey_verify(build.r1cs, ptau, zkey))
    except ProverError as exc:
        contributions = []
        findings.append(Finding("keys/zkey-verify", f"snarkjs zkey verify rejects {zkey.name}: {exc}"))
    exported = snarkjs.export_vk(zkey, scratch / "vk_from_zkey.json")
    if exported != json.loads(vk.read_text(encoding="utf-8")):
        findings.append(Finding("keys/vk", f"{vk.name} differs from the key exported from {zkey.name}"))
    secret = [c for c in contributions if not c.is_beacon]
    if not secret:
        findings.append(Finding("keys/contributions", "no secret phase-2 contribution: anyone "
                                "who ran the setup can forge proofs"))
    if contributions and not contributions[-1].is_beacon:
        findings.append(Finding("keys/beacon", "the last contribution is not a random beacon"))
    blake2b = ptau_blake2b(ptau)
    public_name = known_ptau(blake2b)
    dev = cached_sha256(ptau) == DEV_PTAU_SHA256
    origin = ("INSECURE dev ptau (published entropy): development keys only" if dev
              else public_name or "not a known public ceremony file")
    facts = [("zkey", str(zkey)), ("ptau", f"{ptau.name}: {origin}"),
             ("ptau blake2b", f"`{blake2b[:32]}...`"),
             *((f"contribution #{c.index}", _describe(c)) for c in contributions)]
    data = {"ptau_blake2b": blake2b, "ptau_known_as": public_name, "dev_ptau": dev,
            "contributions": [asdict(c) for c in contributions]}
    return CheckResult("keys", TITLE, facts, findings, data, time.monotonic() - started)


def _describe(contribution: Contribution) -> str:
    if contribution.is_beacon:
        return (f"{contribution.name}: beacon {contribution.beacon_hash}, "
                f"2^{contribution.beacon_iterations_exp} iterations")
    return f"{contribution.name}: hash `{contribution.hash[:32]}...`"

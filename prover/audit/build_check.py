"""Check 1, reproducible build: recompile from source and compare with the key manifest.

The circuit is compiled with the pinned compiler into a fresh directory (never the build cache),
at the optimization level the manifest records, and the r1cs and witness wasm hashes, the source
hash and the compiler version are compared with the manifest's. The fresh build is what the later
checks use, so the keys are verified against the constraint system built from source.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prover.audit.result import CheckResult, Finding
from prover.audit.target import AuditTarget
from prover.build import CircuitBuild, Optimization
from prover.cache import sha256_file

TITLE = "Reproducible build"


def reproducible_build(target: AuditTarget, manifest: dict[str, Any],
                       scratch: Path) -> tuple[CheckResult, CircuitBuild]:
    """Compile ``target`` into ``scratch/fresh`` and compare it with ``manifest``."""
    started = time.monotonic()
    optimization: Optimization = 1 if manifest.get("optimization") == "O1" else 2
    build = target.compile(optimization, scratch / "fresh")
    observed = {
        "source_hash": build.key,
        "r1cs_sha256": sha256_file(build.r1cs),
        "wasm_sha256": sha256_file(build.wasm),
        "circom": build.compiler_version,
    }
    recorded = {**manifest, "circom": manifest.get("versions", {}).get("circom")}
    findings = [
        Finding(f"build/{field}", f"{field}: rebuilt {value}, manifest records {recorded.get(field)}")
        for field, value in observed.items() if recorded.get(field) != value
    ]
    facts = [("main", str(target.main)), ("compiler", f"circom {build.compiler_version}"),
             ("optimization", f"O{optimization}"),
             *((field, f"`{value}`") for field, value in observed.items() if field != "circom")]
    return CheckResult("build", TITLE, facts, findings, {"observed": observed},
                       time.monotonic() - started), build

"""Run the audit checks on one margin circuit and collect the report."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prover.audit.allowlist import (
    DEFAULT_ALLOWLIST,
    apply_allowlist,
    load_allowlist,
    unused,
)
from prover.audit.build_check import reproducible_build
from prover.audit.cheats import FOCUS, hint_probes, richest
from prover.audit.differential import Harness, cases, differential
from prover.audit.facts import circuit_facts
from prover.audit.key_check import key_check
from prover.audit.mutation import under_constraint_scan
from prover.audit.report import SECTIONS, AuditReport
from prover.audit.result import CheckResult
from prover.audit.static import static_analysis
from prover.audit.target import AuditTarget
from prover.build import CircuitBuild
from prover.circuits import CIRCUITS_DIR, MarginCircuit, WarmWitness
from prover.r1cs import read_r1cs
from prover.setup import MANIFEST_NAME, VK_NAME
from prover.toolchain import PROJECT_ROOT
from prover.witness import WitnessError
from zkmargin.errors import InputError
from zkmargin.io import load_model
from zkmargin.models import RiskSnapshot
from zkmargin.paths import build_root

CHECKS = tuple(SECTIONS)
DEFAULT_SNAPSHOT = PROJECT_ROOT / "examples" / "snapshot_span16.json"


@dataclass(frozen=True)
class AuditOptions:
    """What to audit and how hard."""

    model: str = "portfolio"
    profile: str = "small"
    accounts: int = 30
    """Random accounts of the differential check (the boundary set comes on top)."""
    seed: int = 1
    probe_accounts: int = 3
    """Healthy accounts whose hints are probed and whose O2 witnesses are perturbed (chosen to
    cover the most hint elements, zero and positive)."""
    keys_dir: Path | None = None
    """Keys and manifest to check; default ``build/keys/<circuit>``."""
    ptau: Path | None = None
    snapshot: Path = DEFAULT_SNAPSHOT
    circuits_dir: Path = CIRCUITS_DIR
    allowlist: Path = DEFAULT_ALLOWLIST
    checks: tuple[str, ...] = field(default=CHECKS)


def run_audit(options: AuditOptions, progress: Callable[[str], None] = lambda _: None) -> AuditReport:
    """Run the selected checks; InputError for an unknown check name, model or profile."""
    unknown = sorted(set(options.checks) - set(CHECKS))
    if unknown:
        raise InputError(f"unknown audit checks {unknown}; known: {', '.join(CHECKS)}")
    target = AuditTarget(MarginCircuit.named(options.model, options.profile), options.circuits_dir)
    allowances = load_allowlist(options.allowlist)
    keys_dir = options.keys_dir or target.circuit.keys_dir()
    wanted = set(options.checks)
    results: list[CheckResult] = []
    with tempfile.TemporaryDirectory(prefix="zkmargin-audit-") as tmp:
        scratch = Path(tmp)
        manifest = _manifest(keys_dir) if wanted & {"build", "keys"} else {}
        progress("compiling the circuit from source")
        if "build" in wanted:
            result, proven = reproducible_build(target, manifest, scratch)
            results.append(result)
        else:
            proven = target.compile(2, build_root() / "circuits" if target.is_project_tree
                                    else scratch / "fresh")
        if "keys" in wanted:
            progress("verifying the keys (snarkjs zkey verify)")
            results.append(key_check(proven, keys_dir, target.circuit_id, manifest, options.ptau,
                                     scratch))
        if wanted & {"facts", "differential", "cheats", "mutation"}:
            results += _witness_checks(target, proven, options, wanted, keys_dir / VK_NAME,
                                       scratch, progress)
        if "static" in wanted:
            progress("static analysis (circomspect, circheck)")
            results.append(static_analysis(target, scratch))
    results.sort(key=lambda r: CHECKS.index(r.key))
    results = [apply_allowlist(result, allowances) for result in results]
    return AuditReport(target.circuit_id, datetime.now(UTC).isoformat(timespec="seconds"),
                       results, unused(allowances, results))


def _witness_checks(target: AuditTarget, proven: CircuitBuild, options: AuditOptions,
                    wanted: set[str], vk: Path, scratch: Path,
                    progress: Callable[[str], None]) -> list[CheckResult]:
    """Facts, differential, hint probes and the under-constraint scan (they share builds)."""
    progress("compiling the inspect (O1) build")
    inspect = target.inspect_build(scratch)
    results = [circuit_facts(target, proven, inspect, vk)] if "facts" in wanted else []
    if not wanted & {"differential", "cheats", "mutation"}:
        return results
    snapshot = load_model(RiskSnapshot, options.snapshot)
    harness = Harness(target.circuit.model, target.circuit.profile, snapshot, WarmWitness(inspect))
    progress(f"differential run on {options.accounts} random accounts and the boundary set")
    checked = cases(harness, options.accounts, options.seed)
    if "differential" in wanted:
        results.append(differential(harness, checked))
    rich = richest(checked, options.probe_accounts)
    warm, r1cs = WarmWitness(proven), read_r1cs(proven.r1cs)
    if "cheats" in wanted:
        progress("hint probes")
        hints = set(rich[0].inputs) if rich else set()
        focused = [(case, focus.kinds) for focus in FOCUS if focus.hint in hints
                   for case in harness.cases(list(focus.accounts(snapshot, harness.profile)))]
        results.append(hint_probes(warm, r1cs, rich, focused))
    if "mutation" in wanted:
        progress("under-constraint scan of the O2 constraint system")
        calculator = warm.calculator
        witnesses = []
        for case in rich:
            try:
                witnesses.append(calculator.calculate(case.inputs))
            except WitnessError:
                continue
        results.append(under_constraint_scan(proven, r1cs, witnesses))
    return results


def _manifest(keys_dir: Path) -> dict[str, Any]:
    path = keys_dir / MANIFEST_NAME
    try:
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"no key manifest {path}: run `zkmargin setup` (or pass --keys DIR), "
                         "or audit without the build and keys checks") from None
    except ValueError as exc:
        raise InputError(f"{path}: malformed JSON: {exc}") from exc
    return loaded

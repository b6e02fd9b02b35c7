"""Check 3, circuit facts: sizes, the public signals and their order, the template arguments.

Public signals are checked three ways: the r1cs header's counts, the names of wires 1..n in the
symbol table (snarkjs orders public signals by wire), and the verification key's ``nPublic``, all
against ``zkmargin.profiles.PUBLIC_SIGNALS``; the main file must be the one ``zkmargin.circuitgen``
generates for the model and profile.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from prover.audit.result import CheckResult, Finding
from prover.audit.target import AuditTarget
from prover.build import CircuitBuild
from prover.r1cs import parse_sym
from zkmargin.circuitgen import main_source
from zkmargin.profiles import PUBLIC_SIGNALS

TITLE = "Circuit facts"
_MAIN = re.compile(r"component main\s*(?:\{[^}]*\})?\s*=\s*(\w+)\(([^)]*)\)")


def circuit_facts(target: AuditTarget, proven: CircuitBuild, inspect: CircuitBuild,
                  vk: Path | None) -> CheckResult:
    """Facts of ``proven`` (O2) and ``inspect`` (O1), with findings for any inconsistency."""
    started = time.monotonic()
    header = proven.header
    by_wire = {wire: name for name, wire in parse_sym(proven.sym).items()}
    public = [by_wire.get(wire, "?") for wire in range(1, header.n_public + 1)]
    expected = [f"main.{name}" for name in PUBLIC_SIGNALS]
    findings = []
    if public != expected:
        findings.append(Finding("facts/public-signals",
                                f"public wires are {public}, PUBLIC_SIGNALS says {expected}"))
    if vk is not None and vk.is_file():
        n_public = json.loads(vk.read_text(encoding="utf-8")).get("nPublic")
        if n_public != len(PUBLIC_SIGNALS):
            findings.append(Finding("facts/vk-public", f"the verification key has nPublic = "
                                    f"{n_public}, expected {len(PUBLIC_SIGNALS)}"))
    source = target.main.read_text(encoding="utf-8")
    if source != main_source(target.circuit.model, target.circuit.profile):
        findings.append(Finding("facts/main", f"{target.main.name} is not the main zkmargin."
                                "circuitgen generates for this model and profile"))
    match = _MAIN.search(source)
    template = f"{match.group(1)}({match.group(2)})" if match else "?"
    facts = [
        ("template", template),
        ("profile", ", ".join(f"{k}={v}" for k, v in target.circuit.profile.as_dict().items())),
        ("constraints (O2, proven)", f"{header.n_constraints:,}"),
        ("constraints (O1, inspect)", f"{inspect.n_constraints:,}"),
        ("wires (O2)", f"{header.n_wires:,}"),
        ("private inputs", str(header.n_prv_in)),
        ("public signals, in order", ", ".join(name.removeprefix("main.") for name in public)),
    ]
    data = {"template": template, "constraints_o2": header.n_constraints,
            "constraints_o1": inspect.n_constraints, "wires_o2": header.n_wires,
            "private_inputs": header.n_prv_in, "public_signals": public,
            "profile": target.circuit.profile.as_dict(), "model": target.circuit.model}
    return CheckResult("facts", TITLE, facts, findings, data, time.monotonic() - started)

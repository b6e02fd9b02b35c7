"""What every audit check returns: its findings (each possibly accepted by the allowlist), a few
facts for the report's table, machine-readable data for the JSON report, and its duration."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Finding:
    """One problem a check found.

    ``subject`` is the stable, slash-separated name the allowlist matches (a signal name, or
    ``<tool>/<rule>/<file>/<template>``); ``accepted`` is the allowlist's justification when the
    project accepts the finding.
    """

    subject: str
    message: str
    accepted: str | None = None

    def accept(self, reason: str) -> Finding:
        return replace(self, accepted=reason)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check; it passes when it ran and every finding is accepted."""

    key: str
    """Short name: build, keys, facts, differential, mutation, static."""
    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    """Why the check could not run (it then fails)."""

    @property
    def open_findings(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.accepted is None]

    @property
    def passed(self) -> bool:
        return self.error is None and not self.open_findings

"""The checked-in list of accepted audit findings (``allowlist.toml`` beside this module).

Each ``[[allow]]`` entry names a ``check`` (build, keys, facts, differential, mutation, static),
a ``subject`` glob (fnmatch) matched against a finding's subject, and the ``reason`` the project
accepts it; the report prints every accepted finding with its reason, and lists entries that
matched nothing (stale ones should be removed).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from prover.audit.result import CheckResult, Finding
from zkmargin.errors import InputError
from zkmargin.files import read_input

DEFAULT_ALLOWLIST = Path(__file__).resolve().parent / "allowlist.toml"


@dataclass(frozen=True)
class Allowance:
    """One accepted kind of finding."""

    check: str
    subject: str
    reason: str


def load_allowlist(path: Path = DEFAULT_ALLOWLIST) -> list[Allowance]:
    """Parse ``path``; InputError naming the entry if one lacks a field or has an empty reason."""
    try:
        entries = tomllib.loads(read_input(path, "allowlist").decode("utf-8")).get("allow", [])
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: malformed TOML: {exc}") from None
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise InputError(f"{path}: `allow` must be an array of tables ([[allow]] entries)")
    allowances = []
    for number, entry in enumerate(entries, start=1):
        fields = {name: entry.get(name) for name in ("check", "subject", "reason")}
        if not all(isinstance(value, str) and value.strip() for value in fields.values()):
            raise InputError(f"{path}: [[allow]] entry {number} needs non-empty check, subject "
                             "and reason strings")
        allowances.append(Allowance(**fields))
    return allowances


def apply_allowlist(result: CheckResult, allowances: list[Allowance]) -> CheckResult:
    """``result`` with every finding that an allowance of its check matches marked accepted."""
    own = [a for a in allowances if a.check == result.key]
    findings = [_accepted(finding, own) for finding in result.findings]
    return CheckResult(result.key, result.title, result.facts, findings, result.data,
                       result.seconds, result.error)


def unused(allowances: list[Allowance], results: list[CheckResult]) -> list[Allowance]:
    """Allowances of checks that ran which matched none of their findings."""
    ran = {result.key: result.findings for result in results}
    return [a for a in allowances if a.check in ran
            and not any(fnmatchcase(f.subject, a.subject) for f in ran[a.check])]


def _accepted(finding: Finding, allowances: list[Allowance]) -> Finding:
    match = next((a for a in allowances if fnmatchcase(finding.subject, a.subject)), None)
    return finding if match is None else finding.accept(match.reason)

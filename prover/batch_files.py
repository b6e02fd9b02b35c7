"""The files of a batch: where its accounts come from and where its results go.

Accounts come from a folder of account JSON files (an account is named by its file's stem) or a
JSONL file, one account per line (named by its ``name`` field, else ``line<N>``). An entry that
cannot be used (malformed JSON, wrong schema, a name that cannot be a file name, a duplicate
name) is kept with the reason, so the batch reports it and goes on with the others.

The output folder holds, per account, ``<name>.proof.json`` (a proof bundle) or
``<name>.shortfall.json`` (why the account is below the claimed health), and one
``batch-summary.json`` for the whole run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from zkmargin.errors import InputError
from zkmargin.files import read_input
from zkmargin.io import parse_model
from zkmargin.models import Account

BUNDLE_SUFFIX = ".proof.json"
SHORTFALL_SUFFIX = ".shortfall.json"
SUMMARY_NAME = "batch-summary.json"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
"""Account names become file names: letters, digits, '.', '_' and '-', at most 128 characters."""


@dataclass(frozen=True)
class AccountEntry:
    """One account of a batch: parsed, or the one-line reason it cannot be used."""

    name: str
    account: Account | None
    error: str = ""


def read_accounts(source: Path) -> list[AccountEntry]:
    """Every account of ``source`` (a folder of ``*.json`` files or a JSONL file), in order.

    Raises InputError only when ``source`` itself is missing or holds no account at all.
    """
    if source.is_dir():
        entries = [_file_entry(path) for path in sorted(source.glob("*.json"))]
    elif source.exists():
        entries = _jsonl_entries(source)
    else:
        raise InputError(f"{source}: no such folder of account files or JSONL file")
    if not entries:
        raise InputError(f"{source}: no accounts (expected *.json files or JSONL lines)")
    return _without_duplicates(entries)


def bundle_path(out_dir: Path, name: str) -> Path:
    """Where the proof bundle of account ``name`` is written."""
    return out_dir / f"{name}{BUNDLE_SUFFIX}"


def shortfall_path(out_dir: Path, name: str) -> Path:
    """Where the shortfall report of account ``name`` (below the claimed health) is written."""
    return out_dir / f"{name}{SHORTFALL_SUFFIX}"


def bundle_files(out_dir: Path) -> dict[str, Path]:
    """Account name -> bundle file, for every ``*.proof.json`` in ``out_dir``."""
    if not out_dir.is_dir():
        raise InputError(f"{out_dir}: no such folder")
    return {path.name.removesuffix(BUNDLE_SUFFIX): path for path in sorted(out_dir.glob(f"*{BUNDLE_SUFFIX}"))}


def _file_entry(path: Path) -> AccountEntry:
    try:
        text = read_input(path)
    except InputError as e:
        return AccountEntry(path.stem, None, str(e))
    return _entry(path.stem, text, str(path))


def _jsonl_entries(source: Path) -> list[AccountEntry]:
    entries = []
    for number, line in enumerate(read_input(source, "accounts").splitlines(), start=1):
        if line.strip():
            entries.append(_entry(f"line{number}", line, f"{source}:{number}", named_inside=True))
    return entries


def _entry(default_name: str, text: bytes, source: str, *, named_inside: bool = False) -> AccountEntry:
    """Parse one account; a JSONL account is named by its ``name`` field when it has one."""
    try:
        account = parse_model(Account, text, source=source)
    except InputError as e:
        return AccountEntry(default_name, None, str(e))
    name = account.name if named_inside and account.name else default_name
    if not NAME_PATTERN.fullmatch(name):
        return AccountEntry(name, None, f"{source}: account name {name!r} cannot be a file name "
                                        "(letters, digits, '.', '_', '-'; at most 128)")
    return AccountEntry(name, account)


def _without_duplicates(entries: list[AccountEntry]) -> list[AccountEntry]:
    """Entries after the first with the same name become unusable (their files would collide)."""
    seen: set[str] = set()
    out = []
    for entry in entries:
        if entry.name in seen and entry.account is not None:
            entry = AccountEntry(entry.name, None, f"duplicate account name {entry.name!r}")
        seen.add(entry.name)
        out.append(entry)
    return out

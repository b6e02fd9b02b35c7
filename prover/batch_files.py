"""The files of a batch: the published epoch it proves and where its results go.

A batch proves a venue's published epoch (``zkmargin venue publish``): ``EPOCH_DIR/epoch.json``
(the signed :class:`~zkmargin.models.Epoch`) and ``EPOCH_DIR/statements/<account_id>.json`` (one
:class:`~zkmargin.models.Statement` per account). Each statement is checked against the epoch
(venue, epoch, account root, its file name, and that its book, salt and path open to the account
root); one that fails is kept with the reason, so the batch reports it and goes on with the others.

The output folder holds, per account, ``<account_id>.proof.json`` (a proof bundle) or
``<account_id>.shortfall.json`` (why the account is below the claimed health), and one
``batch-summary.json`` for the whole run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from zkmargin.account_tree import statement_proof
from zkmargin.errors import InputError
from zkmargin.files import read_input
from zkmargin.io import load_model, parse_model
from zkmargin.models import Epoch, Statement

EPOCH_NAME = "epoch.json"
STATEMENTS_DIR = "statements"
BUNDLE_SUFFIX = ".proof.json"
SHORTFALL_SUFFIX = ".shortfall.json"
SUMMARY_NAME = "batch-summary.json"


@dataclass(frozen=True)
class StatementEntry:
    """One account of a batch: its statement, or the one-line reason it cannot be proven."""

    name: str
    statement: Statement | None
    error: str = ""


@dataclass(frozen=True)
class PublishedEpoch:
    """A venue's published epoch as a batch reads it: the signed header and every statement."""

    epoch: Epoch
    entries: list[StatementEntry]


def read_epoch(folder: Path) -> PublishedEpoch:
    """``folder/epoch.json`` and every ``folder/statements/*.json``, each checked against the epoch.

    Raises InputError when the epoch file is missing or malformed, or there is no statement at all.
    """
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder (expected a published epoch: epoch.json, statements/)")
    epoch = load_model(Epoch, folder / EPOCH_NAME)
    paths = sorted((folder / STATEMENTS_DIR).glob("*.json"))
    if not paths:
        raise InputError(f"{folder / STATEMENTS_DIR}: no statements (*.json)")
    return PublishedEpoch(epoch, [_entry(path, epoch) for path in paths])


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


def _entry(path: Path, epoch: Epoch) -> StatementEntry:
    """Read one statement and check it belongs to ``epoch`` under its own file name."""
    try:
        statement = parse_model(Statement, read_input(path), source=str(path))
    except InputError as e:
        return StatementEntry(path.stem, None, str(e))
    except InputError as e:
        return StatementEntry(path.stem, None, str(e))
    if statement.account_id != path.stem:
        return StatementEntry(path.stem, None, f"{path}: the statement is account {statement.account_id!r}, "
                                               "not the account its file name says")
    if (statement.venue, statement.epoch) != (epoch.venue, epoch.epoch):
        return StatementEntry(path.stem, None, f"{path}: statement of {statement.venue} epoch {statement.epoch}, "
                                               f"not of the published {epoch.venue} epoch {epoch.epoch}")
    if statement.account_root != epoch.account_root:
        return StatementEntry(path.stem, None, f"{path}: account root {statement.account_root} is not the "
                                               f"epoch's ({epoch.account_root})")
    try:
        statement_proof(statement)
    except InputError as e:
        return StatementEntry(path.stem, None, f"{path}: {e}")
    return StatementEntry(path.stem, statement)

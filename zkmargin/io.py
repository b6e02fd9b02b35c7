"""Loading and saving edge models as JSON files, with one-line errors naming file and field."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from zkmargin.errors import InputError, OutputError
from zkmargin.files import read_input
from zkmargin.models import Account

M = TypeVar("M", bound=BaseModel)


def describe_validation_error(err: ValidationError) -> str:
    """Condense a pydantic error into one line: ``field.path: message (+N more)``."""
    errors = err.errors()
    first = errors[0]
    where = ".".join(str(p) for p in first["loc"]) or "(root)"
    msg = first["msg"].removeprefix("Value error, ")
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {msg}{more}"


def parse_model(model: type[M], text: str | bytes, *, source: str) -> M:
    """Validate JSON text as ``model``; raise :class:`InputError` with one readable line."""
    try:
        return model.model_validate_json(text)
    except ValidationError as e:
        if any(x["type"] == "json_invalid" for x in e.errors()):
            raise InputError(f"{source}: malformed JSON: {e.errors()[0]['msg']}") from None
        raise InputError(f"{source}: {describe_validation_error(e)}") from None


def load_model(model: type[M], path: str | os.PathLike[str]) -> M:
    """Read and validate a JSON file as ``model``."""
    return parse_model(model, read_input(path), source=os.fspath(path))


def write_atomic(path: str | os.PathLike[str], text: str, mode: int | None = None) -> None:
    """Write ``text`` to ``path`` atomically (temp file in the same folder, then rename).

    ``mode`` sets the permissions (e.g. 0o600 for private files); default: 0666 minus the umask.
    A failed write (read-only or full folder, a file where a folder should be) raises
    :class:`OutputError` naming ``path``; the old file, if any, is left as it was.
    """
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        _replace_with(p, text, mode)
    except OSError as e:
        raise OutputError(f"cannot write {p}: {e.strerror or e}") from None


def _replace_with(p: Path, text: str, mode: int | None) -> None:
    """Write ``text`` to a temp file beside ``p`` and rename it over ``p``."""
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask  # mkstemp makes 0600; give the file ordinary permissions
        os.chmod(tmp, mode)
        os.replace(tmp, p)
    except BaseException:
        os.unlink(tmp)
        raise


def save_model(model: BaseModel, path: str | os.PathLike[str]) -> None:
    """Write a model as indented JSON, atomically."""
    write_atomic(path, model.model_dump_json(indent=2) + "\n")


def dump_json(data: object, path: str | os.PathLike[str]) -> None:
    """Write plain JSON data atomically."""
    write_atomic(path, json.dumps(data, indent=2) + "\n")


def load_account(path: str | os.PathLike[str]) -> Account:
    """The account an ACCOUNT argument names (``margin``, ``report``): an account JSON file, or a
    venue statement (its ``account``), told apart by the statement's ``account`` object."""
    from zkmargin.models import Statement

    text = read_input(path)
    try:
        head = json.loads(text)
    except ValueError:
        head = None
    source = os.fspath(path)
    if isinstance(head, dict) and isinstance(head.get("account"), dict):
        return parse_model(Statement, text, source=source).account
    return parse_model(Account, text, source=source)

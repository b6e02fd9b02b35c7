"""Where generated artefacts live (never committed): builds, keys, caches."""

from __future__ import annotations

import os
from pathlib import Path

#: The project checkout (circuits/, node_modules/ and build/ are found relative to it).
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def build_root() -> Path:
    """Builds and keys: ``$ZKMARGIN_BUILD`` or ``<project>/build``."""
    return Path(os.environ.get("ZKMARGIN_BUILD", PROJECT_ROOT / "build"))


def keys_dir(circuit_id: str) -> Path:
    """Keys, verification key and manifest of one circuit."""
    return build_root() / "keys" / circuit_id

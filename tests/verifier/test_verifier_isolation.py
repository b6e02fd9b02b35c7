"""The verifier stays pure Python: no Node, no subprocess, no prover."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import verifier

PACKAGE = Path(verifier.__file__).parent
FORBIDDEN = ("subprocess", "prover", "multiprocessing", "shutil")


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_verifier_module_imports_process_or_prover_code() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        for name in _imported_modules(path):
            assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"
        assert "os.system" not in path.read_text(encoding="utf-8")


def test_importing_the_verifier_loads_no_subprocess_or_prover() -> None:
    probe = "import sys, verifier; print(sorted(m for m in ('subprocess', 'prover') if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=PACKAGE.parent, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_public_api_is_explicit() -> None:
    assert set(verifier.__all__) == {
        "Proof",
        "VerifyingKey",
        "load_proof",
        "load_public_signals",
        "load_verifying_key",
        "parse_proof",
        "parse_public_signals",
        "parse_verifying_key",
        "verify",
        "verify_batch",
        "verify_files",
    }
    assert all(hasattr(verifier, name) for name in verifier.__all__)

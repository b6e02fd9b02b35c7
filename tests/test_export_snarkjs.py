"""``zkmargin export-snarkjs``: a bundle as the plain snarkjs files an auditor verifies alone."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from prover.setup import KeySet
from prover.toolchain import PROJECT_ROOT, SNARKJS_CLI
from verifier import verify_files
from zkmargin.bundle import ProofBundle
from zkmargin.cli import main
from zkmargin.io import save_model


def test_exported_files_verify_under_snarkjs_itself(tmp_path: Path, keys: KeySet, bundle: ProofBundle) -> None:
    saved = tmp_path / "bundle.json"
    save_model(bundle, saved)
    result = CliRunner().invoke(main, ["export-snarkjs", str(saved), "-o", str(tmp_path / "plain")])
    assert result.exit_code == 0, result.output
    proof, public = tmp_path / "plain" / "proof.json", tmp_path / "plain" / "public.json"
    assert json.loads(public.read_text()) == [str(v) for v in bundle.public_signals.as_list()]
    assert verify_files(keys.vk, proof, public)
    node = shutil.which("node")
    if node is None:
        pytest.skip("snarkjs's own check needs Node")
    checked = subprocess.run([node, str(PROJECT_ROOT / SNARKJS_CLI), "groth16", "verify", str(keys.vk), str(public),
                              str(proof)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0 and "OK!" in checked.stdout, checked.stdout

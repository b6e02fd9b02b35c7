"""``load_keys`` refuses keys made for another version of the circuit's sources, saying to run setup
(snarkjs would otherwise fail later with a bare "Invalid witness length")."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from prover.circuits import MarginCircuit
from prover.margin import load_keys
from prover.setup import MANIFEST_NAME, KeySet
from zkmargin.errors import ProverError


def test_keys_of_another_version_of_the_circuit_are_refused_with_run_setup(
        keys: KeySet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    circuit = MarginCircuit.named("portfolio", "small")
    assert load_keys(circuit).manifest["source_hash"] == circuit.source_hash() == keys.manifest["source_hash"]
    stale = tmp_path / "keys" / circuit.circuit_id
    shutil.copytree(keys.zkey.parent, stale)
    manifest = json.loads((stale / MANIFEST_NAME).read_text())
    (stale / MANIFEST_NAME).write_text(json.dumps({**manifest, "source_hash": "0" * 64}))
    monkeypatch.setenv("ZKMARGIN_BUILD", str(tmp_path))
    assert circuit.keys_dir() == stale
    with pytest.raises(ProverError, match=r"another version of the portfolio_small circuit .*: run `zkmargin setup "
                                          r"--model portfolio --profile small`"):
        load_keys(circuit)

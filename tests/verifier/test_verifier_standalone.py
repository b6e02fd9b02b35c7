"""The verifier stands alone: a protocol checks a margin proof bundle, policy and pairing, in a
process where the prover's dependencies, the CLI's and Node cannot be imported at all.

What it needs is the engine's data model and commitments (pydantic, py_ecc, cryptography for the
venue's signature); what it must not need: wasmtime, groth16py, ray, numpy, click, matplotlib, the
``prover`` package, or a subprocess (Node). The blocked imports raise, so any path that reaches
them fails this test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from prover.setup import KeySet
from tests.conftest import EXAMPLES
from zkmargin.bundle import ProofBundle
from zkmargin.io import save_model
from zkmargin.models import Statement

BLOCKED = ("wasmtime", "groth16py", "ray", "numpy", "click", "matplotlib", "prover", "subprocess",
           "multiprocessing", "web3", "eth_tester")

PROBE = """
import json, sys
from pathlib import Path

class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"blocked: {name}")
        return None

sys.meta_path.insert(0, Blocked())
for name in list(sys.modules):
    if name.split(".")[0] in BLOCKED:
        del sys.modules[name]

from verifier import load_verifying_key
from verifier.bundle import Policy, check_bundle
from zkmargin.bundle import ProofBundle
from zkmargin.io import load_model
from zkmargin.models import Epoch, RiskSnapshot
from zkmargin.venue import load_public_key

args = json.loads(sys.argv[1])
policy = Policy(load_model(RiskSnapshot, args["snapshot"]), load_model(Epoch, args["epoch"]),
                load_public_key(args["venue_key"]), "portfolio", frozenset({args["holder"]}), 15_000)
vk = load_verifying_key(args["vk"])
bundle = load_model(ProofBundle, args["bundle"])
good = check_bundle(bundle, vk, policy)
tampered = check_bundle(bundle.model_copy(update={"public_signals": bundle.public_signals.model_copy(
    update={"threshold_bps": "15001"})}), vk, policy)
print(json.dumps({"good": [good.ok, good.reason], "tampered": [tampered.ok, tampered.reason]}))
"""


def test_a_bundle_is_checked_without_prover_cli_or_node(tmp_path: Path, bundle: ProofBundle, keys: KeySet,
                                                        published: Path, statement: Statement) -> None:
    save_model(bundle, tmp_path / "proof.json")
    args = {"snapshot": str(EXAMPLES / "snapshot_span16.json"), "epoch": str(published / "epoch.json"),
            "venue_key": str(published / "venue.pub"), "vk": str(keys.vk), "bundle": str(tmp_path / "proof.json"),
            "holder": statement.holder}
    code = f"BLOCKED = {BLOCKED!r}\n{PROBE}"
    result = subprocess.run([sys.executable, "-c", code, json.dumps(args)], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2], timeout=600)
    assert result.returncode == 0, result.stderr
    verdicts = json.loads(result.stdout)
    assert verdicts["good"][0], verdicts["good"][1]
    assert not verdicts["tampered"][0] and "does not verify" in verdicts["tampered"][1]

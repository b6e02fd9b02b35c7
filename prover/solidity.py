"""On-chain verification artefacts of a margin circuit, and their compilation.

:func:`export_contracts` writes, for a circuit's final zkey:

* ``Groth16Verifier.sol``: the verifier exactly as ``snarkjs zkey export solidityverifier`` writes
  it (snarkjs 0.7.6: public inputs >= r are rejected, G2 points read as ``[c1, c0]``), so an auditor
  can re-export it from the published zkey and compare byte for byte;
* a copy of every contract under the project's ``contracts/``: ``MarginGate.sol`` (per-epoch
  snapshot and account roots published by an owner, ``checkMargin`` per holder with an owner-set
  minimum threshold), which calls any such verifier through an interface; ``MarginRegistry.sol``
  (the margin-call lifecycle on top of it) and ``CollateralAuction.sol`` (its reference
  liquidation hook, a Dutch auction of escrowed ERC-20 collateral);
* with ``compile_=True``, ``<Contract>.json`` per deployable contract: ABI, creation bytecode and
  method identifiers from the pinned solc-js (:data:`EVM_VERSION`, optimizer :data:`OPTIMIZER_RUNS`
  runs), ready for a deployment script.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prover import snarkjs
from prover.setup import KeySet
from prover.toolchain import PROJECT_ROOT, locked_version, run_tool, solc_command
from zkmargin.errors import ProverError
from zkmargin.files import check_output_dir
from zkmargin.io import dump_json

CONTRACTS_DIR = PROJECT_ROOT / "contracts"
"""The committed sources of the project's contracts (MarginGate, MarginRegistry, CollateralAuction)."""

VERIFIER_FILE = "Groth16Verifier.sol"

EVM_VERSION = "cancun"
"""Target fork of compiled bytecode: supported by Ethereum mainnet and the major L2s."""

OPTIMIZER_RUNS = 200
"""solc optimizer setting (solc's default number of runs)."""

_SOLC_COMPILE_JS = (
    "const fs = require('fs'); const solc = require(process.argv[2]);"
    " fs.writeFileSync(process.argv[1], solc.compile(fs.readFileSync(0, 'utf8')));"
)
"""solc-js's standard-JSON compile, answer written to the file ``argv[1]``: the ``solcjs`` CLI
prints it with ``console.log`` then ``process.exit``, which cuts a piped answer at 64 KiB."""


@dataclass(frozen=True)
class CompiledContract:
    """One contract as solc compiled it."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    """Creation code, ``0x`` hex."""
    method_identifiers: dict[str, str]
    """Function signature -> 4-byte selector in hex, e.g. ``'owner()': '8da5cb5b'``."""

    def to_json(self) -> dict[str, Any]:
        """The artefact written next to the sources (with the compiler settings used)."""
        return {
            "contractName": self.name,
            "abi": self.abi,
            "bytecode": self.bytecode,
            "methodIdentifiers": self.method_identifiers,
            "compiler": {
                "solc": locked_version(PROJECT_ROOT, "solc"),
                "evmVersion": EVM_VERSION,
                "optimizerRuns": OPTIMIZER_RUNS,
            },
        }


@dataclass(frozen=True)
class SolidityExport:
    """What :func:`export_contracts` wrote."""

    circuit_id: str
    verifier: Path
    contracts: tuple[Path, ...]
    """The copies of ``contracts/*.sol``."""
    artifacts: tuple[Path, ...]
    """Compiled ``<Contract>.json`` files (empty unless compiled)."""


def export_contracts(keys: KeySet, out_dir: Path, *, compile_: bool = False) -> SolidityExport:
    """Write the verifier of ``keys.zkey`` and the project's contracts to ``out_dir``; compile
    them on request."""
    check_output_dir(out_dir)
    verifier = out_dir / VERIFIER_FILE
    snarkjs.export_solidity_verifier(keys.zkey, verifier)
    contracts = tuple(Path(shutil.copyfile(src, out_dir / src.name)) for src in sorted(CONTRACTS_DIR.glob("*.sol")))
    artifacts: list[Path] = []
    if compile_:
        for contract in compile_sources([verifier, *contracts]).values():
            path = out_dir / f"{contract.name}.json"
            dump_json(contract.to_json(), path)
            artifacts.append(path)
    return SolidityExport(keys.circuit_id, verifier, contracts, tuple(artifacts))


def compile_sources(sources: Sequence[Path]) -> dict[str, CompiledContract]:
    """Compile ``sources`` together with the pinned solc-js; deployable contracts by name.

    Interfaces and abstract contracts (no bytecode) are left out. Any compiler error raises
    ProverError quoting solc's messages.
    """
    request = {
        "language": "Solidity",
        "sources": {path.name: {"content": path.read_text(encoding="utf-8")} for path in sources},
        "settings": {
            "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
            "evmVersion": EVM_VERSION,
            "outputSelection": {
                "*": {"*": ["abi", "evm.bytecode.object", "evm.methodIdentifiers"]}
            },
        },
    }
    node, _ = solc_command()
    with tempfile.TemporaryDirectory(prefix="zkmargin-solc-") as tmp:
        answer = Path(tmp) / "output.json"
        run_tool(
            [node, "-e", _SOLC_COMPILE_JS, answer, PROJECT_ROOT / "node_modules" / "solc"],
            cwd=PROJECT_ROOT,
            what="solc standard-JSON compile",
            stdin=json.dumps(request),
        )
        output = _standard_json_output(answer.read_text(encoding="utf-8"))
    errors = [e["formattedMessage"] for e in output.get("errors", []) if e["severity"] == "error"]
    if errors:
        raise ProverError("solc failed:\n" + "\n".join(errors))
    return {
        name: CompiledContract(
            name,
            contract["abi"],
            "0x" + contract["evm"]["bytecode"]["object"],
            contract["evm"]["methodIdentifiers"],
        )
        for by_name in output["contracts"].values()
        for name, contract in by_name.items()
        if contract["evm"]["bytecode"]["object"]
    }


def _standard_json_output(stdout: str) -> dict[str, Any]:
    """solc-js's standard-JSON answer: the first line starting with ``{`` onwards (solc-js may
    print notes such as ``>>> Cannot retry compilation with SMT ...`` before the JSON)."""
    start = next((i for i, line in enumerate(stdout.splitlines()) if line.startswith("{")), None)
    if start is None:
        raise ProverError(f"solc printed no JSON output:\n{stdout.strip()[-2000:]}")
    try:
        loaded: dict[str, Any] = json.loads("\n".join(stdout.splitlines()[start:]))
    except ValueError as exc:
        raise ProverError(f"solc printed malformed JSON: {exc}") from exc
    return loaded

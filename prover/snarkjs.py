"""Typed wrappers over the snarkjs commands zkmargin uses (Groth16 on BN254).

Each function runs the project's pinned snarkjs through :func:`prover.toolchain.run_tool` with
absolute paths. snarkjs logs everything, errors included, to stdout and sometimes exits 0 after
printing a usage error, so every wrapper also checks the file or the success line it expects.
Secrets (contribution entropy) go through standard input, never the command line.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from prover.toolchain import PROJECT_ROOT, run_tool, snarkjs_command, tool_failure
from prover.witness import InputValue
from zkmargin.errors import ProverError

INVALID_PROOF_LINES = (
    "Invalid proof",
    "Public inputs are not valid",
    "Proof commitments are not valid",
)
"""What snarkjs groth16 verify prints (exit code 1) when it rejects a well-formed call."""


def r1cs_info(r1cs: Path) -> dict[str, int]:
    """``snarkjs r1cs info``: counts keyed 'wires', 'constraints', 'private_inputs',
    'public_inputs', 'labels', 'outputs'."""
    output = _snarkjs(["r1cs", "info", r1cs], what="snarkjs r1cs info").stdout
    counts = {
        label.strip().lower().replace(" ", "_"): int(value)
        for label, value in re.findall(r"# of ([A-Za-z ]+): (\d+)", output)
    }
    expected = {"wires", "constraints", "private_inputs", "public_inputs", "labels", "outputs"}
    if not expected <= counts.keys():
        raise ProverError(f"snarkjs r1cs info printed no counts for {r1cs}:\n{output}")
    return counts


def wtns_calculate(wasm: Path, inputs: Mapping[str, InputValue], wtns: Path) -> None:
    """``snarkjs wtns calculate``: witness of ``inputs`` by snarkjs's own wasm host, to ``wtns``.

    Integers are passed as decimal strings, since JSON numbers above 2^53 lose precision in JS.
    """
    with tempfile.TemporaryDirectory(prefix="zkmargin-input-") as scratch:
        input_json = Path(scratch) / "input.json"
        as_strings = {name: _decimal_strings(value) for name, value in inputs.items()}
        input_json.write_text(json.dumps(as_strings), encoding="utf-8")
        wtns.unlink(missing_ok=True)
        completed = _snarkjs(
            ["wtns", "calculate", wasm, input_json, wtns], what="snarkjs wtns calculate"
        )
    _expect_file(wtns, "snarkjs wtns calculate", completed.stdout)


def wtns_check(r1cs: Path, wtns: Path) -> bool:
    """``snarkjs wtns check``: True iff the witness satisfies every constraint of ``r1cs``."""
    completed = _snarkjs(["wtns", "check", r1cs, wtns], what="snarkjs wtns check", accept=(0, 1))
    if completed.returncode == 0 and "WITNESS IS CORRECT" in completed.stdout:
        return True
    if completed.returncode == 1 and "WITNESS IS NOT CORRECT" in completed.stdout:
        return False
    raise tool_failure("snarkjs wtns check", completed)


def groth16_setup(r1cs: Path, ptau: Path, zkey: Path) -> None:
    """``snarkjs groth16 setup``: the initial (contribution-free) phase-2 key ``zkey``."""
    zkey.unlink(missing_ok=True)
    completed = _snarkjs(["groth16", "setup", r1cs, ptau, zkey], what="snarkjs groth16 setup")
    _expect_file(zkey, "snarkjs groth16 setup", completed.stdout)


def zkey_contribute(old: Path, new: Path, *, name: str, entropy: str) -> None:
    """``snarkjs zkey contribute``: one phase-2 contribution; ``entropy`` is sent on stdin."""
    new.unlink(missing_ok=True)
    completed = _snarkjs(
        ["zkey", "contribute", old, new, f"--name={name}"],
        what="snarkjs zkey contribute",
        stdin=f"{entropy}\n",
    )
    _expect_file(new, "snarkjs zkey contribute", completed.stdout)


def zkey_beacon(old: Path, new: Path, *, beacon_hash: str, iterations_exp: int, name: str) -> None:
    """``snarkjs zkey beacon``: the closing public-randomness contribution (2^iterations_exp)."""
    new.unlink(missing_ok=True)
    completed = _snarkjs(
        ["zkey", "beacon", old, new, beacon_hash, str(iterations_exp), f"--name={name}"],
        what="snarkjs zkey beacon",
    )
    _expect_file(new, "snarkjs zkey beacon", completed.stdout)


def zkey_verify(r1cs: Path, ptau: Path, zkey: Path) -> str:
    """``snarkjs zkey verify r1cs``: ProverError unless ``zkey`` derives from ``r1cs`` + ``ptau``.

    Returns snarkjs's report (circuit hash, every phase-2 contribution with its hash, the beacon
    parameters); :func:`prover.ceremony.parse_contributions` reads it. Runs as the alias ``zkv``:
    the long form is misparsed by snarkjs 0.7.6's argument parser.
    """
    completed = _snarkjs(["zkv", r1cs, ptau, zkey], what="snarkjs zkey verify", accept=(0, 1))
    if completed.returncode != 0 or "ZKey Ok!" not in completed.stdout:
        raise tool_failure("snarkjs zkey verify", completed)
    return completed.stdout


def export_vk(zkey: Path, vk: Path) -> dict[str, Any]:
    """``snarkjs zkey export verificationkey``: writes ``vk`` and returns its JSON content."""
    vk.unlink(missing_ok=True)
    completed = _snarkjs(
        ["zkey", "export", "verificationkey", zkey, vk], what="snarkjs zkey export verificationkey"
    )
    _expect_file(vk, "snarkjs zkey export verificationkey", completed.stdout)
    loaded: dict[str, Any] = json.loads(vk.read_text(encoding="utf-8"))
    return loaded


def prove(zkey: Path, wtns: Path, *, fds: Sequence[int] = ()) -> tuple[dict[str, Any], list[str]]:
    """``snarkjs groth16 prove``: (proof JSON, public signals as decimal strings).

    ``fds``: descriptors snarkjs inherits, for a ``wtns`` that is an in-memory file
    (:func:`prover.lifetime.private_file`).
    """
    with tempfile.TemporaryDirectory(prefix="zkmargin-proof-") as scratch:
        proof_json, public_json = Path(scratch) / "proof.json", Path(scratch) / "public.json"
        completed = _snarkjs(
            ["groth16", "prove", zkey, wtns, proof_json, public_json], what="snarkjs groth16 prove",
            fds=fds,
        )
        _expect_file(public_json, "snarkjs groth16 prove", completed.stdout)
        proof: dict[str, Any] = json.loads(proof_json.read_text(encoding="utf-8"))
        public: list[str] = json.loads(public_json.read_text(encoding="utf-8"))
    return proof, public


def verify(vk: Path, proof: Mapping[str, Any], public: Sequence[str | int]) -> bool:
    """``snarkjs groth16 verify``: True iff ``proof`` is valid for ``public`` under ``vk``."""
    with tempfile.TemporaryDirectory(prefix="zkmargin-verify-") as scratch:
        proof_json, public_json = Path(scratch) / "proof.json", Path(scratch) / "public.json"
        proof_json.write_text(json.dumps(proof), encoding="utf-8")
        public_json.write_text(json.dumps([str(value) for value in public]), encoding="utf-8")
        completed = _snarkjs(
            ["groth16", "verify", vk, public_json, proof_json],
            what="snarkjs groth16 verify",
            accept=(0, 1),
        )
    if completed.returncode == 0 and "OK!" in completed.stdout:
        return True
    if completed.returncode == 1 and any(line in completed.stdout for line in INVALID_PROOF_LINES):
        return False
    raise tool_failure("snarkjs groth16 verify", completed)


def export_solidity_verifier(zkey: Path, sol: Path) -> None:
    """``snarkjs zkey export solidityverifier``: the Groth16 verifier contract of ``zkey``."""
    sol.unlink(missing_ok=True)
    completed = _snarkjs(
        ["zkey", "export", "solidityverifier", zkey, sol],
        what="snarkjs zkey export solidityverifier",
    )
    _expect_file(sol, "snarkjs zkey export solidityverifier", completed.stdout)


def solidity_calldata(proof: Mapping[str, Any], public: Sequence[str | int]) -> str:
    """``snarkjs zkey export soliditycalldata``: the verifier's arguments as snarkjs prints them."""
    with tempfile.TemporaryDirectory(prefix="zkmargin-calldata-") as scratch:
        proof_json, public_json = Path(scratch) / "proof.json", Path(scratch) / "public.json"
        proof_json.write_text(json.dumps(proof), encoding="utf-8")
        public_json.write_text(json.dumps([str(value) for value in public]), encoding="utf-8")
        completed = _snarkjs(
            ["zkey", "export", "soliditycalldata", public_json, proof_json],
            what="snarkjs zkey export soliditycalldata",
        )
    return completed.stdout.strip()


def ptau_new(power: int, ptau: Path) -> None:
    """``snarkjs powersoftau new bn128``: an empty ceremony for 2^power constraints."""
    _snarkjs_to_file(
        ["powersoftau", "new", "bn128", str(power), ptau], ptau, what="powersoftau new"
    )


def ptau_contribute(old: Path, new: Path, *, name: str, entropy: str) -> None:
    """``snarkjs powersoftau contribute``: one phase-1 contribution; ``entropy`` goes on stdin."""
    _snarkjs_to_file(
        ["powersoftau", "contribute", old, new, f"--name={name}"],
        new,
        what="powersoftau contribute",
        stdin=f"{entropy}\n",
    )


def ptau_beacon(old: Path, new: Path, *, beacon_hash: str, iterations_exp: int, name: str) -> None:
    """``snarkjs powersoftau beacon``: the closing public-randomness phase-1 contribution."""
    _snarkjs_to_file(
        ["powersoftau", "beacon", old, new, beacon_hash, str(iterations_exp), f"--name={name}"],
        new,
        what="powersoftau beacon",
    )


def ptau_prepare_phase2(old: Path, new: Path) -> None:
    """``snarkjs powersoftau prepare phase2``: the Lagrange-basis sections Groth16 setup needs."""
    _snarkjs_to_file(
        ["powersoftau", "prepare", "phase2", old, new], new, what="powersoftau prepare phase2"
    )


def _snarkjs_to_file(
    args: Sequence[str | Path], output: Path, *, what: str, stdin: str | None = None
) -> None:
    """Run a long powers-of-tau step with a progress line; check that it wrote ``output``."""
    output.unlink(missing_ok=True)
    completed = _snarkjs([*args, "-v"], what=f"snarkjs {what}", stdin=stdin, progress=True)
    _expect_file(output, f"snarkjs {what}", completed.stdout)


def _snarkjs(
    args: Sequence[str | Path],
    *,
    what: str,
    stdin: str | None = None,
    accept: tuple[int, ...] = (0,),
    progress: bool = False,
    fds: Sequence[int] = (),
) -> subprocess.CompletedProcess[str]:
    """Run the pinned snarkjs with ``args`` from the project root.

    Path arguments are made absolute against the caller's working directory first: snarkjs runs
    in the project root, where a relative path would name a different (or no) file.
    """
    return run_tool(
        [*snarkjs_command(), *(arg.absolute() if isinstance(arg, Path) else arg for arg in args)],
        cwd=PROJECT_ROOT,
        what=what,
        stdin=stdin,
        accept=accept,
        progress=progress,
        fds=fds,
    )


def _expect_file(path: Path, what: str, output: str) -> None:
    """ProverError quoting snarkjs's output if it exited 0 without writing ``path``."""
    if not path.is_file():
        raise ProverError(
            f"{what} wrote no {path.name}; snarkjs printed:\n{output.strip()[-2000:]}"
        )


def _decimal_strings(value: InputValue) -> str | list[Any]:
    """An input value with every int replaced by its decimal string, nesting kept."""
    if isinstance(value, int):
        return str(value)
    return [_decimal_strings(item) for item in value]

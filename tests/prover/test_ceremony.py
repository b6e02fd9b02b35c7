"""prover.ceremony and ``zkmargin ceremony``: a phase-2 ceremony on a tiny circuit and a tiny ptau
(made in seconds), whose exported keys prove and verify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from prover import snarkjs
from prover.ceremony import KNOWN_PTAU, Ceremony, known_ptau, parse_contributions
from prover.setup import key_manifest
from prover.toolchain import PROJECT_ROOT
from prover.witness import WitnessCalculator, write_wtns
from tests.prover.conftest import SHARED_PTAU
from verifier import load_verifying_key, parse_proof, verify
from zkmargin.cli import main
from zkmargin.errors import InputError

MUL = PROJECT_ROOT / "tests" / "verifier" / "fixtures" / "mul.circom"
BEACON = "9f" * 32
SECRET = "correct-horse-battery-staple-entropy"


@pytest.fixture(scope="module")
def tiny_ptau(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A prepared 2^4 powers of tau (one contribution), made in a few seconds."""
    work = tmp_path_factory.mktemp("ptau")
    snarkjs.ptau_new(4, work / "p0.ptau")
    snarkjs.ptau_contribute(work / "p0.ptau", work / "p1.ptau", name="test", entropy="tiny ptau")
    snarkjs.ptau_prepare_phase2(work / "p1.ptau", work / "tiny.ptau")
    return work / "tiny.ptau"


def run(*args: str) -> str:
    result = CliRunner().invoke(main, ["ceremony", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_ceremony_commands_make_keys_that_prove_and_verify(tmp_path: Path, tiny_ptau: Path) -> None:
    directory, keys = tmp_path / "ceremony", tmp_path / "keys"
    started = run("init", "-d", str(directory), "--circuit", str(MUL), "--ptau", str(tiny_ptau))
    assert "mul: ceremony started" in started and "NOT a known public ceremony file" in started
    run("contribute", "-d", str(directory), "--name", "alice")
    bob = run("contribute", "-d", str(directory), "--name", "bob", "--entropy", SECRET)
    run("beacon", "-d", str(directory), "--hash", BEACON, "--name", "closing beacon")
    listed = run("verify", "-d", str(directory))
    assert [line.split(":")[0] for line in listed.splitlines()] == [
        "#1 alice", "#2 bob", "#3 closing beacon", "ZKey Ok"]
    run("export", "-d", str(directory), "-o", str(keys))

    assert SECRET not in bob and not any(SECRET.encode() in path.read_bytes()
                                         for path in directory.rglob("*") if path.is_file())
    manifest = json.loads((keys / "manifest.json").read_text())
    like_setup = key_manifest(inputs={}, zkey=keys / "mul.zkey", vk=keys / "verification_key.json",
                              ptau_file="", ptau_power=0, constraints=0, public_signals=0,
                              optimization="", compiler_version="")
    assert set(like_setup) < set(manifest)
    assert (manifest["beacon_hash"], manifest["circuit_id"]) == (BEACON, "mul")
    assert [c["name"] for c in manifest["ceremony"]["contributions"]] == ["alice", "bob", "closing beacon"]

    calculator = WitnessCalculator(directory / "mul.wasm")
    write_wtns(tmp_path / "w.wtns", calculator.calculate({"a": 3, "b": 11}), calculator.prime)
    proof, public = snarkjs.prove(keys / "mul.zkey", tmp_path / "w.wtns")
    assert public == ["33", "3"]
    assert verify(load_verifying_key(keys / "verification_key.json"), parse_proof(proof), [33, 3])
    assert snarkjs.verify(keys / "verification_key.json", proof, public)
    assert not snarkjs.verify(keys / "verification_key.json", proof, ["34", "3"])


def test_ceremony_steps_are_refused_out_of_order(tmp_path: Path, tiny_ptau: Path) -> None:
    from prover.build import compile_circuit
    from prover.circuits import include_dirs

    build = compile_circuit(MUL, include_dirs=include_dirs(), build_root=tmp_path / "b", optimization=2)
    ceremony = Ceremony.init(tmp_path / "c", build, tiny_ptau, "mul")
    with pytest.raises(InputError, match="a beacon alone is public"):
        ceremony.beacon("b", BEACON, 10)
    with pytest.raises(InputError, match="not closed"):
        ceremony.export(tmp_path / "keys")
    with pytest.raises(InputError, match="already holds a ceremony"):
        Ceremony.init(tmp_path / "c", build, tiny_ptau, "mul")
    ceremony.contribute("alice", "some entropy")
    with pytest.raises(InputError, match="not an even-length hex"):
        ceremony.beacon("b", "xyz", 10)
    with pytest.raises(InputError, match="outside"):
        ceremony.beacon("b", BEACON, 9)
    ceremony.beacon("b", BEACON, 10)
    with pytest.raises(InputError, match="closed by its beacon"):
        ceremony.contribute("late", "entropy")


@pytest.mark.skipif(not SHARED_PTAU.is_file(), reason="the shared dev ptau is not beside the clone")
def test_ceremony_refuses_the_dev_ptau(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["ceremony", "init", "-d", str(tmp_path), "--circuit", str(MUL),
                                       "--ptau", str(SHARED_PTAU)])
    assert result.exit_code == 2 and "INSECURE dev ptau" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_known_ptau_table_names_the_hermez_files() -> None:
    assert sorted(power for _, power in KNOWN_PTAU.values()) == list(range(8, 29))
    blake2b_17 = next(h for h, (_, power) in KNOWN_PTAU.items() if power == 17)
    assert known_ptau(blake2b_17.upper()) == "powersOfTau28_hez_final_17.ptau"
    assert known_ptau("00" * 64) is None


def test_contributions_are_parsed_from_the_zkey_verify_report() -> None:
    report = ("\x1b[32m[INFO]  snarkJS: contribution #2 final beacon:\n\t\taa11 bb22\n\t\tcc33\n\t\tdd44\n\t\tee55\n"
              "[INFO]  snarkJS: Beacon generator: 0102\n[INFO]  snarkJS: Beacon iterations Exp: 12\n"
              "[INFO]  snarkJS: contribution #1 alice: the first:\n\t\t0001\n\t\t0002\n\t\t0003\n\t\t0004\n"
              "[INFO]  snarkJS: ZKey Ok!\n")
    first, beacon = parse_contributions(report)
    assert (first.index, first.name, first.hash, first.is_beacon) == (1, "alice: the first", "0001000200030004", False)
    assert (beacon.name, beacon.hash, beacon.beacon_hash, beacon.beacon_iterations_exp) == (
        "final beacon", "aa11bb22cc33dd44ee55", "0102", 12)

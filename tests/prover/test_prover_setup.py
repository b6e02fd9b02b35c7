"""prover.setup and prover.snarkjs: keys, manifest, caching, and the prove/verify round trip."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from prover.binfile import read_section_table
from prover.build import CircuitBuild
from prover.ptau import required_power
from prover.setup import DEV_KEY_BEACON, KeySet, read_keys, setup_keys
from prover.snarkjs import prove, verify
from prover.witness import InputValue, WitnessCalculator, write_wtns
from zkmargin.cli import main
from zkmargin.errors import ProverError

ZKEY_GROTH16_HEADER = 2
R = 21888242871839275222246405745257275088548364400416034343698204186575808495617


def sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def zkey_domain_size(zkey: Path) -> int:
    """The Groth16 evaluation domain size snarkjs chose, from the zkey's header section."""
    with zkey.open("rb") as handle:
        table = read_section_table(handle, zkey, b"zkey")
        header = table.read(handle, ZKEY_GROTH16_HEADER)
    n8q = int.from_bytes(header[0:4], "little")
    n8r = int.from_bytes(header[4 + n8q : 8 + n8q], "little")
    at = 8 + n8q + n8r + 8  # skip q, r, nVars, nPublic
    return int.from_bytes(header[at : at + 4], "little")


def test_manifest_describes_the_keys(toy_keys: KeySet, toy_build: CircuitBuild, ptau: Path) -> None:
    manifest = toy_keys.manifest
    assert manifest["circuit_id"] == "toy"
    assert manifest["source_hash"] == toy_build.key
    assert manifest["r1cs_sha256"] == sha256(toy_build.r1cs)
    assert manifest["wasm_sha256"] == sha256(toy_build.wasm)
    assert manifest["zkey_sha256"] == sha256(toy_keys.zkey)
    assert manifest["vk_sha256"] == sha256(toy_keys.vk)
    assert manifest["ptau_sha256"] == sha256(ptau)
    assert manifest["beacon_hash"] == DEV_KEY_BEACON
    assert manifest["constraints"] == toy_build.n_constraints
    assert manifest["public_signals"] == 3
    assert manifest["versions"] == {
        "circom": "2.2.3",
        "circom2": "0.2.23",
        "circomlib": "2.0.5",
        "snarkjs": "0.7.6",
    }
    assert manifest["created_at"].endswith("+00:00")
    assert toy_keys.manifest_path.read_text(encoding="utf-8").count("toy") >= 1
    files = sorted(path.name for path in toy_keys.zkey.parent.iterdir())
    assert [name for name in files if not name.startswith(".")] == [
        "manifest.json",
        "toy.zkey",
        "verification_key.json",
    ]


def test_domain_follows_the_documented_power_rule(
    toy_keys: KeySet, toy_build: CircuitBuild
) -> None:
    power = required_power(toy_build.header)
    assert 2 ** (power - 1) <= toy_build.n_constraints + toy_build.n_public < 2**power
    assert zkey_domain_size(toy_keys.zkey) == 2**power


def test_matching_manifest_skips_the_setup(
    toy_keys: KeySet, toy_build: CircuitBuild, ptau: Path
) -> None:
    again = setup_keys(toy_build, ptau, toy_keys.zkey.parent, circuit_id="toy")
    assert again.cached and not toy_keys.cached
    assert again.manifest == toy_keys.manifest


def test_tampered_key_is_set_up_again(toy_build: CircuitBuild, ptau: Path, tmp_path: Path) -> None:
    first = setup_keys(
        toy_build, ptau, tmp_path, circuit_id="toy", contribution_entropy="test entropy"
    )
    first.zkey.write_bytes(first.zkey.read_bytes()[:-1] + b"\x00")
    second = setup_keys(toy_build, ptau, tmp_path, circuit_id="toy")
    assert not second.cached
    assert second.manifest["zkey_sha256"] == sha256(second.zkey) != first.manifest["zkey_sha256"]
    assert "test entropy" not in second.manifest_path.read_text(encoding="utf-8")


def test_prove_then_verify_round_trip(
    toy_keys: KeySet,
    calculator: WitnessCalculator,
    toy_inputs: dict[str, InputValue],
    tmp_path: Path,
    record_timing: Callable[[str, float], None],
) -> None:
    witness = calculator.calculate(toy_inputs)
    write_wtns(tmp_path / "w.wtns", witness, calculator.prime)
    started = time.monotonic()
    proof, public = prove(toy_keys.zkey, tmp_path / "w.wtns")
    record_timing("snarkjs groth16 prove", time.monotonic() - started)
    assert public == [str(value) for value in witness[1:4]]  # digest, product, salt
    assert proof["protocol"] == "groth16" and proof["curve"] == "bn128"
    started = time.monotonic()
    assert verify(toy_keys.vk, proof, public)
    record_timing("snarkjs groth16 verify", time.monotonic() - started)
    assert not verify(toy_keys.vk, proof, [public[0], str(int(public[1]) + 1), public[2]])


@pytest.fixture(scope="module")
def toy_proof(
    toy_keys: KeySet, calculator: WitnessCalculator, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], list[str]]:
    """A valid proof of the toy circuit and its public signals."""
    wtns = tmp_path_factory.mktemp("proof") / "w.wtns"
    write_wtns(wtns, calculator.calculate({"a": 5, "b": [6, 7], "salt": 8}), calculator.prime)
    return prove(toy_keys.zkey, wtns)


@pytest.mark.parametrize(
    "edit",
    [
        lambda public: public[:2],
        lambda public: [*public[:2], str(R + int(public[2]))],
        lambda public: [public[0], public[1], "9"],
    ],
    ids=["too-few-signals", "signal-not-reduced-mod-r", "other-salt"],
)
def test_verify_is_false_for_other_public_signals(
    toy_keys: KeySet,
    toy_proof: tuple[dict[str, Any], list[str]],
    edit: Callable[[list[str]], list[str]],
) -> None:
    proof, public = toy_proof
    assert verify(toy_keys.vk, proof, public)
    assert verify(toy_keys.vk, proof, edit(public)) is False


def test_verify_raises_when_snarkjs_cannot_read_the_input(
    toy_keys: KeySet, toy_proof: tuple[dict[str, Any], list[str]]
) -> None:
    proof, public = toy_proof
    with pytest.raises(ProverError, match="Cannot convert x to a BigInt"):
        verify(toy_keys.vk, proof, ["x", *public[1:]])


KEY_CORRUPTIONS: dict[str, Callable[[Path], None]] = {
    "manifest not JSON": lambda d: (d / "manifest.json").write_text("{not json"),
    "manifest a list": lambda d: (d / "manifest.json").write_text("[1, 2]"),
    "manifest of another circuit": lambda d: (d / "manifest.json").write_text('{"circuit_id": "cross_small"}'),
    "manifest a folder": lambda d: ((d / "manifest.json").unlink(), (d / "manifest.json").mkdir()),
    "manifest a FIFO": lambda d: ((d / "manifest.json").unlink(), os.mkfifo(d / "manifest.json")),
    "zkey truncated": lambda d: (d / "portfolio_small.zkey").write_bytes((d / "portfolio_small.zkey").read_bytes()[:1000]),
    "zkey missing": lambda d: (d / "portfolio_small.zkey").unlink(),
    "vk replaced": lambda d: (d / "verification_key.json").write_text('{"protocol": "groth16"}'),
}


@pytest.mark.parametrize("corrupt", KEY_CORRUPTIONS.values(), ids=KEY_CORRUPTIONS.keys())
def test_keys_that_do_not_match_their_manifest_are_refused_in_one_line(
    keys: KeySet, tmp_path: Path, corrupt: Callable[[Path], None]
) -> None:
    copy = tmp_path / "keys"
    shutil.copytree(keys.zkey.parent, copy)
    corrupt(copy)
    with pytest.raises(ProverError) as refused:
        read_keys(copy, "portfolio_small", hint="run setup")
    assert "\n" not in str(refused.value) and "run setup" in str(refused.value)


def test_prove_with_a_replaced_zkey_exits_2_before_proving(keys: KeySet, tmp_path: Path, published: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    build = tmp_path / "build"
    shutil.copytree(keys.zkey.parent, build / "keys" / "portfolio_small")
    KEY_CORRUPTIONS["zkey truncated"](build / "keys" / "portfolio_small")
    monkeypatch.setenv("ZKMARGIN_BUILD", str(build))
    examples = Path(__file__).resolve().parents[2] / "examples"
    result = CliRunner().invoke(main, ["prove", str(published / "statements" / "hedged_market_maker.json"),
                                       str(examples / "snapshot_span16.json"), "--epoch-file",
                                       str(published / "epoch.json"), "-o", str(tmp_path / "p.json")])
    assert result.exit_code == 2 and result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "zkey_sha256" in result.stderr

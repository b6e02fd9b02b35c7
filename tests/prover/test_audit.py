"""``zkmargin audit``: it passes on the shipped small circuit with the session's keys, and flags a
copy of the circuits whose scanning loss no longer has to cover every scenario and whose split parts
are not range-checked, naming each hint and probe."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from prover.audit.allowlist import Allowance, apply_allowlist, load_allowlist
from prover.audit.cheats import ALLOCATION, ROOM, allocation_from_each_asset, minimum_above_loss, undeclared
from prover.audit.mutation import under_constraint_scan
from prover.audit.result import CheckResult, Finding
from prover.build import compile_circuit
from prover.circuits import CIRCUITS_DIR
from prover.r1cs import read_r1cs
from prover.setup import KeySet
from prover.witness import WitnessCalculator
from tests.conftest import SHARED_PTAU
from zkmargin.cli import main
from zkmargin.book import resolve
from zkmargin.circuit_input import circuit_inputs
from zkmargin.circuitgen import MODELS
from zkmargin.commitment import SnapshotCommitment
from zkmargin.errors import InputError
from zkmargin.margin import margin_model
from zkmargin.models import RiskSnapshot, Statement
from zkmargin.portfolio import portfolio_margin
from zkmargin.profiles import get_profile

COVERS = """    component covers[SCENARIOS];
    for (var s = 0; s < SCENARIOS; s++) {
        covers[s] = RangeCheck(BITS);
        covers[s].in <== loss + pnl[s];
    }
"""
PART_RANGE = "        part_range[t].in <== split[t];\n"


def ptau() -> Path:
    return Path(os.environ["ZKMARGIN_PTAU"]) if os.environ.get("ZKMARGIN_PTAU") else SHARED_PTAU


def test_audit_passes_on_the_shipped_small_circuit(tmp_path: Path, keys: KeySet) -> None:
    out = tmp_path / "audit.md"
    result = CliRunner().invoke(main, ["audit", "--ptau", str(ptau()), "--keys", str(keys.zkey.parent),
                                       "--accounts", "24", "-o", str(out)])
    report = json.loads(out.with_suffix(".json").read_text())
    assert result.exit_code == 0, out.read_text()
    assert result.output.splitlines()[-1].startswith("VERDICT: PASS: 7 checks passed for portfolio_small")
    assert out.read_text().rstrip().splitlines()[-1] == report["verdict"]
    checks = {check["key"]: check for check in report["checks"]}
    assert list(checks) == ["build", "keys", "facts", "differential", "cheats", "mutation", "static"]
    assert checks["facts"]["data"]["public_signals"] == ["main.snapshot_root", "main.account_root", "main.holder",
                                                         "main.threshold_bps"]
    assert checks["differential"]["data"]["accounts"] >= 24 and checks["differential"]["data"]["compared"] > 0
    assert checks["cheats"]["data"]["probes"] > 0 and checks["mutation"]["data"]["free_wires"] == []
    assert [c["name"] for c in checks["keys"]["data"]["contributions"]] == [
        "portfolio_small phase-2 contribution", "portfolio_small beacon"]
    assert report["unused_allowances"] == []


def test_audit_names_the_signal_and_probe_of_a_loss_need_not_cover_and_an_unchecked_split(tmp_path: Path) -> None:
    broken = tmp_path / "circuits"
    shutil.copytree(CIRCUITS_DIR, broken)
    scan, collateral = broken / "lib" / "scenario_scan.circom", broken / "lib" / "collateral.circom"
    assert COVERS in scan.read_text() and PART_RANGE in collateral.read_text()
    scan.write_text(scan.read_text().replace(COVERS, ""))
    collateral.write_text(collateral.read_text().replace(PART_RANGE, "        part_range[t].in <== 0;\n"))
    result = CliRunner().invoke(main, ["audit", "--circuits", str(broken), "--accounts", "8",
                                       "--check", "differential", "--check", "cheats"])
    assert result.exit_code == 1
    for subject in ("cheats/scan_loss/below", "cheats/scan_loss/second_worst", "cheats/collateral_split/transfer"):
        assert f"**OPEN** `{subject}`" in result.output, subject
    assert "has a satisfying witness of the proven R1CS: ScanLoss does not rule out" in result.output
    assert result.output.rstrip().splitlines()[-1].startswith("VERDICT: FAIL: cheats failed")


def test_mutation_scan_reports_a_hint_that_only_a_zero_selector_touches(tmp_path: Path) -> None:
    main_file = tmp_path / "select.circom"
    main_file.write_text("pragma circom 2.1.6;\ntemplate Select() {\n    signal input sel;\n    signal input hint;\n"
                         "    signal output out;\n    sel * (sel - 1) === 0;\n    out <== sel * hint;\n}\n"
                         "component main = Select();\n")
    build = compile_circuit(main_file, include_dirs=[], build_root=tmp_path / "build", optimization=2)
    calculator, r1cs = WitnessCalculator(build.wasm), read_r1cs(build.r1cs)
    unselected, selected = (calculator.calculate({"sel": sel, "hint": 7}) for sel in (0, 1))
    free = under_constraint_scan(build, r1cs, [unselected])
    assert [f.subject for f in free.findings] == ["main.hint"] and not free.passed
    assert under_constraint_scan(build, r1cs, [unselected, selected]).findings == []


def test_every_input_of_every_margin_circuit_is_bound_or_a_declared_hint(statement: Statement,
                                                                          snapshot: RiskSnapshot) -> None:
    profile = get_profile("small")
    book = resolve(statement.account, snapshot, profile)
    for model in MODELS:
        inputs = circuit_inputs(book, statement, SnapshotCommitment(snapshot, profile), margin_model(model)(book))
        assert undeclared(inputs) == [], model
    assert undeclared({**inputs, "fresh_hint": 3}) == ["fresh_hint"]


def test_the_focused_accounts_bind_the_second_bound_and_allocate_every_asset_with_room(snapshot: RiskSnapshot) -> None:
    profile = get_profile("small")
    hedged = [account for _, account, _ in minimum_above_loss(snapshot, profile)]
    assert hedged
    for account in hedged:
        result = portfolio_margin(resolve(account, snapshot, profile), 0)
        assert any(som > loss for som, loss in zip(result.group_som, result.scan_loss)), account
    allocated = [(p.allocation.asset, p.allocation.amount) for _, account, _ in allocation_from_each_asset(snapshot, profile)
                 for p in account.positions if p.allocation is not None]
    assert sorted(asset for asset, _ in allocated) == list(range(profile.assets))
    assert {amount for _, amount in allocated} == {ALLOCATION} and 2 * ALLOCATION < ROOM


def test_allowlist_accepts_matching_findings_only(tmp_path: Path) -> None:
    result = CheckResult("static", "t", findings=[Finding("circomspect/CS0010/range.circom/RangeCheck", "m"),
                                                  Finding("circomspect/CS0005/x.circom/X", "m")])
    accepted = apply_allowlist(result, [Allowance("static", "circomspect/CS0010/*", "widths <= 252"),
                                        Allowance("mutation", "*", "other check")])
    assert [f.accepted for f in accepted.findings] == ["widths <= 252", None] and not accepted.passed
    assert all(entry.reason for entry in load_allowlist())
    bad = tmp_path / "allow.toml"
    bad.write_text('[[allow]]\ncheck = "static"\nsubject = "x"\n')
    with pytest.raises(InputError, match="entry 1 needs"):
        load_allowlist(bad)

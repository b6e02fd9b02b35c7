"""The mutation runner's CI subset: each smoke mutant, planted in a copy of the project, is killed
by the tests that claim to guard its code (the full run: ``python -m tests.mutation``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mutation.__main__ import run, selects
from tests.mutation.mutants import MUTANTS, SMOKE

BY_NAME = {mutant.name: mutant for mutant in MUTANTS}


@pytest.mark.parametrize("name", SMOKE)
def test_smoke_mutant_is_killed_by_its_tests(name: str, tmp_path: Path) -> None:
    status, deciding, _ = run(BY_NAME[name], tmp_path)
    assert status == "killed", deciding
    assert deciding.startswith("FAILED "), deciding


def test_the_curated_set_has_forty_mutants_each_planted_exactly_once() -> None:
    root = Path(__file__).resolve().parents[1]
    assert len(MUTANTS) >= 40 and len(BY_NAME) == len(MUTANTS) and set(SMOKE) <= set(BY_NAME)
    for mutant in MUTANTS:
        assert (root / mutant.path).read_text(encoding="utf-8").count(mutant.old) == 1, mutant.name


def test_only_runs_an_exact_name_alone_and_a_prefix_as_a_prefix() -> None:
    assert selects("circuit/scan-covers", "circuit/scan-covers")
    assert not selects("circuit/scan-covers", "circuit/scan-covers-all-but-last")
    assert {m.name for m in MUTANTS if selects("circuit/shortfall", m.name)} == {
        "circuit/shortfall-boolean", "circuit/shortfall-side"}

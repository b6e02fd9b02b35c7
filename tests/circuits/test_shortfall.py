"""The solvency circuit's one computed hint, ``Shortfall.below`` (``below <-- mm > equity``), under
a cheating prover: its witness code swapped for a cheater's, the constraints must leave no witness.

A cheater runs its own witness generator, so the test compiles ``Shortfall`` from
``circuits/lib/solvency.circom`` alone (the template's text, constraints untouched) with the hint
line replaced: the flipped choice (an account below MM counted as margined, or the reverse) and a
non-boolean value chosen so the side check still holds (``side = 0``), which would count a fraction
of an account and a field-sized shortfall. Both must fail; the honest line must not.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from prover.build import compile_circuit
from prover.circuits import CIRCUITS_DIR, include_dirs
from prover.r1cs import check_witness, read_r1cs
from prover.witness import WitnessCalculator, WitnessError
from zkmargin import fixedpoint as fp

HINT = "below <-- mm > equity ? 1 : 0;"
CHEATS = {
    "flipped": "below <-- mm > equity ? 0 : 1;",
    "non-boolean, side kept at 0": "below <-- (mm - equity) / (2 * (mm - equity) - 1);",
}
ACCOUNTS = {"below MM": (100, 250), "above MM": (250, 100)}
"""(equity, mm) at EQUITY_SCALE."""


def shortfall_with(hint: str, into: Path) -> tuple[WitnessCalculator, Path]:
    """The witness code and r1cs of ``Shortfall(HEALTH_BITS)`` with its hint line set to ``hint``."""
    source = (CIRCUITS_DIR / "lib" / "solvency.circom").read_text(encoding="utf-8")
    template = re.search(r"^template Shortfall\(BITS\) \{\n.*?^\}\n", source, re.S | re.M)
    assert template is not None and template.group(0).count(HINT) == 1
    main = into / "shortfall.circom"
    main.write_text(f'pragma circom 2.1.6;\ninclude "range.circom";\n{template.group(0).replace(HINT, hint)}'
                    f"component main = Shortfall({fp.HEALTH_BITS});\n", encoding="utf-8")
    build = compile_circuit(main, include_dirs=include_dirs(), build_root=into / "build", optimization=2)
    return WitnessCalculator(build.wasm), build.r1cs


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[WitnessCalculator, Path]]:
    """The honest build (key ``HINT``) and one per cheat, each compiled once."""
    return {name: shortfall_with(line, tmp_path_factory.mktemp("shortfall"))
            for name, line in {HINT: HINT, **CHEATS}.items()}


def satisfied(calculator: WitnessCalculator, r1cs: Path, equity: int, mm: int) -> bool:
    try:
        witness = calculator.calculate({"equity": equity, "mm": mm})
    except WitnessError:
        return False
    return not check_witness(read_r1cs(r1cs), witness)


def test_the_honest_hint_has_a_witness_on_both_sides_of_mm(builds: dict[str, tuple[WitnessCalculator, Path]]) -> None:
    calculator, r1cs = builds[HINT]
    assert all(satisfied(calculator, r1cs, *account) for account in ACCOUNTS.values())


@pytest.mark.parametrize("cheat", sorted(CHEATS))
@pytest.mark.parametrize("account", sorted(ACCOUNTS))
def test_a_cheater_s_below_has_no_witness(cheat: str, account: str,
                                         builds: dict[str, tuple[WitnessCalculator, Path]]) -> None:
    calculator, r1cs = builds[cheat]
    assert not satisfied(calculator, r1cs, *ACCOUNTS[account]), f"{cheat} below accepted for an account {account}"

"""The C Poseidon permutation (zkmargin._poseidon) against the pure-Python specification.

Both implementations run side by side in one process: ``poseidon._permute_python`` is the spec,
``zkmargin._poseidon`` the extension (fed the same sparse constants). Outside CI the tests that
need the extension skip when it is not built; with ``CI=true`` it must be there, so that CI
cannot silently test the fallback alone.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.engine import test_poseidon as reference
from zkmargin import poseidon
from zkmargin.errors import BoundError
from zkmargin.fixedpoint import R
from zkmargin.poseidon_constants import MAX_WIDTH, MIN_WIDTH, sparse_constants

REPO = Path(__file__).resolve().parents[2]
WIDTHS = range(MIN_WIDTH, MAX_WIDTH + 1)
# Values at the 64-bit limb borders and at the field's ends.
LIMB_BORDERS = sorted(
    {2 ** (64 * k) + d for k in (1, 2, 3) for d in (-1, 0, 1)}
    | {0, 1, 2, R - 1, R - 2, R - 2**64, R - 2**128, R - 2**192, R // 2, R // 2 + 1}
)
field_elements = st.one_of(
    st.integers(0, R - 1), st.sampled_from(LIMB_BORDERS), st.integers(0, 2**64 + 1)
)
# circomlib's published vectors, read from the parametrization of test_poseidon.py
KNOWN_VECTORS = next(
    m for m in reference.test_known_vectors.pytestmark if m.name == "parametrize"
).args[1]


@pytest.fixture(scope="module")
def native() -> ModuleType:
    """The extension with the constants of every width loaded (skips if it is not built)."""
    try:
        module = importlib.import_module("zkmargin._poseidon")
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("zkmargin._poseidon is not built: CI must test the C permutation")
        pytest.skip("zkmargin._poseidon is not built (pip install -e . with a C compiler)")
    for t in WIDTHS:
        poseidon._pass_constants(module, t)
    return module


def test_extension_is_built_and_used_in_ci() -> None:
    if os.environ.get("CI") != "true":
        pytest.skip("only enforced with CI=true")
    importlib.import_module("zkmargin._poseidon")
    if os.environ.get(poseidon.BACKEND_ENV) != "python":
        assert poseidon.BACKEND == "c"


@pytest.mark.parametrize("t", WIDTHS)
@given(data=st.data())
def test_c_permutation_equals_python(native: ModuleType, t: int, data: st.DataObject) -> None:
    # the whole state is drawn, capacity element included
    state = data.draw(st.lists(field_elements, min_size=t, max_size=t), label="state")
    assert native.permute_first(state) == poseidon._permute_python(list(state))


@pytest.mark.parametrize("t", WIDTHS)
def test_c_permutation_equals_python_at_limb_borders(native: ModuleType, t: int) -> None:
    for shift in range(len(LIMB_BORDERS)):
        state = [LIMB_BORDERS[(shift + i) % len(LIMB_BORDERS)] for i in range(t)]
        assert native.permute_first(state) == poseidon._permute_python(state), state


@pytest.mark.parametrize(("inputs", "expected"), KNOWN_VECTORS)
def test_both_backends_give_the_known_vectors(
    native: ModuleType, inputs: list[int], expected: int
) -> None:
    assert native.permute_first([0, *inputs]) == expected
    assert poseidon._permute_python([0, *inputs]) == expected


BAD_ELEMENTS: list[tuple[object, type[Exception]]] = [
    (R, ValueError), (R + 1, ValueError), (2**256 - 1, ValueError), (2**256, ValueError),
    (2**1000, ValueError), (-1, ValueError), (-(2**300), ValueError), (True, TypeError),
    (1.0, TypeError), ("1", TypeError), (None, TypeError),
]


@pytest.mark.parametrize(("bad", "error"), BAD_ELEMENTS)
def test_c_refuses_bad_elements(native: ModuleType, bad: object, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"state\[2\]"):
        native.permute_first([0, 1, bad])
    with pytest.raises(error, match=r"mds\[0\]\[1\]"):
        c = sparse_constants(2)
        mds = [[c.mds[0][0], bad], list(c.mds[1])]
        native.set_constants(
            2, c.first_constants, c.pre_sparse, c.partial_constants, c.sparse_rows,
            c.sparse_cols, c.last_constants, mds,
        )
    assert native.permute_first([0, 1]) == poseidon._permute_python([0, 1])  # width 2 intact


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda n: n.permute_first([0]), ValueError, "width t = 1"),
        (lambda n: n.permute_first([0] * 18), ValueError, "width t = 18"),
        (lambda n: n.permute_first(5), TypeError, "has no len"),
        (lambda n: n.permute_first({0: 1, 1: 2}), TypeError, None),
        (lambda n: n.set_constants(18, [], [], [], [], [], [], []), ValueError, "t = 18"),
        (lambda n: n.set_constants(3, [], [], [], [], [], [], []), ValueError, "pre_sparse"),
        (lambda n: n.set_constants(3, [[0]], [], [], [], [], [], []), ValueError, "3 elements"),
    ],
)
def test_c_refuses_bad_shapes(
    native: ModuleType,
    call: Callable[[ModuleType], object],
    error: type[Exception],
    message: str | None,
) -> None:
    with pytest.raises(error, match=message):
        call(native)
    assert native.has_constants(3) and not native.has_constants(18)


def _hashes_in_subprocess(setup: str, env: dict[str, str]) -> dict[str, object]:
    """BACKEND and poseidon of every known-vector input, in a fresh interpreter."""
    script = (
        f"{setup}\nimport json\nfrom zkmargin import poseidon\n"
        f"rows = {[inputs for inputs, _ in KNOWN_VECTORS]!r}\n"
        "print(json.dumps({'backend': poseidon.BACKEND,"
        " 'hashes': [poseidon.poseidon(r) for r in rows]}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env={**os.environ, **env},
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    out: dict[str, object] = json.loads(done.stdout)
    return out


@pytest.mark.parametrize(
    ("setup", "env"),
    [
        ("", {poseidon.BACKEND_ENV: "python"}),  # forced
        ("import sys; sys.modules['zkmargin._poseidon'] = None", {}),  # extension missing
    ],
    ids=["forced", "missing"],
)
def test_pure_python_fallback(setup: str, env: dict[str, str]) -> None:
    expected = [h for _, h in KNOWN_VECTORS]
    out = _hashes_in_subprocess(setup, env)
    assert out == {"backend": "python", "hashes": expected}


def test_unknown_backend_choice_is_refused() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import zkmargin.poseidon"], cwd=REPO,
        env={**os.environ, poseidon.BACKEND_ENV: "fast"}, capture_output=True, text=True,
        timeout=120, check=False,
    )
    assert done.returncode != 0
    assert "ZKMARGIN_POSEIDON='fast': expected 'auto' or 'python'" in done.stderr

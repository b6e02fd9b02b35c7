"""Poseidon: bit-identical to circomlib/circomlibjs, input bounds, the hash_vector chain."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkmargin.errors import BoundError
from zkmargin.fixedpoint import R
from zkmargin.poseidon import MAX_INPUTS, hash_pair, hash_vector, poseidon
from zkmargin.poseidon_constants import ROUNDS_F, plain_constants

REPO = Path(__file__).resolve().parents[2]
CIRCOMLIBJS = REPO / "node_modules" / "circomlibjs"
WIDTHS = range(1, MAX_INPUTS + 1)  # number of inputs n; state width t = n + 1
CHAIN_LENGTHS = (17, 30, 31, 32, 46, 47, 100)

# Hashes every request with circomlibjs's WASM Poseidon and its plain JS reference, and the
# hash_vector chain (as the circuits will build it) with the WASM one; prints JSON.
NODE_SCRIPT = """
const { buildPoseidon, buildPoseidonReference } = require("circomlibjs");
const fs = require("fs");
(async () => {
  const req = JSON.parse(fs.readFileSync(0, "utf8"));
  const wasm = await buildPoseidon();
  const ref = await buildPoseidonReference();
  const hash = (p, xs) => p.F.toString(p(xs));
  const chain = (v) => {
    let h = hash(wasm, v.slice(0, 16));
    for (let i = 16; i < v.length; i += 15) h = hash(wasm, [h, ...v.slice(i, i + 15)]);
    return h;
  };
  process.stdout.write(JSON.stringify({
    wasm: req.hashes.map((xs) => hash(wasm, xs)),
    reference: req.hashes.map((xs) => hash(ref, xs)),
    chains: req.chains.map(chain),
  }));
})();
"""


def _random_inputs() -> tuple[list[list[int]], list[list[int]]]:
    """Deterministic request: edge and random vectors of every width, and long chain vectors."""
    rng = random.Random(20240601)
    hashes = []
    for n in WIDTHS:
        hashes += [[0] * n, [R - 1] * n, list(range(1, n + 1))]
        hashes += [[rng.randrange(R) for _ in range(n)] for _ in range(8)]
        hashes += [[rng.randrange(2**64) for _ in range(n)] for _ in range(2)]
    chains = [[rng.randrange(R) for _ in range(length)] for length in CHAIN_LENGTHS]
    return hashes, chains


@dataclass(frozen=True)
class Vectors:
    """Requests and circomlibjs's answers (decimal field elements as ints)."""

    hashes: list[list[int]]
    wasm: list[int]
    reference: list[int]
    chains: list[list[int]]
    chain_outputs: list[int]


@pytest.fixture(scope="session")
def circomlibjs_vectors() -> Vectors:
    """Inputs and circomlibjs's outputs, computed in one node call."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: cannot compare with circomlibjs")
    if not (CIRCOMLIBJS / "package.json").is_file():
        pytest.skip(f"circomlibjs is not installed at {CIRCOMLIBJS} (run `npm ci`)")
    hashes, chains = _random_inputs()
    request = {
        "hashes": [[str(x) for x in v] for v in hashes],
        "chains": [[str(x) for x in v] for v in chains],
    }
    done = subprocess.run(
        [node, "-e", NODE_SCRIPT],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"node failed:\n{done.stderr}"
    out = json.loads(done.stdout)
    return Vectors(
        hashes=hashes,
        wasm=[int(h) for h in out["wasm"]],
        reference=[int(h) for h in out["reference"]],
        chains=chains,
        chain_outputs=[int(h) for h in out["chains"]],
    )


@pytest.mark.parametrize("n", WIDTHS)
def test_matches_circomlibjs(circomlibjs_vectors: Vectors, n: int) -> None:
    v = circomlibjs_vectors
    rows = [i for i, inputs in enumerate(v.hashes) if len(inputs) == n]
    assert rows
    for i in rows:
        assert v.wasm[i] == v.reference[i]
        assert poseidon(v.hashes[i]) == v.wasm[i], f"inputs {v.hashes[i]}"


def test_hash_vector_matches_circomlibjs_chain(circomlibjs_vectors: Vectors) -> None:
    v = circomlibjs_vectors
    assert [hash_vector(c) for c in v.chains] == v.chain_outputs


@pytest.mark.parametrize("t", range(2, MAX_INPUTS + 2))
def test_constants_match_circomlibjs(t: int) -> None:
    path = CIRCOMLIBJS / "src" / "poseidon_constants.json"
    if not path.is_file():
        pytest.skip(f"circomlibjs constants not found at {path}")
    theirs = json.loads(path.read_text())
    ours = plain_constants(t)
    assert list(ours.round_constants) == [int(c, 16) for c in theirs["C"][t - 2]]
    assert [list(row) for row in ours.mds] == [
        [int(m, 16) for m in row] for row in theirs["M"][t - 2]
    ]


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        # circomlib's own test vectors (test/poseidoncircuit.js, circomlibjs test/poseidon.js)
        ([1], 18586133768512220936620570745912940619677854269274689475585506675881198879027),
        ([1, 2], 7853200120776062878684798364095072458815029376092732009249414926327459813530),
        ([3, 4], 14763215145315200506921711489642608356394854266165572616578112107564877678998),
        (
            [1, 2, 3, 4],
            18821383157269793795438455681495246036402687001665670618754263018637548127333,
        ),
        (
            [1, 2, 0, 0, 0],
            1018317224307729531995786483840663576608797660851238720571059489595066344487,
        ),
        (
            [1, 2, 0, 0, 0, 0],
            15336558801450556532856248569924170992202208561737609669134139141992924267169,
        ),
    ],
)
def test_known_vectors(inputs: list[int], expected: int) -> None:
    assert poseidon(inputs) == expected


@pytest.mark.parametrize("bad", [R, R + 1, 2**256, -1, -R, True, 1.0, "1", None])
def test_out_of_field_input_rejected(bad: object) -> None:
    with pytest.raises(BoundError) as err:
        poseidon([5, bad])  # type: ignore[list-item]
    assert err.value.field == "poseidon input[1]"
    assert err.value.value is bad


def test_hash_vector_names_the_bad_element() -> None:
    values = [1] * 40
    values[20] = R
    with pytest.raises(BoundError) as err:
        hash_vector(values)
    assert err.value.field == "hash_vector value[20]"
    with pytest.raises(BoundError):
        hash_pair(0, -1)


@pytest.mark.parametrize("n", [0, MAX_INPUTS + 1, 40])
def test_unsupported_widths_rejected(n: int) -> None:
    with pytest.raises(ValueError, match="1..16 inputs"):
        poseidon([1] * n)


def test_hash_vector_empty_rejected() -> None:
    with pytest.raises(ValueError, match="at least one"):
        hash_vector([])


def test_hash_pair_is_poseidon_2() -> None:
    assert hash_pair(1, 2) == poseidon([1, 2])
    assert hash_pair(2, 1) != hash_pair(1, 2)


@pytest.mark.parametrize("length", [1, 2, 15, 16, 17, 30, 31, 32, 45, 46, 47, 61])
def test_hash_vector_is_the_documented_chain(length: int) -> None:
    values = [(7 * i + 3) ** 5 % R for i in range(length)]
    if length <= 16:
        expected = poseidon(values)
    else:
        expected = poseidon(values[:16])
        for start in range(16, length, 15):
            expected = poseidon([expected, *values[start : start + 15]])
    assert hash_vector(values) == expected
    if length == 17:
        assert expected == poseidon([poseidon(values[:16]), values[16]])
    if length == 32:
        assert expected == poseidon([poseidon([poseidon(values[:16]), *values[16:31]]), values[31]])


def _plain_poseidon(inputs: Sequence[int]) -> int:
    """Textbook permutation with the plain constants: x <- M * S(x + C_k), S partial or full."""
    t = len(inputs) + 1
    c = plain_constants(t)
    half = ROUNDS_F // 2
    state = [0, *inputs]
    for k in range(ROUNDS_F + c.rounds_p):
        state = [(x + a) % R for x, a in zip(state, c.round_constants[k * t : (k + 1) * t])]
        if half <= k < half + c.rounds_p:
            state[0] = pow(state[0], 5, R)
        else:
            state = [pow(x, 5, R) for x in state]
        state = [sum(m * x for m, x in zip(row, state)) % R for row in c.mds]
    return state[0]


field_elements = st.one_of(
    st.integers(0, R - 1), st.integers(0, 2**64), st.sampled_from([0, 1, R - 1])
)


@settings(max_examples=60, deadline=None)
@given(st.lists(field_elements, min_size=1, max_size=MAX_INPUTS))
def test_sparse_form_equals_plain_form(inputs: list[int]) -> None:
    h = poseidon(inputs)
    assert 0 <= h < R
    assert h == _plain_poseidon(inputs)


@settings(max_examples=40, deadline=None)
@given(st.lists(field_elements, min_size=17, max_size=80))
def test_hash_vector_last_chunk_property(values: list[int]) -> None:
    # hash_vector(v) = poseidon([hash_vector(prefix), *last chunk]), prefix = all but the last chunk
    last = 16 + (len(values) - 17) // 15 * 15
    assert hash_vector(values) == poseidon([hash_vector(values[:last]), *values[last:]])

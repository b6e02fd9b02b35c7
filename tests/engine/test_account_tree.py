"""The account leaf layout (codes, words, allocation hash, leaf) against known answers computed by
circomlibjs and an independent BigInt packing (tests/engine/vectors/account_leaf.js); injectivity
of the packing on the bounds, canonical slots, bounds errors, and statements that do not open."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.engine.test_merkle import NODE_1234, ROOT_1_TO_5_DEPTH_2, ZERO_ROOT_10
from tests.factories import account_of, synthetic_snapshot
from zkmargin import fixedpoint as fp
from zkmargin.account_tree import (ACCOUNT_TREE_DEPTH, ALLOCATION_CODE_BITS, BALANCE_CODE_BITS, LEAF_ASSETS,
                                   LEAF_INPUTS, LEAF_POSITIONS, PER_WORD, POSITION_CODE_BITS, LeafBook,
                                   account_leaf, allocation_code, balance_code, leaf_fields, no_allocation_hash,
                                   position_code, statement_leaf, statement_proof)
from zkmargin.errors import BoundError, InputError
from zkmargin.models import Account, Statement
from zkmargin.venue import EpochTree, attest

# ---- known answers: `node tests/engine/vectors/account_leaf.js` ----
VECTORS = Path(__file__).resolve().parent / "vectors" / "account_leaf.js"
#: The vectors' book: unsorted positions (a short, a long, the extreme id and quantity), a debt of
#: 150000 units of asset 1, 2**64 - 1 units of asset 7, allocations on two positions.
VECTOR_BOOK = Account.model_validate({
    "positions": [
        {"instrument": 205, "quantity": "7", "allocation": {"asset": 2, "amount": "0.5"}},
        {"instrument": 101, "quantity": "-1.5", "allocation": {"asset": 0, "amount": "300"}},
        {"instrument": 2**32 - 1, "quantity": "-140737488.355328"}],
    "balances": [{"asset": 0, "amount": "1000"}, {"asset": 1, "amount": "-150000"}, {"asset": 2, "amount": "3"},
                 {"asset": 7, "amount": "18446744073709.551615"}]})
VECTOR_EPOCH, VECTOR_HOLDER, VECTOR_SALT = 7, 0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045, (1 << 247) + 12345
KNOWN = {
    "position_code_short": 28710447622986912,
    "position_word_0": 1766847064572696259918146745473617125893042338618524269144865621712379040,
    "balance_word_0": 4083389764180723711291127029814163465544845824,
    "balance_word_2": 680564733841876926889855726716117319680,
    "allocation_hash": 21057961478497015083097605762170870387266208111815824884848464645808433246998,
    "no_allocation_hash": 14408838593220040598588012778523101864903887657864399481915450526643617223637,
    "leaf": 21781752589520607475975269744340409214422686066235418980695439068987490624806,
    "empty_leaf": 11575842854636395221886995490822808448570562144743658400853584008519676300560,
}


def test_the_pinned_answers_are_what_the_vectors_script_prints() -> None:
    """Keeps the script and the constants of this file and test_merkle.py in step (needs node + npm ci)."""
    node, repo = shutil.which("node"), Path(__file__).resolve().parents[2]
    if node is None or not (repo / "node_modules" / "circomlibjs" / "package.json").is_file():
        pytest.skip("node and circomlibjs (npm ci) are needed to rerun the vectors script")
    done = subprocess.run([node, str(VECTORS)], cwd=repo, capture_output=True, text=True, timeout=120, check=True)
    printed = {name: int(value) for name, value in json.loads(done.stdout).items()}
    assert {name: printed[name] for name in KNOWN} == KNOWN
    assert (printed["node_1234"], printed["root_1_to_5_depth_2"], printed["zero_root_10"]) == (
        NODE_1234, ROOT_1_TO_5_DEPTH_2, ZERO_ROOT_10)


def test_a_short_position_code_is_its_id_over_its_quantity_mod_2_48() -> None:
    assert position_code(101, -1_500_000) == KNOWN["position_code_short"] == 101 * 2**48 + 2**48 - 1_500_000
    assert position_code(0, 0) == 0


def test_position_and_balance_words_with_a_debt_equal_the_independent_packing() -> None:
    book = LeafBook.of(VECTOR_BOOK)
    assert book.position_words() == [KNOWN["position_word_0"]] + [0] * 5
    words = book.balance_words()
    assert (words[0], words[1], words[2]) == (KNOWN["balance_word_0"], 0, KNOWN["balance_word_2"])
    assert balance_code(-150_000 * fp.AMOUNT_SCALE) == 2**65 - 150_000 * fp.AMOUNT_SCALE


def test_the_allocation_hash_equals_circomlibjs() -> None:
    assert LeafBook.of(VECTOR_BOOK).allocation_hash() == KNOWN["allocation_hash"]
    assert no_allocation_hash() == KNOWN["no_allocation_hash"] == LeafBook.of(account_of({5: 1})).allocation_hash()


def test_whole_leaves_equal_circomlibjs() -> None:
    assert account_leaf(VECTOR_EPOCH, VECTOR_HOLDER, VECTOR_SALT, LeafBook.of(VECTOR_BOOK)) == KNOWN["leaf"]
    assert account_leaf(1, 1, 0, LeafBook.of(Account())) == KNOWN["empty_leaf"]


def test_every_word_fits_below_2_240_and_the_leaf_hashes_13_inputs() -> None:
    fields = leaf_fields(VECTOR_EPOCH, VECTOR_HOLDER, VECTOR_SALT, LeafBook.of(VECTOR_BOOK))
    assert len(fields) == LEAF_INPUTS == 13
    assert fields[:3] == [VECTOR_EPOCH, VECTOR_HOLDER, VECTOR_SALT]
    assert all(w < 2**240 for w in fields[3:12]) and fields[12] == KNOWN["allocation_hash"]


# ---- packing is injective on the bounds ----
def _unpack(words: list[int], bits: int, n: int) -> list[int]:
    """The first ``n`` codes of ``words`` (``PER_WORD`` codes of ``bits`` bits each)."""
    codes = [(w >> (bits * j)) & ((1 << bits) - 1) for w in words for j in range(PER_WORD)]
    assert all(c == 0 for c in codes[n:]), "the padding codes are zero"
    return codes[:n]


def _signed(code: int, bits: int) -> int:
    return code - (1 << bits) if code >> (bits - 1) else code


def _decode(book: LeafBook) -> LeafBook:
    """The book read back from its words alone (the inverse of the packing)."""
    q = fp.QTY.bits
    slots = [(c >> q, _signed(c & ((1 << q) - 1), q))
             for c in _unpack(book.position_words(), POSITION_CODE_BITS, LEAF_POSITIONS)]
    balances = [_signed(c, BALANCE_CODE_BITS) for c in _unpack(book.balance_words(), BALANCE_CODE_BITS, LEAF_ASSETS)]
    a = fp.AMOUNT.bits
    allocations = [(c >> a, c & ((1 << a) - 1))
                   for c in _unpack(book.allocation_words(), ALLOCATION_CODE_BITS, LEAF_POSITIONS)]
    return LeafBook(tuple(slots), tuple(balances), tuple(allocations))


leaf_books = st.builds(
    LeafBook,
    slots=st.tuples(*[st.tuples(st.integers(0, fp.ID.hi), st.integers(fp.QTY.lo, fp.QTY.hi))] * LEAF_POSITIONS),
    balances=st.tuples(*[st.integers(fp.BALANCE.lo, fp.BALANCE.hi)] * LEAF_ASSETS),
    allocations=st.tuples(*[st.tuples(st.integers(0, fp.MAX_ASSETS - 1),
                                      st.integers(0, fp.AMOUNT.hi))] * LEAF_POSITIONS))


@given(leaf_books)
def test_the_words_determine_every_slot_balance_and_allocation(book: LeafBook) -> None:
    """Packing is invertible on the whole bounded domain, hence injective: distinct books, distinct words."""
    assert _decode(book) == book


def _words(book: LeafBook) -> tuple[list[int], ...]:
    return book.position_words(), book.balance_words(), book.allocation_words()


@given(leaf_books, st.data())
def test_books_differing_in_one_value_get_distinct_words(book: LeafBook, data: st.DataObject) -> None:
    """One slot, balance or allocation changed to any other in-bounds value changes the words."""
    field = data.draw(st.sampled_from(["slots", "balances", "allocations"]))
    values = list(getattr(book, field))
    k = data.draw(st.integers(0, len(values) - 1))
    values[k] = data.draw(leaf_books.map(lambda other: getattr(other, field)[k]).filter(lambda v: v != values[k]))
    other = LeafBook(**{**book.__dict__, field: tuple(values)})
    assert _words(other) != _words(book)


@pytest.mark.parametrize(("what", "code", "bits"), [
    ("position", position_code(fp.ID.hi, fp.QTY.lo), POSITION_CODE_BITS),
    ("balance", balance_code(fp.BALANCE.lo), BALANCE_CODE_BITS),
    ("allocation", allocation_code(fp.MAX_ASSETS - 1, fp.AMOUNT.hi), ALLOCATION_CODE_BITS),
])
def test_the_largest_code_of_each_kind_fills_its_width_exactly(what: str, code: int, bits: int) -> None:
    assert code.bit_length() == bits, what


# ---- canonical slots ----
def test_the_leaf_layout_sorts_positions_by_id_and_pads_slots_and_assets() -> None:
    book = LeafBook.of(VECTOR_BOOK)
    assert book.slots == ((101, -1_500_000), (205, 7_000_000), (2**32 - 1, fp.QTY.lo)) + ((0, 0),) * 13
    assert book.allocations == ((0, 300_000_000), (2, 500_000), (0, 0)) + ((0, 0),) * 13
    assert book.balances == (10**9, -150_000 * 10**6, 3 * 10**6, 0, 0, 0, 0, fp.BALANCE.hi)


@given(st.permutations(range(len(VECTOR_BOOK.positions))), st.permutations(range(len(VECTOR_BOOK.balances))))
def test_the_order_of_positions_and_balances_in_the_book_does_not_change_the_leaf(
        positions: list[int], balances: list[int]) -> None:
    shuffled = VECTOR_BOOK.model_copy(update={"positions": [VECTOR_BOOK.positions[i] for i in positions],
                                              "balances": [VECTOR_BOOK.balances[i] for i in balances]})
    assert LeafBook.of(shuffled) == LeafBook.of(VECTOR_BOOK)


# ---- bounds ----
def test_a_book_of_17_positions_does_not_fit_a_leaf() -> None:
    with pytest.raises(InputError, match=r"^account has 17 positions; an account leaf holds 16$"):
        LeafBook.of(account_of({i: 1 for i in range(1, 18)}))
    assert LeafBook.of(account_of({i: 1 for i in range(1, 17)})).slots[-1] == (16, 1)


def test_a_balance_in_asset_8_does_not_fit_a_leaf() -> None:
    with pytest.raises(InputError, match=r"^balance in asset 8: an account leaf holds assets 0\.\.7$"):
        LeafBook.of(account_of({}, {8: 1}))


@pytest.mark.parametrize(("epoch", "holder", "salt", "error"), [
    (fp.EPOCH.hi + 1, 1, 1, BoundError), (-1, 1, 1, BoundError),
    (1, fp.R, 1, InputError), (1, 1, fp.R, InputError), (1, -1, 1, InputError),
])
def test_leaf_fields_refuse_an_epoch_holder_or_salt_out_of_range(epoch: int, holder: int, salt: int,
                                                                  error: type[Exception]) -> None:
    with pytest.raises(error):
        leaf_fields(epoch, holder, salt, LeafBook.of(Account()))


# ---- statements ----
SNAPSHOT = synthetic_snapshot(instruments=20, groups=3, scenarios=4, assets=3)


@pytest.fixture(scope="module")
def epoch_tree() -> EpochTree:
    ids = [i.id for i in SNAPSHOT.instruments]
    books = [account_of({ids[k]: k + 1, ids[k + 5]: -(k + 1)}, {0: 1000 * k, 1: -k}) for k in range(6)]
    return attest(books, SNAPSHOT)


def test_every_statement_opens_to_the_account_root_at_its_leaf(epoch_tree: EpochTree) -> None:
    for i, statement in enumerate(epoch_tree.statements()):
        proof = statement_proof(statement)
        assert proof.leaf == statement_leaf(statement) == epoch_tree.tree.levels[0][i]
        assert proof.root() == statement.account_root == epoch_tree.epoch.account_root
        assert len(statement.path) == ACCOUNT_TREE_DEPTH


def _edit(statement: Statement, what: str) -> Statement:
    """``statement`` with one field changed the smallest way."""
    if what == "book":
        q = statement.account.positions[0].quantity + 1
        positions = [statement.account.positions[0].model_copy(update={"quantity": q}),
                     *statement.account.positions[1:]]
        return statement.model_copy(update={"account": statement.account.model_copy(update={"positions": positions})})
    if what == "debt dropped":
        balances = [b for b in statement.account.balances if b.amount >= 0]
        return statement.model_copy(update={"account": statement.account.model_copy(update={"balances": balances})})
    if what == "path":
        path = [list(level) for level in statement.path]
        path[3][1] = (path[3][1] + 1) % fp.R
        return statement.model_copy(update={"path": path})
    if what == "index":
        return statement.model_copy(update={"index": statement.index ^ 1})
    delta = {"salt": 1, "holder": 1, "epoch": 1}[what]
    return statement.model_copy(update={what: getattr(statement, what) + delta})


@pytest.mark.parametrize("what", ["book", "debt dropped", "salt", "holder", "index", "path", "epoch"])
def test_statement_proof_refuses_an_edited_statement(epoch_tree: EpochTree, what: str) -> None:
    statement = epoch_tree.statement(2)
    statement_proof(statement)
    with pytest.raises(InputError, match=r"^statement of account acct-0000002: its book, salt and path do not open "
                                         r"to account root \d+ \(edited, or not the venue's\)$"):
        statement_proof(_edit(statement, what))


def test_statement_proof_refuses_a_path_of_the_wrong_depth_or_an_index_outside_the_tree(epoch_tree: EpochTree) -> None:
    statement = epoch_tree.statement(0)
    with pytest.raises(InputError, match=r"^statement path has 9 levels; the account tree has 10$"):
        statement_proof(statement.model_copy(update={"path": statement.path[:-1]}))
    with pytest.raises(InputError, match=r"^statement index 1048576 is outside the account tree$"):
        statement_proof(statement.model_copy(update={"index": 4**ACCOUNT_TREE_DEPTH}))

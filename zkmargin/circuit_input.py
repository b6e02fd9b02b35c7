"""The circuit's inputs, built from the engine (the witness's starting point), for every model.

Every hint the circuit accepts (group slots, collateral splits, scanning losses, requirements,
allocation selectors) is taken from the engine's result, so an honest witness carries exactly the
engine's intermediates. Signed values are encoded into the field here. ``expected_signals`` lists
the engine's value of each named intermediate, which the differential tests compare.
"""

from __future__ import annotations

from zkmargin.account_tree import LeafBook, balance_code, statement_leaf, statement_proof
from zkmargin.book import Book
from zkmargin.commitment import SnapshotCommitment
from zkmargin.cross import CrossResult
from zkmargin.errors import InputError
from zkmargin.fixedpoint import to_field
from zkmargin.isolated import IsolatedResult
from zkmargin.models import Statement
from zkmargin.portfolio import MarginResult
from zkmargin.terms import Health

#: A circuit input value: a field element or nested lists of them.
Signal = int | list["Signal"]


def _one_hot(index: int, size: int) -> list[int]:
    return [int(index == k) for k in range(size)]


def _statement_inputs(statement: Statement, commitment: SnapshotCommitment) -> dict[str, Signal]:
    """The account's place in the epoch: holder, salt, leaf index and path, account root."""
    if statement.epoch != commitment.snapshot.epoch:
        raise InputError(f"statement is for epoch {statement.epoch}; the snapshot is epoch "
                         f"{commitment.snapshot.epoch}")
    account = statement_proof(statement)
    return {
        "account_root": statement.account_root,
        "holder": statement.holder,
        "salt": statement.salt,
        "account_index": account.index,
        "account_path": [list(level) for level in account.siblings],
    }


def book_inputs(book: Book, commitment: SnapshotCommitment) -> dict[str, Signal]:
    """The book's slots and balances, each slot's instrument leaf and path, the snapshot terms."""
    proofs = commitment.membership(book)
    assets = commitment.assets
    params = commitment.snapshot.params
    return {
        "snapshot_root": commitment.root,
        "instrument": [s.instrument for s in book.slots],
        "qty": [to_field(s.qty) for s in book.slots],
        "balance": [to_field(b) for b in book.balances],
        "leaf_group": [s.group for s in book.slots],
        "leaf_mark": [s.mark for s in book.slots],
        "leaf_addon": [s.addon for s in book.slots],
        "leaf_som": [s.som for s in book.slots],
        "leaf_long_loss": [s.long_loss for s in book.slots],
        "leaf_short_loss": [s.short_loss for s in book.slots],
        "leaf_naked_code": [s.naked_code for s in book.slots],
        "leaf_risk": [[to_field(r) for r in s.risk] for s in book.slots],
        "leaf_index": [p.index for p in proofs],
        "leaf_siblings": [[list(level) for level in p.siblings] for p in proofs],
        "instrument_root": commitment.tree.root,
        "asset_price": [a.price for a in assets],
        "tier_from": [list(a.tier_from) for a in assets],
        "hc_mm": [list(a.hc_mm) for a in assets],
        "hc_im": [list(a.hc_im) for a in assets],
        "mm_factor_bps": params.mm_factor_bps,
        "contingency_bps": params.contingency_bps,
        "short_option_min_bps": params.short_option_min_bps,
        "epoch": commitment.snapshot.epoch,
    }


def hint_inputs(book: Book, result: Health) -> dict[str, Signal]:
    """The prover's hints of the model that computed ``result`` (and the claimed threshold)."""
    if isinstance(result, MarginResult):
        return {
            "threshold_bps": result.threshold_bps,
            "collateral_split": [list(x) for x in result.collateral_split],
            "group_id": list(book.group_ids),
            "group_sel": [_one_hot(g, len(book.group_ids)) for g in book.slot_group],
            "scan_loss": list(result.scan_loss),
            "group_req": list(result.group_req),
            "naked_short": list(result.naked_short),
        }
    if isinstance(result, CrossResult):
        return {
            "threshold_bps": result.threshold_bps,
            "collateral_split": [list(x) for x in result.collateral_split],
            "position_req": list(result.position_req),
            "naked_short": list(result.naked_short),
        }
    if isinstance(result, IsolatedResult):
        return {
            "threshold_bps": result.threshold_bps,
            "alloc_asset": [s.alloc_asset for s in book.slots],
            "alloc_amount": [s.alloc_amount for s in book.slots],
            "alloc_sel": [_one_hot(s.alloc_asset if s.alloc_amount else -1, len(book.balances)) for s in book.slots],
            "alloc_split": [list(x) for x in result.alloc_split],
            "position_req": list(result.position_req),
        }
    raise TypeError(f"no circuit inputs for {type(result).__name__}")


def circuit_inputs(book: Book, statement: Statement, commitment: SnapshotCommitment,
                   result: Health) -> dict[str, Signal]:
    """All inputs of ``Margin(model, ...)`` for the statement's book, resolved and padded to
    ``commitment.profile`` (``book``), under the model that computed ``result``.

    Raises :class:`InputError` when the statement does not open to its account root or is of
    another epoch than the snapshot.
    """
    inputs = {**_statement_inputs(statement, commitment), **book_inputs(book, commitment),
              **hint_inputs(book, result)}
    if not isinstance(result, IsolatedResult):
        inputs["allocation_hash"] = LeafBook.of(statement.account).allocation_hash()
    return inputs


def expected_signals(result: Health, statement: Statement, book: Book) -> dict[str, Signal]:
    """The engine's value of every named intermediate signal of the main component (and of the
    account leaf and its membership) for ``statement``'s book, resolved as ``book``."""
    assert isinstance(result, MarginResult | CrossResult | IsolatedResult)
    common: dict[str, Signal] = {
        "addon_value": list(result.addon),
        "balance_code": [balance_code(b) for b in book.balances],
        "leaf.out": statement_leaf(statement),
        "canonical.empty": [int(s.instrument == 0) for s in book.slots],
    }
    if isinstance(result, IsolatedResult):
        return {
            **common,
            "alloc_hash": LeafBook.of(statement.account).allocation_hash(),
            "position_value": [to_field(v) for v in result.position_value],
            "alloc_value": list(result.alloc_value),
            "slot_equity": [to_field(v) for v in result.slot_equity],
            "slot_im": list(result.slot_im),
            "slot_mm": list(result.slot_mm),
            "slot_health": [to_field(v) for v in result.slot_health],
            "standalone_loss": list(result.position_loss),
        }
    signals: dict[str, Signal] = {
        **common,
        "position_value": [to_field(v) for v in result.position_value],
        "collateral_value": [to_field(v) for v in result.collateral_value],
        "equity": to_field(result.equity),
        "im": result.im,
        "mm": result.mm,
        "health": to_field(result.health),
    }
    if isinstance(result, MarginResult):
        signals["group_pnl"] = [[to_field(x) for x in row] for row in result.group_pnl]
        signals["group_som"] = list(result.group_som)
    else:
        signals["standalone_loss"] = list(result.position_loss)
    return signals

"""The circuit's private and public inputs, built from the engine (the witness's starting point).

Every hint the circuit accepts (group slots, collateral split, scanning loss, group requirement)
is taken from the engine's :class:`~zkmargin.portfolio.MarginResult`, so an honest witness
carries exactly the engine's intermediates. Signed values are encoded into the field here.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkmargin.book import Book
from zkmargin.commitment import SnapshotCommitment, book_commitment
from zkmargin.fixedpoint import to_field
from zkmargin.portfolio import MarginResult

#: A circuit input value: a field element or nested lists of them.
Signal = int | list["Signal"]


@dataclass(frozen=True)
class PublicInputs:
    """The three public signals, in circuit order (zkmargin.profiles.PUBLIC_SIGNALS)."""

    snapshot_root: int
    account_commitment: int
    threshold_bps: int

    def as_list(self) -> list[int]:
        return [self.snapshot_root, self.account_commitment, self.threshold_bps]


def public_inputs(book: Book, salt: int, commitment: SnapshotCommitment, threshold_bps: int) -> PublicInputs:
    return PublicInputs(commitment.root, book_commitment(book, salt), threshold_bps)


def portfolio_inputs(book: Book, salt: int, commitment: SnapshotCommitment,
                     result: MarginResult) -> dict[str, Signal]:
    """All inputs of ``PortfolioMargin`` for a book padded to ``commitment.profile``."""
    proofs = commitment.membership(book)
    assets = commitment.assets
    n_groups = len(book.group_ids)
    pub = public_inputs(book, salt, commitment, result.threshold_bps)
    params = commitment.snapshot.params
    return {
        "snapshot_root": pub.snapshot_root,
        "account_commitment": pub.account_commitment,
        "threshold_bps": pub.threshold_bps,
        "salt": salt,
        "instrument": [s.instrument for s in book.slots],
        "qty": [to_field(s.qty) for s in book.slots],
        "balance": list(book.balances),
        "leaf_group": [s.group for s in book.slots],
        "leaf_mark": [s.mark for s in book.slots],
        "leaf_addon": [s.addon for s in book.slots],
        "leaf_som": [s.som for s in book.slots],
        "leaf_risk": [[to_field(r) for r in s.risk] for s in book.slots],
        "leaf_index": [p.index for p in proofs],
        "leaf_siblings": [list(p.siblings) for p in proofs],
        "instrument_root": commitment.tree.root,
        "asset_price": [a.price for a in assets],
        "tier_from": [list(a.tier_from) for a in assets],
        "hc_mm": [list(a.hc_mm) for a in assets],
        "hc_im": [list(a.hc_im) for a in assets],
        "mm_factor_bps": params.mm_factor_bps,
        "contingency_bps": params.contingency_bps,
        "short_option_min_bps": params.short_option_min_bps,
        "epoch": commitment.snapshot.epoch,
        "group_id": list(book.group_ids),
        "group_sel": [[int(g == k) for k in range(n_groups)] for g in book.slot_group],
        "collateral_split": [list(x) for x in result.collateral_split],
        "scan_loss": list(result.scan_loss),
        "group_req": list(result.group_req),
    }


def expected_signals(result: MarginResult) -> dict[str, Signal]:
    """The engine's value of every named intermediate signal of the main component."""
    return {
        "position_value": [to_field(v) for v in result.position_value],
        "collateral_value": list(result.collateral_value),
        "equity": to_field(result.equity),
        "group_pnl": [[to_field(x) for x in row] for row in result.group_pnl],
        "group_som": list(result.group_som),
        "addon_value": list(result.addon),
        "im": result.im,
        "mm": result.mm,
        "health": to_field(result.health),
    }

"""What a venue publishes each epoch and what it sends each trader.

* :class:`LedgerEntry`: one line of the venue's ledger (JSONL): an account's id, its holder and
  its book, as the venue holds it;
* :class:`Statement`: private, one per account: the book, the venue-derived salt, the account's
  place in the epoch's account tree and the path to its root. What the trader proves from;
* :class:`EpochHeader` / :class:`Epoch`: public, one per epoch: the epoch, the snapshot roots per
  circuit profile, the account root and tree shape, the number of accounts, the time, and the
  venue's Ed25519 signature over all of it (:mod:`zkmargin.venue`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PrivateAttr, field_validator

from zkmargin.models.account import Account
from zkmargin.models.types import Epoch as EpochId
from zkmargin.models.types import FieldElement, Holder, StrictModel

STATEMENT_SCHEMA_VERSION = 1
EPOCH_SCHEMA_VERSION = 1

#: An account id in the venue's ledger: printable, no path separators (it names a statement file).
AccountId = str


def _account_id(v: str) -> str:
    if not v or len(v) > 128 or not v.isprintable() or any(c in v for c in "/\\\0") or v in (".", ".."):
        raise ValueError("account_id must be 1..128 printable characters without '/' or '\\'")
    return v


class LedgerEntry(Account):
    """One account in the venue's ledger: its id, its registered holder, its book.

    ``source`` says where the entry was read (``"ledger.jsonl line 3"``; set by
    :func:`zkmargin.venue.read_ledger`, ``"ledger"`` otherwise), so that an error found later, once
    the whole ledger is known (a duplicate id, an instrument the snapshot lacks), names the line.
    """

    account_id: AccountId
    holder: Holder
    _source: str = PrivateAttr(default="ledger")

    _check_id = field_validator("account_id")(_account_id)

    @property
    def source(self) -> str:
        return self._source

    def located(self, source: str) -> LedgerEntry:
        """This entry, recorded as read at ``source`` (not part of the data: neither dumped nor compared)."""
        self._source = source
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LedgerEntry):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__


class Statement(StrictModel):
    """The venue's private statement to one trader for one epoch (keep it secret: the salt hides the book)."""

    schema_version: Literal[1] = STATEMENT_SCHEMA_VERSION
    venue: str
    epoch: EpochId
    account_id: AccountId
    holder: Holder
    salt: FieldElement
    index: int = Field(ge=0, description="the account's leaf index in the epoch's account tree")
    path: list[list[FieldElement]] = Field(description="three siblings per level, leaf level first")
    account_root: FieldElement
    account: Account

    _check_id = field_validator("account_id")(_account_id)

    @field_validator("path")
    @classmethod
    def _three_siblings(cls, v: list[list[int]]) -> list[list[int]]:
        if any(len(level) != 3 for level in v):
            raise ValueError("every level of the path has exactly 3 siblings (4-ary tree)")
        return v


class TreeShape(StrictModel):
    """Shape of the epoch's account tree."""

    arity: Literal[4] = 4
    depth: int = Field(ge=1, le=32)
    leaf_layout: Literal["zkmargin-account-leaf-v1"] = "zkmargin-account-leaf-v1"


class EpochHeader(StrictModel):
    """The public facts of one epoch, exactly what the venue signs."""

    schema_version: Literal[1] = EPOCH_SCHEMA_VERSION
    venue: str
    epoch: EpochId
    snapshot_roots: dict[str, FieldElement] = Field(description="snapshot root per circuit profile")
    account_root: FieldElement
    tree: TreeShape
    accounts: int = Field(ge=0, description="leaves in use (the tree is not padded: this is public)")
    published_at: str = Field(description="UTC time of publication, ISO 8601")


class Epoch(EpochHeader):
    """``epoch.json``: the header plus the venue's signature over its canonical bytes."""

    signature: str = Field(pattern=r"^[0-9a-f]{128}$", description="Ed25519 signature, hex")

    def header(self) -> EpochHeader:
        return EpochHeader(**self.model_dump(exclude={"signature"}))

"""Venue-wide solvency: every account of an epoch's tree margined, counted once, in chained batches.

The spec of ``circuits/lib/solvency.circom``. A chain of ``SolvencyBatch`` proofs walks the account
tree in batches of ``B`` consecutive leaves; each batch proves its leaves' membership, each
account's equity, MM and shortfall under the model (``AccountMargin``), and adds them to running totals
committed by hiding Poseidon commitments (:class:`ChainState`)::

    chain state = Poseidon(8)(N, next, accounts, below, equity, mm, shortfall, salt)

``N`` is the epoch's number of accounts, ``next`` the first leaf not yet counted, the totals are
over leaves ``0 .. next - 1`` (equity signed, equity / MM / shortfall at EQUITY_SCALE USD), and
``salt`` hides the intermediate states (the first and the last state use salt 0, so a verifier
recomputes them from ``N`` and from the published totals). What one account adds
(:class:`AccountFigures`) depends on the model: under portfolio and cross margin one pool of
collateral against one MM, under isolated margin every position against its own MM
(:func:`account_figures`). Batch ``k`` has public inputs
``snapshot_root, account_root, chain_in, chain_out``; the chain is valid when batch 0 starts from
the genesis state, each ``chain_in`` is the previous ``chain_out``, and the last ``chain_out`` opens
to the published totals with ``next >= N`` (docs/solvency.md).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, replace

from zkmargin import fixedpoint as fp
from zkmargin.account_tree import ACCOUNT_TREE_DEPTH
from zkmargin.book import resolve
from zkmargin.isolated import IsolatedResult
from zkmargin.margin import margin_model
from zkmargin.models import Account, RiskSnapshot
from zkmargin.poseidon import poseidon
from zkmargin.profiles import Profile

#: Threshold of "below maintenance margin": equity < MM (100 %).
FULL_MM_BPS = 10_000
#: Models the solvency circuit supports (``AccountMargin``'s MODEL 0, 1, 2).
SOLVENCY_MODELS = ("portfolio", "cross", "isolated")
SALT_DOMAIN = b"zkmargin/solvency-chain/v1"

# Shortfall's range check: |equity - mm| < 2**(HEALTH_BITS - 1); totals over a full account tree
# (4**10 accounts) stay far below the field (no wrap-around in the running sums).
_GAP = fp.MAGNITUDES["|equity|"] + fp.MAGNITUDES["MM = IM * mm_factor_bps"]
if _GAP >= 1 << (fp.HEALTH_BITS - 1) or _GAP << (2 * ACCOUNT_TREE_DEPTH) >= 1 << 250:
    raise ValueError(f"|equity - MM| needs {_GAP.bit_length()} bits: Shortfall's HEALTH_BITS={fp.HEALTH_BITS} "
                     "or the totals' field room is exceeded")


def shortfall(equity: int, mm: int) -> int:
    """``max(0, mm - equity)`` (EQUITY_SCALE): what an account below MM lacks. Spec: Shortfall."""
    return max(0, mm - equity)


@dataclass(frozen=True)
class AccountFigures:
    """What one account adds to the totals: equity (signed), MM, whether it is below MM, and its
    shortfall (EQUITY_SCALE). Spec: ``AccountMargin``'s outputs."""

    equity: int
    mm: int
    below: bool
    shortfall: int

    @classmethod
    def pooled(cls, equity: int, mm: int) -> AccountFigures:
        """One collateral pool (portfolio, cross): below iff equity < MM, short by MM - equity."""
        return cls(equity, mm, equity < mm, shortfall(equity, mm))

    @classmethod
    def isolated(cls, result: IsolatedResult, balances: Iterable[int]) -> AccountFigures:
        """Every position against its own allocation: below iff a position is below its own MM or
        the account owes anything (``balances`` < 0: no allocation backs a debt); short by the sum
        of the positions' shortfalls plus the debts at full price (``result.equity`` includes them,
        as a negative amount: equity - sum of the positions' equity)."""
        debts = result.equity - sum(result.slot_equity)
        gaps = sum(shortfall(e, m) for e, m in zip(result.slot_equity, result.slot_mm))
        below = any(e < m for e, m in zip(result.slot_equity, result.slot_mm)) or any(b < 0 for b in balances)
        return cls(result.equity, result.mm, below, gaps - debts)


@dataclass(frozen=True)
class Totals:
    """Running totals of a solvency chain: accounts counted, accounts below MM (equity < MM),
    total equity (signed), total MM and total shortfall of those below, all at EQUITY_SCALE."""

    accounts: int = 0
    below: int = 0
    equity: int = 0
    mm: int = 0
    shortfall: int = 0

    def add(self, account: AccountFigures) -> Totals:
        """These totals with one more account."""
        return Totals(self.accounts + 1, self.below + int(account.below), self.equity + account.equity,
                      self.mm + account.mm, self.shortfall + account.shortfall)

    def fields(self) -> list[int]:
        """The totals as the circuit's field elements (equity signed-encoded)."""
        return [self.accounts, self.below, fp.to_field(self.equity), self.mm, self.shortfall]

    def to_json(self) -> dict[str, int | str]:
        """Integers (EQUITY_SCALE) and their USD decimals."""
        usd = {f"{k}_usd": fp.format_decimal(getattr(self, k), fp.EQUITY_SCALE) for k in ("equity", "mm", "shortfall")}
        return {"accounts": self.accounts, "below_mm": self.below, "equity": self.equity, "mm": self.mm,
                "shortfall": self.shortfall, **usd}

    @classmethod
    def from_json(cls, data: dict[str, int | str]) -> Totals:
        values = [data[k] for k in ("accounts", "below_mm", "equity", "mm", "shortfall")]
        if not all(type(v) is int for v in values):
            raise ValueError("solvency totals must be integers")
        return cls(*(int(v) for v in values))


@dataclass(frozen=True)
class ChainState:
    """The state of a solvency chain after leaves ``0 .. next - 1`` of a tree of ``tree_accounts``."""

    tree_accounts: int
    next: int
    totals: Totals
    salt: int

    def commitment(self) -> int:
        """``Poseidon(8)(N, next, totals..., salt)``: the chain_in / chain_out public input."""
        return poseidon([self.tree_accounts, self.next, *self.totals.fields(), self.salt])

    @classmethod
    def genesis(cls, tree_accounts: int) -> ChainState:
        """Before the first batch: nothing counted, salt 0 (every verifier recomputes it)."""
        return cls(tree_accounts, 0, Totals(), 0)


def batch_count(tree_accounts: int, batch: int) -> int:
    """Batches of ``batch`` leaves covering ``tree_accounts`` leaves (at least one)."""
    return max(1, -(-tree_accounts // batch))


def account_figures(account: Account, snapshot: RiskSnapshot, profile: Profile, model: str) -> AccountFigures:
    """What the batch circuit adds for the account under the model."""
    book = resolve(account, snapshot, profile)
    result = margin_model(model)(book, FULL_MM_BPS)
    if isinstance(result, IsolatedResult):
        return AccountFigures.isolated(result, book.balances)
    return AccountFigures.pooled(result.equity, result.mm)


def engine_totals(accounts: Iterable[Account], snapshot: RiskSnapshot, profile: Profile, model: str) -> Totals:
    """The totals a complete chain over ``accounts`` (tree order) must publish."""
    totals = Totals()
    for account in accounts:
        totals = totals.add(account_figures(account, snapshot, profile, model))
    return totals


def chain_salt(secret: bytes, epoch: int, next_leaf: int) -> int:
    """The salt hiding the intermediate state after leaves ``0 .. next_leaf - 1`` (248 bits), from
    the venue's chain secret: reruns derive the same states, so a resumed chain links up."""
    digest = hmac.new(secret, SALT_DOMAIN + f"/{epoch}/{next_leaf}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:31], "big")


def chain_states(figures: list[AccountFigures], batch: int, secret: bytes, epoch: int) -> list[ChainState]:
    """The states of the chain over accounts with ``figures`` (tree order): the genesis state,
    then the state after each batch (the last with salt 0)."""
    n = len(figures)
    count = batch_count(n, batch)
    states = [ChainState.genesis(n)]
    totals = Totals()
    for k in range(count):
        for account in figures[k * batch:(k + 1) * batch]:
            totals = totals.add(account)
        next_leaf = (k + 1) * batch
        states.append(ChainState(n, next_leaf, totals, chain_salt(secret, epoch, next_leaf)))
    states[-1] = replace(states[-1], salt=0)
    return states

"""MARKET.json: the venue's market data for one epoch, before any quantization.

This is the input of :func:`zkmargin.snapshot_builder.build_snapshot`. Every price, rate, vol and
haircut is a decimal string parsed exactly into :class:`~decimal.Decimal` (floats are refused:
``0.1`` has no exact binary form). Units:

* prices (``spot``, ``forward``, ``strike``, collateral ``price``): USD per unit of the underlying
  or asset; ``multiplier``: underlying units per contract;
* ``rate``: continuously compounded annual rate (``"0.04"`` = 4 %), used for forwards
  ``F = spot * exp(rate * T)`` and Black-76 discounting; ``T`` is ACT/365 in seconds
  (``seconds / 31,536,000``) from ``valuation_time`` (default: ``valuation_date`` at 00:00 UTC);
* expiries: ``"YYYY-MM-DD"`` (00:00 UTC) or a UTC timestamp ``"YYYY-MM-DDTHH:MM:SSZ"``;
* a perp's ``mark_price``: USD per underlying unit, the perp's own mark (default: the spot);
* coin-settled (``inverse``) futures and perps: ``multiplier`` is the contract's face in USD, the
  P&L is paid in the ``settlement`` collateral asset and valued at its price;
* coin-settled (``inverse``) calls and puts, as Deribit lists them: ``multiplier`` stays the
  underlying units per contract, the premium is in coins (the USD Black-76 premium divided by the
  forward of the expiry), paid in the ``settlement`` collateral asset and valued at its price;
* vols: annualised lognormal vols as fractions (``"0.55"`` = 55 %);
* haircuts and margin rates: fractions (``"0.05"`` = 5 %); the builder converts them to basis
  points rounding UP, against the trader.

An option's vol is its own ``vol`` if given, else the smile of its expiry (:class:`Smile`).
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema, model_validator

from zkmargin import fixedpoint as fp
from zkmargin.io import load_model
from zkmargin.models.snapshot import Kind
from zkmargin.models.types import Epoch, NonZeroId, StrictModel

MARKET_SCHEMA_VERSION: Literal[1] = 1
#: Kinds priced with Black-76; every other kind is linear in the underlying.
OPTION_KINDS = frozenset({Kind.CALL, Kind.PUT})


def _decimal(v: object) -> Decimal:
    if isinstance(v, Decimal):
        return v
    if not isinstance(v, str):
        raise ValueError(f"must be a decimal string such as \"1.25\" (floats are not exact), got {v!r}")
    try:
        d = Decimal(v.strip())
    except InvalidOperation:
        raise ValueError(f"{v!r} is not a decimal number") from None
    if not d.is_finite():
        raise ValueError(f"{v!r} must be finite")
    return d


#: An exact decimal written as a JSON string (and written back as one).
Dec = Annotated[Decimal, BeforeValidator(_decimal), PlainSerializer(str, return_type=str),
                WithJsonSchema({"type": "string", "pattern": r"^-?\d+(\.\d+)?$"})]
Positive = Annotated[Dec, Field(gt=0)]
NonNegative = Annotated[Dec, Field(ge=0)]
Fraction = Annotated[Dec, Field(ge=0, le=1)]


def _iso_date(v: object) -> date:
    if isinstance(v, date):
        return v
    if not isinstance(v, str):
        raise ValueError(f"must be an ISO date string such as \"2025-01-31\", got {v!r}")
    try:
        return date.fromisoformat(v)
    except ValueError:
        raise ValueError(f"{v!r} is not an ISO date (YYYY-MM-DD)") from None


#: A calendar date written as ``"YYYY-MM-DD"``.
IsoDate = Annotated[date, BeforeValidator(_iso_date), WithJsonSchema({"type": "string", "format": "date"})]


def _utc_time(v: object) -> datetime:
    """``"YYYY-MM-DD"`` (00:00 UTC) or ``"YYYY-MM-DDTHH:MM:SS[.ffffff]Z"`` as an aware UTC datetime."""
    if isinstance(v, datetime):
        return v
    if not isinstance(v, str):
        raise ValueError(f"must be an ISO date or UTC timestamp string such as \"2025-01-31T08:00:00Z\", got {v!r}")
    if "T" not in v:
        return datetime.combine(_iso_date(v), time(), UTC)
    if not v.endswith("Z"):
        raise ValueError(f"{v!r}: a timestamp must be in UTC and end with 'Z'")
    try:
        return datetime.fromisoformat(v[:-1]).replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{v!r} is not an ISO timestamp (YYYY-MM-DDTHH:MM:SSZ)") from None


def format_utc_time(t: datetime) -> str:
    """The text of a :data:`UtcTime`: the date alone at 00:00 UTC (so dates round-trip), else ``...Z``."""
    if t.time() == time():
        return t.date().isoformat()
    return t.replace(tzinfo=None).isoformat() + "Z"


#: A UTC instant written as a date (00:00 UTC) or a ``...Z`` timestamp; seconds count.
UtcTime = Annotated[datetime, BeforeValidator(_utc_time), PlainSerializer(format_utc_time, return_type=str),
                    WithJsonSchema({"type": "string", "description": "YYYY-MM-DD (00:00 UTC) or YYYY-MM-DDTHH:MM:SSZ"})]


class Smile(StrictModel):
    """A quadratic smile in log-moneyness ``x = ln(K / F)``: ``vol = atm + skew * x + curvature * x**2``.

    The smile is sticky-strike: a price scenario does not move an option's vol (only a vol
    scenario does).
    """

    atm_vol: Positive
    skew: Dec = Decimal(0)
    curvature: Dec = Decimal(0)


class ExpiryTerms(StrictModel):
    """Per-expiry market data of one underlying: an optional quoted forward and smile."""

    expiry: UtcTime
    forward: Positive | None = Field(default=None, description="USD; default spot * exp(rate * T)")
    smile: Smile | None = None


class Underlying(StrictModel):
    """An underlying, which is also its risk group: P&L nets within it, never across."""

    id: NonZeroId
    name: str
    spot: Positive
    rate: Dec = Decimal(0)
    expiries: list[ExpiryTerms] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_expiries(self) -> Underlying:
        dates = [e.expiry for e in self.expiries]
        if len(set(dates)) != len(dates):
            raise ValueError(f"underlying {self.name}: an expiry is listed twice")
        return self

    def terms(self, expiry: datetime) -> ExpiryTerms | None:
        """The quoted terms of ``expiry``, if any."""
        return next((e for e in self.expiries if e.expiry == expiry), None)


class MarketInstrument(StrictModel):
    """A listed instrument: contract terms and (options) an optional quoted implied vol."""

    id: NonZeroId
    symbol: str
    kind: Kind
    group: NonZeroId
    multiplier: Positive = Decimal(1)
    strike: Positive | None = Field(default=None, description="USD per underlying unit (options)")
    expiry: UtcTime | None = Field(default=None, description="futures and options")
    vol: Positive | None = Field(default=None, description="implied vol (options); default: the smile")
    mark_price: Positive | None = Field(default=None, description="USD per underlying unit (perps); default: the spot")
    inverse: bool = Field(default=False, description="coin-settled: a future or perp of face multiplier USD, or an "
                                                     "option premium in coins (multiplier: underlying units)")
    settlement: str | None = Field(default=None, description="collateral symbol an inverse contract settles in")

    @model_validator(mode="after")
    def _terms_match_kind(self) -> MarketInstrument:
        option = self.kind in OPTION_KINDS
        if option and self.strike is None:
            raise ValueError(f"instrument {self.symbol}: an option needs a strike")
        if not option and (self.strike is not None or self.vol is not None):
            raise ValueError(f"instrument {self.symbol}: only options have a strike or vol")
        if self.mark_price is not None and self.kind is not Kind.PERP:
            raise ValueError(f"instrument {self.symbol}: only perps have a mark_price")
        if self.inverse and self.kind is Kind.SPOT:
            raise ValueError(f"instrument {self.symbol}: inverse (coin-settled) is for futures, perps, calls and "
                             "puts; a spot position is never inverse")
        if self.inverse != (self.settlement is not None):
            raise ValueError(f"instrument {self.symbol}: an inverse contract, and only one, names its settlement asset")
        dated = option or self.kind is Kind.FUTURE
        if dated != (self.expiry is not None):
            raise ValueError(f"instrument {self.symbol}: {self.kind.value} "
                             f"{'needs' if dated else 'must not have'} an expiry")
        return self


class HaircutQuote(StrictModel):
    """Haircuts (fractions) on the part of a balance at or above ``from_amount`` units."""

    from_amount: NonNegative
    mm: Fraction
    im: Fraction


class CollateralQuote(StrictModel):
    """A collateral asset: stable index, USD price per unit, tiered haircuts."""

    index: int = Field(ge=0, lt=fp.MAX_ASSETS)
    symbol: str
    price: Positive
    tiers: list[HaircutQuote] = Field(min_length=1, max_length=4)


class MarketParams(StrictModel):
    """Margin rates (fractions): MM as a share of IM, contingency add-on, short-option minimum."""

    mm_factor: Annotated[Dec, Field(gt=0, le=1)] = Field(description="MM / IM, e.g. 0.8")
    contingency_rate: Fraction = Field(description="add-on per contract as a share of spot x multiplier")
    short_option_min_rate: Fraction = Field(description="minimum per short option as a share of spot x multiplier")


class Market(StrictModel):
    """One epoch's market data: underlyings, instruments, collateral, margin rates."""

    schema_version: Literal[1] = MARKET_SCHEMA_VERSION
    venue: str
    epoch: Epoch
    valuation_date: IsoDate
    valuation_time: UtcTime | None = Field(default=None, description="default: valuation_date at 00:00 UTC")
    underlyings: list[Underlying] = Field(min_length=1)
    instruments: list[MarketInstrument]
    collateral: list[CollateralQuote] = Field(min_length=1, max_length=fp.MAX_ASSETS)
    params: MarketParams

    @model_validator(mode="after")
    def _consistent(self) -> Market:
        by_id = {u.id: u for u in self.underlyings}
        if len(by_id) != len(self.underlyings):
            raise ValueError("duplicate underlying id")
        if self.valuation_time is not None and self.valuation_time.date() != self.valuation_date:
            raise ValueError(f"valuation_time {format_utc_time(self.valuation_time)} is not on {self.valuation_date}")
        now = self.now
        for u in self.underlyings:
            if any(e.expiry <= now for e in u.expiries):
                raise ValueError(f"underlying {u.name}: every expiry must lie after {format_utc_time(now)}")
        for field in ("id", "symbol"):
            keys = [getattr(i, field) for i in self.instruments]
            if len(set(keys)) != len(keys):
                raise ValueError(f"duplicate instrument {field}")
        for ins in self.instruments:
            group = by_id.get(ins.group)
            if group is None:
                raise ValueError(f"instrument {ins.symbol}: unknown group {ins.group}")
            if ins.expiry is not None and ins.expiry <= now:
                raise ValueError(f"instrument {ins.symbol}: expired "
                                 f"({format_utc_time(ins.expiry)} <= {format_utc_time(now)})")
            if ins.kind in OPTION_KINDS and ins.vol is None:
                terms = group.terms(ins.expiry) if ins.expiry else None
                if terms is None or terms.smile is None:
                    raise ValueError(f"instrument {ins.symbol}: no vol and no smile for {group.name} "
                                     f"{format_utc_time(ins.expiry) if ins.expiry else None}")
        if [c.index for c in self.collateral] != list(range(len(self.collateral))):
            raise ValueError("collateral indices must be 0, 1, 2, ... in order")
        coins = {c.symbol for c in self.collateral}
        for ins in self.instruments:
            if ins.settlement is not None and ins.settlement not in coins:
                raise ValueError(f"instrument {ins.symbol}: settlement asset {ins.settlement} is not a collateral asset")
        return self

    def collateral_price(self, symbol: str) -> Decimal:
        """USD price of the collateral asset ``symbol`` (validated to exist for every settlement)."""
        return next(c.price for c in self.collateral if c.symbol == symbol)

    @property
    def now(self) -> datetime:
        """The valuation instant: ``valuation_time``, else ``valuation_date`` at 00:00 UTC."""
        return self.valuation_time or datetime.combine(self.valuation_date, time(), UTC)

    def underlying(self, group: int) -> Underlying:
        """The underlying of a group id (validated to exist for every instrument)."""
        return next(u for u in self.underlyings if u.id == group)


def load_market(path: str | os.PathLike[str]) -> Market:
    """Read and validate a MARKET.json file (raises :class:`~zkmargin.errors.InputError`)."""
    return load_model(Market, path)

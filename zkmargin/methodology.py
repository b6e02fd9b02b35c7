"""Margin methodologies as configuration: the file a venue writes once, and the shipped presets.

A methodology (TOML or JSON, schema: ``zkmargin schema methodology``) says how the risk arrays and
add-ons of a snapshot are computed from the market: which price moves (a fraction of the price,
or an amount in USD per unit of the underlying, per underlying), which vol shocks (relative or
absolute, optionally scaled by time to expiry with a floor on the shocked-up vol), which tail
moves at which weights, SPAN's extreme-move cover, a look-ahead time, and the add-on rates. It
never changes how a snapshot is committed: the builder still writes one integer risk array per
instrument, quantized once, rounding against the trader.

Every number is an exact decimal string (``"0.045"``), never a TOML/JSON float: the risk arrays
are computed at float precision from these exact values and rounded once, so a shock of 4.5 % or
a weight of 0.0545... is no longer forced onto whole basis points.

Rules that act on the whole portfolio rather than on one instrument's risk array are recorded in
``portfolio_rules`` with their published parameters. The add-on on net naked shorts
(``net_naked_short_addon``, Derive) is applied: the builder gives the options of one strike a
shared key and the circuit nets them (``NakedAddons``). The others (Derive's static discount,
Deribit's extended-table dampener, delta and roll shocks, SPAN's spread credits) are not carried
yet: :func:`Methodology.pending_rules` names them and the CLI says so on every build
(``docs/methodologies.md``, "Portfolio-level rules").

Presets ship as package data (``zkmargin/data/methodologies/<name>.toml``): ``span16`` (the
legacy grid of ``examples/snapshot_span16.json``), ``span``, ``deribit``, ``derive-pmrm2``.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, model_validator

from zkmargin import fixedpoint as fp
from zkmargin.errors import InputError
from zkmargin.io import describe_validation_error
from zkmargin.market import Dec, NonNegative, Positive
from zkmargin.models.types import StrictModel

#: A share in [0, 1] (weights, cover fractions, add-on rates).
Share = Annotated[Dec, Field(ge=0, le=1)]
#: An instrument kind by its value (``"perp"``), as a methodology file writes it.
KindName = Literal["spot", "future", "perp", "call", "put"]
#: Which way a scenario moves implied vols.
VolDirection = Literal["up", "none", "down"]
#: Seconds in the ACT/365 year used for every time to expiry.
YEAR_SECONDS = 365 * 86_400


class PriceScan(StrictModel):
    """The price scan range of an underlying: a fraction of its price, or USD per underlying unit.

    SPAN publishes its price scan range as an amount per contract; divide it by the contract's
    size (underlying units per contract) to write it here as ``amount``.
    """

    fraction: Annotated[Dec, Field(gt=0, lt=1)] | None = None
    amount: Positive | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> PriceScan:
        if (self.fraction is None) == (self.amount is None):
            raise ValueError("give exactly one of fraction and amount")
        return self

    def fraction_of(self, spot: Decimal) -> Fraction:
        """The scan as an exact fraction of ``spot`` (USD per underlying unit)."""
        if self.fraction is not None:
            return Fraction(self.fraction)
        assert self.amount is not None
        return Fraction(self.amount) / Fraction(spot)


class TermScaling(StrictModel):
    """Vol shocks scaled by time to expiry: ``(reference_days / max(days, floor_days)) ** power``.

    ``power`` is ``short_power`` up to ``cutoff_days`` (inclusive) and ``long_power`` beyond, as
    Deribit and Derive both publish it; the factor is 1 at ``reference_days``.
    """

    reference_days: Positive = Decimal(30)
    cutoff_days: Positive = Decimal(30)
    short_power: NonNegative
    long_power: NonNegative
    floor_days: Positive = Decimal(1)

    def factor(self, seconds: float) -> float:
        """The scaling factor of an option ``seconds`` from expiry (float)."""
        days = seconds / 86_400
        power = self.short_power if days <= float(self.cutoff_days) else self.long_power
        return float(float(self.reference_days) / max(days, float(self.floor_days))) ** float(power)


class VolShock(StrictModel):
    """The vol move of a scenario whose direction is ``up`` or ``down``.

    ``relative``: ``vol * (1 + up * f)`` and ``vol * max(0, 1 - down * f)``; ``absolute`` (SPAN's
    one shift per product): ``vol + up * f`` and ``max(0, vol - down * f)``, in annualised vol
    (``"0.04"`` = 4 vol points); ``f`` is the term scaling factor (1 without ``term_scaling``).
    A shocked-up vol is raised to ``min_shocked_up_vol`` if given. A vol shocked to 0 prices the
    option at its discounted intrinsic value.
    """

    mode: Literal["relative", "absolute"] = "relative"
    up: NonNegative
    down: NonNegative
    term_scaling: TermScaling | None = None
    min_shocked_up_vol: NonNegative | None = None


class SpanGrid(StrictModel):
    """CME SPAN's 16 scenarios: price flat, +-1/3, +-2/3, +-3/3 of the scan, each with vol up and
    down; then +-``extreme_multiple`` x the scan, vol unchanged, counted at ``extreme_cover``."""

    extreme_multiple: Positive = Decimal(2)
    extreme_cover: Share = Decimal("0.35")


class CoreGrid(StrictModel):
    """A matrix: price moves ``k / steps`` x the scan for ``k = -steps..steps``, each under every
    direction of ``vol`` (in that order); the two edge moves use ``edge_vol`` if it is given
    (Derive: +-18 % with vol up only)."""

    steps: int = Field(ge=1, le=16)
    vol: list[VolDirection] = Field(min_length=1, max_length=3)
    edge_vol: list[VolDirection] | None = None


class TailMove(StrictModel):
    """One tail scenario: a price move (fraction, > -1), a vol direction, and the share counted."""

    move: Annotated[Dec, Field(gt=-1)]
    vol: VolDirection = "up"
    weight: Share


class AddOns(StrictModel):
    """Per-contract charges, as shares of spot x multiplier; absent values come from the market.

    ``contingency_by_kind`` overrides ``contingency_rate`` for some kinds (Derive charges perps and
    options different rates). The margin the circuit proves is ``mm_factor x (scan loss +
    add-ons)``, so a published MM-only rate ``r`` is written here as ``r / mm_factor``.
    """

    mm_factor: Annotated[Dec, Field(gt=0, le=1)] | None = None
    contingency_rate: Share | None = None
    contingency_by_kind: dict[KindName, Share] = Field(default_factory=dict)
    short_option_min_rate: Share | None = None


#: Portfolio-level rules the snapshot and the circuit carry.
APPLIED_RULES = frozenset({"net_naked_short_addon"})

PortfolioRuleName = Literal["static_discount", "net_naked_short_addon", "tail_dampener", "delta_shock", "roll_shock",
                            "basis_contingency", "skew_shock", "spread_credits"]


class PortfolioRule(StrictModel):
    """A rule that acts on the whole portfolio (recorded with its published parameters; pending)."""

    rule: PortfolioRuleName
    params: dict[str, Dec] = Field(default_factory=dict)
    source: str = Field(description="where the rule and its parameters are published")


class Source(StrictModel):
    """Where a parameter (or group of parameters) is published."""

    what: str
    where: str


class Methodology(StrictModel):
    """A margin methodology: scenarios, vol shocks, tail, look-ahead, add-ons, portfolio rules."""

    name: str
    description: str = ""
    sources: list[Source] = Field(default_factory=list)
    price_scan: PriceScan
    underlyings: dict[str, PriceScan] = Field(default_factory=dict, description="price scan per underlying name")
    vol: VolShock
    span: SpanGrid | None = None
    core: CoreGrid | None = None
    tail: list[TailMove] = Field(default_factory=list)
    tail_linear_cap: bool = Field(default=False, description=(
        "a linear contract (coin-settled too) counts in each tail scenario its P&L at the core grid's edge on "
        "that side, when smaller (Deribit's extended table); options count the tail P&L at a weight capped at "
        "(core edge move / |tail move|)"))
    lookahead_days: NonNegative = Decimal(0)
    addons: AddOns = Field(default_factory=AddOns)
    portfolio_rules: list[PortfolioRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_grid(self) -> Methodology:
        if (self.span is None) == (self.core is None):
            raise ValueError("give exactly one of [span] and [core]")
        if self.tail_linear_cap and self.core is None:
            raise ValueError("tail_linear_cap needs a [core] grid")
        return self

    def scan(self, underlying: str) -> PriceScan:
        """The price scan of ``underlying`` (its own, else the default)."""
        return self.underlyings.get(underlying, self.price_scan)

    def shapes(self) -> tuple[ScenarioShape, ...]:
        """The scenarios, each as a multiple of the price scan (or a fixed tail move)."""
        if self.span is not None:
            out = _span_shapes(self.span)
        else:
            assert self.core is not None  # exactly one grid (validated)
            out = _core_shapes(self.core)
        edge = Fraction(1)  # the core grid's edge, in units of the scan
        for t in self.tail:
            out.append(ScenarioShape(label=_tail_label(t), scan_multiple=None, fixed_move=Fraction(t.move),
                                     vol=t.vol, weight=Fraction(t.weight),
                                     cap_at_scan=edge if self.tail_linear_cap else None))
        return tuple(out)

    def applies(self, rule: str) -> bool:
        """Does the methodology list the portfolio-level ``rule``?"""
        return any(r.rule == rule for r in self.portfolio_rules)

    def pending_rules(self) -> list[str]:
        """Names of the portfolio-level rules that the snapshot and the circuit do not carry yet."""
        return [r.rule for r in self.portfolio_rules if r.rule not in APPLIED_RULES]


@dataclass(frozen=True)
class ScenarioShape:
    """A scenario before the market is known: its price move in scan units (or a fixed move).

    ``weight`` is the share counted; ``cap_at_scan`` caps it at ``cap_at_scan * scan / |move|`` for
    options, and caps a linear contract's P&L at its P&L under the move ``+-cap_at_scan * scan``.
    """

    label: str
    scan_multiple: Fraction | None
    fixed_move: Fraction | None
    vol: VolDirection
    weight: Fraction
    cap_at_scan: Fraction | None = None

    def move(self, scan: Fraction) -> Fraction:
        """The exact price move (fraction) under a scan of ``scan``."""
        if self.scan_multiple is not None:
            return self.scan_multiple * scan
        assert self.fixed_move is not None
        return self.fixed_move

    def weight_at(self, scan: Fraction) -> Fraction:
        """The exact share counted under a scan of ``scan`` (the linear cap applied)."""
        move = self.move(scan)
        if self.cap_at_scan is None or move == 0:
            return self.weight
        return min(self.weight, self.cap_at_scan * scan / abs(move))

    def edge_at(self, scan: Fraction) -> Fraction | None:
        """The capped move on this scenario's side (``+-cap_at_scan * scan``), ``None`` without a cap."""
        move = self.move(scan)
        if self.cap_at_scan is None or move == 0:
            return None
        return self.cap_at_scan * scan * (1 if move > 0 else -1)


_VOL_LABEL = {"up": "vol up", "none": "vol flat", "down": "vol down"}
#: SPAN's two vol scenarios per price move, in SPAN's order.
_SPAN_VOLS: tuple[VolDirection, VolDirection] = ("up", "down")


def _span_shapes(g: SpanGrid) -> list[ScenarioShape]:
    out = []
    for thirds, sign in ((0, 1), (1, 1), (1, -1), (2, 1), (2, -1), (3, 1), (3, -1)):
        move = "price flat" if thirds == 0 else f"{'+' if sign > 0 else '-'}{thirds}/3 range"
        for vol in _SPAN_VOLS:
            out.append(ScenarioShape(label=f"{move}, {_VOL_LABEL[vol]}", scan_multiple=Fraction(sign * thirds, 3),
                                     fixed_move=None, vol=vol, weight=Fraction(1)))
    multiple = Fraction(g.extreme_multiple)
    for sign in (1, -1):
        out.append(ScenarioShape(label=f"{'+' if sign > 0 else '-'}{float(multiple):g}x range extreme",
                                 scan_multiple=sign * multiple, fixed_move=None, vol="none",
                                 weight=Fraction(g.extreme_cover)))
    return out


def _core_shapes(g: CoreGrid) -> list[ScenarioShape]:
    out = []
    for k in range(-g.steps, g.steps + 1):
        vols = g.edge_vol if g.edge_vol is not None and abs(k) == g.steps else g.vol
        for vol in vols:
            out.append(ScenarioShape(label=f"{'+' if k >= 0 else '-'}{abs(k)}/{g.steps} range, {_VOL_LABEL[vol]}",
                                     scan_multiple=Fraction(k, g.steps), fixed_move=None, vol=vol,
                                     weight=Fraction(1)))
    return out


def _tail_label(t: TailMove) -> str:
    return f"tail {float(t.move) * 100:+g}%, {_VOL_LABEL[t.vol]}"


def vol_multipliers(vol: VolShock, seconds: float) -> tuple[float, float]:
    """``(up, down)`` term-scaled shock sizes of an option ``seconds`` from expiry (fractions)."""
    f = 1.0 if vol.term_scaling is None else vol.term_scaling.factor(seconds)
    return float(vol.up) * f, float(vol.down) * f


def shocked_vol(vol: VolShock, base: float, seconds: float, direction: VolDirection) -> float:
    """One option's shocked vol (annualised) under ``direction``; see :class:`VolShock`."""
    up, down = vol_multipliers(vol, seconds)
    if direction == "none":
        return base
    if direction == "down":
        return base * max(0.0, 1.0 - down) if vol.mode == "relative" else max(0.0, base - down)
    out = base * (1.0 + up) if vol.mode == "relative" else base + up
    return out if vol.min_shocked_up_vol is None else max(out, float(vol.min_shocked_up_vol))


def shock_bps(x: Fraction) -> int:
    """An exact fraction as whole bps, half-even (the snapshot's informational scenario fields)."""
    return round(x * fp.BPS)


#: Package folder of the shipped presets.
PRESET_DIR = "data/methodologies"
#: The preset used when none is named (``snapshot build``, ``report``).
DEFAULT_METHODOLOGY = "span16"


def preset_names() -> list[str]:
    """Names of the shipped presets (file stems), sorted."""
    folder = resources.files("zkmargin").joinpath(PRESET_DIR)
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


def parse_methodology(text: str, *, source: str, fmt: Literal["toml", "json"]) -> Methodology:
    """Validate a methodology from TOML or JSON text; :class:`InputError` names source and field."""
    try:
        if fmt == "json":
            return Methodology.model_validate_json(text)
        return Methodology.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{source}: malformed TOML: {e}") from None
    except ValidationError as e:
        raise InputError(f"{source}: {describe_validation_error(e)}") from None


def load_methodology(name_or_path: str | os.PathLike[str]) -> Methodology:
    """A shipped preset by name (``deribit``), else a ``.toml`` / ``.json`` file."""
    name = str(name_or_path)
    if name in preset_names():
        text = resources.files("zkmargin").joinpath(f"{PRESET_DIR}/{name}.toml").read_text()
        return parse_methodology(text, source=f"preset {name}", fmt="toml")
    path = Path(name_or_path)
    if not path.is_file():
        raise InputError(f"{name}: neither a methodology file nor a preset (presets: {', '.join(preset_names())})")
    fmt: Literal["toml", "json"] = "json" if path.suffix == ".json" else "toml"
    return parse_methodology(path.read_text(), source=str(path), fmt=fmt)


def as_methodology(methodology: Methodology | str | os.PathLike[str]) -> Methodology:
    """``methodology`` itself, else the preset or file it names (:func:`load_methodology`)."""
    return methodology if isinstance(methodology, Methodology) else load_methodology(methodology)

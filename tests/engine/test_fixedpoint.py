"""Fixed point: the overflow argument on the largest books, bounds, signed field encoding, decimals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.factories import extreme_account, extreme_snapshot
from zkmargin import fixedpoint as fp
from zkmargin.book import resolve
from zkmargin.errors import BoundError
from zkmargin.fixedpoint import R, format_decimal, from_field, parse_decimal, to_field
from zkmargin.portfolio import MarginResult, portfolio_margin

HALF = R // 2
LOSS = 1 << fp.LOSS_BITS
HEALTH = 1 << (fp.HEALTH_BITS - 1)


# ---- the overflow argument ----
def test_overflow_self_check_passes_for_the_shipped_constants_with_the_documented_headroom() -> None:
    fp.check_overflow()  # also runs at import; here its margins are pinned
    pnl = fp.MAGNITUDES["group_pnl[s] = sum q * risk[s]"]
    assert 2 * pnl <= 1 << (fp.LOSS_BITS - 1) < 4 * pnl  # loss + pnl fits LOSS_BITS, with one bit to spare
    assert fp.MAGNITUDES["|equity*10000 - MM*threshold|"] < 1 << (fp.HEALTH_BITS - 1)
    assert max(fp.MAGNITUDES.values()) < 1 << 250


@pytest.mark.parametrize(("name", "value", "message"), [
    ("LOSS_BITS", 100, "does not fit LOSS_BITS=100"),
    ("HEALTH_BITS", 140, "HEALTH_BITS=140"),
])
def test_overflow_self_check_rejects_too_narrow_range_checks(monkeypatch: pytest.MonkeyPatch, name: str,
                                                             value: int, message: str) -> None:
    monkeypatch.setattr(fp, name, value)
    with pytest.raises(ValueError, match=message):
        fp.check_overflow()


def test_overflow_self_check_rejects_an_intermediate_near_the_field_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(fp.MAGNITUDES, "position_value = q * mark", 1 << 250)
    with pytest.raises(ValueError, match="too close to the field size"):
        fp.check_overflow()


def test_every_documented_magnitude_is_far_below_the_field() -> None:
    assert max(fp.MAGNITUDES.values()) < 1 << 250 < R


def _extreme_result(qty: int, groups: int, threshold_bps: int) -> MarginResult:
    snapshot = extreme_snapshot(groups=groups)
    return portfolio_margin(resolve(extreme_account(snapshot, qty), snapshot), threshold_bps)


EXTREME_CASES = [
    pytest.param(qty, groups, threshold, id=f"q={qty}-groups={groups}-threshold={threshold}")
    for qty in (fp.QTY.lo, fp.QTY.hi)
    for groups in (1, fp.MAX_GROUPS)
    for threshold in (0, fp.THRESHOLD.hi)
]


@pytest.mark.parametrize(("qty", "groups", "threshold_bps"), EXTREME_CASES)
def test_every_intermediate_of_a_full_book_at_the_bounds_stays_within_magnitudes(
        qty: int, groups: int, threshold_bps: int) -> None:
    r = _extreme_result(qty, groups, threshold_bps)
    m = fp.MAGNITUDES
    assert all(abs(v) < m["position_value = q * mark"] for v in r.position_value)
    assert all(abs(p) <= m["group_pnl[s] = sum q * risk[s]"] for row in r.group_pnl for p in row)
    assert all(s <= m["som[g] = sum short * som"] for s in r.group_som)
    assert sum(r.addon) <= m["addons = sum |q| * addon"]
    assert all(c <= m["collateral = sum a * price * (10000 - hc)"] for c in r.collateral_value)
    assert abs(r.equity) <= m["|equity|"]
    assert r.im <= m["IM = sum req[g] + addons"]
    assert r.mm <= m["MM = IM * mm_factor_bps"]
    assert abs(r.health) <= m["|equity*10000 - MM*threshold|"]


@pytest.mark.parametrize(("qty", "groups", "threshold_bps"), EXTREME_CASES)
def test_every_range_checked_value_of_a_full_book_fits_its_circuit_width(
        qty: int, groups: int, threshold_bps: int) -> None:
    """The circuit's checks: ScanLoss (loss and loss + pnl[s]), AtLeastBoth (req - loss, req - som),
    both LOSS_BITS wide; HealthCheck (health, HEALTH_BITS wide, |health| < 2**(HEALTH_BITS-1))."""
    r = _extreme_result(qty, groups, threshold_bps)
    for loss, som, req, row in zip(r.scan_loss, r.group_som, r.group_req, r.group_pnl):
        assert 0 <= loss < LOSS and all(0 <= loss + p < LOSS for p in row)
        assert som < 1 << (fp.LOSS_BITS - 1) and loss < 1 << (fp.LOSS_BITS - 1)
        assert 0 <= req - loss < LOSS and 0 <= req - som < LOSS
    assert -HEALTH < r.health < HEALTH


def test_group_pnl_bound_is_attained_by_64_max_shorts_on_the_lowest_risk() -> None:
    """The group P&L bound is tight (q = risk = -2**47 in 64 slots gives exactly +2**100), so it is an
    inclusive bound; the argument still holds because only the loss side must stay below it."""
    r = _extreme_result(fp.QTY.lo, 1, fp.BPS)
    assert r.group_pnl[0][0] == fp.MAGNITUDES["group_pnl[s] = sum q * risk[s]"] == 1 << (fp.LOSS_BITS - 2)
    assert r.scan_loss[0] < 1 << (fp.LOSS_BITS - 2)


# ---- bounds ----
@pytest.mark.parametrize("bound", [fp.QTY, fp.RISK, fp.MARK, fp.AMOUNT, fp.HAIRCUT, fp.THRESHOLD])
def test_bound_accepts_both_ends_and_refuses_one_beyond_with_the_field_named(bound: fp.Bound) -> None:
    assert bound.check("f", bound.lo) == bound.lo and bound.check("f", bound.hi) == bound.hi
    for bad in (bound.lo - 1, bound.hi + 1):
        with pytest.raises(BoundError, match=rf"^f = {bad}: must lie in \[{bound.lo}, {bound.hi}\]$") as e:
            bound.check("f", bad)
        assert (e.value.field, e.value.value) == ("f", bad)


def test_signed_bounds_are_twos_complement_ranges_of_their_width() -> None:
    assert (fp.QTY.lo, fp.QTY.hi) == (-(1 << 47), (1 << 47) - 1)
    assert (fp.AMOUNT.lo, fp.AMOUNT.hi) == (0, (1 << 64) - 1)
    assert (fp.HAIRCUT.hi, fp.HAIRCUT.bits) == (fp.BPS, 14)


@pytest.mark.parametrize("value", [True, 1.0, "1", None])
def test_bound_refuses_non_integers(value: object) -> None:
    with pytest.raises(BoundError, match="must be an integer"):
        fp.QTY.check("quantity", value)  # type: ignore[arg-type]


# ---- signed encoding ----
@given(st.integers(-HALF, HALF))
@example(0)
@example(-1)
@example(HALF)
@example(-HALF)
def test_from_field_inverts_to_field_on_every_encodable_integer(x: int) -> None:
    assert 0 <= to_field(x) < R
    assert from_field(to_field(x)) == x


@given(st.integers(0, R - 1))
@example(R - 1)
@example(HALF)
@example(HALF + 1)
def test_to_field_inverts_from_field_on_every_field_element(y: int) -> None:
    assert to_field(from_field(y)) == y


def test_negative_integers_encode_as_r_minus_their_magnitude() -> None:
    assert to_field(-1) == R - 1
    assert to_field(fp.QTY.lo) == R - (1 << 47)
    assert from_field(HALF) == HALF and from_field(HALF + 1) == -HALF


@pytest.mark.parametrize("x", [HALF + 1, -HALF - 1, R, -R])
def test_to_field_refuses_integers_beyond_half_the_field(x: int) -> None:
    with pytest.raises(BoundError, match="below R/2"):
        to_field(x)


@pytest.mark.parametrize("y", [-1, R, R + 1])
def test_from_field_refuses_values_outside_the_field(y: int) -> None:
    with pytest.raises(BoundError, match=r"must lie in \[0, R-1\]"):
        from_field(y)


# ---- decimals at the edges ----
@pytest.mark.parametrize(("text", "scale", "expected"), [
    ("1.5", 10**6, 1_500_000),
    ("-0.000001", 10**6, -1),
    ("140737488.355327", 10**6, fp.QTY.hi),
    ("0", 10**6, 0),
    ("  2.25 ", 100, 225),
    (7, 10**6, 7_000_000),
    (-3, 10_000, -30_000),
])
def test_parse_decimal_converts_exact_values(text: object, scale: int, expected: int) -> None:
    assert parse_decimal("x", text, scale) == expected


@pytest.mark.parametrize(("text", "floor", "ceil"), [
    ("1.0000001", 1_000_000, 1_000_001),
    ("1.9999999", 1_999_999, 2_000_000),
    ("-1.0000001", -1_000_001, -1_000_000),
    ("0.0000009", 0, 1),
])
def test_parse_decimal_rounds_extra_decimals_toward_the_requested_side(text: str, floor: int, ceil: int) -> None:
    assert parse_decimal("x", text, 10**6, "floor") == floor
    assert parse_decimal("x", text, 10**6, "ceil") == ceil


def test_parse_decimal_refuses_extra_decimals_in_exact_mode() -> None:
    with pytest.raises(BoundError, match=r"^quantity = 1.0000001: has more than 6 decimals$"):
        parse_decimal("quantity", "1.0000001", 10**6)


@pytest.mark.parametrize(("value", "message"), [
    (1.5, "floats are not exact"),
    (float("nan"), "floats are not exact"),
    (True, "floats are not exact"),
    (False, "floats are not exact"),
    (Decimal("1.5"), "must be a decimal string"),
    (None, "must be a decimal string"),
    ("abc", "is not a decimal number"),
    ("", "is not a decimal number"),
    ("1.2.3", "is not a decimal number"),
    ("NaN", "is not a decimal number"),
    ("-Infinity", "is not a decimal number"),
    ("sNaN", "is not a decimal number"),
    ("1e3", "is not a decimal number"),
    ("1_000", "is not a decimal number"),
    ("+5", "is not a decimal number"),
    ("\u0661\u0662", "is not a decimal number"),
])
def test_parse_decimal_refuses_anything_but_a_finite_decimal_string_or_int(value: object, message: str) -> None:
    with pytest.raises(BoundError, match=message) as e:
        parse_decimal("amount", value, 10**6)
    assert e.value.field == "amount"


def test_parse_decimal_refuses_extra_decimals_beyond_28_significant_digits() -> None:
    with pytest.raises(BoundError, match="has more than 6 decimals$"):
        parse_decimal("quantity", "1.0000000000000000000000000001", 10**6)


def test_parse_decimal_floor_never_rounds_up() -> None:
    assert parse_decimal("amount", "0.99999999999999999999999999999", 10**6, "floor") == 999_999


def test_parse_decimal_refuses_exponents_and_overlong_numbers_with_a_bound_error() -> None:
    with pytest.raises(BoundError, match=r"^quantity = 1e999999: is not a decimal number"):
        parse_decimal("quantity", "1e999999", 10**6)
    with pytest.raises(BoundError, match=r"^quantity = 1000+: has more than \d+ digits$"):
        parse_decimal("quantity", "1" + "0" * 200, 10**6)


@given(st.integers(-(1 << 80), 1 << 80), st.sampled_from([1, 100, 10**6, 10**18]))
def test_format_decimal_round_trips_through_parse_decimal(x: int, scale: int) -> None:
    text = format_decimal(x, scale)
    assert parse_decimal("x", text, scale) == x
    assert text == text.rstrip("0") or "." not in text


def test_format_decimal_writes_the_shortest_exact_text() -> None:
    assert [format_decimal(x, 10**6) for x in (1_500_000, -1, 0, 10**6, -(1 << 47))] == \
        ["1.5", "-0.000001", "0", "1", "-140737488.355328"]

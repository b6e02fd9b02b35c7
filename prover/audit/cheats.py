"""Hint probes: a cheater's value of any prover hint must leave no satisfying witness.

Every circuit input that is neither public nor an opened value (what the account leaf and the
snapshot root hash: the book, the salt, the snapshot's terms) is a prover hint: group slots,
collateral splits, scanning losses, requirements, allocation selectors, and the account's place
in the epoch's account tree (``account_index``, ``account_path``) with, under the portfolio and
cross models, the leaf's ``allocation_hash``. ``HINTS`` declares each hint with the template that
guards it (docs/circuits.md, "Every private input, and why it cannot help a cheater") and the
cheats its argument rules out; the probes are derived from that list, so a new template's hint
gets probed by declaring it (an undeclared hint is itself a finding). The kinds of cheat:

* ``below``: the honest value lowered by one (just past the lower bound the engine meets tightly:
  ``scan_loss = max(...)``, ``req = max(loss, som)``, one right Merkle path and allocation hash);
  alone and, for a hint with a ``partner``, together with the partner's same element;
* ``wrapped``: the field-wrapped negative ``r - v`` of the honest value ``v`` (``r - 1`` for a
  zero), alone and with the partner;
* ``transfer``: one unit moved between two elements of a row (a split part moved into a full
  better tier overfills it; moved out of an empty one it wraps negative; a selector moved to
  another group or asset slot), and each element's value plus one moved to every other element
  (it is left at -1, field-wrapped, with the row's sum kept);
* ``double``: a selector row with its one set and a second one set too (double counting);
* ``split``: a position's group selector split into 2 and -1 over its own group slot and an unused
  one given the same id (the selector sum and the selected id are kept; only booleanity stops it);
  for a ``regroup`` hint (group selectors) ``double`` and ``split`` recompute the scanning losses
  and requirements for the moved P&L and claim threshold 0, so only the selector's guard stops them;
  for a ``resplit`` hint (allocation selectors) they are every row over the assets, entries in
  {-1, 0, 1, 2}, that keeps what the linear constraints see (``sum_k k * sel[k] = alloc_asset *
  sum_k sel[k]``): ``double`` boolean with two or more set, ``split`` non-boolean with a sum of 0 or
  1; the allocation is re-split over the tiers the row selects and claimed at threshold 0, so only
  booleanity or the at-most-one check stops them;
* ``second_worst``: the scanning loss of a group set to its second-worst scenario loss, with the
  group requirement lowered to match;
* ``widest``: the other direction. A hint with ``bounds`` is admitted by its guard exactly when
  ``value - bound`` is a ``LOSS_BITS``-bit number for every bound (``ScanLoss``: 0 and each
  scenario's loss; ``AtLeastBoth``: both operands), so the largest over-statement the documented
  guard admits, ``min(bounds) + 2**LOSS_BITS - 1`` (the partner raised to match, threshold 0),
  MUST have a witness: a guard narrower than documented (a cut bit width) refuses it, and a large
  honest account would then have no proof.
* ``opened`` (not a hint): every element of every private input a hash binds to a public root
  (:data:`OPENED`: the book, the salt, the instrument leaves and paths, the snapshot terms) plus
  one, on the first probed account: a root ``===`` dropped from ``Margin`` frees them all.

Each probe's inputs run through the PROVEN (O2) build's witness code and, when that yields a
witness, the witness is checked against the proven R1CS: a satisfying witness is a soundness
finding naming the signal and the probe (e.g. a removed range check or ``===``); for ``widest``
the finding is the missing witness (a completeness hole).

Besides the richest healthy accounts, focused accounts make each probe bite where only a special
account can (:data:`FOCUS`): one per scenario that is a position's unique worst
(``second_worst``), a hedged short option whose minimum is above the group's loss (``below`` of
the requirement then undercuts the second bound of ``AtLeastBoth``), and an allocation from each
asset with room in every balance (the allocation-selector ``double`` and ``split``).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import product
from typing import Any

from prover.audit.differential import Case, Labelled, leaves
from prover.audit.result import CheckResult, Finding
from prover.circuits import WarmWitness
from prover.r1cs import R1cs, check_witness
from prover.witness import WitnessError
from zkmargin.circuit_input import Signal
from prover.audit.accounts import account_of
from zkmargin import fixedpoint as fp
from zkmargin.fixedpoint import R, from_field
from zkmargin.models import RiskSnapshot
from zkmargin.book import resolve
from zkmargin.cross import CrossResult
from zkmargin.isolated import IsolatedResult
from zkmargin.portfolio import MarginResult
from zkmargin.profiles import PUBLIC_SIGNALS, Profile
from zkmargin.terms import Health, collateral_split

TITLE = "Hint probes"

BOUND_INPUTS = frozenset({
    "snapshot_root", "account_root", "holder", "threshold_bps",
    "salt", "instrument", "qty", "balance", "alloc_asset", "alloc_amount",
    "leaf_group", "leaf_mark", "leaf_addon", "leaf_som", "leaf_long_loss", "leaf_short_loss",
    "leaf_naked_code", "leaf_risk", "leaf_index", "leaf_siblings",
    "instrument_root", "asset_price", "tier_from", "hc_mm", "hc_im", "mm_factor_bps",
    "contingency_bps", "short_option_min_bps", "epoch",
})
"""Public inputs and the values the account leaf and the snapshot root open (docs/circuits.md);
every other input of a margin circuit is a hint and must be declared in ``HINTS``."""
OPENED = BOUND_INPUTS - frozenset(PUBLIC_SIGNALS)
"""The private inputs a hash binds to a public root: each changed by one must lose its witness
(the ``opened`` probe: a dropped root ``===`` frees them all)."""


Index = tuple[int, ...]
Bounds = Callable[[Health, Index], tuple[int, ...]]
"""The lower bounds a hint element's guard checks it against, from the engine's result
(VALUE_SCALE): the guard admits ``value`` iff ``value - bound`` is a LOSS_BITS-bit number for each."""


def _scan_bounds(result: Health, index: Index) -> tuple[int, ...]:
    """``ScanLoss``: the loss itself (>= 0) and ``loss + pnl[s]`` for every scenario of the group."""
    assert isinstance(result, MarginResult)
    return (0, *(-pnl for pnl in result.group_pnl[index[0]]))


def _group_req_bounds(result: Health, index: Index) -> tuple[int, ...]:
    """``AtLeastBoth`` of a group: its scanning loss and its short-option minimum."""
    assert isinstance(result, MarginResult)
    return result.scan_loss[index[0]], result.group_som[index[0]]


def _position_req_bounds(result: Health, index: Index) -> tuple[int, ...]:
    """``AtLeastBoth`` of a position (cross, isolated): its own loss and its short-option minimum."""
    assert isinstance(result, CrossResult | IsolatedResult)
    return result.position_loss[index[0]], result.position_som[index[0]]


@dataclass(frozen=True)
class Hint:
    """A prover-chosen input, the template whose constraints guard it, and the cheats to try."""

    guard: str
    probes: tuple[str, ...]
    partner: str | None = None
    """A hint of the same shape a cheater lowers together with this one (same element)."""
    regroup: bool = False
    """A changed value moves P&L between group slots: probes recompute the scanning losses and
    requirements the engine's way and claim threshold 0, so only this hint's guard can stop them."""
    resplit: bool = False
    """Rows select an allocation's asset: a probe leaving a row one-hot re-splits that allocation
    over the selected asset's tiers (the engine's split) and claims threshold 0."""
    ordered: bool = False
    """Rows are tiers, best first: a transfer moves a unit toward a better tier (or out of an
    empty element, which wraps it negative)."""
    bounds: Bounds | None = None
    """What the guard checks the value against (the ``widest`` probe's admitted range)."""


HINTS: dict[str, Hint] = {
    "collateral_split": Hint("CollateralValue", ("below", "wrapped", "transfer"), ordered=True),
    "alloc_split": Hint("CollateralValue", ("below", "wrapped", "transfer"), ordered=True),
    "group_id": Hint("GroupSelect", ("below",)),
    "group_sel": Hint("GroupSelect", ("wrapped", "transfer", "double", "split"), regroup=True),
    "alloc_sel": Hint("IsolatedCollateral", ("wrapped", "transfer", "double", "split"), resplit=True),
    "scan_loss": Hint("ScanLoss", ("below", "wrapped", "second_worst", "widest"), partner="group_req",
                      bounds=_scan_bounds),
    "group_req": Hint("AtLeastBoth", ("below", "wrapped", "widest"), bounds=_group_req_bounds),
    "position_req": Hint("AtLeastBoth", ("below", "wrapped", "widest"), bounds=_position_req_bounds),
    "naked_short": Hint("NakedAddons", ("below", "wrapped")),
    "allocation_hash": Hint("AccountLeaf", ("below",)),
    "account_index": Hint("QuadMerkleRoot", ("below", "wrapped")),
    "account_path": Hint("QuadMerkleRoot", ("below",)),
}
"""Every hint of the margin circuits (docs/circuits.md), keyed by input name."""

Probe = tuple[str, dict[str, Any]]
"""(description, the case's inputs with the cheater's values)."""
ProbeMaker = Callable[[Case, str, Hint], Iterator[Probe]]


def worst_at_each_scenario(snapshot: RiskSnapshot, profile: Profile) -> Iterator[Labelled]:
    """(label, account, threshold 0): for each scenario, one position (a long or a short contract)
    whose worst scenario is that one alone, with a large credit: the ``second_worst`` probe of
    these accounts tries every scenario's coverage constraint in turn (one position fits any
    ``profile``)."""
    for scenario in range(len(snapshot.scenarios)):
        for instrument in snapshot.instruments:
            for sign in (1, -1):
                losses = [-sign * r for r in instrument.risk]
                if losses[scenario] > 0 and sorted(losses)[-2] < losses[scenario]:
                    yield (f"worst at scenario {scenario}",
                           account_of([(instrument.id, sign * fp.QTY_SCALE, None)], {0: fp.AMOUNT.hi}), 0)
                    break
            else:
                continue
            break


def minimum_above_loss(snapshot: RiskSnapshot, profile: Profile) -> Iterator[Labelled]:
    """(label, account, threshold 0): the first short contract whose short-option minimum is above
    its own loss (the minimum binds in every model), and the first short contract hedged by one long
    contract of another instrument of its group whose netted loss is below the short's minimum (it
    binds under portfolio margin), each with a large credit: their requirement's ``below`` probe
    undercuts the second bound of ``AtLeastBoth``, which no account whose loss binds can."""
    short = {i.id: resolve(account_of([(i.id, -fp.QTY_SCALE, None)], {}), snapshot).slots[0]
             for i in snapshot.instruments}
    alone = next((i for i, slot in short.items() if slot.som > slot.short_loss), None)
    if alone is not None:
        yield "short-option minimum above its own loss", account_of([(alone, -fp.QTY_SCALE, None)], {0: fp.AMOUNT.hi}), 0
    for first in snapshot.instruments:
        for hedge in snapshot.instruments:
            som, risk = short[first.id].som, short[first.id].risk
            netted = max(0, *(r - h for r, h in zip(risk, short[hedge.id].risk)))
            if hedge is not first and short[hedge.id].group == short[first.id].group and netted < som:
                yield ("short-option minimum above the group's loss",
                       account_of([(first.id, -fp.QTY_SCALE, None), (hedge.id, fp.QTY_SCALE, None)],
                                  {0: fp.AMOUNT.hi}), 0)
                return


ALLOCATION = 1 << 40
"""Each allocation of :func:`allocation_from_each_asset` (AMOUNT_SCALE, 1.1e6 units)."""
ROOM = 1 << 62
"""Each balance of :func:`allocation_from_each_asset`: with every allocation at ``ALLOCATION``,
``balance - allocated`` stays a 64-bit amount for any selector row with entries in [-2, 2]."""


def allocation_from_each_asset(snapshot: RiskSnapshot, profile: Profile) -> Iterator[Labelled]:
    """(label, account, threshold 0): long contracts of the first instruments, each carrying an
    allocation of ``ALLOCATION`` from a different asset (every asset once), every balance ``ROOM``:
    the allocation selectors' ``double`` and ``split`` rows fit every balance, so only the
    selector guards of ``IsolatedCollateral`` can refuse them."""
    assets = min(profile.assets, len(snapshot.collateral))
    for first in range(0, assets, profile.positions):
        chosen = range(first, min(first + profile.positions, assets))
        yield (f"an allocation from each of assets {chosen.start}-{chosen.stop - 1}",
               account_of([(instrument.id, fp.QTY_SCALE, (asset, ALLOCATION))
                           for instrument, asset in zip(snapshot.instruments, chosen)],
                          dict.fromkeys(range(assets), ROOM)), 0)


@dataclass(frozen=True)
class Focus:
    """Accounts made for some probes: ``accounts`` are probed with ``kinds`` only, when the
    circuit has the ``hint`` they serve."""

    hint: str
    kinds: frozenset[str]
    accounts: Callable[[RiskSnapshot, Profile], Iterator[Labelled]]


FOCUS = (Focus("scan_loss", frozenset({"second_worst"}), worst_at_each_scenario),
         Focus("group_req", frozenset({"below"}), minimum_above_loss),
         Focus("position_req", frozenset({"below"}), minimum_above_loss),
         Focus("alloc_sel", frozenset({"double", "split"}), allocation_from_each_asset))
"""Focused accounts: the probes only they make bite."""

WITNESS_EXPECTED = frozenset({"widest"})
"""Probe kinds whose inputs the guard admits: a finding when they have NO satisfying witness."""


def hint_probes(proven: WarmWitness, r1cs: R1cs, honest: list[Case],
                focused: list[tuple[Case, frozenset[str]]]) -> CheckResult:
    """Try every declared probe of every hint of each case in ``honest`` (healthy cases chosen by
    :func:`richest`), the given probe kinds of each focused case (:data:`FOCUS`) and the
    ``opened`` probe of the first honest case, on the proven build; report the probes with a
    satisfying witness (for ``widest``: without one)."""
    started = time.monotonic()
    findings: list[Finding] = []
    counts = {"probes": 0, "rejected": 0, "accepted": 0}
    by_hint: dict[str, int] = {}

    def satisfied(name: str, inputs: dict[str, Any]) -> bool:
        counts["probes"] += 1
        by_hint[name] = by_hint.get(name, 0) + 1
        found = _satisfiable(proven, r1cs, inputs)
        counts["accepted" if found else "rejected"] += 1
        return found

    for case, only in [*((case, None) for case in honest), *focused]:
        findings += [Finding(f"cheats/{name}/undeclared", f"{name} is a prover hint with no "
                             "declaration in prover.audit.cheats.HINTS, so nothing probes it")
                     for name in undeclared(case.inputs) if not any(f.subject.startswith(f"cheats/{name}/")
                                                                    for f in findings)]
        for name in sorted(set(case.inputs) & set(HINTS)):
            hint = HINTS[name]
            for kind in hint.probes if only is None else sorted(set(hint.probes) & only):
                for described, inputs in PROBES[kind](case, name, hint):
                    if satisfied(name, inputs) == (kind in WITNESS_EXPECTED):
                        continue
                    findings.append(Finding(f"cheats/{name}/{kind}", f"{case.label}: probe {kind} ({described}) " + (
                        f"has no witness: {hint.guard} refuses a value its documented guard admits"
                        if kind in WITNESS_EXPECTED else
                        f"has a satisfying witness of the proven R1CS: {hint.guard} does not rule out this cheat")))
    for case in honest[:1]:
        findings += [Finding(f"cheats/{name}/opened", f"{case.label}: probe opened ({described}) has a "
                             f"satisfying witness of the proven R1CS: no root binds {name}")
                     for name, described, inputs in _opened(case) if satisfied(name, inputs)]
    facts = [("hint probes", (f"{counts['probes']} on {len(honest)} healthy accounts and "
                             f"{len(focused)} focused accounts: {counts['rejected']} without a "
                             f"witness, {counts['accepted']} satisfied the proven R1CS (the "
                             f"{'/'.join(sorted(WITNESS_EXPECTED))} probes must)")),
             ("probes per input", ", ".join(f"{name} {n}" for name, n in sorted(by_hint.items())))]
    return CheckResult("cheats", TITLE, facts, findings, {**counts, "by_hint": by_hint},
                       time.monotonic() - started)


def _opened(case: Case) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(input, description, inputs): every element of every opened input of ``case`` plus one."""
    for name in sorted(OPENED & set(case.inputs)):
        for index, value in _indexed(case.inputs[name]):
            yield name, f"{_label(name, index)} = {value} + 1", _with(case.inputs, {(name, index): (value + 1) % R})


def undeclared(inputs: dict[str, Signal]) -> list[str]:
    """The inputs that are neither bound (public or opened) nor declared hints: unprobed hints."""
    return sorted(set(inputs) - BOUND_INPUTS - set(HINTS))


def richest(checked: list[Case], count: int) -> list[Case]:
    """Up to ``count`` healthy cases, chosen greedily to exercise the most declared probes (hint
    and kind), then to cover the most (hint element, zero or positive) pairs: a full account
    probes full tiers and used group slots, a small one partly filled tiers and unused slots."""
    healthy = [case for case in checked if case.result.healthy]
    kinds = {id(case): {(name, kind) for name in set(case.inputs) & set(HINTS) for kind in HINTS[name].probes
                        if next(PROBES[kind](case, name, HINTS[name]), None) is not None} for case in healthy}
    elements = {id(case): {(name, index, value > 0) for name in set(case.inputs) & set(HINTS)
                           for index, value in _indexed(case.inputs[name])} for case in healthy}
    chosen: list[Case] = []
    seen_kinds: set[tuple[str, str]] = set()
    seen: set[tuple[str, Index, bool]] = set()
    for _ in range(min(count, len(healthy))):
        best = max((case for case in healthy if all(case is not c for c in chosen)),
                   key=lambda case: (len(kinds[id(case)] - seen_kinds), len(elements[id(case)] - seen)))
        chosen.append(best)
        seen_kinds |= kinds[id(best)]
        seen |= elements[id(best)]
    return chosen


def _satisfiable(proven: WarmWitness, r1cs: R1cs, inputs: dict[str, Any]) -> bool:
    """Whether ``inputs`` yield a witness of the proven build that satisfies its R1CS."""
    try:
        witness = proven.calculator.calculate(inputs)
    except WitnessError:
        return False
    return not check_witness(r1cs, witness)


def _indexed(value: Signal) -> Iterator[tuple[Index, int]]:
    for name, element in leaves("", value):
        yield tuple(int(part) for part in name.strip("[]").split("][") if part), element


def _with(inputs: dict[str, Signal], changes: dict[tuple[str, Index], int]) -> dict[str, Any]:
    """A copy of ``inputs`` with each (hint, index) element set to the given value."""
    out: dict[str, Any] = dict(inputs)
    for (name, index), value in changes.items():
        if out[name] is inputs[name]:
            out[name] = copy.deepcopy(inputs[name])
        if not index:
            out[name] = value
            continue
        holder = out[name]
        for position in index[:-1]:
            holder = holder[position]
        holder[index[-1]] = value
    return out


def _label(name: str, index: Index) -> str:
    return name + "".join(f"[{i}]" for i in index)


def _get(value: Signal, index: Index) -> int:
    for position in index:
        assert isinstance(value, list)
        value = value[position]
    assert isinstance(value, int)
    return value


def _each_element(case: Case, name: str, hint: Hint, new: Callable[[int], int],
                  positive_only: bool) -> Iterator[Probe]:
    """Each element (each positive one if ``positive_only``) set to ``new(value)``, alone and
    with the partner's same element set the same way."""
    partner = hint.partner if hint.partner in case.inputs else None
    for index, value in _indexed(case.inputs[name]):
        if positive_only and value <= 0:
            continue
        yield f"{_label(name, index)} = {new(value)}", _with(case.inputs, {(name, index): new(value)})
        if partner is not None:
            other = _get(case.inputs[partner], index)
            yield (f"{_label(name, index)} and {_label(partner, index)} each {new.__doc__}",
                   _with(case.inputs, {(name, index): new(value), (partner, index): new(other)}))


def _below(case: Case, name: str, hint: Hint) -> Iterator[Probe]:
    def lower(value: int) -> int:
        """lowered by one"""
        return value - 1
    yield from _each_element(case, name, hint, lower, positive_only=True)


def _wrapped(case: Case, name: str, hint: Hint) -> Iterator[Probe]:
    def negate(value: int) -> int:
        """field-wrapped negative"""
        return (R - value) % R if value else R - 1
    yield from _each_element(case, name, hint, negate, positive_only=False)


def _rows(value: Signal) -> Iterator[tuple[Index, list[int]]]:
    """(index of the row, its elements) of every innermost list of a 2-d hint."""
    if isinstance(value, list) and value and isinstance(value[0], list):
        for position, row in enumerate(value):
            yield from (((position, *index), elements) for index, elements in _rows(row))
    elif isinstance(value, list):
        yield (), [element for element in value if isinstance(element, int)]


def _transfer(case: Case, name: str, hint: Hint) -> Iterator[Probe]:
    """One unit moved where it cheats (see :func:`_cheating_move`), and enough of each element
    moved to each other one to leave it at -1 (field-wrapped), which only a range check stops."""
    for row, elements in _rows(case.inputs[name]):
        for source, target in ((s, t) for s in range(len(elements)) for t in range(len(elements)) if s != t):
            amounts = {elements[source] + 1} | ({1} if _cheating_move(elements, source, target, hint.ordered) else set())
            for amount in sorted(amounts):
                changes = {(name, (*row, source)): elements[source] - amount,
                           (name, (*row, target)): elements[target] + amount}
                changed = _with(case.inputs, changes)
                yield (f"{amount} of {_label(name, (*row, source))} moved to {_label(name, (*row, target))}",
                       _resplit(changed, row[0]) if hint.resplit and amount == 1 else changed)


def _cheating_move(elements: list[int], source: int, target: int, ordered: bool) -> bool:
    """A unit moved out of an empty element (wrapping it negative) into a used one, or out of a
    used one toward a better tier (any other slot if the row is not ordered)."""
    if elements[source] == 0:
        return elements[target] > 0
    return target < source or not ordered


def _double(case: Case, name: str, hint: Hint) -> Iterator[Probe]:
    if hint.resplit:
        yield from _reselected(case, name, boolean=True)
        return
    for row, elements in _rows(case.inputs[name]):
        if 1 not in elements:
            continue
        for extra in (k for k, element in enumerate(elements) if element == 0):
            changed = _with(case.inputs, {(name, (*row, extra)): 1})
            yield (f"{_label(name, (*row, extra))} = 1 beside {_label(name, (*row, elements.index(1)))}",
                   _regrouped(changed, changed[name], changed["group_id"]) if hint.regroup else changed)


def _second_worst(case: Case, name: str, hint: Hint) -> Iterator[Probe]:
    """Portfolio: each group's loss set to its second-worst scenario loss (requirement to match)."""
    result = case.result
    if not isinstance(result, MarginResult):
        return
    for group, pnl in enumerate(result.group_pnl):
        losses = sorted({max(0, -x) for x in pnl}, reverse=True)
        if len(losses) < 2 or losses[0] != result.scan_loss[group]:
            continue
        second = losses[1]
        changes: dict[tuple[str, Index], int] = {(name, (group,)): second}
        if hint.partner in case.inputs:
            changes[(hint.partner, (group,))] = max(second, result.group_som[group])
        yield (f"{_label(name, (group,))} = {second} (second-worst of {losses[0]})",
               _with(case.inputs, changes))


def _split(case: Case, name: str, hint: Hint) -> Iterator[Probe]:
    if hint.resplit:
        yield from _reselected(case, name, boolean=False)
        return
    inputs = case.inputs
    selectors, ids = inputs[name], inputs["group_id"]
    assert isinstance(selectors, list) and isinstance(ids, list)
    unused = [g for g in range(len(ids)) if all(isinstance(row, list) and row[g] == 0 for row in selectors)]
    for i, row in enumerate(selectors):
        assert isinstance(row, list)
        if 1 not in row:
            continue
        own = row.index(1)
        for other in unused:
            split = copy.deepcopy(selectors)
            split[i][own], split[i][other] = 2, -1  # type: ignore[index]
            renamed = [ids[own] if g == other else ids[g] for g in range(len(ids))]
            yield (f"{_label(name, (i, own))} = 2 and {_label(name, (i, other))} = -1 with "
                   f"group_id[{other}] = {ids[own]}", _regrouped(inputs, split, renamed))


SELECTOR_VALUES = (-1, 0, 1, 2)
"""Entries of the allocation-selector rows ``double`` and ``split`` try (-1 field-wrapped)."""


def _reselected(case: Case, name: str, boolean: bool) -> Iterator[Probe]:
    """Every allocation-selector row with entries in ``SELECTOR_VALUES`` whose selected index
    ``sum_k k * sel[k]`` equals ``alloc_asset * sum_k sel[k]`` (so ``index === alloc_asset * count``
    holds): boolean with two or more set if ``boolean`` (only at-most-one stops it), else
    non-boolean with a sum of 0 or 1 (only booleanity stops it); re-split, threshold 0."""
    inputs = case.inputs
    selectors, assets = inputs[name], inputs["alloc_asset"]
    assert isinstance(selectors, list) and isinstance(assets, list)
    for slot, (row, asset) in enumerate(zip(selectors, assets)):
        assert isinstance(row, list) and isinstance(asset, int)
        for candidate in product(SELECTOR_VALUES, repeat=len(row)):
            count = sum(candidate)
            if sum(k * v for k, v in enumerate(candidate)) != asset * count:
                continue
            if (set(candidate) <= {0, 1}) != boolean or (count < 2 if boolean else count not in (0, 1)):
                continue
            changed = _with(inputs, {(name, (slot, k)): v % R for k, v in enumerate(candidate)})
            yield f"{_label(name, (slot,))} = {list(candidate)} with alloc_asset[{slot}] = {asset}", _resplit(changed, slot)


def _resplit(inputs: dict[str, Any], slot: int) -> dict[str, Any]:
    """``inputs`` with allocation ``slot`` split (the engine's lowest-tier-first fill) over the
    tiers its selector row picks, ``sum_k sel[k] * tier_from[k]`` as the circuit computes them,
    claimed at threshold 0 (a part that comes out negative is field-wrapped)."""
    row = [from_field(v % R) for v in inputs["alloc_sel"][slot]]  # a transfer leaves -1 unwrapped
    tiers = tuple(sum(v * from_field(inputs["tier_from"][k][t]) for k, v in enumerate(row))
                  for t in range(len(inputs["tier_from"][0])))
    split = [list(parts) for parts in inputs["alloc_split"]]
    split[slot] = [part % R for part in collateral_split(from_field(inputs["alloc_amount"][slot]), tiers)]
    return {**inputs, "alloc_split": split, "threshold_bps": 0}


def _widest(case: Case, name: str, hint: Hint) -> Iterator[Probe]:
    """Each element at the largest value its guard admits, ``min(bounds) + 2**LOSS_BITS - 1``, the
    partner's same element raised to at least that, claimed at threshold 0: it must have a witness."""
    assert hint.bounds is not None
    partner = hint.partner if hint.partner in case.inputs else None
    for index, _ in _indexed(case.inputs[name]):
        widest = min(hint.bounds(case.result, index)) + (1 << fp.LOSS_BITS) - 1
        changes = {(name, index): widest}
        if partner is not None:
            changes[(partner, index)] = max(widest, from_field(_get(case.inputs[partner], index)))
        yield (f"{_label(name, index)} = {widest}, the largest {hint.guard} admits",
               {**_with(case.inputs, changes), "threshold_bps": 0})


def _regrouped(inputs: dict[str, Any], selectors: Signal, ids: Signal) -> dict[str, Any]:
    """``inputs`` with these group selectors and ids, the losses and requirements they imply,
    claimed at threshold 0 (a larger requirement cannot hide a hole)."""
    loss, req = _group_requirements(inputs, selectors)
    return {**inputs, "group_sel": selectors, "group_id": ids, "scan_loss": loss, "group_req": req,
            "threshold_bps": 0}


def _group_requirements(inputs: dict[str, Signal], selectors: Signal) -> tuple[list[int], list[int]]:
    """(scan_loss, group_req) of every group slot under ``selectors`` (any integers), as the
    engine computes them (VALUE_SCALE): loss = max(0, max_s -pnl), req = max(loss, som)."""
    qty = [from_field(q) for q in _flat(inputs["qty"])]
    som = [max(-q, 0) * m for q, m in zip(qty, _flat(inputs["leaf_som"]))]
    risk = [[from_field(r) for r in _flat(row)] for row in inputs["leaf_risk"]]  # type: ignore[union-attr]
    rows = [_flat(row) for row in selectors]  # type: ignore[union-attr]
    loss, req = [], []
    for g in range(len(rows[0])):
        pnl = [sum(rows[i][g] * qty[i] * risk[i][s] for i in range(len(qty))) for s in range(len(risk[0]))]
        loss.append(max(0, *(-x for x in pnl)))
        req.append(max(loss[-1], sum(rows[i][g] * som[i] for i in range(len(qty)))))
    return loss, req


def _flat(value: Signal) -> list[int]:
    assert isinstance(value, list) and all(isinstance(x, int) for x in value)
    return [x for x in value if isinstance(x, int)]


PROBES: dict[str, ProbeMaker] = {"below": _below, "wrapped": _wrapped, "transfer": _transfer,
                                 "double": _double, "split": _split, "second_worst": _second_worst,
                                 "widest": _widest}
"""Probe kind -> the cheater's inputs it derives from a case and a declared hint."""

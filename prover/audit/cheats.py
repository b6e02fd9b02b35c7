"""Hint probes: a prover hint understated by one must leave no witness.

Every circuit input that is neither public nor an opened value (what the account leaf and the
snapshot root hash: the book, the salt, the snapshot's terms) is a prover hint: group slots,
collateral splits, scanning losses, requirements, allocation selectors, and the account's place
in the epoch's account tree (``account_index``, ``account_path``) with, under the portfolio and
cross models, the leaf's ``allocation_hash``, which those circuits take as given. The engine's
hints are tight: ``scan_loss = max(...)``, ``req = max(loss, som)``, splits fill the lowest tier
first, a Merkle path and an allocation hash have one right value, so lowering a positive hint by
one, alone or together with the same element of another hint of the same shape (e.g.
``scan_loss[g]`` with ``group_req[g]``), must make the witness generator fail. A lowering that
still yields a witness and changes a margin intermediate means the circuit lets a prover
understate the requirement: a soundness finding (e.g. a removed range check). Lowerings that
yield a witness with every intermediate unchanged are counted as harmless.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from itertools import combinations
from typing import Any

from prover.audit.differential import Case, Harness, leaves
from prover.audit.result import CheckResult, Finding
from prover.witness import WitnessError
from zkmargin.circuit_input import Signal

TITLE = "Hint probes"

BOUND_INPUTS = frozenset({
    "snapshot_root", "account_root", "holder", "threshold_bps",
    "salt", "instrument", "qty", "balance", "alloc_asset", "alloc_amount",
    "leaf_group", "leaf_mark", "leaf_addon", "leaf_som", "leaf_long_loss", "leaf_short_loss",
    "leaf_risk", "leaf_index", "leaf_siblings",
    "instrument_root", "asset_price", "tier_from", "hc_mm", "hc_im", "mm_factor_bps",
    "contingency_bps", "short_option_min_bps", "epoch",
})
"""Public inputs and the values the account leaf and the snapshot root open (docs/circuits.md);
every other input of a margin circuit is a hint, probed (account_index, account_path and
allocation_hash among them)."""

Index = tuple[int, ...]
Probe = list[tuple[str, Index]]


def hint_probes(harness: Harness, honest: list[Case]) -> CheckResult:
    """Probe every hint of each case in ``honest`` (healthy cases with the most positive hints)."""
    started = time.monotonic()
    findings: list[Finding] = []
    counts = {"probes": 0, "rejected": 0, "harmless": 0}
    for case in honest:
        baseline = dict(harness.expected(case))
        for probe in _probes(case.inputs):
            counts["probes"] += 1
            try:
                witness = harness.witness.calculator.calculate(_lowered(case.inputs, probe))
            except WitnessError:
                counts["rejected"] += 1
                continue
            signals = harness.witness.signals
            changed = [(name, want, witness[signals[name]]) for name, want in baseline.items()
                       if name in signals and witness[signals[name]] != want]
            if not changed:
                counts["harmless"] += 1
                continue
            name, was, now = changed[0]
            described = " and ".join(_name(hint, index) for hint, index in probe)
            findings.append(Finding(
                f"cheats/{'+'.join(hint for hint, _ in probe)}",
                f"{case.label}: lowering {described} by 1 still yields a witness and {name} "
                f"changes from {was} to {now}: a prover can understate the requirement"))
    facts = [("hint probes", (f"{counts['probes']} on {len(honest)} healthy accounts: "
                             f"{counts['rejected']} rejected, {counts['harmless']} harmless, "
                             f"{len(findings)} accepted with a changed margin"))]
    return CheckResult("cheats", TITLE, facts, findings, counts, time.monotonic() - started)


def richest(checked: list[Case], count: int) -> list[Case]:
    """The ``count`` healthy cases with the most positive hint elements."""
    healthy = [case for case in checked if case.result.healthy]
    return sorted(healthy, key=lambda case: -sum(1 for _ in _positive(case.inputs)))[:count]


def _probes(inputs: dict[str, Signal]) -> Iterator[Probe]:
    """Each positive hint element alone, then same-index pairs of equally shaped hints."""
    positive = list(_positive(inputs))
    yield from ([element] for element in positive)
    by_hint: dict[str, set[Index]] = {}
    for hint, index in positive:
        by_hint.setdefault(hint, set()).add(index)
    for first, second in combinations(sorted(by_hint), 2):
        if _shape(inputs[first]) == _shape(inputs[second]):
            for index in sorted(by_hint[first] & by_hint[second]):
                yield [(first, index), (second, index)]


def _positive(inputs: dict[str, Signal]) -> Iterator[tuple[str, Index]]:
    for hint in sorted(set(inputs) - BOUND_INPUTS):
        for name, value in leaves("", inputs[hint]):
            if value > 0:
                yield hint, tuple(int(part) for part in name.strip("[]").split("][") if part)


def _shape(value: Signal) -> tuple[int, ...]:
    return (len(value), *_shape(value[0])) if isinstance(value, list) and value else ()


def _lowered(inputs: dict[str, Signal], probe: Probe) -> dict[str, Any]:
    """A copy of ``inputs`` with each probed element decreased by one."""
    out: dict[str, Any] = dict(inputs)
    for hint, index in probe:
        out[hint] = copy.deepcopy(out[hint]) if out[hint] is inputs[hint] else out[hint]
        if not index:
            out[hint] -= 1
            continue
        holder = out[hint]
        for position in index[:-1]:
            holder = holder[position]
        holder[index[-1]] -= 1
    return out


def _name(hint: str, index: Index) -> str:
    return hint + "".join(f"[{i}]" for i in index)

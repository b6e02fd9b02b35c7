"""The curated mutants: one planted bug each, the text it replaces, and what must kill it.

A mutant names one file of the project, one exact snippet that occurs there exactly once, and its
replacement. ``suite`` says what runs against the mutated copy: ``audit`` and its extra options (``zkmargin
audit --circuits COPY/circuits --check differential --check cheats``, the semantic checks; the
constraint-count pin is deliberately not among them) or the pytest node ids of the tests that
claim to guard the code.
"""

from __future__ import annotations

from dataclasses import dataclass

AUDIT = ("audit",)
ISOLATED_AUDIT = ("audit", "--model", "isolated")
"""The audit of the isolated circuit, the only one with allocation selectors."""
REQUIREMENTS = ("tests/engine/test_requirements.py",)
ENGINE = ("tests/engine/test_portfolio.py", "tests/engine/test_margin_models.py",
          "tests/engine/test_debts.py", "tests/engine/test_conformance.py",
          "tests/engine/test_requirements.py", "tests/engine/test_naked.py")
NAKED = ("tests/circuits/test_naked.py",)
"""The net-naked-short add-on's hint (``NakedAddons.short``) and its first-slot flags: books of
options sharing keys, witness against the engine, and the cheater's hints."""
SHORTFALL = ("tests/circuits/test_shortfall.py",)
"""The solvency circuit's hint: a cheater's witness code for ``Shortfall.below``."""
POLICY = ("tests/verifier/test_policy.py",)
BATCH = ("tests/test_batch.py::test_a_rerun_proves_again_every_tampered_earlier_bundle",
         "tests/test_batch.py::test_a_rerun_after_an_interrupted_batch_proves_only_the_missing_accounts")


@dataclass(frozen=True)
class Mutant:
    """One planted bug: ``old`` (exactly once in ``path``) replaced by ``new``."""

    name: str
    path: str
    old: str
    new: str
    suite: tuple[str, ...]

    @property
    def area(self) -> str:
        return self.name.split("/", 1)[0]


def _circuit(name: str, path: str, old: str, new: str, suite: tuple[str, ...] = AUDIT) -> Mutant:
    return Mutant(f"circuit/{name}", f"circuits/lib/{path}", old, new, suite)


def _engine(name: str, path: str, old: str, new: str, suite: tuple[str, ...] = ENGINE) -> Mutant:
    return Mutant(f"engine/{name}", f"zkmargin/{path}", old, new, suite)


def _policy(name: str, old: str) -> Mutant:
    """The policy check starting with ``old`` (an ``if`` line) never fires."""
    return Mutant(f"verifier/{name}", "verifier/bundle.py", old, old.replace("if ", "if False and ", 1), POLICY)


CIRCUIT = [
    _circuit("split-part-range", "collateral.circom", "        part_range[t].in <== split[t];\n",
             "        part_range[t].in <== 0;\n"),
    _circuit("split-cap-range", "collateral.circom",
             "            cap_range[t].in <== tier_from[t + 1] - tier_from[t] - split[t];\n",
             "            cap_range[t].in <== 0;\n"),
    _circuit("split-sum", "collateral.circom", "    parts === balance;\n", ""),
    _circuit("split-loop-short", "collateral.circom", "        part_range[t] = RangeCheck(AMOUNT_BITS);\n"
             "        part_range[t].in <== split[t];\n",
             "        part_range[t] = RangeCheck(AMOUNT_BITS);\n"
             "        part_range[t].in <== t + 1 < TIERS ? split[t] : 0;\n"),
    _circuit("select-boolean", "scenario_scan.circom", "        sel[g] * (sel[g] - 1) === 0;\n", ""),
    _circuit("select-at-most-one", "scenario_scan.circom", "    count * (count - 1) === 0;\n", ""),
    _circuit("select-group", "scenario_scan.circom", "    chosen === leaf_group;\n", ""),
    _circuit("scan-nonneg", "scenario_scan.circom", "    nonneg.in <== loss;\n", "    nonneg.in <== 0;\n"),
    _circuit("scan-covers", "scenario_scan.circom", "        covers[s].in <== loss + pnl[s];\n",
             "        covers[s].in <== 0;\n"),
    _circuit("scan-covers-all-but-last", "scenario_scan.circom", "        covers[s].in <== loss + pnl[s];\n",
             "        covers[s].in <== s + 1 < SCENARIOS ? loss + pnl[s] : 0;\n"),
    _circuit("scan-bits-cut", "scenario_scan.circom", "        covers[s] = RangeCheck(BITS);\n",
             "        covers[s] = RangeCheck(BITS - 4);\n"),
    _circuit("at-least-a", "scenario_scan.circom", "    over_a.in <== out - a;\n", "    over_a.in <== 0;\n"),
    _circuit("at-least-b", "scenario_scan.circom", "    over_b.in <== out - b;\n", "    over_b.in <== 0;\n"),
    _circuit("alloc-sel-boolean", "aggregate.circom", "            alloc_sel[i][k] * (alloc_sel[i][k] - 1) === 0;\n", "", ISOLATED_AUDIT),
    _circuit("alloc-sel-at-most-one", "aggregate.circom", "        count * (count - 1) === 0;\n", "", ISOLATED_AUDIT),
    _circuit("alloc-sel-asset", "aggregate.circom", "        index === alloc_asset[i] * count;\n", "", ISOLATED_AUDIT),
    _circuit("alloc-fits", "aggregate.circom", "        fits[k].in <== balance[k] - allocated;\n",
             "        fits[k].in <== 0;\n", ISOLATED_AUDIT),
    _circuit("account-root", "margin.circom", "    membership.out === account_root;\n", ""),
    _circuit("snapshot-root", "margin.circom", "    snapshot.out === snapshot_root;\n", ""),
    _circuit("instrument-root", "margin.circom", "        slot[i].root === instrument_root;\n", ""),
    _circuit("naked-product", "aggregate.circom", "        short[i] * (short[i] + net) === 0;\n", "", NAKED),
    _circuit("naked-short-range", "aggregate.circom", "        short_range[i].in <== short[i];\n",
             "        short_range[i].in <== 0;\n", NAKED),
    _circuit("naked-long-range", "aggregate.circom", "        long_range[i].in <== short[i] + net;\n",
             "        long_range[i].in <== 0;\n", NAKED),
    _circuit("naked-every-slot", "aggregate.circom", "        charged_qty[i] <== first[i] * short[i];\n",
             "        charged_qty[i] <== keyed[i] * short[i];\n", NAKED),
    _circuit("naked-pairs-unequal", "aggregate.circom", "            shared[q] <== same[q] * qty[j];\n",
             "            shared[q] <== qty[j];\n", NAKED),
    _circuit("naked-flag-bit", "position.circom", "    keyed <== code_bits.out[ID_BITS()];\n",
             "    keyed <== code_bits.out[0];\n", NAKED),
    _circuit("shortfall-boolean", "solvency.circom", "    below * (1 - below) === 0;\n", "", SHORTFALL),
    _circuit("shortfall-side", "solvency.circom", "    side.in <== equity - mm + 2 * shortfall - below;\n",
             "    side.in <== 0;\n", SHORTFALL),
]
"""Every range check and ``===`` of a template that guards a hint, dropped in turn, plus a
shortened loop and a bit width cut by 4 (the largest honest accounts lose their witness; RangeCheck
asserts BITS <= 252, so a width wide enough to let a wrapped negative through does not compile).
The hints and their guards: ``CollateralValue`` (splits), ``GroupSelect``, ``ScanLoss``,
``AtLeastBoth``, ``IsolatedCollateral`` (selectors; the allocations fit their balances),
``Margin``'s root ``===`` (the account's path and index, the allocation hash; and, binding what
the probed hints are computed from, the snapshot terms and the instrument leaves) and the
solvency circuit's ``Shortfall`` (its computed ``below``)."""

ENGINE_MUTANTS = [
    _engine("split-top-tier-first", "terms.py", "        part = max(balance - lo, 0)\n",
            "        part = max(balance - lo - 1, 0)\n"),
    _engine("split-no-cap", "terms.py", "            part = min(part, tier_from[t + 1] - lo)\n",
            "            pass\n"),
    _engine("haircut-ignored", "terms.py", "sum(a * (fp.BPS - h) for a, h in zip(split, haircuts))",
            "sum(a * fp.BPS for a, h in zip(split, haircuts))"),
    _engine("debt-haircut", "terms.py", "asset.price * min(balance, 0) * fp.BPS",
            "asset.price * min(balance, 0) * fp.BPS // 2"),
    _engine("debt-ignored", "terms.py", "asset.price * min(balance, 0) * fp.BPS", "0"),
    _engine("credit-of-debt", "terms.py", "collateral_split(max(b, 0), a.tier_from)",
            "collateral_split(abs(b), a.tier_from)"),
    _engine("mm-im-haircut-swap", "terms.py",
            "balance_value(b, x, a, a.hc_mm) for b, x, a in zip(book.balances, split, book.assets))",
            "balance_value(b, x, a, a.hc_im) for b, x, a in zip(book.balances, split, book.assets))"),
    _engine("health-rounding", "terms.py", "return fp.BPS * equity - mm * threshold_bps",
            "return fp.BPS * equity - mm * threshold_bps + 1"),
    _engine("short-qty-sign", "terms.py", "short_qty\": tuple(max(-s.qty, 0)", "short_qty\": tuple(max(s.qty, 0)"),
    _engine("addon-signed", "terms.py", "            out.append(abs(s.qty) * s.addon)", "            out.append(s.qty * s.addon)"),
    _engine("naked-unnetted", "terms.py", "        net = s.qty + sum(", "        net = s.qty + 0 * sum("),
    _engine("naked-every-slot", "terms.py", "        elif s.naked_key in seen:\n", "        elif False:\n"),
    _engine("naked-isolated-netted", "terms.py", "(max(-slot.qty, 0) if slot.naked_key else abs(slot.qty))",
            "abs(slot.qty)"),
    _engine("standalone-som-ignored", "terms.py", "return Standalone(loss, som, max(loss, som))",
            "return Standalone(loss, som, loss)", REQUIREMENTS),
    _engine("standalone-loss-unfloored", "book.py", "        return max(0, *(-r for r in self.risk))",
            "        return max(*(-r for r in self.risk))", REQUIREMENTS),
    _engine("short-loss-unfloored", "book.py", "        return max(0, *self.risk)", "        return max(*self.risk)"),
    _engine("scan-loss-unfloored", "portfolio.py", "        loss.append(max(worst_loss, 0))",
            "        loss.append(worst_loss)", REQUIREMENTS),
    _engine("group-som-ignored", "portfolio.py", "    req = tuple(max(x, y) for x, y in zip(loss, som))",
            "    req = tuple(loss)"),
    _engine("pnl-sign", "portfolio.py", "            row[k] += s.qty * r", "            row[k] -= s.qty * r"),
    _engine("mm-factor", "portfolio.py", "    mm = im * book.mm_factor_bps", "    mm = im * (book.mm_factor_bps - 1)"),
    _engine("portfolio-addon-dropped", "portfolio.py", "    im = sum(req) + sum(pooled[\"addon\"])",
            "    im = sum(req)"),
    _engine("cross-som-ignored", "cross.py", "    im = sum(x.req for x in alone)", "    im = sum(x.loss for x in alone)"),
    _engine("isolated-debt-allowed", "isolated.py",
            "    debt_health = (fp.BPS * debts - 1,) if any(b < 0 for b in book.balances) else ()",
            "    debt_health = ()"),
    _engine("isolated-som-ignored", "isolated.py", "    slot_im = tuple(x.req + a for x, a in zip(alone, addon))",
            "    slot_im = tuple(x.loss + a for x, a in zip(alone, addon))"),
    _engine("isolated-worst-slot", "isolated.py", "        health=min((*slot_health, *debt_health), default=0),",
            "        health=max((*slot_health, *debt_health), default=0),"),
]
"""Rounding, floors, signs, haircut tables, debts and short-option minima of the engine."""

VERIFIER = [
    Mutant("verifier/signature", "verifier/bundle.py", "        check_epoch_signature(epoch, policy.venue_key)\n",
           "        pass\n", POLICY),
    _policy("fingerprint", "    if bundle.vk_fingerprint != vk.fingerprint():"),
    _policy("model", "    if bundle.model != policy.model:"),
    _policy("circuit-id", "    if not bundle.circuit_id == f\"{policy.model}_{bundle.profile}\":"),
    _policy("epoch", "    if not bundle.epoch == epoch.epoch == policy.snapshot.epoch:"),
    _policy("signed-snapshot", "    if root != signed_root:"),
    _policy("public-snapshot-root", "    if int(public.snapshot_root) != root:"),
    _policy("account-root", "    if int(public.account_root) != epoch.account_root:"),
    _policy("holder", "    if int(public.holder) not in policy.holders:"),
    _policy("threshold", "    if int(public.threshold_bps) < policy.min_threshold_bps:"),
]
"""Each check of ``verifier.bundle.check_policy`` skipped in turn."""

BATCH_MUTANTS = [
    Mutant("batch/tampered-counted-valid", "prover/batch.py", "        valid = {name for name, check in checks.items() if check.ok}",
           "        valid = set(checks)", BATCH),
    Mutant("batch/rerun-proves-everything", "prover/batch.py",
           "if name not in valid]", "]", BATCH),
]
"""Resume logic of ``zkmargin batch prove``."""

MUTANTS: list[Mutant] = [*CIRCUIT, *ENGINE_MUTANTS, *VERIFIER, *BATCH_MUTANTS]

SMOKE = ("engine/standalone-som-ignored", "engine/scan-loss-unfloored", "engine/standalone-loss-unfloored")
"""The cheap subset CI runs (one engine test file each, seconds)."""

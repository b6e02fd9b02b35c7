"""Time portfolio margin of many random accounts: resolve, the scalar engine, the numpy batch path.

Run from the repository root: ``python benchmarks/engine.py [--accounts N] [--profile NAME]`` (or
``make bench``). Builds N seeded random accounts on ``examples/snapshot_span16.json`` (a
200-instrument synthetic snapshot when the example is absent), resolves them under the profile,
margins them with :func:`zkmargin.portfolio.portfolio_margin` and with
:func:`zkmargin.vectorized.portfolio_margin_batch`, checks that both give the same integers, prints
a table and appends it, with the date and the machine, to ``benchmarks/RESULTS.md``.

Each path runs ``--repeat`` times after a full garbage collection; the table shows the fastest run
(the least disturbed by other load; the load average is recorded beside it).

A second table times the Poseidon permutation (:mod:`zkmargin.poseidon`), microseconds per hash
of ``--hashes`` random inputs for state widths t = 3, 5, 14, 17: the pure-Python one (the
specification) and the C extension; the C results must equal the Python ones. From these it
projects an epoch's account tree: 100,000 leaves of ``Poseidon(13)`` (t = 14) plus a 4-ary tree
of ``Poseidon(4)`` (t = 5) nodes over them.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar


REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.factories, also when run as a script

from benchmarks.results import RESULTS, machine, record  # noqa: E402
from tests.factories import random_account, synthetic_snapshot  # noqa: E402
from zkmargin import poseidon  # noqa: E402
from zkmargin.book import resolve  # noqa: E402
from zkmargin.fixedpoint import R  # noqa: E402
from zkmargin.io import load_model  # noqa: E402
from zkmargin.models import Account, RiskSnapshot  # noqa: E402
from zkmargin.portfolio import portfolio_margin  # noqa: E402
from zkmargin.profiles import PROFILES, Profile  # noqa: E402
from zkmargin.vectorized import portfolio_margin_batch  # noqa: E402

SNAPSHOT = REPO / "examples" / "snapshot_span16.json"
TARGET_SECONDS = 1.0
POSEIDON_WIDTHS = (3, 5, 14, 17)
POSEIDON_SEED = 7
EPOCH_ACCOUNTS = 100_000
EPOCH_LEAF_WIDTH, EPOCH_NODE_WIDTH, EPOCH_ARITY = 14, 5, 4
KEY_FIELDS = ("equity", "equity_im", "scan_loss", "worst_scenario", "group_som", "group_req", "im", "mm", "health")

T = TypeVar("T")


def load_snapshot() -> tuple[RiskSnapshot, str]:
    """The example market, or a synthetic stand-in of about its size; and a label for the table."""
    if SNAPSHOT.exists():
        return load_model(RiskSnapshot, SNAPSHOT), str(SNAPSHOT.relative_to(REPO))
    return synthetic_snapshot(instruments=200, groups=4, scenarios=16, assets=4), "synthetic_snapshot(200 instruments)"


def random_accounts(snapshot: RiskSnapshot, profile: Profile, n: int, seed: int) -> list[Account]:
    """``n`` accounts with 1..P positions in 1..G groups and 1..K collateral balances."""
    rng = random.Random(seed)
    groups = min(profile.groups, len({i.group for i in snapshot.instruments}))
    assets = min(profile.assets, len(snapshot.collateral))
    return [random_account(snapshot, rng, positions=rng.randint(1, profile.positions), max_groups=rng.randint(1, groups),
                           assets=rng.randint(1, assets)) for _ in range(n)]


def best_of(repeat: int, run: Callable[[], T]) -> tuple[float, T]:
    """The fastest of ``repeat`` runs (seconds), each after a full collection, and the last result."""
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def table(rows: list[tuple[str, int, float]]) -> str:
    lines = ["| path | accounts | seconds | accounts/s |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {n} | {seconds:.3f} | {n / seconds:,.0f} |" for name, n, seconds in rows]
    return "\n".join(lines)


def poseidon_rows(hashes: int, repeat: int) -> dict[int, tuple[float, float | None]]:
    """Per width t: CPU microseconds per permutation, pure Python and C (None: the extension is not built).

    CPU time of this thread (``time.thread_time``), not wall time: on a shared machine the long pure-Python
    runs are preempted far more often than the short C ones. The two paths alternate, ``repeat`` runs each;
    the fastest run counts.
    """
    rng = random.Random(POSEIDON_SEED)
    rows: dict[int, tuple[float, float | None]] = {}
    for t in POSEIDON_WIDTHS:
        states = [[0, *(rng.randrange(R) for _ in range(t - 1))] for _ in range(hashes)]
        poseidon.poseidon(states[0][1:])  # generates (and for C, passes on) this width's constants
        paths = {"python": poseidon._permute_python}
        if poseidon.BACKEND == "c":
            paths["c"] = poseidon._permute_c
        fastest = dict.fromkeys(paths, float("inf"))
        for _ in range(repeat):
            for name, permute in paths.items():
                gc.collect()
                start = time.thread_time()
                hashed = [permute(s) for s in states]
                fastest[name] = min(fastest[name], (time.thread_time() - start) / hashes * 1e6)
                if name == "python":
                    expected = hashed
                elif hashed != expected:
                    raise SystemExit(f"the C Poseidon disagrees with the Python one at t = {t} (seed {POSEIDON_SEED})")
        rows[t] = (fastest["python"], fastest.get("c"))
    return rows


def epoch_tree_hashes() -> tuple[int, int]:
    """Leaf and node hashes of the projected epoch tree: one leaf per account, 4-ary nodes to the root."""
    nodes, level = 0, EPOCH_ACCOUNTS
    while level > 1:
        level = -(-level // EPOCH_ARITY)
        nodes += level
    return EPOCH_ACCOUNTS, nodes


def poseidon_table(rows: dict[int, tuple[float, float | None]]) -> str:
    lines = ["| Poseidon | t | pure Python us/hash | C us/hash | speed-up |", "|---|---:|---:|---:|---:|"]
    for t, (py, c) in rows.items():
        c_cells = "not built | " if c is None else f"{c:,.1f} | {py / c:.1f} x"
        lines.append(f"| Poseidon({t - 1}) | {t} | {py:,.1f} | {c_cells} |")
    leaves, nodes = epoch_tree_hashes()
    for i, name in enumerate(("pure Python", "C")):
        leaf, node = rows[EPOCH_LEAF_WIDTH][i], rows[EPOCH_NODE_WIDTH][i]
        if leaf is not None and node is not None:
            lines.append(f"\nepoch account tree, {name}: {leaves:,} leaves x {leaf:,.1f} us + {nodes:,} nodes x "
                         f"{node:,.1f} us = {(leaves * leaf + nodes * node) / 1e6:.1f} s (projected, one core)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=10_000, help="number of random accounts (default 10000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the random accounts (default 1)")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="standard", help="padding profile (default standard)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per path; the fastest is reported (default 3)")
    parser.add_argument("--hashes", type=int, default=200, help="random inputs per Poseidon width (default 200)")
    parser.add_argument("--no-record", action="store_true", help=f"do not append to {RESULTS.name}")
    args = parser.parse_args(argv)

    profile = PROFILES[args.profile]
    snapshot, label = load_snapshot()
    accounts = random_accounts(snapshot, profile, args.accounts, args.seed)
    n = len(accounts)
    t_resolve, books = best_of(args.repeat, lambda: [resolve(a, snapshot, profile) for a in accounts])
    t_scalar, scalar = best_of(args.repeat, lambda: [portfolio_margin(b) for b in books])
    t_batch, batch = best_of(args.repeat, lambda: portfolio_margin_batch(books))
    for field in KEY_FIELDS:
        if tuple(getattr(r, field) for r in scalar) != getattr(batch, field):
            raise SystemExit(f"the vectorized path disagrees with the scalar path on {field}")

    rows = [("resolve", n, t_resolve), ("scalar margin", n, t_scalar), ("vectorized margin", n, t_batch),
            ("resolve + vectorized margin", n, t_resolve + t_batch)]
    verdict = "meets" if t_batch < TARGET_SECONDS else "misses"
    report = (f"snapshot {label} ({len(snapshot.instruments)} instruments, {len(snapshot.scenarios)} scenarios), "
              f"profile {profile.name}, {n} random accounts (seed {args.seed}, "
              f"{sum(len(a.positions) for a in accounts) / n:.1f} positions on average, "
              f"{sum(batch.healthy)} healthy at 1.00 x MM), fastest of {args.repeat} runs; "
              f"vectorized = scalar on every account; vectorized margin {verdict} the {TARGET_SECONDS:.0f} s target, "
              f"{t_scalar / t_batch:.1f} x the scalar path\n\nmachine: {machine()}\n\n{table(rows)}\n\n"
              f"Poseidon permutation, {args.hashes} random inputs per width, CPU time, fastest of {args.repeat} "
              f"alternating runs, backend {poseidon.BACKEND}:\n\n{poseidon_table(poseidon_rows(args.hashes, args.repeat))}\n")
    print(report)
    if not args.no_record:
        record("engine", report)


if __name__ == "__main__":
    main()

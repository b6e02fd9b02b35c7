"""Venue epoch publication: N random accounts -> signed epoch.json + N private statements.

Generates a ledger of ``--accounts`` random accounts (``zkmargin.venue.random_ledger``, seed 1,
about 10% with a debt) over ``examples/snapshot_span16.json``, then times each step of
``zkmargin venue publish``: reading and validating the ledger, the salts and leaves, the 4-ary
account tree, signing, and writing the statements; and the peak resident memory of the process.
Target (issue 12): 100,000 accounts in under 60 s on the 2-core reference machine.

    python benchmarks/publish.py [--accounts 100000] [--no-record]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.results import machine, record  # noqa: E402
from zkmargin import poseidon  # noqa: E402
from zkmargin.io import load_model  # noqa: E402
from zkmargin.models import RiskSnapshot  # noqa: E402
from zkmargin.venue import build_epoch, generate_key, publish, random_ledger, read_ledger  # noqa: E402

TARGET_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--no-record", action="store_true", help="print only, do not append to RESULTS.md")
    args = parser.parse_args()
    snapshot = load_model(RiskSnapshot, ROOT / "examples" / "snapshot_span16.json")
    (ROOT / "build").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ROOT / "build") as tmp:  # not /tmp: often a slow filesystem
        ledger = Path(tmp) / "ledger.jsonl"
        ledger.write_text("".join(json.dumps(line) + "\n" for line in random_ledger(snapshot, args.accounts, seed=1)))
        key = generate_key()
        t0 = time.perf_counter()
        entries = list(read_ledger(ledger))
        t1 = time.perf_counter()
        built = build_epoch(entries, snapshot, key)
        t2 = time.perf_counter()
        publish(built, Path(tmp) / "epoch")
        t3 = time.perf_counter()
        size = sum(p.stat().st_size for p in (Path(tmp) / "epoch" / "statements").iterdir())
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = t3 - t0
    rows = [("read + validate the ledger", t1 - t0), ("salts, leaves, tree, snapshot roots, signature", t2 - t1),
            ("write the statements and epoch.json", t3 - t2), ("total", total)]
    verdict = "meets" if total < TARGET_SECONDS else "MISSES"
    report = (f"{args.accounts:,} random accounts (seed 1) over examples/snapshot_span16.json, Poseidon backend "
              f"{poseidon.BACKEND}; {verdict} the {TARGET_SECONDS:.0f} s target; peak RSS {peak_mib:,.0f} MiB "
              f"(the main process; leaf workers add their own); statements {size / 2**20:,.0f} MiB on disk\n\n"
              f"machine: {machine()}\n\n| step | seconds | accounts/s |\n|---|---:|---:|\n"
              + "".join(f"| {name} | {sec:.2f} | {args.accounts / sec:,.0f} |\n" for name, sec in rows))
    print(report)
    if not args.no_record:
        record("venue publish", report)


if __name__ == "__main__":
    main()

"""``python -m tests.mutation [--smoke] [--only NAME ...] [--out FILE]``: the mutation run.

Each mutant of :mod:`tests.mutation.mutants` is applied to a fresh copy of the project's tracked
files (``git ls-files``, node_modules linked); then its suite runs in the copy: the named pytest
files (``-x``, the ``slow``/``fuzz`` markers off) or, for circuit mutants, ``zkmargin audit
--circuits COPY/circuits --check differential --check cheats`` with the copy's own build folder.
A mutant is killed when a test fails (pytest exit 1) or the audit's verdict is FAIL; any other
outcome (a collection error, a crash) is an error, not a kill. The kill table is printed
(Markdown) and, with ``--out``, written too. Exit 0 iff every mutant run was killed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.mutation.mutants import MUTANTS, SMOKE, Mutant

ROOT = Path(__file__).resolve().parents[2]
AUDIT_ACCOUNTS = "6"
"""Random accounts of the audit run per circuit mutant (the boundary set comes on top)."""


def project_copy(into: Path) -> Path:
    """A copy of the tracked files of the project in ``into`` (node_modules linked, not copied)."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    for name in filter(None, files.decode().split("\0")):
        source, target = ROOT / name, into / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (into / "node_modules").symlink_to((ROOT / "node_modules").resolve())
    return into


def apply(mutant: Mutant, root: Path) -> None:
    """Plant ``mutant`` in the copy at ``root``; ValueError unless its snippet occurs exactly once."""
    path = root / mutant.path
    text = path.read_text(encoding="utf-8")
    if text.count(mutant.old) != 1:
        raise ValueError(f"{mutant.name}: the snippet occurs {text.count(mutant.old)} times in {mutant.path}")
    path.write_text(text.replace(mutant.old, mutant.new), encoding="utf-8")


def command(mutant: Mutant, root: Path) -> list[str]:
    if mutant.suite[0] == "audit":
        return [sys.executable, "-m", "zkmargin", "audit", "--circuits", str(root / "circuits"),
                "--accounts", AUDIT_ACCOUNTS, "--check", "differential", "--check", "cheats", *mutant.suite[1:]]
    return [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m", "not slow and not fuzz",
            *mutant.suite]


def run(mutant: Mutant, scratch: Path) -> tuple[str, str, float]:
    """(killed / SURVIVED / error, the deciding line of the run's output, seconds) of ``mutant``
    in a fresh copy."""
    root = project_copy(Path(tempfile.mkdtemp(prefix="mutant-", dir=scratch)))
    apply(mutant, root)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    audit = mutant.suite[0] == "audit"
    if audit:  # the copy's circuits compile into the copy, never into the shared build cache
        env["ZKMARGIN_BUILD"] = str(root / "build")
    started = time.monotonic()
    done = subprocess.run(command(mutant, root), cwd=root, capture_output=True, text=True, env=env)
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    shutil.rmtree(root, ignore_errors=True)
    if audit:
        killed = done.returncode == 1 and any(line.startswith("VERDICT: FAIL") for line in lines)
        deciding = next((line for line in lines if "**OPEN**" in line), lines[-1] if lines else "")
    else:
        killed, deciding = done.returncode == 1, next(
            (line for line in lines if line.startswith("FAILED ")), lines[-1] if lines else "")
    status = "killed" if killed else "SURVIVED" if done.returncode == 0 else "error"
    return status, deciding[:140], time.monotonic() - started


def selects(pattern: str, name: str) -> bool:
    """Whether ``--only pattern`` selects mutant ``name``: an exact mutant name selects only that
    mutant, anything else every mutant whose name starts with it."""
    if any(pattern == m.name for m in MUTANTS):
        return pattern == name
    return name.startswith(pattern)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="only the CI subset")
    parser.add_argument("--only", nargs="*", default=[],
                        help="mutants to run: exact names (circuit/scan-covers runs that one only) or name prefixes (circuit)")
    parser.add_argument("--out", type=Path, help="also write the kill table here")
    args = parser.parse_args(argv)
    unknown = [pattern for pattern in args.only if not any(selects(pattern, m.name) for m in MUTANTS)]
    if unknown:
        parser.error(f"no mutant is named or starts with {', '.join(unknown)}")
    chosen = [m for m in MUTANTS if (not args.smoke or m.name in SMOKE)
              and (not args.only or any(selects(pattern, m.name) for pattern in args.only))]
    rows = ["| mutant | file | outcome | deciding line | seconds |", "|---|---|---|---|---|"]
    killed = 0
    with tempfile.TemporaryDirectory(prefix="zkmargin-mutation-") as scratch:
        for mutant in chosen:
            status, deciding, seconds = run(mutant, Path(scratch))
            killed += status == "killed"
            by = "audit" if mutant.suite[0] == "audit" else "tests"
            rows.append(f"| {mutant.name} | {mutant.path} | {status} | "
                        f"{by}: {deciding.replace('|', '/')} | {seconds:.0f} |")
            print(rows[-1], flush=True)
    summary = f"{killed} of {len(chosen)} mutants killed ({100 * killed / max(len(chosen), 1):.0f}%)"
    table = "\n".join([*rows, "", summary, ""])
    print(summary)
    if args.out is not None:
        args.out.write_text(table, encoding="utf-8")
    return 0 if killed == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main())

"""``zkmargin batch prove|verify``: an epoch's accounts on a local process pool or a Ray cluster."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from zkmargin.cli.options import (
    backend_option,
    model_option,
    profile_option,
    threshold_option,
    verifier_option,
)

if TYPE_CHECKING:
    from prover.batch_worker import Outcome
    from zkmargin.bundle import Backend, Verifier

File = click.Path(dir_okay=False, path_type=Path)
Folder = click.Path(file_okay=False, path_type=Path)
F = TypeVar("F", bound=Callable[..., Any])


def workers_option(text: str) -> Callable[[F], F]:
    """``--workers N`` (N >= 1), described by ``text``."""
    return click.option("--workers", type=click.IntRange(min=1), help=text)


@click.group("batch", short_help="Prove or verify every account of an epoch (process pool or Ray).")
def command() -> None:
    """Prove or verify many accounts at once: warm workers, resumable, crash-safe."""


@command.command("prove", short_help="Prove every account of ACCOUNTS under SNAPSHOT.")
@click.argument("accounts", type=click.Path(path_type=Path))
@click.argument("snapshot", type=File)
@click.option("-o", "--out-dir", required=True, type=Folder,
              help="Where <account>.proof.json, <account>.shortfall.json and batch-summary.json go.")
@workers_option("Worker processes (default: one per CPU), or Ray actors with --ray (default: one per cluster CPU).")
@click.option("--ray", "ray_address", metavar="auto|ADDRESS",
              help="Prove on a Ray cluster: 'auto' (the one running here) or its address.")
@backend_option
@model_option
@profile_option
@threshold_option
def prove(accounts: Path, snapshot: Path, out_dir: Path, workers: int | None, ray_address: str | None,
          backend: str, model: str, profile: str, threshold_bps: int) -> None:
    """ACCOUNTS is a folder of account JSON files or a JSONL file. Each account gets a bundle, or
    a shortfall report when below the threshold. A rerun skips accounts whose bundle verifies.
    Exit 0 when every account has a valid bundle, 1 otherwise (see the summary)."""
    from prover.batch import BatchOptions, plan_batch, run_batch
    from prover.batch_files import SUMMARY_NAME
    from prover.batch_worker import STATUSES

    options = BatchOptions(model, profile, threshold_bps, cast("Backend", backend), workers, ray_address)
    plan = plan_batch(accounts, snapshot, out_dir, options)
    known = ", ".join(f"{sum(o.status == s for o in plan.settled)} {s}" for s in ("skipped", "invalid"))
    click.echo(f"{len(plan.jobs) + len(plan.settled)} accounts ({known}); proving {len(plan.jobs)} on "
               f"{options.executor}", err=True)
    stderr = click.get_text_stream("stderr")
    started = time.monotonic()
    done = 0

    def rate(outcome: Outcome | None) -> str:
        elapsed = time.monotonic() - started
        return f"{done / elapsed:.2f} accounts/s  {outcome.name}" if outcome and elapsed > 0 else ""

    def line(outcome: Outcome) -> None:
        """Off a terminal (a log, CI): one line per account with the rate and time left."""
        elapsed = time.monotonic() - started
        click.echo(f"proving: {done}/{len(plan.jobs)} {outcome.name} {outcome.status}, {done / elapsed:.2f} "
                   f"accounts/s, about {(len(plan.jobs) - done) * elapsed / done:.0f} s left", err=True)

    with click.progressbar(length=len(plan.jobs), label="proving", file=stderr, show_eta=True, show_pos=True,
                           item_show_func=rate) as bar:
        def advance(outcome: Outcome) -> None:
            nonlocal done
            done += 1
            bar.update(1, outcome)
            if not stderr.isatty():
                line(outcome)

        summary = run_batch(plan, advance)
    for outcome in summary.outcomes:
        if outcome.status not in ("proven", "skipped"):
            click.echo(f"{outcome.name}: {outcome.status.replace('_', ' ')}: {outcome.message}")
    totals = ", ".join(f"{summary.count(status)} {status.replace('_', ' ')}" for status in STATUSES)
    click.echo(f"{totals}; {summary.seconds:.1f} s, {summary.proofs_per_second:.3f} proofs/s -> "
               f"{out_dir / SUMMARY_NAME}")
    click.get_current_context().exit(0 if summary.complete else 1)


@command.command("verify", short_help="Verify every bundle in OUT_DIR (batched pairings).")
@click.argument("out_dir", type=Folder)
@click.option("--snapshot", required=True, type=File, help="The epoch's snapshot (its root is recomputed).")
@click.option("--commitments", type=File,
              help='JSON {"<account>": "<commitment>"}: every listed account needs a matching bundle.')
@click.option("--vk", type=File, help="Trusted verification_key.json (default: the local keys of --model/--profile).")
@click.option("--min-threshold", "min_threshold", default=10_000, show_default=True, type=int,
              help="Least health accepted, bps of MM.")
@workers_option("Verifier processes (default: one per CPU).")
@verifier_option
@model_option
@profile_option
def verify(out_dir: Path, snapshot: Path, commitments: Path | None, vk: Path | None, min_threshold: int,
           workers: int | None, verifier: str, model: str, profile: str) -> None:
    """Report each invalid, unreadable or mismatched bundle by account; exit 1 if any fails.
    py_ecc checks the proofs in batches of 32 across the workers; native and snarkjs one by one."""
    import os

    from prover.batch_verify import load_commitments, verify_folder
    from prover.circuits import MarginCircuit
    from prover.setup import VK_NAME
    from zkmargin.errors import InputError
    from zkmargin.io import load_model
    from zkmargin.models import RiskSnapshot

    if vk is None:
        vk = MarginCircuit.named(model, profile).keys_dir() / VK_NAME
        if not vk.is_file():
            raise InputError(f"no local verification key {vk}: pass --vk FILE")
    started = time.monotonic()
    checks = verify_folder(out_dir, load_model(RiskSnapshot, snapshot), vk,
                           commitments=load_commitments(commitments) if commitments else None,
                           min_threshold_bps=min_threshold, workers=workers or os.cpu_count() or 1, model=model,
                           verifier=cast("Verifier", verifier))
    seconds = time.monotonic() - started
    failed = [check for check in checks if not check.ok]
    for check in failed:
        click.echo(f"{check.name}: {check.reason}")
    click.echo(f"{len(checks) - len(failed)}/{len(checks)} bundles valid; {seconds:.1f} s, "
               f"{len(checks) / seconds:.2f} bundles/s")
    click.get_current_context().exit(1 if failed else 0)

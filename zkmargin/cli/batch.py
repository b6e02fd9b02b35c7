"""``zkmargin batch prove|verify``: an epoch's accounts on a local process pool or a Ray cluster."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from zkmargin.circuitgen import MODELS
from zkmargin.cli.options import (
    backend_option,
    model_option,
    profile_option,
    ray_option,
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


def venue_key_option(text: str) -> Callable[[F], F]:
    """``--venue-key KEY`` (required): the venue's Ed25519 public key, hex or a file holding it."""
    return click.option("--venue-key", "venue_key", required=True, metavar="KEY", help=text)


@command.command("prove", short_help="Prove every statement of a published epoch under SNAPSHOT.")
@click.argument("epoch_dir", type=Folder)
@click.argument("snapshot", type=File)
@venue_key_option("The venue's public key (hex, or a file holding it): epoch.json must carry its signature.")
@click.option("-o", "--out-dir", required=True, type=Folder,
              help="Where <account_id>.proof.json, <account_id>.shortfall.json and batch-summary.json go.")
@workers_option("Worker processes (default: one per CPU), or Ray actors with --ray (default: one per cluster CPU).")
@ray_option
@backend_option
@model_option
@profile_option
@threshold_option
def prove(epoch_dir: Path, snapshot: Path, venue_key: str, out_dir: Path, workers: int | None,
          ray_address: str | None, backend: str, model: str, profile: str, threshold_bps: int) -> None:
    """EPOCH_DIR is what `zkmargin venue publish` wrote: epoch.json and statements/<account_id>.json.
    Each statement is checked against the epoch, then gets a bundle, or a shortfall report when its
    account is below the threshold. A rerun skips accounts whose bundle meets the verifier's policy.
    Exit 0 when every account has a valid bundle, 1 otherwise (see the summary)."""
    from prover.batch import BatchOptions, plan_batch, run_batch
    from prover.batch_files import SUMMARY_NAME
    from prover.batch_worker import STATUSES
    from zkmargin.venue import load_public_key

    options = BatchOptions(model, profile, threshold_bps, cast("Backend", backend), workers, ray_address)
    plan = plan_batch(epoch_dir, snapshot, load_public_key(venue_key), out_dir, options)
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


@command.command("verify", short_help="Verify every bundle in OUT_DIR against a policy (batched pairings).")
@click.argument("out_dir", type=Folder)
@click.option("--epoch-file", "epoch_file", required=True, type=File, help="The venue's signed epoch.json.")
@venue_key_option("The venue's public key (hex, or a file holding it).")
@click.option("--snapshot", required=True, type=File,
              help="The epoch's snapshot (its root is recomputed and compared with the signed one).")
@click.option("--model", required=True, type=click.Choice(sorted(MODELS)), help="Margin model the policy requires.")
@click.option("--holders", "holders_file", type=File,
              help="Expected holders (JSON list, or one per line): every bundle must be about one of them, "
                   "and each needs a valid bundle.")
@click.option("--any-holder", "any_holder", is_flag=True,
              help="Accept a bundle about any holder instead of --holders (each bundle's holder is reported).")
@click.option("--vk", type=File, help="Trusted verification_key.json (default: the local keys of --model/--profile).")
@click.option("--min-threshold", "min_threshold", default=10_000, show_default=True,
              type=click.IntRange(1, 2**20 - 1), help="Least health accepted, bps of MM.")
@workers_option("Verifier processes (default: one per CPU).")
@verifier_option
@profile_option
def verify(out_dir: Path, epoch_file: Path, venue_key: str, snapshot: Path, model: str, holders_file: Path | None,
           any_holder: bool, vk: Path | None, min_threshold: int, workers: int | None, verifier: str,
           profile: str) -> None:
    """Print one line per bundle (account, the holder it claims, valid or why not) and per expected
    holder without a valid bundle; exit 1 if any fails. py_ecc checks the proofs in batches of 32
    across the workers; native and snarkjs one by one."""
    import os

    from prover.batch_verify import BatchPolicy, load_holders, verify_folder
    from prover.circuits import MarginCircuit
    from prover.setup import VK_NAME
    from zkmargin.errors import InputError
    from zkmargin.io import load_model
    from zkmargin.models import Epoch, RiskSnapshot
    from zkmargin.venue import load_public_key

    if (holders_file is None) == (not any_holder):
        raise InputError("name the expected holders with --holders FILE, or accept any holder with --any-holder "
                         "(not both)")
    if vk is None:
        vk = MarginCircuit.named(model, profile).keys_dir() / VK_NAME
        if not vk.is_file():
            raise InputError(f"no local verification key {vk}: pass --vk FILE")
    policy = BatchPolicy(load_model(RiskSnapshot, snapshot), load_model(Epoch, epoch_file), load_public_key(venue_key),
                         model, min_threshold, None if holders_file is None else load_holders(holders_file))
    started = time.monotonic()
    checks = verify_folder(out_dir, vk, policy, workers=workers or os.cpu_count() or 1,
                           verifier=cast("Verifier", verifier))
    seconds = time.monotonic() - started
    for check in checks:
        click.echo(check.line())
    failed = sum(not check.ok for check in checks)
    click.echo(f"{len(checks) - failed}/{len(checks)} checks valid; {seconds:.1f} s, "
               f"{len(checks) / seconds:.2f} bundles/s")
    click.get_current_context().exit(1 if failed else 0)

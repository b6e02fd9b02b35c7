"""``zkmargin venue``: the venue's side of an epoch (key, ledger, publication)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from zkmargin.cli.solvency import prove_solvency, setup_solvency, verify_solvency

File = click.Path(dir_okay=False, path_type=Path)


@click.group("venue", short_help="Venue: make a key, publish an epoch's signed account tree.")
def command() -> None:
    """The venue's commands: `keygen` once, then `publish` every epoch."""


@command.command("keygen", short_help="Make the venue's Ed25519 key pair.")
@click.option("-o", "--out", "prefix", default="venue", show_default=True, type=click.Path(path_type=Path),
              help="Writes PREFIX.key (private, PEM, mode 0600) and PREFIX.pub (public, hex).")
@click.option("--force", is_flag=True, help="Replace an existing key (its epochs' salts can then not be re-derived).")
def keygen(prefix: Path, force: bool) -> None:
    """The private key signs epochs and derives every account's salt: keep it secret and backed up."""
    from zkmargin.errors import InputError
    from zkmargin.venue import generate_key, public_key_hex, save_key

    private, public = prefix.with_name(prefix.name + ".key"), prefix.with_name(prefix.name + ".pub")
    if private.exists() and not force:
        raise InputError(f"{private} exists; pass --force to replace it")
    key = generate_key()
    save_key(key, private, public)
    click.echo(f"wrote {private} (private, 0600) and {public}: venue key {public_key_hex(key.public_key())}")


@command.command("ledger", short_help="Write a ledger of N random accounts (tests, benchmarks).")
@click.argument("snapshot", type=File)
@click.option("-n", "count", required=True, type=click.IntRange(1, 4**10), help="Number of accounts.")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed (the output is a function of it).")
@click.option("-o", "--out", required=True, type=File, help="Ledger JSONL to write.")
def ledger(snapshot: Path, count: int, seed: int, out: Path) -> None:
    """Random accounts over the snapshot's instruments, some with a debt: one JSON object a line."""
    from zkmargin.files import check_output_file
    from zkmargin.io import load_model, write_atomic
    from zkmargin.models import RiskSnapshot
    from zkmargin.venue import random_ledger

    snap = load_model(RiskSnapshot, snapshot)
    check_output_file(out)
    write_atomic(out, "".join(json.dumps(line) + "\n" for line in random_ledger(snap, count, seed=seed)))
    click.echo(f"wrote {out}: {count} accounts")


@command.command("publish", short_help="Publish an epoch: signed epoch.json + one private statement per account.")
@click.argument("ledger", type=File)
@click.argument("snapshot", type=File)
@click.option("--epoch", "epoch", required=True, type=click.IntRange(0, 2**64 - 1),
              help="The epoch being published (must be the snapshot's).")
@click.option("--secret", "key_file", required=True, type=File,
              help="The venue's private key (`zkmargin venue keygen`): signs the epoch, derives the salts.")
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder: epoch.json (public) and statements/<account_id>.json (private, send each to its holder).")
@click.option("--workers", type=click.IntRange(1, 256), help="Processes hashing leaves (default: CPU count).")
def publish(ledger: Path, snapshot: Path, epoch: int, key_file: Path, out: Path, workers: int | None) -> None:
    """LEDGER: JSONL, one account a line: account_id, holder (EVM address), positions, balances."""
    from zkmargin.errors import InputError
    from zkmargin.files import check_output_dir
    from zkmargin.io import load_model
    from zkmargin.models import RiskSnapshot
    from zkmargin.venue import build_epoch, check_ledger, load_private_key, publish as write_epoch, read_ledger

    check_output_dir(out)
    key = load_private_key(key_file)
    snap = load_model(RiskSnapshot, snapshot)
    if snap.epoch != epoch:
        raise InputError(f"--epoch {epoch} is not the snapshot's epoch ({snap.epoch})")
    if (out / "epoch.json").exists():
        raise InputError(f"{out / 'epoch.json'} exists: an epoch is published once (choose another folder)")
    started = time.monotonic()
    entries = check_ledger(read_ledger(ledger), snap)
    click.echo(f"hashing the account tree of {len(entries)} accounts ...", err=True)
    built = build_epoch(entries, snap, key, workers=workers)
    click.echo(f"writing {built.epoch.accounts} statements ...", err=True)
    path = write_epoch(built, out)
    e = built.epoch
    click.echo(f"wrote {path}: {e.venue} epoch {e.epoch}, {e.accounts} accounts, account root {e.account_root}, "
               f"snapshot roots for {', '.join(sorted(e.snapshot_roots))} ({time.monotonic() - started:.1f} s); "
               f"statements in {out / 'statements'} (private: send each to its holder only)")

for solvency_command in (setup_solvency, prove_solvency, verify_solvency):
    command.add_command(solvency_command)

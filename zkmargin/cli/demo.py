"""``zkmargin demo``: a venue publishes an epoch, traders prove, a verifier checks; each step timed."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from zkmargin.cli.options import profile_option, ptau_option

T = TypeVar("T")
EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"


def _step(name: str, fn: Callable[[], T]) -> T:
    started = time.monotonic()
    click.echo(f"-> {name} ...", nl=False)
    result = fn()
    click.echo(f" {time.monotonic() - started:.1f} s")
    return result


@click.command("demo", short_help="End to end on the example data: venue -> traders -> verifier.")
@profile_option
@ptau_option
@click.option("-o", "--out-dir", default="out/demo", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Where the epoch and the bundles are written.")
@click.option("--onchain", is_flag=True,
              help="Instead: a venue epoch, a healthy and a delinquent trader through the margin-call lifecycle "
                   "on a local EVM (small profile; needs the evm extra).")
def command(profile: str, ptau: Path | None, out_dir: Path, onchain: bool) -> None:
    """The example venue publishes epoch 1 over examples/ledger.jsonl; every healthy account proves
    and a lender's policy verifies it; the insolvent account, and the same account with its losing
    positions dropped from its statement, cannot prove."""
    from prover.circuits import MarginCircuit
    from prover.margin import MarginProver, setup_circuit
    from verifier import load_verifying_key
    from verifier.bundle import Policy, check_bundle
    from zkmargin.errors import BelowMarginError, InputError
    from zkmargin.io import load_model, save_model
    from zkmargin.models import RiskSnapshot
    from zkmargin.models.types import format_holder
    from zkmargin.venue import build_epoch, generate_key, publish, read_ledger, save_key

    circuit = MarginCircuit.named("portfolio", profile)
    if onchain:
        from zkmargin.onchain_demo import demo_keys, lifecycle_demo

        lifecycle_demo(_step("keys of portfolio_small", lambda: demo_keys(ptau)), out_dir / "contracts", click.echo)
        return
    snapshot = load_model(RiskSnapshot, EXAMPLES / "snapshot_span16.json")
    build = _step(f"build {circuit.circuit_id}", circuit.build)
    click.echo(f"   {build.n_constraints:,} constraints")
    keys = _step("setup (groth16 + contribution + beacon + zkey verify)", lambda: setup_circuit(circuit, ptau))
    key = generate_key()
    save_key(key, out_dir / "venue.key", out_dir / "venue.pub")
    epoch = _step("venue: publish epoch 1 (account tree, statements, signature)",
                  lambda: build_epoch(read_ledger(EXAMPLES / "ledger.jsonl"), snapshot, key))
    publish(epoch, out_dir / "epoch")
    click.echo(f"   {epoch.epoch.accounts} accounts, account root {epoch.epoch.account_root}; "
               f"statements in {out_dir / 'epoch' / 'statements'}")
    prover = MarginProver(circuit, keys)
    vk = load_verifying_key(keys.vk)
    failures = 0
    for statement in epoch.statements():
        if len(statement.account.positions) > circuit.profile.positions:
            continue
        holder = format_holder(statement.holder)
        result = prover.margin(statement.account, snapshot, 10_000)
        ratio = "n/a" if result.health_bps is None else f"{result.health_bps / 10_000:.3f}x"
        click.echo(f"{statement.account_id} ({holder}): equity/MM = {ratio}")
        try:
            bundle = _step("trader: prove", lambda: prover.prove(statement, snapshot))
        except BelowMarginError as e:
            click.echo(f" refused: {e}")
            continue
        save_model(bundle, out_dir / f"{statement.account_id}.proof.json")
        policy = Policy(snapshot, epoch.epoch, key.public_key(), "portfolio", frozenset({statement.holder}))
        verdict = _step("verifier: check (py_ecc)", lambda: check_bundle(bundle, vk, policy))
        click.echo(f"   {verdict.reason}")
        failures += not verdict.ok
        if statement.account_id == "hedged_market_maker":
            dropped = statement.model_copy(update={"account": statement.account.model_copy(
                update={"positions": statement.account.positions[1:]})})
            try:
                prover.prove(dropped, snapshot)
                failures += 1
                click.echo("   UNSOUND: a statement with a position dropped was proven")
            except InputError as e:
                click.echo(f"   the same statement with a position dropped: refused ({e})")
    click.get_current_context().exit(1 if failures else 0)

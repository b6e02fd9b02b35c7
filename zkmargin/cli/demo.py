"""``zkmargin demo``: build, set up, margin, prove and verify the examples, each step timed."""

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


@click.command("demo", short_help="End to end on the example data (small profile).")
@profile_option
@ptau_option
@click.option("-o", "--out-dir", default="out/demo", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Where bundles are written.")
@click.option("--onchain", is_flag=True,
              help="Instead: a venue epoch, a healthy and a delinquent trader through the margin-call lifecycle "
                   "on a local EVM (small profile; needs the evm extra).")
def command(profile: str, ptau: Path | None, out_dir: Path, onchain: bool) -> None:
    """Prove and verify every healthy example account; show that the insolvent one cannot."""
    from prover.circuits import MarginCircuit
    from prover.margin import MarginProver, setup_circuit
    from verifier import load_verifying_key
    from verifier.bundle import Policy, check_bundle
    from zkmargin.errors import BelowMarginError
    from zkmargin.io import load_model, save_model
    from zkmargin.models import Account, RiskSnapshot

    circuit = MarginCircuit.named("portfolio", profile)
    if onchain:
        from zkmargin.onchain_demo import lifecycle_demo

        keys = _step("setup (or reuse) portfolio_small", lambda: setup_circuit(MarginCircuit.named("portfolio", "small"), ptau))
        lifecycle_demo(keys, out_dir / "contracts", click.echo)
        return
    snapshot = load_model(RiskSnapshot, EXAMPLES / "snapshot_span16.json")
    build = _step(f"build {circuit.circuit_id}", circuit.build)
    click.echo(f"   {build.n_constraints} constraints")
    keys = _step("setup (groth16 + contribution + beacon + zkey verify)", lambda: setup_circuit(circuit, ptau))
    prover = MarginProver(circuit, keys)
    vk = load_verifying_key(keys.vk)
    failures = 0
    for path in sorted(EXAMPLES.glob("*.json")):
        if path.name.startswith(("snapshot", "market")):
            continue
        account = load_model(Account, path)
        result = prover.margin(account, snapshot, 10_000)
        click.echo(f"{path.stem}: equity/MM = "
                   f"{'n/a' if result.health_bps is None else f'{result.health_bps / 10_000:.3f}x'}")
        try:
            bundle = _step("prove", lambda: prover.prove(account, snapshot))
        except BelowMarginError as e:
            click.echo(f" refused: {e}")
            continue
        save_model(bundle, out_dir / f"{path.stem}.proof.json")
        verdict = _step("verify (py_ecc)", lambda: check_bundle(bundle, vk, Policy(snapshot)))
        click.echo(f"   {verdict.reason}")
        failures += not verdict.ok
    click.get_current_context().exit(1 if failures else 0)

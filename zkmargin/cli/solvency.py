"""``zkmargin venue setup-solvency`` / ``prove-solvency`` / ``verify-solvency``: every account of an
epoch, margined and totalled."""

from __future__ import annotations

from pathlib import Path

import click

from zkmargin.cli.options import backend_option, profile_option, ptau_option, ray_option
from zkmargin.solvency import SOLVENCY_MODELS

File = click.Path(dir_okay=False, path_type=Path)
Folder = click.Path(file_okay=False, path_type=Path)
model_option = click.option(
    "--model", default="portfolio", show_default=True, type=click.Choice(SOLVENCY_MODELS),
    help="Margin model. Isolated: every position against its own allocation; an account is below MM if one "
         "position is or if it owes anything, short by the positions' shortfalls plus its debts (docs/solvency.md).")
batch_option = click.option("--batch", "batch", default=2, show_default=True, type=click.IntRange(1, 64),
                            help="Accounts per batch proof (a circuit of zkmargin.circuitgen.SOLVENCY_MAINS).")


@click.command("setup-solvency", short_help="Make the keys of a solvency batch circuit.")
@model_option
@profile_option
@batch_option
@ptau_option
def setup_solvency(model: str, profile: str, batch: int, ptau: Path | None) -> None:
    """groth16 setup + one contribution + beacon + zkey verify of the batch circuit; writes a key manifest."""
    from prover.margin import setup_circuit
    from prover.solvency_circuit import SolvencyCircuit

    keys = setup_circuit(SolvencyCircuit.sized(model, profile, batch), ptau)
    state = "cached" if keys.cached else f"made in {keys.seconds:.1f} s"
    click.echo(f"{keys.circuit_id}: keys {state} -> {keys.zkey.parent}")


@click.command("prove-solvency", short_help="Prove every account of an epoch margined, with the totals.")
@click.argument("epoch_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("ledger", type=File)
@click.argument("snapshot", type=File)
@click.option("-o", "--out", required=True, type=Folder, help="Folder of the chain (public): batch files + solvency.json.")
@model_option
@profile_option
@batch_option
@click.option("--insurance-fund", "fund", help="USD (decimal): claim, checked by verifiers, that it covers the total shortfall.")
@backend_option
@click.option("--workers", type=click.IntRange(1, 256),
              help="Processes proving batches (default: CPU count), or Ray actors with --ray (default: one per "
                   "cluster CPU).")
@ray_option
def prove_solvency(epoch_dir: Path, ledger: Path, snapshot: Path, out: Path, model: str, profile: str, batch: int,
                   fund: str | None, backend: str, workers: int | None, ray_address: str | None) -> None:
    """EPOCH_DIR: the published epoch (epoch.json, statements/); resumable: a rerun proves what is missing."""
    from prover.batch_ray import import_ray
    from prover.solvency import describe, plan_solvency, run_solvency
    from zkmargin import fixedpoint as fp
    from zkmargin.errors import ProverError

    if ray_address is not None:
        import_ray()  # before any work: without Ray, say how to install it
    plan = plan_solvency(epoch_dir, ledger, snapshot, out, model=model, profile=profile, batch=batch,
                         backend=backend,  # type: ignore[arg-type]
                         insurance_fund=None if fund is None else fp.parse_decimal("--insurance-fund", fund,
                                                                                  fp.EQUITY_SCALE))
    click.echo(f"{plan.manifest.accounts} accounts in {len(plan.jobs)} batches of {batch}: "
               f"{len(plan.done)} already proven", err=True)
    run = run_solvency(plan, workers=workers, ray_address=ray_address, on_batch=lambda k, status: click.echo(f"batch {k}: {status}", err=True))
    if run.failed:
        raise ProverError(f"{len(run.failed)} batches failed (rerun to resume): "
                          + "; ".join(f"batch {k}: {why}" for k, why in sorted(run.failed.items())))
    click.echo(f"wrote {out}: {describe(run)}")
    click.echo(_totals_text(plan.manifest))


@click.command("verify-solvency", short_help="Check a solvency chain against the venue's signed epoch.")
@click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--epoch-file", required=True, type=File, help="The venue's signed epoch.json.")
@click.option("--venue-key", required=True, help="The venue's public key: hex, or a file holding it.")
@click.option("--vk", type=File, help="Trusted verification_key.json (default: the local keys of the chain's "
                                       "circuit, named by validated model, profile and batch size).")
def verify_solvency(folder: Path, epoch_file: Path, venue_key: str, vk: Path | None) -> None:
    """Exit 0 with the totals if every batch, the chain and the totals check; 1 if not; 2 if malformed."""
    from prover.solvency_circuit import SolvencyCircuit
    from verifier import load_verifying_key
    from verifier.solvency import check_solvency, load_chain
    from zkmargin.errors import InputError, VerificationError
    from zkmargin.io import load_model
    from zkmargin.models import Epoch
    from zkmargin.venue import load_public_key

    manifest, batches = load_chain(folder)
    circuit = SolvencyCircuit.sized(manifest.model, manifest.profile, manifest.batch_size)
    key = vk or circuit.keys_dir() / "verification_key.json"
    if not key.is_file():
        raise InputError(f"no local verification key for {circuit.circuit_id}: pass --vk FILE")
    try:
        check_solvency(manifest, batches, load_model(Epoch, epoch_file), load_public_key(venue_key),
                       load_verifying_key(key))
    except VerificationError as e:
        click.echo(f"invalid: {e}")
        click.get_current_context().exit(1)
    click.echo(f"valid: {manifest.venue} epoch {manifest.epoch}, {len(batches)} batch proofs of "
               f"{manifest.batch_size} ({circuit.circuit_id})")
    click.echo(_totals_text(manifest))


def _totals_text(manifest: object) -> str:
    """The published totals in USD rounded to the cent (exact integers in solvency.json), and the
    insurance-fund claim."""
    from decimal import Decimal

    from zkmargin import fixedpoint as fp
    from zkmargin.solvency import Totals
    from zkmargin.solvency_files import SolvencyManifest

    assert isinstance(manifest, SolvencyManifest)
    t = Totals.from_json(manifest.totals)
    usd = lambda x: f"{(Decimal(x) / fp.EQUITY_SCALE).quantize(Decimal('0.01')):,} USD"  # noqa: E731
    lines = [f"accounts: {t.accounts}, below maintenance margin: {t.below}",
             f"total equity: {usd(t.equity)}, total MM: {usd(t.mm)}",
             f"total shortfall of accounts below MM: {usd(t.shortfall)}"]
    if manifest.insurance_fund is not None:
        lines.append(f"insurance fund: {usd(manifest.insurance_fund)}, covers the shortfall: "
                     f"{'yes' if t.shortfall <= manifest.insurance_fund else 'no'}")
    return "\n".join(lines)

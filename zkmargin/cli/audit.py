"""``zkmargin audit``: the auditor's checks on a margin circuit, as Markdown + JSON and a verdict."""

from __future__ import annotations

from pathlib import Path

import click

from zkmargin.cli.options import model_option, profile_option


@click.command("audit", short_help="Audit a circuit: build, keys, facts, consistency, constraints.")
@model_option
@profile_option
@click.option("--ptau", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              envvar="ZKMARGIN_PTAU",
              help="The powers-of-tau file the keys were made from, for zkey verify. "
                   "[env var: ZKMARGIN_PTAU]")
@click.option("--accounts", default=30, show_default=True, type=click.IntRange(0),
              help="Random accounts of the engine-vs-circuit differential (boundary set added).")
@click.option("--seed", default=1, show_default=True, type=int, help="Seed of the random accounts.")
@click.option("--keys", "keys_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Keys and manifest to check. [default: build/keys/<model>_<profile>]")
@click.option("--snapshot", type=click.Path(dir_okay=False, path_type=Path),
              help="Risk snapshot JSON of the differential. [default: examples/snapshot_span16.json]")
@click.option("--circuits", "circuits_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Circuit source tree to audit (lib/ and main/). [default: the project's circuits/]")
@click.option("--allowlist", type=click.Path(dir_okay=False, path_type=Path),
              help="Accepted findings (TOML). [default: prover/audit/allowlist.toml]")
@click.option("--check", "checks", multiple=True,
              help="Run only this check (repeatable): build, keys, facts, differential, cheats, "
                   "mutation, static. [default: all]")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Markdown report to write; the JSON report goes beside it (.json).")
def command(model: str, profile: str, ptau: Path | None, accounts: int, seed: int,
            keys_dir: Path | None, snapshot: Path | None, circuits_dir: Path | None,
            allowlist: Path | None, checks: tuple[str, ...], out: Path | None) -> None:
    """Print the report (or write it with -o); exit 0 iff every check passes, 1 otherwise."""
    from prover.audit.report import to_json, to_markdown
    from prover.audit.runner import AuditOptions, run_audit
    from zkmargin.files import check_output_file
    from zkmargin.io import dump_json, write_atomic

    if out is not None:
        check_output_file(out)
    defaults = AuditOptions()
    options = AuditOptions(
        model=model, profile=profile, accounts=accounts, seed=seed, keys_dir=keys_dir, ptau=ptau,
        snapshot=snapshot or defaults.snapshot, circuits_dir=circuits_dir or defaults.circuits_dir,
        allowlist=allowlist or defaults.allowlist, checks=checks or defaults.checks)
    report = run_audit(options, lambda step: click.echo(f"audit: {step}", err=True))
    markdown = to_markdown(report)
    if out is None:
        click.echo(markdown, nl=False)
    else:
        write_atomic(out, markdown)
        dump_json(to_json(report), out.with_suffix(".json"))
        click.echo(f"wrote {out} and {out.with_suffix('.json')}")
        click.echo(report.verdict)
    if not report.passed:
        click.get_current_context().exit(1)

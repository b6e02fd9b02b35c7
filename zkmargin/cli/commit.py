"""``zkmargin commit``: print an account's commitment."""

from __future__ import annotations

from pathlib import Path

import click

from zkmargin.cli.options import model_option, profile_option


@click.command("commit", short_help="Print the commitment of ACCOUNT.json.")
@click.argument("account", type=click.Path(dir_okay=False, path_type=Path))
@profile_option
@model_option
def command(account: Path, profile: str, model: str) -> None:
    """Print the account commitment (a field element) under a circuit profile and model."""
    from zkmargin.commitment import commit_account
    from zkmargin.io import load_model
    from zkmargin.models import Account
    from zkmargin.profiles import get_profile

    click.echo(commit_account(load_model(Account, account), get_profile(profile), model))

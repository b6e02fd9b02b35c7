"""The ``zkmargin`` command line: one command per module, one error path.

Every :class:`~zkmargin.errors.ZkMarginError` and every usage error (a missing argument, a folder
where a file is expected) leaves as one line on stderr (``error: ...``) with exit code 2; commands that answer a yes/no question (``margin``, ``verify``) exit 1 for "no".
Heavy imports (prover, verifier, numpy) happen inside the commands.
"""

from __future__ import annotations

from typing import Any

import click

from zkmargin.errors import ZkMarginError

#: Exit code of any user or toolchain error (click uses 2 for usage errors as well).
ERROR_EXIT = 2


class ZkMarginGroup(click.Group):
    """A click group that turns library errors into one readable line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ZkMarginError as e:
            click.echo(f"error: {e}", err=True)
            ctx.exit(ERROR_EXIT)
        except click.UsageError as e:  # one line too, instead of click's usage block
            where = f" (see {e.ctx.command_path} --help)" if e.ctx is not None else ""
            click.echo(f"error: {e.format_message()}{where}", err=True)
            ctx.exit(e.exit_code)


@click.group(cls=ZkMarginGroup)
@click.version_option(package_name="zkmargin")
def main() -> None:
    """Zero-knowledge margin proofs: a venue attests accounts, traders prove maintenance margin, anyone verifies."""


def _register() -> None:
    from zkmargin.cli import (audit, batch, build, calldata, ceremony, demo, export_snarkjs, export_solidity, gate,
                              margin, prove, report, schema, serve, setup, snapshot, venue, verify)

    for module in (schema, snapshot, margin, report, venue, build, setup, prove, verify, demo, export_solidity,
                   export_snarkjs, calldata, gate, batch, audit, ceremony, serve):
        main.add_command(module.command)


_register()

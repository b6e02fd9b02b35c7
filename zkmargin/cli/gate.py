"""``zkmargin gate``: the margin-call lifecycle (MarginRegistry, CollateralAuction) over any RPC URL.

Every command talks to ``--rpc`` (or ``$ZKMARGIN_RPC``) and sends either from ``--key-file``
(a private key, transactions signed here: any public endpoint) or from ``--from`` (an account
the node signs for: anvil, hardhat, a dev node; default: the node's first account). ``deploy`` writes the deployment file (addresses and ABIs) the other
commands read (``--deployment``, default ``deployment.json``). Each transaction prints its gas
and the events it emitted; a revert prints the contract's custom error and exits 2.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from zkmargin.cli.options import profile_option

if TYPE_CHECKING:
    from zkmargin.onchain import Lifecycle, Tx

File = click.Path(dir_okay=False, path_type=Path)


class HolderType(click.ParamType):
    """A holder: an EVM address (0x + hex) or a decimal field element."""

    name = "holder"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        from zkmargin.models.types import holder_from_text

        try:
            return holder_from_text(str(value))
        except ValueError as e:
            self.fail(str(e), param, ctx)


HOLDER = HolderType()


@click.group("gate", short_help="On-chain margin-call lifecycle: deploy, publish, register, submit, flag, bid.")
@click.option("--rpc", envvar="ZKMARGIN_RPC", required=True, help="JSON-RPC URL (http:// or https://).")
@click.option("--from", "sender", help="Sending account (the node signs; default: its first account).")
@click.option("--key-file", type=File, envvar="ZKMARGIN_GATE_KEY_FILE",
              help="File holding the sender's private key (0x + 64 hex): transactions are signed locally.")
@click.option("--deployment", default="deployment.json", show_default=True, type=File,
              help="Deployment file written by `gate deploy`.")
@click.pass_context
def command(ctx: click.Context, rpc: str, sender: str | None, key_file: Path | None, deployment: Path) -> None:
    """The protocol's and anyone's transactions of the lifecycle (see the README's On-chain section)."""
    ctx.obj = {"rpc": rpc, "sender": sender, "key_file": key_file, "deployment": deployment}


def _connect(ctx: click.Context) -> tuple[Any, str]:
    """The node of ``--rpc`` and the sending account (``--from``, else the node's first account)."""
    from zkmargin.errors import InputError, OnchainError

    try:
        from zkmargin import onchain
    except ImportError as e:
        raise InputError(f"zkmargin gate needs web3 ({e.name} is missing): pip install 'zkmargin[evm]'") from None
    w3 = onchain.connect(ctx.obj["rpc"])
    sender = ctx.obj["sender"]
    if ctx.obj["key_file"] is not None:
        if sender is not None:
            raise InputError("--from and --key-file exclude each other (the key's address sends)")
        sender = onchain.sign_locally(w3, ctx.obj["key_file"])
    elif sender is None:
        accounts = w3.eth.accounts
        if not accounts:
            raise OnchainError(f"{ctx.obj['rpc']} manages no accounts: pass --from an account it signs for")
        sender = accounts[0]
    return w3, sender


def lifecycle_command(fn: Callable[..., None]) -> Callable[..., None]:
    """Pass a :class:`Lifecycle` over the deployment file as the command's first argument."""

    @click.pass_context
    def run(ctx: click.Context, /, *args: Any, **kwargs: Any) -> None:
        w3, sender = _connect(ctx)
        from zkmargin.onchain import Deployment, Lifecycle

        fn(Lifecycle(w3, Deployment.load(ctx.obj["deployment"]), sender), *args, **kwargs)

    return update_wrapper(run, fn)


def _echo(tx: Tx) -> None:
    events = "; ".join(f"{name}(" + ", ".join(f"{k}={v}" for k, v in args.items()) + ")" for name, args in tx.events)
    click.echo(f"{tx.what}: gas {tx.gas_used}" + (f"  {events}" if events else ""))


@command.command("deploy", short_help="Deploy the verifier, a MarginRegistry and optionally a CollateralAuction.")
@profile_option
@click.option("--min-threshold", "min_bps", default=10_000, show_default=True, type=click.IntRange(1),
              help="Least threshold (bps of MM) any proof may claim.")
@click.option("--proof-window", default=86_400, show_default=True, type=click.IntRange(1),
              help="Seconds from an epoch's publication to its proof deadline.")
@click.option("--grace", default=3_600, show_default=True, type=click.IntRange(0),
              help="Seconds after the deadline during which a proof cures a margin call.")
@click.option("--collateral", help="ERC-20 the holders escrow (with --payment: deploy the auction hook).")
@click.option("--payment", help="ERC-20 auction bids are paid in.")
@click.option("--collateral-price", default=0, type=click.IntRange(0),
              help="Reference price: payment units per 1e18 collateral units.")
@click.option("--start-premium-bps", default=1_000, show_default=True, type=click.IntRange(0))
@click.option("--floor-bps", default=8_000, show_default=True, type=click.IntRange(0))
@click.option("--auction-duration", default=3_600, show_default=True, type=click.IntRange(1), help="Seconds.")
@click.option("-o", "--out", default="deployment.json", show_default=True, type=File,
              help="Deployment file to write.")
@click.option("--contracts-dir", default="out/contracts", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Where the contracts are exported and compiled.")
@click.pass_context
def deploy(ctx: click.Context, profile: str, min_bps: int, proof_window: int, grace: int, collateral: str | None,
           payment: str | None, collateral_price: int, start_premium_bps: int, floor_bps: int, auction_duration: int,
           out: Path, contracts_dir: Path) -> None:
    """Export the circuit's verifier and the contracts, compile them, deploy them (the sender owns the registry)."""
    from prover.circuits import MarginCircuit
    from prover.margin import load_keys
    from zkmargin.errors import InputError
    from zkmargin.onchain import AuctionTerms, compiled_artifacts, deploy_lifecycle

    if (collateral is None) != (payment is None):
        raise InputError("--collateral and --payment go together (they deploy the auction hook)")
    w3, sender = _connect(ctx)
    artifacts = compiled_artifacts(load_keys(MarginCircuit.named("portfolio", profile)), contracts_dir)
    terms = None if collateral is None or payment is None else AuctionTerms(
        w3.to_checksum_address(collateral), w3.to_checksum_address(payment), collateral_price, start_premium_bps,
        floor_bps, auction_duration)
    deployment = deploy_lifecycle(w3, artifacts, sender, min_threshold_bps=min_bps, proof_window=proof_window,
                                  grace_period=grace, auction=terms)
    deployment.save(out)
    for name, address in deployment.addresses.items():
        click.echo(f"{name}: {address}")
    for what, gas in deployment.gas.items():
        click.echo(f"{what}: gas {gas}")
    click.echo(f"wrote {out}")


@command.command("publish-epoch", short_help="Publish a venue epoch's roots (owner).")
@click.argument("epoch_file", type=File)
@click.option("--venue-key", required=True, help="The venue's public key (hex, or a file holding it).")
@profile_option
@lifecycle_command
def publish_epoch(lifecycle: Lifecycle, epoch_file: Path, venue_key: str, profile: str) -> None:
    """Check the epoch.json's signature, then publish its snapshot root (of PROFILE) and account root."""
    from zkmargin.io import load_model
    from zkmargin.models import Epoch
    from zkmargin.venue import check_epoch_signature, load_public_key

    epoch = load_model(Epoch, epoch_file)
    check_epoch_signature(epoch, load_public_key(venue_key))
    _echo(lifecycle.publish_epoch(epoch, profile))


@command.command("register", short_help="Register a holder with its required threshold (owner).")
@click.argument("holder", type=HOLDER)
@click.option("--required-bps", required=True, type=click.IntRange(1), help="Required threshold, bps of MM.")
@lifecycle_command
def register(lifecycle: Lifecycle, holder: int, required_bps: int) -> None:
    _echo(lifecycle.register(holder, required_bps))


@command.command("submit", short_help="Submit a proof bundle (checkMargin).")
@click.argument("proof", type=File)
@lifecycle_command
def submit(lifecycle: Lifecycle, proof: Path) -> None:
    from zkmargin.bundle import ProofBundle
    from zkmargin.io import load_model

    _echo(lifecycle.submit(load_model(ProofBundle, proof)))


def epoch_and_holder(fn: Callable[..., None]) -> Callable[..., None]:
    """The EPOCH and HOLDER arguments, and a Lifecycle (:func:`lifecycle_command`)."""
    fn = lifecycle_command(fn)
    return click.argument("epoch", type=click.IntRange(0, 2**64 - 1))(click.argument("holder", type=HOLDER)(fn))


@command.command("flag", short_help="Flag a missed deadline: a margin call (anyone).")
@epoch_and_holder
def flag(lifecycle: Lifecycle, epoch: int, holder: int) -> None:
    _echo(lifecycle.flag(epoch, holder))


@command.command("liquidate", short_help="Liquidate an uncured margin call (anyone).")
@epoch_and_holder
def liquidate(lifecycle: Lifecycle, epoch: int, holder: int) -> None:
    _echo(lifecycle.liquidate(epoch, holder))


@command.command("deposit", short_help="Escrow collateral with the auction hook (the holder).")
@click.argument("amount", type=click.IntRange(1))
@lifecycle_command
def deposit(lifecycle: Lifecycle, amount: int) -> None:
    """AMOUNT in the collateral token's smallest units; approves it first."""
    for tx in lifecycle.deposit(amount):
        _echo(tx)


@command.command("set-debt", short_help="Record what a holder owes the protocol (the protocol).")
@click.argument("holder", type=HOLDER)
@click.argument("amount", type=click.IntRange(0))
@lifecycle_command
def set_debt(lifecycle: Lifecycle, holder: int, amount: int) -> None:
    """AMOUNT in the payment token's smallest units: an auction's proceeds repay it first."""
    _echo(lifecycle.set_debt(holder, amount))


@command.command("bid", short_help="Buy a holder's auctioned collateral at the current price (anyone).")
@click.argument("holder", type=HOLDER)
@lifecycle_command
def bid(lifecycle: Lifecycle, holder: int) -> None:
    for tx in lifecycle.bid(holder):
        _echo(tx)


@command.command("status", short_help="A holder's state in an epoch.")
@epoch_and_holder
def status(lifecycle: Lifecycle, epoch: int, holder: int) -> None:
    st = lifecycle.status(epoch, holder)
    click.echo(f"epoch {st.epoch} holder {st.holder:#x}: {st.status} (proven {st.proven_threshold_bps} bps, "
               f"required {st.required_threshold_bps}; deadline {st.deadline}, grace end {st.grace_end}"
               f"{', flagged' if st.flagged else ''})")

"""Typed exceptions of zkmargin.

Every error a user can cause derives from :class:`ZkMarginError`; the CLI turns any of them into
one readable line and a non-zero exit code. Library code never exits the process.
"""

from __future__ import annotations


class ZkMarginError(Exception):
    """Base class of every error zkmargin raises on purpose."""


class BoundError(ZkMarginError, ValueError):
    """A value lies outside the fixed-point bound of its field."""

    def __init__(self, field: str, value: object, bound: str) -> None:
        self.field = field
        self.value = value
        self.bound = bound
        super().__init__(f"{field} = {value}: {bound}")


class InputError(ZkMarginError, ValueError):
    """A user-supplied file or value is malformed (bad JSON, wrong schema, unknown id, ...)."""


class OutputError(ZkMarginError):
    """An output cannot be written (read-only or missing folder, full disk, a folder in the way)."""


class BelowMarginError(ZkMarginError):
    """The account does not meet the claimed health; no proof can (or should) be made."""


class ToolchainError(ZkMarginError):
    """Node, npm, circom or snarkjs is missing or failed; the message carries the tool's output."""


class ProverError(ZkMarginError):
    """Compiling, setting up or proving failed."""


class ClusterError(ZkMarginError):
    """Ray is not installed, or its cluster cannot be reached or was lost mid-batch."""


class VerificationError(ZkMarginError):
    """A proof, key or public input is malformed (wrong shape, not on the curve, >= r, ...).

    A well-formed proof that simply does not verify is *not* an error: verifiers return False.
    """


class OnchainError(ZkMarginError):
    """An RPC endpoint cannot be reached, or a contract call reverted (the message names its custom error)."""

"""Native (arkworks) Groth16 verification through the optional PyPI package ``groth16py``.

``groth16py`` is imported only when a native verifier is built, never when :mod:`verifier` is
imported, so the pure-Python verifier works without it. If it is missing,
:func:`load_groth16py` raises :class:`~zkmargin.errors.ToolchainError` saying how to install it.

groth16py proves into the Ethereum ``bytes`` layout: eight 32-byte big-endian words
``A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x, C.y`` (the Fq2 halves of B swapped, as the
EVM pairing precompile wants them). :func:`snarkjs_proof` turns that into snarkjs JSON, the one
layout every verifier of this project reads.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from zkmargin.errors import ToolchainError, VerificationError

INSTALL_HINT = "pip install '.[native]' (or: pip install 'groth16py>=0.2,<0.3')"
"""How to get the native backend."""

WORD = 32
PROOF_BYTES = 8 * WORD


def load_groth16py() -> ModuleType:
    """The ``groth16py`` module, or ToolchainError with the install command if it is missing."""
    try:
        import groth16py
    except ImportError:
        raise ToolchainError(
            f"the native backend needs the groth16py package: {INSTALL_HINT}"
        ) from None
    return groth16py


def snarkjs_proof(blob: bytes) -> dict[str, Any]:
    """snarkjs ``proof.json`` content of a proof in groth16py's Ethereum ``bytes`` layout."""
    if len(blob) != PROOF_BYTES:
        raise VerificationError(f"native proof: {len(blob)} bytes, expected {PROOF_BYTES}")
    a_x, a_y, b_x1, b_x0, b_y1, b_y0, c_x, c_y = (
        str(int.from_bytes(blob[at : at + WORD], "big")) for at in range(0, PROOF_BYTES, WORD)
    )
    return {
        "pi_a": [a_x, a_y, "1"],
        "pi_b": [[b_x0, b_x1], [b_y0, b_y1], ["1", "0"]],
        "pi_c": [c_x, c_y, "1"],
        "protocol": "groth16",
        "curve": "bn128",
    }


class NativeVerifier:
    """groth16py's prepared verifier for one snarkjs ``verification_key.json``."""

    def __init__(self, vk: str | os.PathLike[str]) -> None:
        """Load ``vk``; VerificationError if it is unreadable or not a BN254 Groth16 key."""
        self._groth16py = load_groth16py()
        try:
            key = self._groth16py.VerifyingKey.from_snarkjs_file(os.fspath(vk))
        except (self._groth16py.EncodingError, self._groth16py.VerificationError) as exc:
            raise VerificationError(f"verification key {os.fspath(vk)!r}: {exc}") from None
        self._verifier = self._groth16py.Verifier(key)

    def verify(self, proof: Mapping[str, Any], public: Sequence[int | str]) -> bool:
        """True iff ``proof`` (snarkjs JSON) is valid for ``public`` under the key.

        Like :func:`verifier.verify`: a malformed proof, a wrong number of public signals or a
        signal >= r raises VerificationError; a well-formed proof that does not verify is False.
        """
        try:
            return bool(
                self._verifier.verify_snarkjs(
                    json.dumps(dict(proof)), json.dumps([str(value) for value in public])
                )
            )
        except (self._groth16py.EncodingError, self._groth16py.VerificationError) as exc:
            raise VerificationError(f"native verifier: {exc}") from None

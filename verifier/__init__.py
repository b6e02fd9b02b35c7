"""Pure-Python Groth16 verifier for snarkjs files on BN254 (py_ecc), with batch verification.

Reads the snarkjs ``verification_key.json``, ``proof.json`` and ``public.json`` of any Groth16
circuit. Malformed input raises :class:`~zkmargin.errors.VerificationError`; a well-formed proof
that does not verify makes the verifier return False. This package never runs Node or any other
subprocess and does not depend on the prover.
"""

from verifier.batch import verify_batch
from verifier.encoding import load_public_signals, parse_public_signals
from verifier.groth16 import verify, verify_files
from verifier.proof import Proof, load_proof, parse_proof
from verifier.vkey import VerifyingKey, load_verifying_key, parse_verifying_key

__all__ = [
    "Proof",
    "VerifyingKey",
    "load_proof",
    "load_public_signals",
    "load_verifying_key",
    "parse_proof",
    "parse_public_signals",
    "parse_verifying_key",
    "verify",
    "verify_batch",
    "verify_files",
]

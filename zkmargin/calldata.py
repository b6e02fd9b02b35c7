"""Solidity calldata of a Groth16 proof, in pure Python (no Node).

snarkjs's verifier contract takes ``verifyProof(uint[2] pA, uint[2][2] pB, uint[2] pC,
uint[n] pubSignals)``. An Fq2 coordinate ``c0 + c1*i`` is written ``[c0, c1]`` in snarkjs's
``proof.json`` but read imaginary part first by the EIP-197 pairing precompile, so
``pB = [[x.c1, x.c0], [y.c1, y.c0]]`` (as ``snarkjs zkey export soliditycalldata`` prints it).

Every argument of ``verifyProof`` and of ``MarginGate.checkMargin`` is static, so the ABI
encoding of a call is the 4-byte function selector followed by one 32-byte big-endian word per
integer, in argument order. A selector is the first 4 bytes of the keccak-256 of its
signature; keccak is not in the standard library (``hashlib.sha3_256`` is the NIST variant), so
the selectors are kept as constants and tests recompute them from the signatures (eth-utils, the
``evm`` extra) and compare them with the compiled contracts' method identifiers.

Points are taken already validated (on the curve, in the subgroup: :class:`verifier.Proof`);
the encoding checks only that each value fits its ABI type, so a caller can also encode a
deliberately invalid public input (the contracts must reject it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from zkmargin.errors import InputError
from zkmargin.profiles import PUBLIC_SIGNALS

G1 = tuple[int, int]
G2 = tuple[tuple[int, int], tuple[int, int]]

VERIFY_PROOF_SIGNATURE = (
    f"verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[{len(PUBLIC_SIGNALS)}])"
)
VERIFY_PROOF_SELECTOR = bytes.fromhex("5fe8c13b")
"""Selector of the margin circuits' verifier (four public signals: PUBLIC_SIGNALS)."""

CHECK_MARGIN_SIGNATURE = (
    "checkMargin(uint64,uint256,uint256,uint256[2],uint256[2][2],uint256[2])"
)
CHECK_MARGIN_SELECTOR = bytes.fromhex("9dce1d53")
"""Selector of ``MarginGate.checkMargin``."""

WORD_BITS = 256
EPOCH_BITS = 64


class ProofPoints(Protocol):
    """An affine Groth16 proof: ``a``, ``c`` in G1 and ``b`` in G2 as ``((x.c0, x.c1), (y.c0, y.c1))``."""

    @property
    def a(self) -> G1: ...

    @property
    def b(self) -> G2: ...

    @property
    def c(self) -> G1: ...


def proof_words(proof: ProofPoints) -> list[int]:
    """``pA, pB, pC`` flattened in calldata order, G2 coordinates as ``[c1, c0]``."""
    (x0, x1), (y0, y1) = proof.b
    return [*proof.a, x1, x0, y1, y0, *proof.c]


def snarkjs_calldata(proof: ProofPoints, public: Sequence[int]) -> str:
    """The verifier's arguments as ``snarkjs zkey export soliditycalldata`` prints them."""
    a0, a1, bx1, bx0, by1, by0, c0, c1 = (_hex_word(w) for w in proof_words(proof))
    signals = ",".join(_hex_word(s) for s in public)
    return f"[{a0}, {a1}],[[{bx1}, {bx0}],[{by1}, {by0}]],[{c0}, {c1}],[{signals}]"


def verify_proof_call(proof: ProofPoints, public: Sequence[int]) -> bytes:
    """ABI-encoded call of a margin verifier's ``verifyProof`` (selector + arguments)."""
    if len(public) != len(PUBLIC_SIGNALS):
        raise InputError(
            f"verifyProof of a margin circuit takes {len(PUBLIC_SIGNALS)} public signals "
            f"({', '.join(PUBLIC_SIGNALS)}), got {len(public)}"
        )
    return VERIFY_PROOF_SELECTOR + abi_words([*proof_words(proof), *public])


def check_margin_call(epoch: int, holder: int, threshold_bps: int, proof: ProofPoints) -> bytes:
    """ABI-encoded call of ``MarginGate.checkMargin(epoch, holder, thresholdBps, pA, pB, pC)``.

    ``holder`` is the field element of the account's leaf (an address as an integer);
    ``threshold_bps`` is in basis points of MM (10000 = equity equals MM).
    """
    if not 0 <= epoch < 1 << EPOCH_BITS:
        raise InputError(f"epoch {epoch} does not fit checkMargin's uint64")
    return CHECK_MARGIN_SELECTOR + abi_words([epoch, holder, threshold_bps, *proof_words(proof)])


def abi_words(values: Sequence[int]) -> bytes:
    """Static ABI encoding: each value as one 32-byte big-endian word."""
    return b"".join(_word(v).to_bytes(WORD_BITS // 8, "big") for v in values)


def _word(value: int) -> int:
    if not 0 <= value < 1 << WORD_BITS:
        raise InputError(f"{value} does not fit a uint256")
    return value


def _hex_word(value: int) -> str:
    """A word the way snarkjs quotes it: ``"0x"`` + 64 hex digits, in double quotes."""
    return f'"0x{_word(value):064x}"'

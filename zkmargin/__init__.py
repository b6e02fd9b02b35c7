"""zkmargin: zero-knowledge margin proofs. The engine (models, fixed point, commitments, margin
models) lives here; the prover in ``prover``, the pure-Python verifier in ``verifier``."""

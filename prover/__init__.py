"""zkmargin's prover: the generic circom 2 + snarkjs Groth16 toolchain and its margin glue.

Toolchain modules, each usable for any circom circuit:
``toolchain`` (Node/npm, the pinned tools, the one subprocess helper), ``build`` (compile with a
build cache), ``r1cs`` (.r1cs/.sym parsing, in-process constraint check), ``witness`` (in-process
witness generation with wasmtime, .wtns I/O), ``snarkjs`` (typed snarkjs commands), ``ptau``
(powers-of-tau size rule, lookup, dev generation), ``setup`` (phase-2 keys and their manifest),
``binfile`` (the iden3 binary container) and ``cache`` (the per-user cache and file hashing).
"""

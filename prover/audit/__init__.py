"""The auditor's toolkit behind ``zkmargin audit``: checks that need no trust in the project.

One module per check, each returning a :class:`~prover.audit.result.CheckResult`:

* :mod:`~prover.audit.build_check`: recompile from source, compare r1cs / wasm with the manifest;
* :mod:`~prover.audit.key_check`: ``zkey verify`` against r1cs + ptau, vk = zkey, contributions;
* :mod:`~prover.audit.facts`: constraint counts, public signals and their order, template args;
* :mod:`~prover.audit.differential`: engine vs circuit witness on random and boundary accounts,
  and hint-understatement probes (:mod:`~prover.audit.cheats`);
* :mod:`~prover.audit.mutation`: under-constraint scan of the proven (O2) constraint system;
* :mod:`~prover.audit.static`: circomspect and circheck over ``circuits/``.

:mod:`~prover.audit.runner` runs them, :mod:`~prover.audit.report` writes Markdown and JSON, and
findings the project accepts are justified in the checked-in ``allowlist.toml`` beside this file.
"""

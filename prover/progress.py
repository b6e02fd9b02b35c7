"""Progress lines for long work, on stderr, whether or not stderr is a terminal.

:class:`StepReporter` prints one line per step of a known sequence (``setup portfolio_small:
step 2/5 zkey contribute, 14 s elapsed, about 95 s left``) so a user, a CI log or a supervisor
sees that the work moves and roughly how long it still takes.
"""

from __future__ import annotations

import sys
import time


class StepReporter:
    """Announces the steps of one piece of work with the elapsed time and an estimate."""

    def __init__(self, what: str, steps: int, estimate_seconds: float | None = None) -> None:
        """``estimate_seconds``: the whole work's expected wall time, None if unknown."""
        self.what = what
        self.steps = steps
        self.estimate_seconds = estimate_seconds
        self.done = 0
        self.started = time.monotonic()

    def step(self, name: str) -> None:
        """Announce the next step, ``name``."""
        self.done += 1
        elapsed = time.monotonic() - self.started
        left = ""
        if self.estimate_seconds is not None:
            left = f", about {max(self.estimate_seconds - elapsed, 0):.0f} s left"
        self._print(f"step {self.done}/{self.steps} {name}, {elapsed:.0f} s elapsed{left}")

    def finish(self) -> None:
        """Announce the end of the work with its total time."""
        self._print(f"done in {time.monotonic() - self.started:.0f} s")

    def _print(self, text: str) -> None:
        print(f"{self.what}: {text}", file=sys.stderr, flush=True)

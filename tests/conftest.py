"""Suite-wide test settings: hypothesis profiles and the opt-in markers.

Hypothesis profile, chosen by the environment variable ``HYPOTHESIS_PROFILE`` (default ``ci``):

* ``dev``: few random examples, for quick local iterations;
* ``ci``: 100 derandomized examples (the same on every run), no deadline;
* ``fuzz``: 5000 random examples, no deadline (``make fuzz``).

Tests marked ``fuzz`` or ``slow`` (see pyproject.toml) run only when a ``-m`` expression names
the marker, e.g. ``pytest -m fuzz``.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=20, deadline=None)
settings.register_profile("ci", derandomize=True, deadline=None, max_examples=100)
settings.register_profile("fuzz", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

OPT_IN_MARKERS = ("fuzz", "slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip opt-in tests unless the ``-m`` expression asks for their marker."""
    selected = config.getoption("markexpr") or ""
    for item in items:
        for marker in OPT_IN_MARKERS:
            if item.get_closest_marker(marker) and marker not in selected:
                item.add_marker(pytest.mark.skip(reason=f"opt-in: run with -m {marker}"))

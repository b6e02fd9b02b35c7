"""Where the benchmark scripts record their tables: ``benchmarks/RESULTS.md``, with the machine."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
RESULTS_HEADER = "# Benchmark results\n\nAppended by the scripts in this folder, newest last; each entry names its machine.\n"


def machine() -> str:
    """Platform, CPU, Python and numpy versions, and the current load."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
        cpu = names[0] if names else cpu
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{platform.platform()}, {os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
            f"numpy {np.__version__}, load average {load}")


def record(section: str, report: str) -> None:
    """Append ``report`` under a dated ``## section`` heading to RESULTS.md."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if not RESULTS.exists():
        RESULTS.write_text(RESULTS_HEADER)
    with RESULTS.open("a") as results:
        results.write(f"\n## {section}: {stamp}\n\n{report}")
    print(f"appended to {RESULTS}")

"""Margin status of registered holders per epoch, from the stored proofs.

Per holder and epoch (thresholds in bps of maintenance margin):

* ``healthy``: a verified proof at or above the holder's minimum;
* ``margin_call``: the best verified proof is below the minimum (the holder must add collateral
  and prove again by the epoch's deadline);
* ``pending``: no proof yet, the deadline has not passed;
* ``late``: no proof and the deadline has passed (treated as a margin call by the risk desk).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

Status = Literal["healthy", "margin_call", "pending", "late"]
#: Statuses listed by ``GET /v1/margin-calls``.
CALLED: tuple[Status, ...] = ("margin_call", "late")


@dataclass(frozen=True)
class HolderEpoch:
    holder: str
    epoch: int
    status: Status
    proven_bps: int | None     # highest verified threshold, None without a proof
    required_bps: int
    deadline: float            # unix seconds

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def status_of(proven_bps: int | None, required_bps: int, deadline: float, now: float) -> Status:
    if proven_bps is not None:
        return "healthy" if proven_bps >= required_bps else "margin_call"
    return "pending" if now < deadline else "late"


def epoch_statuses(epoch: int, deadline: float, best: Mapping[str, int], registry: Mapping[str, int],
                   now: float) -> list[HolderEpoch]:
    """Every registered holder's status in ``epoch`` (``best``: highest proven bps per holder)."""
    return [HolderEpoch(h, epoch, status_of(best.get(h), req, deadline, now), best.get(h), req, deadline)
            for h, req in sorted(registry.items())]


def summary(statuses: list[HolderEpoch]) -> dict[str, int]:
    """Counts of an epoch: holders, proved (healthy), below requirement, missing (pending + late), late."""
    count = {s: sum(1 for x in statuses if x.status == s) for s in ("healthy", "margin_call", "pending", "late")}
    return {"holders": len(statuses), "proved": count["healthy"], "below_requirement": count["margin_call"],
            "missing": count["pending"] + count["late"], "late": count["late"]}

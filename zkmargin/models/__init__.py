"""Pydantic models at zkmargin's edges: risk snapshot, account (and their JSON Schemas)."""

from zkmargin.models.account import Account, Allocation, Balance, Position, new_salt
from zkmargin.models.snapshot import (CollateralAsset, Group, HaircutTier, Instrument, Kind, MarginParams,
                                      RiskSnapshot, Scenario)

__all__ = ["Account", "Allocation", "Balance", "CollateralAsset", "Group", "HaircutTier", "Instrument", "Kind",
           "MarginParams", "Position", "RiskSnapshot", "Scenario", "new_salt"]

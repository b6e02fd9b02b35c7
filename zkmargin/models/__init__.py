"""Pydantic models at zkmargin's edges: risk snapshot, account, ledger, statement, epoch (and their JSON Schemas)."""

from zkmargin.models.account import Account, Allocation, Balance, Position
from zkmargin.models.snapshot import (CollateralAsset, Group, HaircutTier, Instrument, Kind, MarginParams,
                                      RiskSnapshot, Scenario)
from zkmargin.models.statement import Epoch, EpochHeader, LedgerEntry, Statement, TreeShape

__all__ = ["Account", "Allocation", "Balance", "CollateralAsset", "Epoch", "EpochHeader", "Group", "HaircutTier",
           "Instrument", "Kind", "LedgerEntry", "MarginParams", "Position", "RiskSnapshot", "Scenario", "Statement",
           "TreeShape"]

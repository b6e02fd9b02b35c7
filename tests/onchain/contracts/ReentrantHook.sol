// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.24;

import {ILiquidationHook, MarginRegistry} from "./MarginRegistry.sol";

/// @notice A hostile liquidation hook: on a liquidation it re-enters the registry to liquidate
///         the same holder for another epoch (`target`).
contract ReentrantHook is ILiquidationHook {
    MarginRegistry public immutable registry;
    uint64 public immutable target;

    constructor(MarginRegistry registry_, uint64 target_) {
        registry = registry_;
        target = target_;
    }

    function onLiquidatable(uint256 holder, uint64) external {
        registry.liquidate(target, holder);
    }
}

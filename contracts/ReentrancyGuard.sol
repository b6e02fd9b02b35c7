// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.24;

/// @notice A function marked `nonReentrant` cannot be entered again, directly or through
///         another `nonReentrant` function of the same contract, before it returns.
abstract contract ReentrancyGuard {
    uint256 private _entered;

    /// @notice A `nonReentrant` function was re-entered.
    error Reentrancy();

    modifier nonReentrant() {
        if (_entered != 0) revert Reentrancy();
        _entered = 1;
        _;
        _entered = 0;
    }
}

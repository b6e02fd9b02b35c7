// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.24;

/// @notice A hostile payment token: `transferFrom` calls back the contract it was armed with
///         (bubbling its revert), to re-enter the auction in the middle of a bid. It keeps no
///         balances: every transfer "succeeds".
contract HostileToken {
    address public target;
    bytes public data;

    function arm(address target_, bytes calldata data_) external {
        target = target_;
        data = data_;
    }

    function transferFrom(address, address, uint256) external returns (bool) {
        (bool ok, bytes memory reason) = target.call(data);
        if (!ok) {
            assembly {
                revert(add(reason, 32), mload(reason))
            }
        }
        return true;
    }

    function transfer(address, uint256) external pure returns (bool) {
        return true;
    }

    function approve(address, uint256) external pure returns (bool) {
        return true;
    }
}

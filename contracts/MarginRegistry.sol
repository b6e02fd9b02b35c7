// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.24;

import {IMarginVerifier, MarginGate} from "./MarginGate.sol";
import {ReentrancyGuard} from "./ReentrancyGuard.sol";

/// @notice What a protocol runs when a holder's margin call goes uncured (`MarginRegistry.liquidate`).
interface ILiquidationHook {
    function onLiquidatable(uint256 holder, uint64 epoch) external;
}

/// @title MarginRegistry: the margin-call lifecycle a protocol runs on MarginGate's proofs.
/// @notice The owner (the protocol) registers each holder with its required threshold (bps of
///         MM) and sets the schedule: every epoch published is due `proofWindow` seconds after
///         its publication (the deadline), with `gracePeriod` seconds more to cure. Per epoch and
///         registered holder the state is
///         - `Pending`: before the deadline, no qualifying proof yet;
///         - `Healthy`: a proof at or above the required threshold arrived by the deadline;
///         - `MarginCall`: the deadline passed without one (anyone may `flagMarginCall`);
///         - `Cured`: a qualifying proof arrived within the grace period;
///         - `Liquidatable`: the grace period ended uncured (anyone may `liquidate`);
///         - `Liquidated`: `liquidate` ran the protocol's `ILiquidationHook`.
///         A holder is due for every epoch published after its registration and before its
///         deregistration; registration is once per holder, so no holder sheds a due epoch.
/// @dev A qualifying proof is fixed by its block time: a timely proof makes the epoch Healthy
///      for good; a proof after the grace period is still recorded by the gate but cures nothing.
contract MarginRegistry is MarginGate, ReentrancyGuard {
    enum Status {
        NotDue,
        Pending,
        Healthy,
        MarginCall,
        Cured,
        Liquidatable,
        Liquidated
    }

    /// @notice The timetable of one epoch, fixed when it is published (unix seconds).
    struct Schedule {
        uint64 publishedAt;
        uint64 deadline;
        uint64 graceEnd;
    }

    /// @notice A holder's registration: due for epochs published in [since, until).
    struct Registration {
        uint64 since;
        uint64 until;
        uint256 requiredThresholdBps;
    }

    uint64 private constant NEVER = type(uint64).max;

    /// @notice Seconds from an epoch's publication to its proof deadline (applies to later epochs).
    uint64 public proofWindow;
    /// @notice Seconds after the deadline during which a qualifying proof cures a margin call.
    uint64 public gracePeriod;
    /// @notice Called by `liquidate`; the zero address until the owner sets it.
    ILiquidationHook public liquidationHook;

    mapping(uint64 epoch => Schedule) public schedules;
    mapping(uint256 holder => Registration) public registrations;
    /// @notice Block time of the first proof at or above the holder's requirement (0: none).
    mapping(uint64 epoch => mapping(uint256 holder => uint64 time)) public qualifiedAt;
    mapping(uint64 epoch => mapping(uint256 holder => bool)) public flagged;
    mapping(uint64 epoch => mapping(uint256 holder => bool)) public liquidated;
    /// @notice Margin calls flagged and neither cured nor liquidated, per holder.
    mapping(uint256 holder => uint256 count) public openMarginCalls;

    event ScheduleSet(uint64 proofWindow, uint64 gracePeriod);
    event LiquidationHookSet(address hook);
    event EpochScheduled(uint64 indexed epoch, uint64 deadline, uint64 graceEnd);
    event HolderRegistered(uint256 indexed holder, uint256 requiredThresholdBps);
    event RequiredThresholdSet(uint256 indexed holder, uint256 requiredThresholdBps);
    event HolderDeregistered(uint256 indexed holder);
    event ProvedHealthy(uint64 indexed epoch, uint256 indexed holder, uint256 thresholdBps);
    event MarginCalled(uint64 indexed epoch, uint256 indexed holder, uint64 graceEnd, address flagger);
    event MarginCallCured(uint64 indexed epoch, uint256 indexed holder, uint256 thresholdBps);
    event HolderLiquidated(uint64 indexed epoch, uint256 indexed holder, address liquidator);

    /// @notice The proof window must be at least one second.
    error InvalidSchedule(uint64 proofWindow, uint64 gracePeriod);
    /// @notice A required threshold below the gate's minimum (or not a field element).
    error InvalidRequiredThreshold(uint256 requiredThresholdBps);
    /// @notice Holders register once (a deregistered holder stays on record).
    error AlreadyRegistered(uint256 holder);
    /// @notice The holder is not registered (any more).
    error NotRegistered(uint256 holder);
    /// @notice The holder has flagged margin calls neither cured nor liquidated.
    error OpenMarginCalls(uint256 holder, uint256 count);
    /// @notice The holder owes nothing for this epoch (registered after it, or deregistered before).
    error NotDue(uint64 epoch, uint256 holder);
    /// @notice The epoch and holder are not in the state the call needs.
    error WrongStatus(uint64 epoch, uint256 holder, Status status);
    /// @notice The margin call is already flagged.
    error AlreadyFlagged(uint64 epoch, uint256 holder);
    /// @notice No liquidation hook is set.
    error NoLiquidationHook();

    constructor(
        IMarginVerifier verifier_,
        address owner_,
        uint256 minThresholdBps_,
        uint64 proofWindow_,
        uint64 gracePeriod_
    ) MarginGate(verifier_, owner_, minThresholdBps_) {
        _setSchedule(proofWindow_, gracePeriod_);
    }

    /// @notice Set the proof window and grace period (seconds) of epochs published from now on.
    function setSchedule(uint64 proofWindow_, uint64 gracePeriod_) external onlyOwner {
        _setSchedule(proofWindow_, gracePeriod_);
    }

    /// @notice Set the contract `liquidate` calls (the zero address disables liquidation).
    function setLiquidationHook(ILiquidationHook hook) external onlyOwner {
        liquidationHook = hook;
        emit LiquidationHookSet(address(hook));
    }

    /// @notice Register `holder`: due from the next epoch published, at `requiredThresholdBps`.
    function register(uint256 holder, uint256 requiredThresholdBps) external onlyOwner {
        if (registrations[holder].since != 0) revert AlreadyRegistered(holder);
        if (holder >= SNARK_SCALAR_FIELD) revert NotAFieldElement(holder);
        _checkRequired(requiredThresholdBps);
        registrations[holder] = Registration(uint64(block.timestamp), NEVER, requiredThresholdBps);
        emit HolderRegistered(holder, requiredThresholdBps);
    }

    /// @notice Change a registered holder's requirement; proofs already qualified stay so.
    function setRequiredThreshold(uint256 holder, uint256 requiredThresholdBps) external onlyOwner {
        _checkRequired(requiredThresholdBps);
        registrations[_active(holder)].requiredThresholdBps = requiredThresholdBps;
        emit RequiredThresholdSet(holder, requiredThresholdBps);
    }

    /// @notice End `holder`'s registration: epochs published from now on are not due; epochs
    ///         already due stay due. Refused while a flagged margin call is open.
    function deregister(uint256 holder) external onlyOwner {
        uint256 open = openMarginCalls[_active(holder)];
        if (open != 0) revert OpenMarginCalls(holder, open);
        registrations[holder].until = uint64(block.timestamp);
        emit HolderDeregistered(holder);
    }

    /// @notice True while `holder` is registered (not deregistered).
    function isRegistered(uint256 holder) public view returns (bool) {
        Registration storage r = registrations[holder];
        return r.since != 0 && r.until == NEVER;
    }

    /// @notice The state of `holder` in `epoch` now (UnknownEpoch if it was never published).
    function status(uint64 epoch, uint256 holder) public view returns (Status) {
        Schedule memory s = schedules[epoch];
        if (s.publishedAt == 0) revert UnknownEpoch(epoch);
        Registration storage r = registrations[holder];
        if (r.since == 0 || r.since > s.publishedAt || r.until <= s.publishedAt) return Status.NotDue;
        if (liquidated[epoch][holder]) return Status.Liquidated;
        uint64 qualified = qualifiedAt[epoch][holder];
        if (qualified != 0) return qualified <= s.deadline ? Status.Healthy : Status.Cured;
        if (block.timestamp <= s.deadline) return Status.Pending;
        if (block.timestamp <= s.graceEnd) return Status.MarginCall;
        return Status.Liquidatable;
    }

    /// @notice Announce that `holder` missed `epoch`'s deadline (anyone; once per epoch and holder).
    function flagMarginCall(uint64 epoch, uint256 holder) external {
        Status current = status(epoch, holder);
        if (current == Status.NotDue) revert NotDue(epoch, holder);
        if (current != Status.MarginCall && current != Status.Liquidatable) {
            revert WrongStatus(epoch, holder, current);
        }
        if (flagged[epoch][holder]) revert AlreadyFlagged(epoch, holder);
        flagged[epoch][holder] = true;
        openMarginCalls[holder] += 1;
        emit MarginCalled(epoch, holder, schedules[epoch].graceEnd, msg.sender);
    }

    /// @notice Liquidate `holder` for `epoch` once its grace period ended uncured (anyone; once):
    ///         records it, then calls the protocol's hook.
    function liquidate(uint64 epoch, uint256 holder) external nonReentrant {
        Status current = status(epoch, holder);
        if (current != Status.Liquidatable) revert WrongStatus(epoch, holder, current);
        ILiquidationHook hook = liquidationHook;
        if (address(hook) == address(0)) revert NoLiquidationHook();
        liquidated[epoch][holder] = true;
        if (flagged[epoch][holder]) openMarginCalls[holder] -= 1;
        emit HolderLiquidated(epoch, holder, msg.sender);
        hook.onLiquidatable(holder, epoch);
    }

    function _afterEpochPublished(uint64 epoch) internal override {
        uint64 deadline = uint64(block.timestamp) + proofWindow;
        uint64 graceEnd = deadline + gracePeriod;
        schedules[epoch] = Schedule(uint64(block.timestamp), deadline, graceEnd);
        emit EpochScheduled(epoch, deadline, graceEnd);
    }

    function _afterMarginChecked(uint64 epoch, uint256 holder, uint256 thresholdBps) internal override {
        Status current = status(epoch, holder);
        if (current != Status.Pending && current != Status.MarginCall) return;
        if (thresholdBps < registrations[holder].requiredThresholdBps) return;
        qualifiedAt[epoch][holder] = uint64(block.timestamp);
        if (current == Status.Pending) {
            emit ProvedHealthy(epoch, holder, thresholdBps);
        } else {
            if (flagged[epoch][holder]) openMarginCalls[holder] -= 1;
            emit MarginCallCured(epoch, holder, thresholdBps);
        }
    }

    function _setSchedule(uint64 proofWindow_, uint64 gracePeriod_) private {
        if (proofWindow_ == 0) revert InvalidSchedule(proofWindow_, gracePeriod_);
        proofWindow = proofWindow_;
        gracePeriod = gracePeriod_;
        emit ScheduleSet(proofWindow_, gracePeriod_);
    }

    function _checkRequired(uint256 requiredThresholdBps) private view {
        if (requiredThresholdBps < minThresholdBps || requiredThresholdBps >= SNARK_SCALAR_FIELD) {
            revert InvalidRequiredThreshold(requiredThresholdBps);
        }
    }

    function _active(uint256 holder) private view returns (uint256) {
        if (!isRegistered(holder)) revert NotRegistered(holder);
        return holder;
    }
}

// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.24;

/// @notice The snarkjs Groth16 verifier of one zkmargin circuit (`zkmargin export-solidity`).
/// @dev Public signals in the circuit's order (zkmargin.profiles.PUBLIC_SIGNALS):
///      snapshot_root, account_root, holder, threshold_bps. G2 coordinates as [c1, c0].
interface IMarginVerifier {
    function verifyProof(
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC,
        uint256[4] calldata pubSignals
    ) external view returns (bool);
}

/// @title MarginGate: on-chain check of zkmargin proofs of venue-attested accounts.
/// @notice The owner (the venue, or the protocol relaying its signed epoch.json) publishes once
///         per epoch the snapshot root of the circuit's profile and the account root of the
///         venue's account tree. Anyone may then submit a proof that the account the venue
///         attests for `holder` in that epoch has equity of at least MM x thresholdBps / 10000.
///         A valid proof is recorded (the highest threshold proven per epoch and holder) and
///         announced by `MarginChecked`; anything else reverts with a custom error.
/// @dev `holder` is the field element the venue wrote in the account's leaf: an EVM address
///      (below 2**160) or any other identifier. When `requireSenderIsHolder` is set, a proof for
///      an address holder is accepted only from that address.
contract MarginGate {
    /// @notice r, the BN254 scalar field order: every public signal must be below it.
    uint256 public constant SNARK_SCALAR_FIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @notice The roots the owner published for one epoch (both zero: not published).
    struct EpochRoots {
        uint256 snapshotRoot;
        uint256 accountRoot;
    }

    /// @notice The Groth16 verifier of the circuit this gate accepts proofs for.
    IMarginVerifier public immutable verifier;

    /// @notice Who may publish epochs, change parameters and hand the role over.
    address public owner;

    /// @notice The least threshold (bps of MM) a proof must claim to be accepted; never 0.
    uint256 public minThresholdBps;

    /// @notice When true, a proof for a holder below 2**160 is accepted only from that address.
    bool public requireSenderIsHolder;

    /// @notice The roots published for each epoch.
    mapping(uint64 epoch => EpochRoots roots) public epochRoots;

    /// @notice The highest threshold (bps of MM) proven per epoch and holder (0: none).
    mapping(uint64 epoch => mapping(uint256 holder => uint256 thresholdBps)) public provenThresholdBps;

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event EpochPublished(uint64 indexed epoch, uint256 snapshotRoot, uint256 accountRoot);
    event MinThresholdSet(uint256 minThresholdBps);
    event RequireSenderIsHolderSet(bool required);
    event MarginChecked(
        uint64 indexed epoch, uint256 indexed holder, uint256 thresholdBps, address indexed submitter
    );

    /// @notice The caller is not the owner.
    error NotOwner(address caller);
    /// @notice The zero address was given for the verifier or the owner.
    error ZeroAddress();
    /// @notice A root must be a non-zero field element.
    error InvalidRoot(uint256 root);
    /// @notice Epochs are final: an epoch's roots cannot be replaced.
    error EpochAlreadyPublished(uint64 epoch);
    /// @notice No roots have been published for this epoch.
    error UnknownEpoch(uint64 epoch);
    /// @notice The minimum threshold must be a non-zero field element.
    error InvalidMinThreshold(uint256 minThresholdBps);
    /// @notice The proof claims a threshold below the owner's minimum.
    error ThresholdBelowMinimum(uint256 thresholdBps, uint256 minThresholdBps);
    /// @notice `requireSenderIsHolder` is set and the holder is an address other than the sender.
    error SenderNotHolder(address sender, uint256 holder);
    /// @notice A public signal is not below the scalar field order r.
    error NotAFieldElement(uint256 value);
    /// @notice The proof does not verify for this epoch's roots, the holder and the threshold.
    error InvalidProof(uint64 epoch, uint256 holder, uint256 thresholdBps);

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor(IMarginVerifier verifier_, address owner_, uint256 minThresholdBps_) {
        if (address(verifier_) == address(0) || owner_ == address(0)) revert ZeroAddress();
        verifier = verifier_;
        owner = owner_;
        emit OwnershipTransferred(address(0), owner_);
        _setMinThreshold(minThresholdBps_);
    }

    /// @notice Publish `epoch`'s roots from the venue's signed epoch.json: the snapshot root of
    ///         this gate's circuit profile (`snapshot_roots[profile]`) and `account_root`. Once.
    function publishEpoch(uint64 epoch, uint256 snapshotRoot, uint256 accountRoot) external onlyOwner {
        _checkRoot(snapshotRoot);
        _checkRoot(accountRoot);
        if (epochRoots[epoch].snapshotRoot != 0) revert EpochAlreadyPublished(epoch);
        epochRoots[epoch] = EpochRoots(snapshotRoot, accountRoot);
        emit EpochPublished(epoch, snapshotRoot, accountRoot);
        _afterEpochPublished(epoch);
    }

    /// @notice Set the least threshold (bps of MM) a proof must claim; 0 is refused.
    function setMinThresholdBps(uint256 minThresholdBps_) external onlyOwner {
        _setMinThreshold(minThresholdBps_);
    }

    /// @notice Require (or not) that a proof for an address holder comes from that address.
    function setRequireSenderIsHolder(bool required) external onlyOwner {
        requireSenderIsHolder = required;
        emit RequireSenderIsHolderSet(required);
    }

    /// @notice Hand the owner role to `newOwner` (e.g. the venue's multisig).
    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// @notice Succeeds only if the proof verifies for the roots published for `epoch`, `holder`
    ///         and `thresholdBps` (at least `minThresholdBps`); records and announces the result.
    function checkMargin(
        uint64 epoch,
        uint256 holder,
        uint256 thresholdBps,
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC
    ) external {
        EpochRoots memory roots = epochRoots[epoch];
        if (roots.snapshotRoot == 0) revert UnknownEpoch(epoch);
        if (holder >= SNARK_SCALAR_FIELD) revert NotAFieldElement(holder);
        if (thresholdBps >= SNARK_SCALAR_FIELD) revert NotAFieldElement(thresholdBps);
        if (thresholdBps < minThresholdBps) revert ThresholdBelowMinimum(thresholdBps, minThresholdBps);
        if (requireSenderIsHolder && holder >> 160 == 0 && msg.sender != address(uint160(holder))) {
            revert SenderNotHolder(msg.sender, holder);
        }
        uint256[4] memory signals = [roots.snapshotRoot, roots.accountRoot, holder, thresholdBps];
        if (!verifier.verifyProof(pA, pB, pC, signals)) revert InvalidProof(epoch, holder, thresholdBps);
        if (thresholdBps > provenThresholdBps[epoch][holder]) {
            provenThresholdBps[epoch][holder] = thresholdBps;
        }
        emit MarginChecked(epoch, holder, thresholdBps, msg.sender);
        _afterMarginChecked(epoch, holder, thresholdBps);
    }

    /// @dev Extension point: called once an epoch's roots are published.
    function _afterEpochPublished(uint64 epoch) internal virtual {}

    /// @dev Extension point: called after every accepted proof, once it is recorded.
    function _afterMarginChecked(uint64 epoch, uint256 holder, uint256 thresholdBps) internal virtual {}

    function _setMinThreshold(uint256 minThresholdBps_) private {
        if (minThresholdBps_ == 0 || minThresholdBps_ >= SNARK_SCALAR_FIELD) {
            revert InvalidMinThreshold(minThresholdBps_);
        }
        minThresholdBps = minThresholdBps_;
        emit MinThresholdSet(minThresholdBps_);
    }

    function _checkRoot(uint256 root) private pure {
        if (root == 0 || root >= SNARK_SCALAR_FIELD) revert InvalidRoot(root);
    }
}

// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.24;

/// @notice The snarkjs Groth16 verifier of one zkmargin circuit (`zkmargin export-solidity`).
/// @dev Public signals in the circuit's order (zkmargin.profiles.PUBLIC_SIGNALS):
///      snapshot_root, account_commitment, threshold_bps. G2 coordinates as [c1, c0].
interface IMarginVerifier {
    function verifyProof(
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC,
        uint256[3] calldata pubSignals
    ) external view returns (bool);
}

/// @title MarginGate: on-chain check of zkmargin proofs.
/// @notice The owner (the venue) publishes the snapshot root of each epoch once. Anyone may then
///         submit a proof that the account behind `accountCommitment` has equity of at least
///         MM x thresholdBps / 10000 under that epoch's snapshot. A valid proof is recorded (the
///         highest threshold proven per epoch and commitment) and announced by `MarginChecked`;
///         anything else reverts with a custom error.
/// @dev The proof attests to a commitment, not to `msg.sender`: whoever holds a proof may submit
///      it. A protocol binds commitments to its own accounts and applies its own minimum threshold.
contract MarginGate {
    /// @notice r, the BN254 scalar field order: every public signal must be below it.
    uint256 public constant SNARK_SCALAR_FIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @notice The Groth16 verifier of the circuit this gate accepts proofs for.
    IMarginVerifier public immutable verifier;

    /// @notice Who may publish snapshot roots and hand the role over.
    address public owner;

    /// @notice The accepted snapshot root of each epoch (0: none published).
    mapping(uint64 epoch => uint256 root) public snapshotRoot;

    /// @notice The highest threshold (bps of MM) proven per epoch and account commitment.
    mapping(uint64 epoch => mapping(uint256 accountCommitment => uint256 thresholdBps))
        public provenThresholdBps;

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event SnapshotRootSet(uint64 indexed epoch, uint256 root);
    event MarginChecked(
        uint64 indexed epoch,
        uint256 indexed accountCommitment,
        uint256 thresholdBps,
        address indexed submitter
    );

    /// @notice The caller is not the owner.
    error NotOwner(address caller);
    /// @notice The zero address was given for the verifier or the owner.
    error ZeroAddress();
    /// @notice A snapshot root must be a non-zero field element.
    error InvalidRoot(uint256 root);
    /// @notice Roots are final: an epoch's root cannot be replaced.
    error RootAlreadySet(uint64 epoch, uint256 root);
    /// @notice No snapshot root has been published for this epoch.
    error UnknownEpoch(uint64 epoch);
    /// @notice A public signal is not below the scalar field order r.
    error NotAFieldElement(uint256 value);
    /// @notice The proof does not verify for this epoch's root, commitment and threshold.
    error InvalidProof(uint64 epoch, uint256 accountCommitment, uint256 thresholdBps);

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor(IMarginVerifier verifier_, address owner_) {
        if (address(verifier_) == address(0) || owner_ == address(0)) revert ZeroAddress();
        verifier = verifier_;
        owner = owner_;
        emit OwnershipTransferred(address(0), owner_);
    }

    /// @notice Publish the snapshot root of `epoch` (`zkmargin snapshot root`); once per epoch.
    function setSnapshotRoot(uint64 epoch, uint256 root) external onlyOwner {
        if (root == 0 || root >= SNARK_SCALAR_FIELD) revert InvalidRoot(root);
        uint256 current = snapshotRoot[epoch];
        if (current != 0) revert RootAlreadySet(epoch, current);
        snapshotRoot[epoch] = root;
        emit SnapshotRootSet(epoch, root);
    }

    /// @notice Hand the owner role to `newOwner` (e.g. the venue's multisig).
    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// @notice Succeeds only if the proof verifies for the root published for `epoch`,
    ///         `accountCommitment` and `thresholdBps`; records and announces the result.
    function checkMargin(
        uint64 epoch,
        uint256 accountCommitment,
        uint256 thresholdBps,
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC
    ) external {
        uint256 root = snapshotRoot[epoch];
        if (root == 0) revert UnknownEpoch(epoch);
        if (accountCommitment >= SNARK_SCALAR_FIELD) revert NotAFieldElement(accountCommitment);
        if (thresholdBps >= SNARK_SCALAR_FIELD) revert NotAFieldElement(thresholdBps);
        if (!verifier.verifyProof(pA, pB, pC, [root, accountCommitment, thresholdBps])) {
            revert InvalidProof(epoch, accountCommitment, thresholdBps);
        }
        if (thresholdBps > provenThresholdBps[epoch][accountCommitment]) {
            provenThresholdBps[epoch][accountCommitment] = thresholdBps;
        }
        emit MarginChecked(epoch, accountCommitment, thresholdBps, msg.sender);
    }
}

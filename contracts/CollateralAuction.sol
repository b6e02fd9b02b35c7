// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.24;

import {ILiquidationHook} from "./MarginRegistry.sol";
import {ReentrancyGuard} from "./ReentrancyGuard.sol";

/// @notice The ERC-20 calls the auction makes (tokens must return true or revert).
interface IERC20 {
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}

/// @notice What the auction asks the registry: may a holder take its collateral back?
interface IHolderRegistry {
    function isRegistered(uint256 holder) external view returns (bool);
}

/// @title CollateralAuction: escrowed collateral, sold in a Dutch auction on liquidation.
/// @notice The reference `ILiquidationHook`. A holder (an address: holder = uint160(address))
///         escrows `collateral` here; it can take it back only once the protocol deregistered it
///         from the registry. When the registry liquidates the holder, all its escrow goes on
///         auction: the price, in `payment` units, starts at the escrow's reference value
///         (`amount x collateralPrice / 1e18`) plus `startPremiumBps` and falls linearly to
///         `floorBps` of that value over `duration` seconds, then stays there. The first bidder
///         pays the current price and takes the collateral; the proceeds go to the protocol up to
///         the holder's recorded debt, the remainder to the holder.
contract CollateralAuction is ILiquidationHook, ReentrancyGuard {
    uint256 public constant BPS = 10_000;
    uint256 public constant PRICE_SCALE = 1e18;

    struct Auction {
        uint256 amount;
        uint256 startPrice;
        uint256 floorPrice;
        uint64 startedAt;
        uint64 epoch;
    }

    IHolderRegistry public immutable registry;
    IERC20 public immutable collateral;
    IERC20 public immutable payment;
    /// @notice Receives the proceeds and sets debts and the reference price.
    address public immutable protocol;
    uint256 public immutable startPremiumBps;
    uint256 public immutable floorBps;
    uint64 public immutable duration;

    /// @notice Reference price: `payment` units per 1e18 `collateral` units.
    uint256 public collateralPrice;
    mapping(uint256 holder => uint256 amount) public escrowed;
    /// @notice What the holder owes the protocol, in `payment` units.
    mapping(uint256 holder => uint256 amount) public debt;
    mapping(uint256 holder => Auction) public auctions;

    event Deposited(uint256 indexed holder, uint256 amount);
    event Withdrawn(uint256 indexed holder, uint256 amount);
    event DebtSet(uint256 indexed holder, uint256 amount);
    event CollateralPriceSet(uint256 price);
    event AuctionStarted(
        uint256 indexed holder, uint64 indexed epoch, uint256 amount, uint256 startPrice, uint256 floorPrice
    );
    event AuctionSold(
        uint256 indexed holder, address indexed bidder, uint256 amount, uint256 price, uint256 toProtocol,
        uint256 toHolder
    );

    error ZeroAddress();
    error InvalidCurve(uint256 startPremiumBps, uint256 floorBps, uint64 duration);
    error NotProtocol(address caller);
    error NotRegistry(address caller);
    error ZeroAmount();
    error StillRegistered(uint256 holder);
    error InsufficientEscrow(uint256 holder, uint256 escrowed, uint256 amount);
    error NoCollateral(uint256 holder);
    error AuctionLive(uint256 holder);
    error NoAuction(uint256 holder);
    error TransferFailed();

    constructor(
        IHolderRegistry registry_,
        IERC20 collateral_,
        IERC20 payment_,
        address protocol_,
        uint256 collateralPrice_,
        uint256 startPremiumBps_,
        uint256 floorBps_,
        uint64 duration_
    ) {
        if (
            address(registry_) == address(0) || address(collateral_) == address(0)
                || address(payment_) == address(0) || protocol_ == address(0)
        ) revert ZeroAddress();
        if (duration_ == 0 || floorBps_ > BPS + startPremiumBps_) {
            revert InvalidCurve(startPremiumBps_, floorBps_, duration_);
        }
        registry = registry_;
        collateral = collateral_;
        payment = payment_;
        protocol = protocol_;
        startPremiumBps = startPremiumBps_;
        floorBps = floorBps_;
        duration = duration_;
        collateralPrice = collateralPrice_;
        emit CollateralPriceSet(collateralPrice_);
    }

    /// @notice Escrow `amount` of collateral for the sender (approve it first).
    function deposit(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        uint256 holder = uint160(msg.sender);
        escrowed[holder] += amount;
        emit Deposited(holder, amount);
        _pull(collateral, msg.sender, address(this), amount);
    }

    /// @notice Take escrowed collateral back: only once the protocol has deregistered the sender.
    function withdraw(uint256 amount) external nonReentrant {
        uint256 holder = uint160(msg.sender);
        if (registry.isRegistered(holder)) revert StillRegistered(holder);
        if (auctions[holder].amount != 0) revert AuctionLive(holder);
        uint256 held = escrowed[holder];
        if (amount == 0) revert ZeroAmount();
        if (amount > held) revert InsufficientEscrow(holder, held, amount);
        escrowed[holder] = held - amount;
        emit Withdrawn(holder, amount);
        _push(collateral, msg.sender, amount);
    }

    /// @notice Record what `holder` owes the protocol (payment units).
    function setDebt(uint256 holder, uint256 amount) external {
        if (msg.sender != protocol) revert NotProtocol(msg.sender);
        debt[holder] = amount;
        emit DebtSet(holder, amount);
    }

    /// @notice Set the reference price (payment units per 1e18 collateral units) of later auctions.
    function setCollateralPrice(uint256 price) external {
        if (msg.sender != protocol) revert NotProtocol(msg.sender);
        collateralPrice = price;
        emit CollateralPriceSet(price);
    }

    /// @notice The registry's liquidation: put all of `holder`'s escrow on auction.
    function onLiquidatable(uint256 holder, uint64 epoch) external {
        if (msg.sender != address(registry)) revert NotRegistry(msg.sender);
        if (auctions[holder].amount != 0) revert AuctionLive(holder);
        uint256 amount = escrowed[holder];
        if (amount == 0) revert NoCollateral(holder);
        uint256 value = amount * collateralPrice / PRICE_SCALE;
        uint256 startPrice = value * (BPS + startPremiumBps) / BPS;
        uint256 floorPrice = value * floorBps / BPS;
        escrowed[holder] = 0;
        auctions[holder] = Auction(amount, startPrice, floorPrice, uint64(block.timestamp), epoch);
        emit AuctionStarted(holder, epoch, amount, startPrice, floorPrice);
    }

    /// @notice The price of `holder`'s live auction now (NoAuction if there is none).
    function currentPrice(uint256 holder) public view returns (uint256) {
        Auction storage a = auctions[holder];
        if (a.amount == 0) revert NoAuction(holder);
        return priceAt(a.startPrice, a.floorPrice, duration, block.timestamp - a.startedAt);
    }

    /// @notice The Dutch auction curve: `startPrice` at 0, linear down to `floorPrice` at
    ///         `duration_` seconds, `floorPrice` after (rounded up: never below the line).
    function priceAt(uint256 startPrice, uint256 floorPrice, uint64 duration_, uint256 elapsed)
        public
        pure
        returns (uint256)
    {
        if (elapsed >= duration_) return floorPrice;
        uint256 drop = (startPrice - floorPrice) * elapsed / duration_;
        return startPrice - drop;
    }

    /// @notice Buy `holder`'s auctioned collateral at the current price (approve the payment first).
    function bid(uint256 holder) external nonReentrant {
        uint256 price = currentPrice(holder);
        uint256 amount = auctions[holder].amount;
        delete auctions[holder];
        uint256 owed = debt[holder];
        uint256 toProtocol = price < owed ? price : owed;
        uint256 toHolder = price - toProtocol;
        debt[holder] = owed - toProtocol;
        emit AuctionSold(holder, msg.sender, amount, price, toProtocol, toHolder);
        _pull(payment, msg.sender, protocol, toProtocol);
        if (toHolder != 0) _pull(payment, msg.sender, address(uint160(holder)), toHolder);
        _push(collateral, msg.sender, amount);
    }

    function _pull(IERC20 token, address from, address to, uint256 amount) private {
        if (!token.transferFrom(from, to, amount)) revert TransferFailed();
    }

    function _push(IERC20 token, address to, uint256 amount) private {
        if (!token.transfer(to, amount)) revert TransferFailed();
    }
}

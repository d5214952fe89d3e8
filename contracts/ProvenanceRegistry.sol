// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";

import {IActorRegistry} from "./interfaces/IActorRegistry.sol";
import {BizSteps, IProvenanceRegistry} from "./interfaces/IProvenanceRegistry.sol";
import {Roles, TraceChainZeroAddress, TraceChainZeroHash} from "./Common.sol";

/// @title ProvenanceRegistry
/// @notice Products, their custody and status, and a hash chain over each product's events.
///         Writes accept ERC-2771 meta-transactions from the deployment's trusted forwarder.
contract ProvenanceRegistry is IProvenanceRegistry, ERC2771Context {
    // ---------------------------------------------------------------- storage
    /// Role checks already passed by the sender within one batch (bit flags).
    uint256 private constant _CHECKED_MANUFACTURER = 1;
    uint256 private constant _CHECKED_RETAILER = 2;
    uint256 private constant _CHECKED_INSPECTOR = 4;
    uint256 private constant _CHECKED_SUPPLY_CHAIN = 8;

    /// The registry every role check asks.
    IActorRegistry private immutable _registry;
    /// Product state by key.
    mapping(bytes32 productKey => Product) private _products;
    /// Hash of the recall notice by product key (set once, on recall).
    mapping(bytes32 productKey => bytes32 reasonHash) private _recallReasons;

    // ---------------------------------------------------------------- constructor
    /// @param actorRegistry The deployment's ActorRegistry.
    /// @param trustedForwarder The ERC-2771 forwarder that may relay signed requests.
    constructor(address actorRegistry, address trustedForwarder) ERC2771Context(trustedForwarder) {
        if (actorRegistry == address(0)) revert TraceChainZeroAddress();
        _registry = IActorRegistry(actorRegistry);
    }

    // ---------------------------------------------------------------- writes
    /// @inheritdoc IProvenanceRegistry
    function registerProduct(string calldata productId, bytes32 metadataHash) external returns (bytes32) {
        address manufacturer = _msgSender();
        _registry.requireActive(manufacturer, Roles.MANUFACTURER);
        return _register(productId, metadataHash, manufacturer);
    }

    /// @inheritdoc IProvenanceRegistry
    function registerProducts(string[] calldata productIds, bytes32[] calldata metadataHashes) external {
        uint256 n = productIds.length;
        if (n == 0) revert ProvenanceRegistryEmptyBatch();
        if (n != metadataHashes.length) revert ProvenanceRegistryLengthMismatch(n, metadataHashes.length);
        address manufacturer = _msgSender();
        _registry.requireActive(manufacturer, Roles.MANUFACTURER);
        for (uint256 i = 0; i < n; ++i) {
            _register(productIds[i], metadataHashes[i], manufacturer);
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function recordEvent(bytes32 productKey, bytes32 eventId, bytes32 documentHash, uint8 bizStep)
        external
        returns (bytes32 head)
    {
        (head,) = _record(productKey, eventId, documentHash, bizStep, _msgSender(), 0);
    }

    /// @inheritdoc IProvenanceRegistry
    function recordEvents(EventInput[] calldata events) external {
        uint256 n = events.length;
        if (n == 0) revert ProvenanceRegistryEmptyBatch();
        address actor = _msgSender();
        uint256 checked = 0;
        for (uint256 i = 0; i < n; ++i) {
            EventInput calldata e = events[i];
            (, checked) = _record(e.productKey, e.eventId, e.documentHash, e.bizStep, actor, checked);
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function transferCustody(bytes32 productKey, address to) external {
        if (to == address(0)) revert TraceChainZeroAddress();
        Product storage product = _requireProduct(productKey);
        address sender = _msgSender();
        address custodian = product.custodian;
        if (sender != custodian) revert ProvenanceRegistryNotCustodian(productKey, sender, custodian);
        if (to == custodian) revert ProvenanceRegistryAlreadyCustodian(productKey, to);
        _requireSupplyChainActor(sender);
        _requireSupplyChainActor(to);
        product.custodian = to;
        emit CustodyTransferred(productKey, sender, to);
    }

    /// @inheritdoc IProvenanceRegistry
    function recallProduct(bytes32 productKey, bytes32 reasonHash) external {
        if (reasonHash == bytes32(0)) revert TraceChainZeroHash();
        Product storage product = _requireProduct(productKey);
        if (product.status == ProductStatus.Recalled) revert ProvenanceRegistryProductRecalled(productKey);
        address sender = _msgSender();
        _registry.requireActive(sender, sender == product.manufacturer ? Roles.MANUFACTURER : Roles.GOVERNANCE);
        product.status = ProductStatus.Recalled;
        _recallReasons[productKey] = reasonHash;
        emit ProductRecalled(productKey, sender, reasonHash);
    }

    // ---------------------------------------------------------------- reads
    /// @inheritdoc IProvenanceRegistry
    function getProduct(bytes32 productKey) external view returns (Product memory) {
        return _products[productKey];
    }

    /// @inheritdoc IProvenanceRegistry
    function recallReason(bytes32 productKey) external view returns (bytes32) {
        return _recallReasons[productKey];
    }

    /// @inheritdoc IProvenanceRegistry
    function productKeyOf(string calldata productId) external pure returns (bytes32) {
        return keccak256(bytes(productId));
    }

    /// @inheritdoc IProvenanceRegistry
    function genesisHead(bytes32 productKey, address manufacturer, bytes32 metadataHash)
        external
        pure
        returns (bytes32)
    {
        return _genesisHead(productKey, manufacturer, metadataHash);
    }

    /// @inheritdoc IProvenanceRegistry
    function nextHead(
        bytes32 previousHead,
        bytes32 productKey,
        bytes32 eventId,
        bytes32 documentHash,
        uint8 bizStep,
        address actor,
        uint64 timestamp
    ) external pure returns (bytes32) {
        return _nextHead(previousHead, productKey, eventId, documentHash, bizStep, actor, timestamp);
    }

    // ---------------------------------------------------------------- internals
    function _register(string calldata productId, bytes32 metadataHash, address manufacturer)
        private
        returns (bytes32 productKey)
    {
        if (bytes(productId).length == 0) revert ProvenanceRegistryEmptyProductId();
        productKey = keccak256(bytes(productId));
        if (_products[productKey].status != ProductStatus.None) revert ProvenanceRegistryProductExists(productKey);
        _products[productKey] = Product({
            custodian: manufacturer,
            eventCount: 0,
            status: ProductStatus.Active,
            manufacturer: manufacturer,
            registeredAt: uint64(block.timestamp),
            head: _genesisHead(productKey, manufacturer, metadataHash)
        });
        emit ProductRegistered(productKey, manufacturer, productId, metadataHash);
    }

    /// @dev Checks, extends the chain and emits; `checked` carries role checks already passed by
    ///      `actor` in this transaction so a batch asks the registry once per role.
    function _record(
        bytes32 productKey,
        bytes32 eventId,
        bytes32 documentHash,
        uint8 bizStep,
        address actor,
        uint256 checked
    ) private returns (bytes32 head, uint256) {
        if (eventId == bytes32(0) || documentHash == bytes32(0)) revert TraceChainZeroHash();
        Product storage product = _products[productKey];
        ProductStatus status = product.status;
        if (status == ProductStatus.None) revert ProvenanceRegistryUnknownProduct(productKey);
        checked = _authorise(productKey, product.custodian, status, bizStep, actor, checked);
        uint32 index = product.eventCount;
        uint64 timestamp = uint64(block.timestamp);
        head = _nextHead(product.head, productKey, eventId, documentHash, bizStep, actor, timestamp);
        product.eventCount = index + 1;
        product.head = head;
        emit ProductEventRecorded(productKey, actor, eventId, documentHash, bizStep, index, timestamp);
        return (head, checked);
    }

    /// @dev The rules of the interface NatSpec: who may record `bizStep` on this product.
    function _authorise(
        bytes32 productKey,
        address custodian,
        ProductStatus status,
        uint8 bizStep,
        address actor,
        uint256 checked
    ) private view returns (uint256) {
        if (bizStep == 0 || (bizStep > BizSteps.LAST_CBV && bizStep != BizSteps.EXTENSION)) {
            revert ProvenanceRegistryUnknownBizStep(bizStep);
        }
        if (actor != custodian) {
            if (bizStep != BizSteps.INSPECTING && bizStep != BizSteps.SAMPLING) {
                revert ProvenanceRegistryNotCustodian(productKey, actor, custodian);
            }
            return _requireRole(actor, Roles.INSPECTOR, _CHECKED_INSPECTOR, checked);
        }
        if (
            bizStep == BizSteps.COMMISSIONING || bizStep == BizSteps.CREATING_CLASS_INSTANCE
                || bizStep == BizSteps.ENCODING
        ) {
            return _requireRole(actor, Roles.MANUFACTURER, _CHECKED_MANUFACTURER, checked);
        }
        if (bizStep == BizSteps.RETAIL_SELLING) {
            if (status == ProductStatus.Recalled) revert ProvenanceRegistryProductRecalled(productKey);
            return _requireRole(actor, Roles.RETAILER, _CHECKED_RETAILER, checked);
        }
        if (
            (bizStep == BizSteps.INSPECTING || bizStep == BizSteps.SAMPLING)
                && _registry.isActive(actor, Roles.INSPECTOR)
        ) {
            return checked; // an inspector may inspect what it holds, whatever its other roles
        }
        if (checked & _CHECKED_SUPPLY_CHAIN == 0) {
            _requireSupplyChainActor(actor);
            checked |= _CHECKED_SUPPLY_CHAIN;
        }
        return checked;
    }

    function _requireRole(address account, bytes32 role, uint256 flag, uint256 checked)
        private
        view
        returns (uint256)
    {
        if (checked & flag == 0) _registry.requireActive(account, role);
        return checked | flag;
    }

    /// @dev Passes for active logistics, manufacturer or retail actors (asked in that order: the most
    ///      frequent custodians first); otherwise reverts with the registry's own error for unknown or
    ///      suspended accounts, else NotSupplyChainActor.
    function _requireSupplyChainActor(address account) private view {
        IActorRegistry registry = _registry;
        if (
            registry.isActive(account, Roles.LOGISTICS) || registry.isActive(account, Roles.MANUFACTURER)
                || registry.isActive(account, Roles.RETAILER)
        ) return;
        registry.requireActor(account);
        revert ProvenanceRegistryNotSupplyChainActor(account);
    }

    function _requireProduct(bytes32 productKey) private view returns (Product storage product) {
        product = _products[productKey];
        if (product.status == ProductStatus.None) revert ProvenanceRegistryUnknownProduct(productKey);
    }

    function _genesisHead(bytes32 productKey, address manufacturer, bytes32 metadataHash)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(productKey, manufacturer, metadataHash));
    }

    function _nextHead(
        bytes32 previousHead,
        bytes32 productKey,
        bytes32 eventId,
        bytes32 documentHash,
        uint8 bizStep,
        address actor,
        uint64 timestamp
    ) private pure returns (bytes32) {
        return keccak256(abi.encode(previousHead, productKey, eventId, documentHash, bizStep, actor, timestamp));
    }

    // _msgSender/_msgData/_contextSuffixLength come from ERC2771Context: it is the only Context
    // in this contract's ancestry, so relayed calls see the signer without further overrides.
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IProvenanceRegistry
/// @notice Product provenance for one TraceChain deployment. A product is keyed by
///         `keccak256(utf8(canonical product ID))`. Its manufacturer registers it; afterwards the
///         product keeps its manufacturer, current custodian, status, event count and the head of a
///         hash chain that every recorded supply-chain event extends:
///
///             head_0 = keccak256(abi.encode(productKey, manufacturer, metadataHash))
///             head_n = keccak256(abi.encode(head_{n-1}, productKey, eventId, documentHash,
///                                           bizStep, actor, timestamp))
///
///         where `eventId` is the SHA-256 digest of the event's GS1 CBV 2.0 Event Hash ID,
///         `documentHash` is keccak256 of the RFC 8785 canonical JSON of the full EPCIS event
///         document, `bizStep` the event's CBV business-step code (see `BizSteps`), `actor` the
///         account that recorded it and `timestamp` the block time (uint64). Recomputing the chain
///         from the events (logs or an index) and matching `head` and `eventCount` proves the list
///         is complete, ordered and unaltered. Full documents stay off-chain.
///
///         Who may record which event:
///         - `commissioning`, `creating_class_instance`, `encoding`: the custodian, as an active
///           MANUFACTURER;
///         - `retail_selling`: the custodian, as an active RETAILER, and never on a recalled product;
///         - `inspecting`, `sampling`: the custodian, or any active INSPECTOR;
///         - every other step: the custodian, as an active MANUFACTURER, LOGISTICS or RETAILER actor.
///         Every write also works as an ERC-2771 request relayed through the trusted forwarder.
interface IProvenanceRegistry {
    /// @notice Lifecycle of a product; `None` means never registered.
    enum ProductStatus {
        None,
        Active,
        Recalled
    }

    /// @notice On-chain state of a product (three storage slots).
    struct Product {
        address custodian; // who holds the product now and may record its events
        uint32 eventCount; // events recorded so far
        ProductStatus status;
        address manufacturer; // who registered it; may recall it
        uint64 registeredAt; // block timestamp of registration
        bytes32 head; // hash-chain head after `eventCount` events
    }

    /// @notice One event to record with `recordEvents`.
    struct EventInput {
        bytes32 productKey;
        bytes32 eventId; // SHA-256 digest of the GS1 CBV 2.0 Event Hash ID
        bytes32 documentHash; // keccak256 of the RFC 8785 canonical EPCIS event document
        uint8 bizStep; // CBV business-step code (`BizSteps`)
    }

    /// @notice The product ID to register was empty.
    error ProvenanceRegistryEmptyProductId();
    /// @notice A product with key `productKey` is already registered.
    error ProvenanceRegistryProductExists(bytes32 productKey);
    /// @notice No product with key `productKey` is registered.
    error ProvenanceRegistryUnknownProduct(bytes32 productKey);
    /// @notice `account` is not the current custodian (`custodian`) of `productKey`.
    error ProvenanceRegistryNotCustodian(bytes32 productKey, address account, address custodian);
    /// @notice `bizStep` is not a business-step code this contract knows.
    error ProvenanceRegistryUnknownBizStep(uint8 bizStep);
    /// @notice `productKey` is recalled: it may not be recalled again or sold at retail.
    error ProvenanceRegistryProductRecalled(bytes32 productKey);
    /// @notice `account` is not an active manufacturer, logistics or retail actor.
    error ProvenanceRegistryNotSupplyChainActor(address account);
    /// @notice `account` already is the custodian of `productKey`.
    error ProvenanceRegistryAlreadyCustodian(bytes32 productKey, address account);
    /// @notice A batch write was given no items.
    error ProvenanceRegistryEmptyBatch();
    /// @notice Parallel arrays of a batch write differ in length.
    error ProvenanceRegistryLengthMismatch(uint256 productIds, uint256 metadataHashes);

    /// @notice Emitted when `manufacturer` registers `productId` (its key is keccak256(utf8(productId))).
    event ProductRegistered(
        bytes32 indexed productKey, address indexed manufacturer, string productId, bytes32 metadataHash
    );
    /// @notice Emitted for every recorded event; `index` is its 0-based position in the product's
    ///         chain and `timestamp` the block time hashed into the chain.
    event ProductEventRecorded(
        bytes32 indexed productKey,
        address indexed actor,
        bytes32 indexed eventId,
        bytes32 documentHash,
        uint8 bizStep,
        uint32 index,
        uint64 timestamp
    );
    /// @notice Emitted when custody of `productKey` passes from `from` to `to`.
    event CustodyTransferred(bytes32 indexed productKey, address indexed from, address indexed to);
    /// @notice Emitted when `by` (its manufacturer or governance) recalls `productKey`.
    event ProductRecalled(bytes32 indexed productKey, address indexed by, bytes32 reasonHash);

    /// @notice Registers a product; the caller (an active MANUFACTURER) becomes its manufacturer and
    ///         first custodian.
    /// @param productId The canonical product ID (see docs/PROTOCOL.md); its key is keccak256 of it.
    /// @param metadataHash Canonical hash of the product's metadata document (may be zero).
    /// @return productKey keccak256(utf8(productId)).
    function registerProduct(string calldata productId, bytes32 metadataHash) external returns (bytes32 productKey);

    /// @notice Registers many products in one transaction; all or none.
    function registerProducts(string[] calldata productIds, bytes32[] calldata metadataHashes) external;

    /// @notice Records one event, extending the product's hash chain.
    /// @param productKey The product.
    /// @param eventId SHA-256 digest of the event's GS1 CBV 2.0 Event Hash ID (non-zero).
    /// @param documentHash keccak256 of the RFC 8785 canonical event document (non-zero).
    /// @param bizStep The event's CBV business-step code.
    /// @return head The product's new hash-chain head.
    function recordEvent(bytes32 productKey, bytes32 eventId, bytes32 documentHash, uint8 bizStep)
        external
        returns (bytes32 head);

    /// @notice Records many events (for one or many products, in order) in one transaction; all or none.
    function recordEvents(EventInput[] calldata events) external;

    /// @notice Hands custody of `productKey` to `to`, an active manufacturer, logistics or retail
    ///         actor. Only the current custodian, itself active in one of those roles.
    function transferCustody(bytes32 productKey, address to) external;

    /// @notice Recalls `productKey`. Its manufacturer (an active MANUFACTURER) or governance.
    /// @param reasonHash Canonical hash of the recall notice document (non-zero).
    function recallProduct(bytes32 productKey, bytes32 reasonHash) external;

    /// @notice The state of `productKey` (all zero, status None, if it is not registered).
    function getProduct(bytes32 productKey) external view returns (Product memory);

    /// @notice The reason hash of the recall of `productKey` (zero unless recalled).
    function recallReason(bytes32 productKey) external view returns (bytes32);

    /// @notice The key of `productId`: keccak256 of its UTF-8 bytes.
    function productKeyOf(string calldata productId) external pure returns (bytes32);

    /// @notice The hash-chain head of a freshly registered product.
    function genesisHead(bytes32 productKey, address manufacturer, bytes32 metadataHash)
        external
        pure
        returns (bytes32);

    /// @notice The head after appending one event to `previousHead`.
    function nextHead(
        bytes32 previousHead,
        bytes32 productKey,
        bytes32 eventId,
        bytes32 documentHash,
        uint8 bizStep,
        address actor,
        uint64 timestamp
    ) external pure returns (bytes32);
}

/// @title BizSteps
/// @notice One-byte codes of the GS1 CBV 2.0 business steps: 1-41 in the CBV's alphabetical
///         order (accepting = 1 ... void_shipping = 41); 255 = a non-CBV (extension) business
///         step, named in the event document. 0 and 42-254 are invalid.
library BizSteps {
    uint8 internal constant COMMISSIONING = 5;
    uint8 internal constant CREATING_CLASS_INSTANCE = 7;
    uint8 internal constant ENCODING = 14;
    uint8 internal constant INSPECTING = 17;
    uint8 internal constant RETAIL_SELLING = 30;
    uint8 internal constant SAMPLING = 31;
    uint8 internal constant LAST_CBV = 41;
    uint8 internal constant EXTENSION = 255;
}

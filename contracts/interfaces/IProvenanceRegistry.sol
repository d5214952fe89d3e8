// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IProvenanceRegistry
/// @notice Supply-chain provenance for one TraceChain deployment (protocol version 2).
///
///         A *subject* is anything an EPCIS 2.0 event can name: a serialised item (SGTIN), a lot or
///         product class, a logistic unit (SSCC), a returnable asset, a location, an opaque ID. It
///         is keyed by `subjectKey = keccak256(utf8(canonical identifier))` (docs/PROTOCOL.md
///         gives the canonical forms). Every subject has a hash chain that every entry about it
///         extends, so the list of its entries is provably complete, ordered and unaltered:
///
///             head_0 = keccak256(abi.encode(subjectKey, originator, metadataHash))
///             head_n = keccak256(abi.encode(head_{n-1}, kind, ref, documentHash, code, actor, timestamp))
///
///         with `kind` an `EntryKinds` code, `ref` and `documentHash` as that kind defines,
///         `code` the CBV business-step code of an event (`BizSteps`, 0 otherwise), `actor` the
///         account that wrote the entry (`address`) and `timestamp` the block time (`uint64`).
///         An EPCIS event that names several subjects (a pallet and its cases, the inputs and
///         outputs of a transformation) is one entry in each of their chains.
///
///         Instance-level subjects (an item, a pallet, an asset) have one *custodian* at a time:
///         only it records their events (an INSPECTOR may also inspect or sample), and custody
///         moves by `transferCustody` (custodian to custodian) or `forceCustody` (governance, with
///         a reason). Class-level subjects (a lot, a product class, a location) are *open*: any
///         active supply-chain actor may record their events. Who may record which business step:
///         - commissioning, creating_class_instance, encoding: an active MANUFACTURER;
///         - retail_selling: an active RETAILER, never on a recalled subject;
///         - inspecting, sampling: an active INSPECTOR (custodian or not) or supply-chain actor;
///         - every other step: an active MANUFACTURER, LOGISTICS or RETAILER actor.
///         A subject is created by the first write that names it (its creator becomes originator
///         and, unless open, custodian); `recall` is for its originator (an active MANUFACTURER)
///         or governance. Custody changes and recalls are entries of the chain too, so a trace
///         proves its custody history and its recall.
///
///         Duplicates are not refused on-chain (a storage slot per event would triple the gas):
///         the service refuses a re-sent event before sending, and verifiers read a repeated
///         Event Hash ID in a chain as one event recorded twice (docs/PROTOCOL.md).
///         Every write also works as an ERC-2771 request relayed through the trusted forwarder.
interface IProvenanceRegistry {
    /// @notice Lifecycle of a subject; `None` means never created.
    enum SubjectStatus {
        None,
        Active,
        Recalled
    }

    /// @notice A subject as the contract holds it (`head` is the head of its chain).
    struct Subject {
        address custodian; // zero for open subjects
        SubjectStatus status;
        bool open; // class-level: any supply-chain actor may record its events
        uint64 createdAt; // block time of creation
        address originator; // who created it (and may recall it)
        bytes32 head;
    }

    /// @notice A subject to create: its canonical identifier, a metadata document hash (may be
    ///         zero) and whether it is open (class-level) or held by a custodian.
    struct NewSubject {
        string identifier;
        bytes32 metadataHash;
        bool open;
    }

    /// @notice One EPCIS event (or error declaration) to append to the chains of `subjects`.
    struct EventInput {
        uint8 kind; // EntryKinds.EVENT or EntryKinds.ERROR_DECLARATION
        uint8 bizStep; // `BizSteps` code of the event (0: none)
        bytes32 eventId; // SHA-256 digest of the GS1 CBV 2.0 Event Hash ID
        bytes32 documentHash; // keccak256 of the RFC 8785 canonical event document
        bytes32[] subjects; // every subject the event names, each once
    }

    /// @notice A subject identifier was empty.
    error ProvenanceRegistryEmptyIdentifier();
    /// @notice `subjectKey` already exists.
    error ProvenanceRegistrySubjectExists(bytes32 subjectKey);
    /// @notice No subject has key `subjectKey`.
    error ProvenanceRegistryUnknownSubject(bytes32 subjectKey);
    /// @notice `account` is not the current custodian (`custodian`) of `subjectKey`.
    error ProvenanceRegistryNotCustodian(bytes32 subjectKey, address account, address custodian);
    /// @notice `bizStep` is not a business-step code this contract knows.
    error ProvenanceRegistryUnknownBizStep(uint8 bizStep);
    /// @notice `kind` is not an entry kind this write accepts.
    error ProvenanceRegistryInvalidKind(uint8 kind);
    /// @notice `subjectKey` is recalled: it may not be recalled again or sold at retail.
    error ProvenanceRegistrySubjectRecalled(bytes32 subjectKey);
    /// @notice `subjectKey` is open (class-level): it has no custodian to transfer.
    error ProvenanceRegistryOpenSubject(bytes32 subjectKey);
    /// @notice `account` is not an active manufacturer, logistics or retail actor.
    error ProvenanceRegistryNotSupplyChainActor(address account);
    /// @notice `account` already is the custodian of `subjectKey`.
    error ProvenanceRegistryAlreadyCustodian(bytes32 subjectKey, address account);
    /// @notice `account` is neither the originator of `subjectKey` (an active manufacturer) nor governance.
    error ProvenanceRegistryNotRecaller(bytes32 subjectKey, address account);
    /// @notice A write was given no items, or an event no subjects.
    error ProvenanceRegistryEmptyBatch();

    /// @notice Emitted when `originator` creates `subjectKey` = keccak256(utf8(identifier)).
    event SubjectCreated(
        bytes32 indexed subjectKey, address indexed originator, string identifier, bytes32 metadataHash, bool open
    );
    /// @notice Emitted for every entry appended to the chain of `subjectKey`: `kind`, `ref`,
    ///         `documentHash` and `code` as `EntryKinds` defines; the entry's timestamp is the
    ///         block's. Entries of one subject are its logs in (block, log index) order.
    event EntryAppended(
        bytes32 indexed subjectKey,
        bytes32 indexed ref,
        address indexed actor,
        uint8 kind,
        uint8 code,
        bytes32 documentHash
    );

    /// @notice Creates subjects; the caller (an active supply-chain actor) becomes their
    ///         originator and, for those not open, custodian. All or none.
    function createSubjects(NewSubject[] calldata subjects) external;

    /// @notice Creates `create` (as `createSubjects`), then appends `events` in order, each to the
    ///         chain of every subject it names. All or none.
    function recordEvents(NewSubject[] calldata create, EventInput[] calldata events) external;

    /// @notice Appends one EPCIS event that names one existing subject.
    /// @return head The subject's new head.
    function recordEvent(bytes32 subjectKey, bytes32 eventId, bytes32 documentHash, uint8 bizStep)
        external
        returns (bytes32 head);

    /// @notice Hands custody of `subjectKeys` to `to`, an active supply-chain actor. The caller
    ///         must be the custodian of each, itself an active supply-chain actor. Appends a
    ///         CUSTODY entry to each chain.
    function transferCustody(bytes32[] calldata subjectKeys, address to) external;

    /// @notice Governance moves custody of `subjectKey` to `to` (an active supply-chain actor),
    ///         e.g. when its custodian is suspended or lost its key. Appends a FORCED_CUSTODY entry.
    /// @param reasonHash Canonical hash of the reason document (non-zero).
    function forceCustody(bytes32 subjectKey, address to, bytes32 reasonHash) external;

    /// @notice Recalls `subjectKey`: its originator (an active MANUFACTURER) or governance.
    ///         Appends a RECALL entry.
    /// @param reasonHash Canonical hash of the recall notice document (non-zero).
    function recall(bytes32 subjectKey, bytes32 reasonHash) external;

    /// @notice The state of `subjectKey` (all zero, status None, if it does not exist).
    function getSubject(bytes32 subjectKey) external view returns (Subject memory);

    /// @notice The head of the chain of `subjectKey` (zero if it does not exist).
    function headOf(bytes32 subjectKey) external view returns (bytes32);

    /// @notice The reason hash of the recall of `subjectKey` (zero unless recalled).
    function recallReason(bytes32 subjectKey) external view returns (bytes32);

    /// @notice The key of `identifier`: keccak256 of its UTF-8 bytes.
    function subjectKeyOf(string calldata identifier) external pure returns (bytes32);

    /// @notice head_0 of a subject.
    function genesisHead(bytes32 subjectKey, address originator, bytes32 metadataHash)
        external
        pure
        returns (bytes32);

    /// @notice The head after appending one entry to `previousHead`.
    function nextHead(
        bytes32 previousHead,
        uint8 kind,
        bytes32 ref,
        bytes32 documentHash,
        uint8 code,
        address actor,
        uint64 timestamp
    ) external pure returns (bytes32);
}

/// @title EntryKinds
/// @notice What an entry of a subject's chain is, and what its `ref`, `documentHash` and `code` hold.
library EntryKinds {
    /// An EPCIS event: ref = its eventId, documentHash = its document hash, code = its bizStep.
    uint8 internal constant EVENT = 1;
    /// An EPCIS error declaration of an event recorded before: ref = the declared event's
    /// eventId (the declaration repeats the event, so its Event Hash ID is the same),
    /// documentHash = the declaration document's hash, code = its bizStep.
    uint8 internal constant ERROR_DECLARATION = 2;
    /// A custody hand-over: ref = the new custodian (`bytes32(uint256(uint160(to)))`), documentHash 0, code 0.
    uint8 internal constant CUSTODY = 3;
    /// Custody moved by governance: ref = the new custodian, documentHash = the reason's hash, code 0.
    uint8 internal constant FORCED_CUSTODY = 4;
    /// A recall: ref 0, documentHash = the recall notice's hash, code 0.
    uint8 internal constant RECALL = 5;
}

/// @title BizSteps
/// @notice One-byte codes of the GS1 CBV 2.0 business steps: 1-41 in the CBV's alphabetical
///         order (accepting = 1 ... void_shipping = 41); 255 = a non-CBV (extension) business
///         step, named in the event document; 0 = the event names no business step.
///         42-254 are invalid.
library BizSteps {
    uint8 internal constant NONE = 0;
    uint8 internal constant COMMISSIONING = 5;
    uint8 internal constant CREATING_CLASS_INSTANCE = 7;
    uint8 internal constant ENCODING = 14;
    uint8 internal constant INSPECTING = 17;
    uint8 internal constant RETAIL_SELLING = 30;
    uint8 internal constant SAMPLING = 31;
    uint8 internal constant LAST_CBV = 41;
    uint8 internal constant EXTENSION = 255;
}

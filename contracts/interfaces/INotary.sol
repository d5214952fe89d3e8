// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title INotary
/// @notice Proof that a business record (an order, a delivery note, an invoice, ...) existed at a
///         given time and, when co-signed, that the named parties agreed to it. Only the record's
///         hash goes on-chain: keccak256 of its RFC 8785 canonical JSON (see docs/PROTOCOL.md).
///
///         A record kind is a short ASCII name (`purchase_order`, `delivery`, ...) stored left-aligned
///         and zero-padded in a bytes32, exactly like the Solidity literal `bytes32("delivery")`.
///
///         Three ways to notarize:
///         - single: an actor with the notary role notarizes one record hash;
///         - co-signed: every named party signs the record (EIP-712 `CoSign`, domain
///           "TraceChainNotary" version "1"); the contract checks each signature with
///           OpenZeppelin SignatureChecker, so ERC-1271 contract wallets may sign too;
///         - batched: a notary anchors the Merkle root of many records. Leaves follow OpenZeppelin's
///           StandardMerkleTree with leaf encoding `(bytes32 recordHash, bytes32 kind)`, i.e.
///           `keccak256(bytes.concat(keccak256(abi.encode(recordHash, kind))))`, sorted pairs.
///
///         A record hash or a batch root is notarized at most once; a repeat reverts with an error
///         naming when the existing one was made, so a retried submission never makes a second.
interface INotary {
    /// @notice How a record was notarized on its own (batched records live under their root).
    enum Method {
        None, // not notarized individually
        Single,
        CoSigned
    }

    /// @notice A record notarized on its own. Zero everywhere when the hash is unknown.
    struct Record {
        bytes32 kind;
        bytes32 partiesHash; // keccak256(abi.encodePacked(parties)) when co-signed, else 0
        address notarizedBy; // the notary (single) or the account that submitted the signatures
        uint40 timestamp; // block timestamp of the notarization
        uint40 blockNumber;
        Method method;
    }

    /// @notice A batch of records anchored by its Merkle root. Zero everywhere when unknown.
    struct Batch {
        bytes32 metadataHash; // canonical hash of the off-chain batch manifest
        address notarizedBy;
        uint40 timestamp;
        uint40 blockNumber;
        uint32 recordCount;
    }

    /// @notice `recordHash` was already notarized in block `blockNumber` at `timestamp`.
    error NotaryRecordExists(bytes32 recordHash, uint256 blockNumber, uint256 timestamp);
    /// @notice A batch with Merkle root `root` was already anchored in block `blockNumber` at `timestamp`.
    error NotaryBatchExists(bytes32 root, uint256 blockNumber, uint256 timestamp);
    /// @notice A record kind must not be empty.
    error NotaryEmptyKind();
    /// @notice A batch must hold at least one record.
    error NotaryEmptyBatch();
    /// @notice A co-signed record needs between one and `max` parties; `count` were named.
    error NotaryPartyCount(uint256 count, uint256 max);
    /// @notice `party` is named more than once.
    error NotaryDuplicateParty(address party);
    /// @notice `parties` parties were named but `signatures` signatures given (one each, in order).
    error NotarySignatureCount(uint256 parties, uint256 signatures);
    /// @notice The signature at `index` is not a valid co-signature of `party`.
    error NotaryInvalidSignature(address party, uint256 index);
    /// @notice The co-signatures expired at `deadline` (a block timestamp).
    error NotarySignaturesExpired(uint256 deadline);

    /// @notice Emitted when a notary notarizes `recordHash` on its own.
    event RecordNotarized(bytes32 indexed recordHash, bytes32 indexed kind, address indexed notarizedBy);
    /// @notice Emitted when `parties` co-sign `recordHash`; `submittedBy` sent their signatures.
    event RecordCoSigned(
        bytes32 indexed recordHash, bytes32 indexed kind, address indexed submittedBy, address[] parties
    );
    /// @notice Emitted when a notary anchors a batch of `recordCount` records under `root`.
    event BatchAnchored(bytes32 indexed root, address indexed notarizedBy, uint32 recordCount, bytes32 metadataHash);

    /// @notice Notarizes one record hash. Needs the notary role.
    /// @param recordHash keccak256 of the record's canonical JSON.
    /// @param kind The record kind (short ASCII name in a bytes32).
    function notarize(bytes32 recordHash, bytes32 kind) external;

    /// @notice Notarizes a record hash that every party in `parties` signed. Anyone may submit it:
    ///         the signatures are the authority. Every party must be a registered actor in good
    ///         standing; each signature is checked with ERC-1271 for contract accounts, ECDSA otherwise.
    /// @param recordHash keccak256 of the record's canonical JSON.
    /// @param kind The record kind.
    /// @param parties The signing parties, in the order they signed the list (at most 32, no repeats).
    /// @param deadline Block timestamp after which the signatures are no longer accepted.
    /// @param signatures One EIP-712 `CoSign` signature per party, in the order of `parties`.
    function notarizeCoSigned(
        bytes32 recordHash,
        bytes32 kind,
        address[] calldata parties,
        uint256 deadline,
        bytes[] calldata signatures
    ) external;

    /// @notice Anchors a batch of records by the Merkle root of their leaves. Needs the notary role.
    /// @param root StandardMerkleTree root over `(bytes32 recordHash, bytes32 kind)` leaves.
    /// @param recordCount Number of leaves (records) in the tree.
    /// @param metadataHash Canonical hash of the off-chain batch manifest (may be zero).
    function notarizeBatch(bytes32 root, uint32 recordCount, bytes32 metadataHash) external;

    /// @notice The record notarized under `recordHash` (method `None` if there is none).
    function getRecord(bytes32 recordHash) external view returns (Record memory);

    /// @notice The batch anchored under `root` (recordCount 0 if there is none).
    function getBatch(bytes32 root) external view returns (Batch memory);

    /// @notice True when `recordHash` was notarized on its own (single or co-signed).
    function isNotarized(bytes32 recordHash) external view returns (bool);

    /// @notice True when `root` is an anchored batch and `proof` proves the leaf
    ///         `(recordHash, kind)` under it.
    function verifyInclusion(bytes32 root, bytes32 recordHash, bytes32 kind, bytes32[] calldata proof)
        external
        view
        returns (bool);

    /// @notice The StandardMerkleTree leaf of `(recordHash, kind)`.
    function leafHash(bytes32 recordHash, bytes32 kind) external pure returns (bytes32);

    /// @notice The EIP-712 digest each party signs to co-sign a record.
    function coSignDigest(bytes32 recordHash, bytes32 kind, address[] calldata parties, uint256 deadline)
        external
        view
        returns (bytes32);

    /// @notice The ActorRegistry this notary asks for roles.
    function actorRegistry() external view returns (address);
}

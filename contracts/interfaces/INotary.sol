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
///         Three ways to notarize, each stored under an id that names who vouches for the record,
///         so nobody who merely saw a record hash can pre-empt its notarization:
///         - single: a NOTARY notarizes one record hash; id = `singleRecordId(recordHash, kind, notary)`;
///         - co-signed: every named party signs the record (EIP-712 `CoSign`, domain
///           "TraceChainNotary" version "2"); the contract checks each signature with
///           OpenZeppelin SignatureChecker, so ERC-1271 contract wallets may sign too;
///           id = `coSignedRecordId(recordHash, kind, parties)`. What is stored is exactly what the
///           signatures cover; whoever submits them is not recorded;
///         - batched: a NOTARY anchors the Merkle root of many records; id = `batchId(root, notary)`.
///           Leaves follow OpenZeppelin's StandardMerkleTree with leaf encoding
///           `(bytes32 recordHash, bytes32 kind)`, i.e.
///           `keccak256(bytes.concat(keccak256(abi.encode(recordHash, kind))))`, sorted pairs.
///
///         An id is notarized at most once; a repeat reverts with an error naming when it was
///         made, so a retried submission never makes a second. Each record or batch takes one
///         storage slot (time, block, method or count): the rest is in the id and the logs.
interface INotary {
    /// @notice How a record was notarized.
    enum Method {
        None, // not notarized
        Single,
        CoSigned
    }

    /// @notice A record notarized on its own (one storage slot). Zero everywhere when the id is unknown.
    struct Record {
        uint40 timestamp; // block timestamp of the notarization
        uint40 blockNumber;
        Method method;
    }

    /// @notice A batch of records anchored by its Merkle root (one storage slot). Zero everywhere
    ///         when unknown.
    struct Batch {
        uint40 timestamp;
        uint40 blockNumber;
        uint32 recordCount;
    }

    /// @notice Record `id` was already notarized in block `blockNumber` at `timestamp`.
    error NotaryRecordExists(bytes32 id, uint256 blockNumber, uint256 timestamp);
    /// @notice Batch `id` (its root, by this notary) was already anchored in block `blockNumber` at `timestamp`.
    error NotaryBatchExists(bytes32 id, uint256 blockNumber, uint256 timestamp);
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

    /// @notice Emitted when `notary` notarizes `recordHash` on its own (record id
    ///         `singleRecordId(recordHash, kind, notary)`).
    event RecordNotarized(bytes32 indexed recordHash, bytes32 indexed kind, address indexed notary);
    /// @notice Emitted when `parties` co-sign `recordHash` (record id `coSignedRecordId(recordHash, kind,
    ///         parties)`; `partiesHash` = keccak256(abi.encodePacked(parties))).
    event RecordCoSigned(
        bytes32 indexed recordHash, bytes32 indexed kind, bytes32 indexed partiesHash, address[] parties
    );
    /// @notice Emitted when `notary` anchors a batch of `recordCount` records under `root`;
    ///         `metadataHash` commits to the off-chain batch manifest (may be zero).
    event BatchAnchored(bytes32 indexed root, address indexed notary, uint32 recordCount, bytes32 metadataHash);

    /// @notice Notarizes one record hash. Needs the notary role.
    /// @param recordHash keccak256 of the record's canonical JSON.
    /// @param kind The record kind (short ASCII name in a bytes32).
    /// @return id `singleRecordId(recordHash, kind, notary)`.
    function notarize(bytes32 recordHash, bytes32 kind) external returns (bytes32 id);

    /// @notice Notarizes a record hash that every party in `parties` signed. Anyone may submit it:
    ///         the signatures are the authority. Every party must be a registered actor in good
    ///         standing; each signature is checked with ERC-1271 for contract accounts, ECDSA otherwise.
    /// @param recordHash keccak256 of the record's canonical JSON.
    /// @param kind The record kind.
    /// @param parties The signing parties, in the order they signed the list (at most 32, no repeats).
    /// @param deadline Block timestamp after which the signatures are no longer accepted.
    /// @param signatures One EIP-712 `CoSign` signature per party, in the order of `parties`.
    /// @return id `coSignedRecordId(recordHash, kind, parties)`.
    function notarizeCoSigned(
        bytes32 recordHash,
        bytes32 kind,
        address[] calldata parties,
        uint256 deadline,
        bytes[] calldata signatures
    ) external returns (bytes32 id);

    /// @notice Anchors a batch of records by the Merkle root of their leaves. Needs the notary role.
    /// @param root StandardMerkleTree root over `(bytes32 recordHash, bytes32 kind)` leaves.
    /// @param recordCount Number of leaves (records) in the tree.
    /// @param metadataHash Canonical hash of the off-chain batch manifest (may be zero; logged only).
    /// @return id `batchId(root, notary)`.
    function notarizeBatch(bytes32 root, uint32 recordCount, bytes32 metadataHash) external returns (bytes32 id);

    /// @notice The record stored under `id` (method `None` if there is none).
    function getRecord(bytes32 id) external view returns (Record memory);

    /// @notice The batch stored under `id` (recordCount 0 if there is none).
    function getBatch(bytes32 id) external view returns (Batch memory);

    /// @notice True when `proof` proves the leaf `(recordHash, kind)` under `root` and `notary`
    ///         anchored `root`.
    function verifyInclusion(
        bytes32 root,
        address notary,
        bytes32 recordHash,
        bytes32 kind,
        bytes32[] calldata proof
    ) external view returns (bool);

    /// @notice `keccak256(abi.encode(recordHash, kind, notary))`: the id of a single notarization.
    function singleRecordId(bytes32 recordHash, bytes32 kind, address notary) external pure returns (bytes32);

    /// @notice `keccak256(abi.encode(recordHash, kind, keccak256(abi.encodePacked(parties))))`: the id
    ///         of a co-signed record.
    function coSignedRecordId(bytes32 recordHash, bytes32 kind, address[] calldata parties)
        external
        pure
        returns (bytes32);

    /// @notice `keccak256(abi.encode(root, notary))`: the id of an anchored batch.
    function batchId(bytes32 root, address notary) external pure returns (bytes32);

    /// @notice The StandardMerkleTree leaf of `(recordHash, kind)`.
    function leafHash(bytes32 recordHash, bytes32 kind) external pure returns (bytes32);

    /// @notice The EIP-712 digest each party signs to co-sign a record.
    function coSignDigest(bytes32 recordHash, bytes32 kind, address[] calldata parties, uint256 deadline)
        external
        view
        returns (bytes32);

    /// @notice The EIP-712 digest a submitter signs to queue a record for a batch (`BatchRecord`):
    ///         a different type from `CoSign`, so a queue signature never co-signs a record.
    function batchRecordDigest(bytes32 recordHash, bytes32 kind, uint256 deadline) external view returns (bytes32);

    /// @notice The ActorRegistry this notary asks for roles.
    function actorRegistry() external view returns (address);
}

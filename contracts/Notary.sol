// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {IActorRegistry, Standing} from "./interfaces/IActorRegistry.sol";
import {INotary} from "./interfaces/INotary.sol";
import {Roles, TraceChainZeroAddress, TraceChainZeroHash} from "./Common.sol";

/// @title Notary
/// @notice Notarizes record hashes singly, co-signed by their parties, or in Merkle batches.
///         Writes accept ERC-2771 meta-transactions from the deployment's trusted forwarder
///         (ERC2771Context is the only Context here, so its `_msgSender` applies unchanged).
contract Notary is INotary, EIP712, ERC2771Context {
    // ---------------------------------------------------------------- constants
    /// EIP-712 type of a co-signature.
    bytes32 public constant COSIGN_TYPEHASH =
        keccak256("CoSign(bytes32 recordHash,bytes32 kind,address[] parties,uint256 deadline)");
    /// EIP-712 type of a request to queue a record for a Merkle batch (checked off-chain).
    bytes32 public constant BATCH_RECORD_TYPEHASH =
        keccak256("BatchRecord(bytes32 recordHash,bytes32 kind,uint256 deadline)");
    /// Most parties one co-signed record may name.
    uint256 public constant MAX_PARTIES = 32;

    // ---------------------------------------------------------------- storage
    /// The registry asked for roles and actor standing.
    IActorRegistry private immutable _registry;
    /// Records notarized on their own, by record id.
    mapping(bytes32 id => Record) private _records;
    /// Anchored batches, by batch id.
    mapping(bytes32 id => Batch) private _batches;

    // ---------------------------------------------------------------- constructor
    /// @param actorRegistry_ The deployment's ActorRegistry.
    /// @param trustedForwarder The ERC-2771 forwarder that may relay signed requests.
    constructor(address actorRegistry_, address trustedForwarder)
        EIP712("TraceChainNotary", "2")
        ERC2771Context(trustedForwarder)
    {
        if (actorRegistry_ == address(0)) revert TraceChainZeroAddress();
        _registry = IActorRegistry(actorRegistry_);
    }

    // ---------------------------------------------------------------- writes
    /// @inheritdoc INotary
    function notarize(bytes32 recordHash, bytes32 kind) external returns (bytes32 id) {
        address notary = _requireNotary();
        _requireRecordInput(recordHash, kind);
        id = _singleRecordId(recordHash, kind, notary);
        _store(id, Method.Single);
        emit RecordNotarized(recordHash, kind, notary);
    }

    /// @inheritdoc INotary
    function notarizeCoSigned(
        bytes32 recordHash,
        bytes32 kind,
        address[] calldata parties,
        uint256 deadline,
        bytes[] calldata signatures
    ) external returns (bytes32 id) {
        _requireRecordInput(recordHash, kind);
        bytes32 partiesHash = keccak256(abi.encodePacked(parties));
        id = keccak256(abi.encode(recordHash, kind, partiesHash));
        Record storage existing = _records[id];
        // A retried submission learns the record exists, even once its signatures have expired.
        if (existing.method != Method.None) revert NotaryRecordExists(id, existing.blockNumber, existing.timestamp);
        if (block.timestamp > deadline) revert NotarySignaturesExpired(deadline);
        uint256 count = parties.length;
        if (count == 0 || count > MAX_PARTIES) revert NotaryPartyCount(count, MAX_PARTIES);
        if (signatures.length != count) revert NotarySignatureCount(count, signatures.length);
        bytes32 digest = _coSignDigest(recordHash, kind, partiesHash, deadline);
        for (uint256 i = 0; i < count; ++i) {
            address party = parties[i];
            for (uint256 j = 0; j < i; ++j) {
                if (parties[j] == party) revert NotaryDuplicateParty(party);
            }
            // slither-disable-next-line calls-loop (our own registry; a revert refuses the whole record)
            Standing.requireGoodStanding(_registry.standingOf(party), party);
            if (!SignatureChecker.isValidSignatureNowCalldata(party, digest, signatures[i])) {
                revert NotaryInvalidSignature(party, i);
            }
        }
        _store(id, Method.CoSigned);
        emit RecordCoSigned(recordHash, kind, partiesHash, parties);
    }

    /// @inheritdoc INotary
    function notarizeBatch(bytes32 root, uint32 recordCount, bytes32 metadataHash) external returns (bytes32 id) {
        address notary = _requireNotary();
        if (root == bytes32(0)) revert TraceChainZeroHash();
        if (recordCount == 0) revert NotaryEmptyBatch();
        id = _batchId(root, notary);
        Batch storage batch = _batches[id];
        if (batch.recordCount != 0) revert NotaryBatchExists(id, batch.blockNumber, batch.timestamp);
        batch.timestamp = uint40(block.timestamp);
        batch.blockNumber = uint40(block.number);
        batch.recordCount = recordCount;
        emit BatchAnchored(root, notary, recordCount, metadataHash);
    }

    // ---------------------------------------------------------------- reads
    /// @inheritdoc INotary
    function getRecord(bytes32 id) external view returns (Record memory) {
        return _records[id];
    }

    /// @inheritdoc INotary
    function getBatch(bytes32 id) external view returns (Batch memory) {
        return _batches[id];
    }

    /// @inheritdoc INotary
    function verifyInclusion(
        bytes32 root,
        address notary,
        bytes32 recordHash,
        bytes32 kind,
        bytes32[] calldata proof
    ) external view returns (bool) {
        if (_batches[_batchId(root, notary)].recordCount == 0) return false;
        return MerkleProof.verifyCalldata(proof, root, _leafHash(recordHash, kind));
    }

    /// @inheritdoc INotary
    function singleRecordId(bytes32 recordHash, bytes32 kind, address notary) external pure returns (bytes32) {
        return _singleRecordId(recordHash, kind, notary);
    }

    /// @inheritdoc INotary
    function coSignedRecordId(bytes32 recordHash, bytes32 kind, address[] calldata parties)
        external
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(recordHash, kind, keccak256(abi.encodePacked(parties))));
    }

    /// @inheritdoc INotary
    function batchId(bytes32 root, address notary) external pure returns (bytes32) {
        return _batchId(root, notary);
    }

    /// @inheritdoc INotary
    function leafHash(bytes32 recordHash, bytes32 kind) external pure returns (bytes32) {
        return _leafHash(recordHash, kind);
    }

    /// @inheritdoc INotary
    function coSignDigest(bytes32 recordHash, bytes32 kind, address[] calldata parties, uint256 deadline)
        external
        view
        returns (bytes32)
    {
        return _coSignDigest(recordHash, kind, keccak256(abi.encodePacked(parties)), deadline);
    }

    /// @inheritdoc INotary
    function batchRecordDigest(bytes32 recordHash, bytes32 kind, uint256 deadline) external view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(BATCH_RECORD_TYPEHASH, recordHash, kind, deadline)));
    }

    /// @inheritdoc INotary
    function actorRegistry() external view returns (address) {
        return address(_registry);
    }

    // ---------------------------------------------------------------- internals
    /// @dev The caller, after checking it is an active notary (one registry call).
    function _requireNotary() private view returns (address caller) {
        caller = _msgSender();
        Standing.requireRole(_registry.standingOf(caller), caller, Roles.NOTARY, Standing.NOTARY);
    }

    function _requireRecordInput(bytes32 recordHash, bytes32 kind) private pure {
        if (recordHash == bytes32(0)) revert TraceChainZeroHash();
        if (kind == bytes32(0)) revert NotaryEmptyKind();
    }

    /// @dev Writes the record's one slot; refuses an id notarized before.
    function _store(bytes32 id, Method method) private {
        Record storage record = _records[id];
        if (record.method != Method.None) revert NotaryRecordExists(id, record.blockNumber, record.timestamp);
        record.timestamp = uint40(block.timestamp);
        record.blockNumber = uint40(block.number);
        record.method = method;
    }

    function _singleRecordId(bytes32 recordHash, bytes32 kind, address notary) private pure returns (bytes32) {
        return keccak256(abi.encode(recordHash, kind, notary));
    }

    function _batchId(bytes32 root, address notary) private pure returns (bytes32) {
        return keccak256(abi.encode(root, notary));
    }

    function _coSignDigest(bytes32 recordHash, bytes32 kind, bytes32 partiesHash, uint256 deadline)
        private
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(COSIGN_TYPEHASH, recordHash, kind, partiesHash, deadline)));
    }

    /// @dev OpenZeppelin StandardMerkleTree leaf: double keccak of the ABI-encoded values.
    function _leafHash(bytes32 recordHash, bytes32 kind) private pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(recordHash, kind))));
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {IActorRegistry} from "./interfaces/IActorRegistry.sol";
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
    /// Most parties one co-signed record may name.
    uint256 public constant MAX_PARTIES = 32;

    // ---------------------------------------------------------------- storage
    /// The registry asked for roles and actor standing.
    IActorRegistry private immutable _registry;
    /// Records notarized on their own, by record hash.
    mapping(bytes32 recordHash => Record) private _records;
    /// Anchored batches, by Merkle root.
    mapping(bytes32 root => Batch) private _batches;

    // ---------------------------------------------------------------- constructor
    /// @param actorRegistry_ The deployment's ActorRegistry.
    /// @param trustedForwarder The ERC-2771 forwarder that may relay signed requests.
    constructor(address actorRegistry_, address trustedForwarder)
        EIP712("TraceChainNotary", "1")
        ERC2771Context(trustedForwarder)
    {
        if (actorRegistry_ == address(0)) revert TraceChainZeroAddress();
        _registry = IActorRegistry(actorRegistry_);
    }

    // ---------------------------------------------------------------- writes
    /// @inheritdoc INotary
    function notarize(bytes32 recordHash, bytes32 kind) external {
        address caller = _msgSender();
        _registry.requireActive(caller, Roles.NOTARY);
        _store(_requireNew(recordHash, kind), kind, caller, Method.Single, bytes32(0));
        emit RecordNotarized(recordHash, kind, caller);
    }

    /// @inheritdoc INotary
    function notarizeCoSigned(
        bytes32 recordHash,
        bytes32 kind,
        address[] calldata parties,
        uint256 deadline,
        bytes[] calldata signatures
    ) external {
        Record storage record = _requireNew(recordHash, kind);
        if (block.timestamp > deadline) revert NotarySignaturesExpired(deadline);
        uint256 count = parties.length;
        if (count == 0 || count > MAX_PARTIES) revert NotaryPartyCount(count, MAX_PARTIES);
        if (signatures.length != count) revert NotarySignatureCount(count, signatures.length);
        bytes32 partiesHash = keccak256(abi.encodePacked(parties));
        bytes32 digest = _coSignDigest(recordHash, kind, partiesHash, deadline);
        for (uint256 i = 0; i < count; ++i) {
            address party = parties[i];
            for (uint256 j = 0; j < i; ++j) {
                if (parties[j] == party) revert NotaryDuplicateParty(party);
            }
            _requireInGoodStanding(party);
            if (!SignatureChecker.isValidSignatureNowCalldata(party, digest, signatures[i])) {
                revert NotaryInvalidSignature(party, i);
            }
        }
        address caller = _msgSender();
        _store(record, kind, caller, Method.CoSigned, partiesHash);
        emit RecordCoSigned(recordHash, kind, caller, parties);
    }

    /// @inheritdoc INotary
    function notarizeBatch(bytes32 root, uint32 recordCount, bytes32 metadataHash) external {
        address caller = _msgSender();
        _registry.requireActive(caller, Roles.NOTARY);
        if (root == bytes32(0)) revert TraceChainZeroHash();
        if (recordCount == 0) revert NotaryEmptyBatch();
        Batch storage batch = _batches[root];
        if (batch.recordCount != 0) revert NotaryBatchExists(root, batch.blockNumber, batch.timestamp);
        if (metadataHash != bytes32(0)) batch.metadataHash = metadataHash;
        batch.notarizedBy = caller;
        batch.timestamp = uint40(block.timestamp);
        batch.blockNumber = uint40(block.number);
        batch.recordCount = recordCount;
        emit BatchAnchored(root, caller, recordCount, metadataHash);
    }

    // ---------------------------------------------------------------- reads
    /// @inheritdoc INotary
    function getRecord(bytes32 recordHash) external view returns (Record memory) {
        return _records[recordHash];
    }

    /// @inheritdoc INotary
    function getBatch(bytes32 root) external view returns (Batch memory) {
        return _batches[root];
    }

    /// @inheritdoc INotary
    function isNotarized(bytes32 recordHash) external view returns (bool) {
        return _records[recordHash].method != Method.None;
    }

    /// @inheritdoc INotary
    function verifyInclusion(bytes32 root, bytes32 recordHash, bytes32 kind, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        if (_batches[root].recordCount == 0) return false;
        return MerkleProof.verifyCalldata(proof, root, _leafHash(recordHash, kind));
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
    function actorRegistry() external view returns (address) {
        return address(_registry);
    }

    // ---------------------------------------------------------------- internals
    /// @dev The empty slot for a new record; refuses a zero hash, an empty kind and a repeat.
    function _requireNew(bytes32 recordHash, bytes32 kind) private view returns (Record storage record) {
        if (recordHash == bytes32(0)) revert TraceChainZeroHash();
        if (kind == bytes32(0)) revert NotaryEmptyKind();
        record = _records[recordHash];
        if (record.method != Method.None) {
            revert NotaryRecordExists(recordHash, record.blockNumber, record.timestamp);
        }
    }

    /// @dev Writes only the slots a record uses: a single record leaves `partiesHash` untouched.
    function _store(Record storage record, bytes32 kind, address by, Method method, bytes32 partiesHash) private {
        record.kind = kind;
        if (partiesHash != bytes32(0)) record.partiesHash = partiesHash;
        record.notarizedBy = by;
        record.timestamp = uint40(block.timestamp);
        record.blockNumber = uint40(block.number);
        record.method = method;
    }

    /// @dev A party must be a registered actor and not suspended; its roles do not matter.
    function _requireInGoodStanding(address party) private view {
        _registry.requireActor(party);
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

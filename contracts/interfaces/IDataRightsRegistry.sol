// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IDataRightsRegistry
/// @notice Data-rights certificates after the "three rights" model of data exchanges: the
///         HOLDING right to a dataset, the PROCESSING (usage) right and the product-OPERATION
///         right (to sell or operate data products built on it).
///
///         A dataset is registered by its content hash `contentHash` (keccak256 of the RFC 8785
///         canonical JSON of its manifest) under the id
///         `datasetId = keccak256(abi.encode(contentHash, registrant))`, so registering a dataset
///         claims it for its registrant only: nobody who merely saw a content hash can pre-empt
///         the registration (another actor registering the same content gets its own id, later).
///         The holding right is the ERC-721 token `tokenId = uint256(datasetId)` of this contract,
///         so wallets, explorers and data exchanges can see and move it; every ERC-721 transfer
///         path (transferFrom, safeTransferFrom, relayed or not) follows the rules below.
///
///         The holder grants certificates for the processing or operation right to an account,
///         in the manner of ERC-7432 NFT roles (expiring, revocable role assignments on an NFT),
///         but with what licences need and ERC-7432 lacks: many licensees per right, a
///         not-before time, a terms hash, and a window that is fixed at grant. Nothing can
///         change a granted certificate except an explicit, recorded revocation.
///
///         Rules:
///         - Every actor involved must be a registered, non-suspended actor of the ActorRegistry
///           (any role): the registrant, the granting holder, the grantee, the user, both sides
///           of a holding transfer. Refusals are the ActorRegistry's own errors.
///         - A certificate is valid while `notBefore <= block.timestamp < expiresAt` and it is
///           not revoked. Expiry is enforced here, at use time, not by an off-chain service.
///         - At most one open (not revoked, not expired) certificate per (dataset, grantee,
///           right); to change terms, revoke and grant anew.
///         - Transfer of the holding right: certificates already granted stay valid until they
///           expire or are revoked ("sale does not break the licence"); the new holder takes
///           over the right to grant and to revoke them. A suspended holder cannot transfer.
///         - The holder, governance, or the grantee itself (renouncing) may revoke, always
///           with a reason hash.
interface IDataRightsRegistry {
    /// @notice The three rights. HOLDING is the ERC-721 token itself and moves only by transfer;
    ///         PROCESSING and OPERATION are granted by certificates.
    enum Right {
        HOLDING,
        PROCESSING,
        OPERATION
    }

    /// @notice Where a certificate stands at a given time. Revoked wins over expired.
    enum CertificateStatus {
        NOT_YET_VALID,
        VALID,
        EXPIRED,
        REVOKED
    }

    /// @notice A certificate as stored (4 slots) and as `getCertificate` returns it, in this field
    ///         order: (datasetId, termsHash, grantee, notBefore, right, expiresAt, revokedAt,
    ///         useCount). `revokedAt` is 0 unless revoked; `useCount` counts `recordUse` calls.
    struct Certificate {
        bytes32 datasetId;
        bytes32 termsHash;
        address grantee;
        uint64 notBefore;
        Right right;
        uint64 expiresAt;
        uint64 revokedAt;
        uint32 useCount;
    }

    // ---------------------------------------------------------------- errors
    /// @notice `datasetId` is already registered.
    error DataRightsRegistryDatasetExists(bytes32 datasetId);
    /// @notice `datasetId` is not registered.
    error DataRightsRegistryUnknownDataset(bytes32 datasetId);
    /// @notice `account` does not hold the holding right of `datasetId`.
    error DataRightsRegistryNotHolder(address account, bytes32 datasetId);
    /// @notice `right` cannot be granted by certificate (the holding right moves by transfer).
    error DataRightsRegistryRightNotGrantable(Right right);
    /// @notice The holder cannot grant a certificate to itself.
    error DataRightsRegistrySelfGrant(address account);
    /// @notice The window is empty or already over: `expiresAt` must exceed the effective
    ///         not-before time (at least the block time).
    error DataRightsRegistryInvalidWindow(uint64 notBefore, uint64 expiresAt);
    /// @notice The grantee already has open certificate `certificateId` for this right.
    error DataRightsRegistryOpenCertificate(bytes32 certificateId);
    /// @notice No certificate has id `certificateId`.
    error DataRightsRegistryUnknownCertificate(bytes32 certificateId);
    /// @notice `account` is neither the holder, governance, nor the grantee of `certificateId`.
    error DataRightsRegistryNotRevoker(address account, bytes32 certificateId);
    /// @notice `account` is not the grantee of `certificateId`.
    error DataRightsRegistryNotGrantee(address account, bytes32 certificateId);
    /// @notice `certificateId` grants `granted`, not `used`.
    error DataRightsRegistryWrongRight(bytes32 certificateId, Right granted, Right used);
    /// @notice `certificateId` was revoked at `revokedAt`.
    error DataRightsRegistryCertificateRevoked(bytes32 certificateId, uint64 revokedAt);
    /// @notice `certificateId` expired at `expiresAt`.
    error DataRightsRegistryCertificateExpired(bytes32 certificateId, uint64 expiresAt);
    /// @notice `certificateId` is not valid before `notBefore`.
    error DataRightsRegistryCertificateNotYetValid(bytes32 certificateId, uint64 notBefore);

    // ---------------------------------------------------------------- events
    // Holding transfers (and the mint at registration) are ERC-721 `Transfer` events with
    // `tokenId = uint256(datasetId)`.

    /// @notice Emitted when `holder` registers the dataset with content hash `contentHash` as
    ///         `datasetId`; `metadataHash` commits to its off-chain description (may be zero).
    event DatasetRegistered(
        bytes32 indexed datasetId, bytes32 indexed contentHash, address indexed holder, bytes32 metadataHash
    );
    /// @notice Emitted when `grantor` (the holder) grants `right` on `datasetId` to `grantee`.
    event CertificateGranted(
        bytes32 indexed certificateId,
        bytes32 indexed datasetId,
        address indexed grantee,
        address grantor,
        Right right,
        uint64 notBefore,
        uint64 expiresAt,
        bytes32 termsHash,
        bytes32 previousCertificateId
    );
    /// @notice Emitted when `revoker` revokes `certificateId`; `reasonHash` commits to the reason.
    event CertificateRevoked(
        bytes32 indexed certificateId, bytes32 indexed datasetId, address indexed revoker, bytes32 reasonHash
    );
    /// @notice Emitted when `user` records use number `useIndex` (0-based) of `certificateId`.
    event DatasetUsed(
        bytes32 indexed certificateId,
        bytes32 indexed datasetId,
        address indexed user,
        Right right,
        uint32 useIndex,
        bytes32 purposeHash
    );

    // ---------------------------------------------------------------- writes
    /// @notice Registers the dataset with content hash `contentHash` and mints its holding-right
    ///         token to the caller. Caller: any registered, non-suspended actor.
    /// @param contentHash Canonical content hash of the dataset manifest (non-zero).
    /// @param metadataHash Canonical hash of the dataset's description (may be zero).
    /// @return datasetId `datasetIdOf(contentHash, caller)`.
    function registerDataset(bytes32 contentHash, bytes32 metadataHash) external returns (bytes32 datasetId);

    /// @notice Grants `right` on `datasetId` to `grantee`. Caller: the holder, not suspended.
    ///         The certificate id is
    ///         `keccak256(abi.encode(datasetId, grantee, right, notBefore, expiresAt, termsHash, previousId))`
    ///         with the effective `notBefore` and `previousId` the grantee's previous certificate for
    ///         this dataset and right (zero if none), so each (dataset, grantee, right) has a hash
    ///         chain of certificates.
    /// @param grantee A registered, non-suspended actor other than the holder.
    /// @param right PROCESSING or OPERATION.
    /// @param notBefore Start of validity; earlier values (including 0) mean the block time.
    /// @param expiresAt End of validity (exclusive); must exceed the effective start.
    /// @param termsHash Canonical hash of the licence terms (non-zero).
    /// @return certificateId The new certificate's id.
    function grantCertificate(
        bytes32 datasetId,
        address grantee,
        Right right,
        uint64 notBefore,
        uint64 expiresAt,
        bytes32 termsHash
    ) external returns (bytes32 certificateId);

    /// @notice Revokes `certificateId` for good. Caller: the current holder (not suspended),
    ///         governance, or the grantee itself. Expired or revoked certificates cannot be.
    /// @param reasonHash Canonical hash of the reason document (non-zero).
    function revokeCertificate(bytes32 certificateId, bytes32 reasonHash) external;

    /// @notice Records one use of the dataset under `certificateId`. Caller: its grantee, not
    ///         suspended, while the certificate is valid at this block's time.
    /// @param right The right exercised; must be the certificate's.
    /// @param purposeHash Canonical hash of the purpose of this use (non-zero).
    function recordUse(bytes32 certificateId, Right right, bytes32 purposeHash) external;

    // ---------------------------------------------------------------- reads
    /// @notice `keccak256(abi.encode(contentHash, registrant))`: the id of a dataset.
    function datasetIdOf(bytes32 contentHash, address registrant) external pure returns (bytes32);

    /// @notice The holder of `datasetId` (an `address`). Reverts `DataRightsRegistryUnknownDataset`
    ///         if unknown.
    function holderOf(bytes32 datasetId) external view returns (address);

    /// @notice True when `datasetId` is registered.
    function datasetExists(bytes32 datasetId) external view returns (bool);

    /// @notice The certificate `certificateId`. Reverts `DataRightsRegistryUnknownCertificate`.
    function getCertificate(bytes32 certificateId) external view returns (Certificate memory);

    /// @notice How many uses the grantee recorded under `certificateId` (0 for unknown ids).
    function useCount(bytes32 certificateId) external view returns (uint32);

    /// @notice The status of `certificateId` at the current block time.
    function certificateStatus(bytes32 certificateId) external view returns (CertificateStatus);

    /// @notice The id (`bytes32`) of the latest certificate granted to `grantee` for `right` on
    ///         `datasetId` (zero if none); it may since have expired or been revoked.
    function latestCertificate(bytes32 datasetId, address grantee, Right right) external view returns (bytes32);

    /// @notice True when `account` may exercise `right` on `datasetId` now: it is a registered,
    ///         non-suspended actor and it holds the dataset (which includes processing and
    ///         operation), or, for PROCESSING / OPERATION, has a valid certificate for `right`.
    ///         False for unknown datasets.
    function hasRight(bytes32 datasetId, address account, Right right) external view returns (bool);
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";

import {IActorRegistry} from "./interfaces/IActorRegistry.sol";
import {IDataRightsRegistry} from "./interfaces/IDataRightsRegistry.sol";
import {Roles, TraceChainZeroAddress, TraceChainZeroHash} from "./Common.sol";

/// @title DataRightsRegistry
/// @notice Datasets, their holding right (an ERC-721 token per dataset) and certificates for the
///         processing and product-operation rights. See IDataRightsRegistry for the rules. Writes,
///         ERC-721 transfers included, accept ERC-2771 meta-transactions from the trusted forwarder.
contract DataRightsRegistry is IDataRightsRegistry, ERC721, ERC2771Context {
    // ---------------------------------------------------------------- storage
    /// The deployment's actor registry, asked about every account that acts.
    IActorRegistry private immutable _registry;
    /// Certificates by id.
    mapping(bytes32 certificateId => Certificate) private _certificates;
    /// Latest certificate per dataset, grantee and right: the one-open rule and `hasRight`.
    mapping(bytes32 datasetId => mapping(address grantee => mapping(Right right => bytes32 certificateId))) private
        _latest;

    // ---------------------------------------------------------------- constructor
    /// @param actorRegistry The deployment's ActorRegistry.
    /// @param trustedForwarder The ERC-2771 forwarder that may relay signed requests.
    constructor(address actorRegistry, address trustedForwarder)
        ERC721("TraceChain Dataset Holding Right", "TCDATA")
        ERC2771Context(trustedForwarder)
    {
        if (actorRegistry == address(0)) revert TraceChainZeroAddress();
        _registry = IActorRegistry(actorRegistry);
    }

    // ---------------------------------------------------------------- writes
    /// @inheritdoc IDataRightsRegistry
    function registerDataset(bytes32 contentHash, bytes32 metadataHash) external returns (bytes32 datasetId) {
        if (contentHash == bytes32(0)) revert TraceChainZeroHash();
        address holder = _msgSender();
        _requireActor(holder);
        datasetId = _datasetId(contentHash, holder);
        if (_ownerOf(uint256(datasetId)) != address(0)) revert DataRightsRegistryDatasetExists(datasetId);
        _mint(holder, uint256(datasetId));
        emit DatasetRegistered(datasetId, contentHash, holder, metadataHash);
    }

    /// @inheritdoc IDataRightsRegistry
    function grantCertificate(
        bytes32 datasetId,
        address grantee,
        Right right,
        uint64 notBefore,
        uint64 expiresAt,
        bytes32 termsHash
    ) external returns (bytes32 certificateId) {
        address holder = _requireHolder(datasetId, _msgSender());
        if (right == Right.HOLDING) revert DataRightsRegistryRightNotGrantable(right);
        if (grantee == address(0)) revert TraceChainZeroAddress();
        if (grantee == holder) revert DataRightsRegistrySelfGrant(grantee);
        if (termsHash == bytes32(0)) revert TraceChainZeroHash();
        if (notBefore < block.timestamp) notBefore = uint64(block.timestamp);
        if (expiresAt <= notBefore) revert DataRightsRegistryInvalidWindow(notBefore, expiresAt);
        _requireActor(grantee);

        bytes32 previousId = _latest[datasetId][grantee][right];
        if (previousId != bytes32(0)) {
            CertificateStatus previous = _status(_certificates[previousId]);
            if (previous == CertificateStatus.VALID || previous == CertificateStatus.NOT_YET_VALID) {
                revert DataRightsRegistryOpenCertificate(previousId);
            }
        }
        certificateId = keccak256(abi.encode(datasetId, grantee, right, notBefore, expiresAt, termsHash, previousId));
        _certificates[certificateId] = Certificate({
            datasetId: datasetId,
            termsHash: termsHash,
            grantee: grantee,
            notBefore: notBefore,
            right: right,
            expiresAt: expiresAt,
            revokedAt: 0,
            useCount: 0
        });
        _latest[datasetId][grantee][right] = certificateId;
        emit CertificateGranted(
            certificateId, datasetId, grantee, holder, right, notBefore, expiresAt, termsHash, previousId
        );
    }

    /// @inheritdoc IDataRightsRegistry
    function revokeCertificate(bytes32 certificateId, bytes32 reasonHash) external {
        Certificate storage cert = _requireCertificate(certificateId);
        address caller = _msgSender();
        address holder = _ownerOf(uint256(cert.datasetId));
        if (caller == holder) {
            _requireActor(caller);
        } else if (caller != cert.grantee && !_registry.isActive(caller, Roles.GOVERNANCE)) {
            revert DataRightsRegistryNotRevoker(caller, certificateId);
        }
        if (reasonHash == bytes32(0)) revert TraceChainZeroHash();
        if (cert.revokedAt != 0) revert DataRightsRegistryCertificateRevoked(certificateId, cert.revokedAt);
        if (block.timestamp >= cert.expiresAt) revert DataRightsRegistryCertificateExpired(certificateId, cert.expiresAt);
        cert.revokedAt = uint64(block.timestamp);
        emit CertificateRevoked(certificateId, cert.datasetId, caller, reasonHash);
    }

    /// @inheritdoc IDataRightsRegistry
    function recordUse(bytes32 certificateId, Right right, bytes32 purposeHash) external {
        Certificate storage cert = _requireCertificate(certificateId);
        address user = _msgSender();
        if (user != cert.grantee) revert DataRightsRegistryNotGrantee(user, certificateId);
        if (right != cert.right) revert DataRightsRegistryWrongRight(certificateId, cert.right, right);
        if (purposeHash == bytes32(0)) revert TraceChainZeroHash();
        if (cert.revokedAt != 0) revert DataRightsRegistryCertificateRevoked(certificateId, cert.revokedAt);
        if (block.timestamp < cert.notBefore) {
            revert DataRightsRegistryCertificateNotYetValid(certificateId, cert.notBefore);
        }
        if (block.timestamp >= cert.expiresAt) revert DataRightsRegistryCertificateExpired(certificateId, cert.expiresAt);
        _requireActor(user);
        uint32 useIndex = cert.useCount;
        cert.useCount = useIndex + 1;
        emit DatasetUsed(certificateId, cert.datasetId, user, right, useIndex, purposeHash);
    }

    // ---------------------------------------------------------------- reads
    /// @inheritdoc IDataRightsRegistry
    function datasetIdOf(bytes32 contentHash, address registrant) external pure returns (bytes32) {
        return _datasetId(contentHash, registrant);
    }

    /// @inheritdoc IDataRightsRegistry
    function holderOf(bytes32 datasetId) public view returns (address holder) {
        holder = _ownerOf(uint256(datasetId));
        if (holder == address(0)) revert DataRightsRegistryUnknownDataset(datasetId);
    }

    /// @inheritdoc IDataRightsRegistry
    function datasetExists(bytes32 datasetId) external view returns (bool) {
        return _ownerOf(uint256(datasetId)) != address(0);
    }

    /// @inheritdoc IDataRightsRegistry
    function getCertificate(bytes32 certificateId) external view returns (Certificate memory) {
        return _requireCertificate(certificateId);
    }

    /// @inheritdoc IDataRightsRegistry
    function useCount(bytes32 certificateId) external view returns (uint32) {
        return _certificates[certificateId].useCount;
    }

    /// @inheritdoc IDataRightsRegistry
    function certificateStatus(bytes32 certificateId) external view returns (CertificateStatus) {
        return _status(_requireCertificate(certificateId));
    }

    /// @inheritdoc IDataRightsRegistry
    function latestCertificate(bytes32 datasetId, address grantee, Right right) external view returns (bytes32) {
        return _latest[datasetId][grantee][right];
    }

    /// @inheritdoc IDataRightsRegistry
    function hasRight(bytes32 datasetId, address account, Right right) external view returns (bool) {
        address holder = _ownerOf(uint256(datasetId));
        if (holder == address(0) || account == address(0) || !_isActor(account)) return false;
        if (account == holder) return true;
        if (right == Right.HOLDING) return false;
        bytes32 certificateId = _latest[datasetId][account][right];
        return certificateId != bytes32(0) && _status(_certificates[certificateId]) == CertificateStatus.VALID;
    }

    /// @notice ERC-165: ERC-721, ERC-721 metadata and IDataRightsRegistry.
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IDataRightsRegistry).interfaceId || super.supportsInterface(interfaceId);
    }

    // ---------------------------------------------------------------- internals
    /// @dev Every change of holder, by any ERC-721 path, checks that both sides and an approved
    ///      operator moving the token are active actors. Minting is checked in `registerDataset`;
    ///      there is no burn.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        from = _ownerOf(tokenId);
        if (from != address(0)) {
            _requireActor(from);
            if (to != address(0)) _requireActor(to);
            if (auth != address(0) && auth != from) _requireActor(auth);
        }
        return super._update(to, tokenId, auth);
    }

    function _datasetId(bytes32 contentHash, address registrant) private pure returns (bytes32) {
        return keccak256(abi.encode(contentHash, registrant));
    }

    function _status(Certificate storage cert) private view returns (CertificateStatus) {
        if (cert.revokedAt != 0) return CertificateStatus.REVOKED;
        if (block.timestamp >= cert.expiresAt) return CertificateStatus.EXPIRED;
        if (block.timestamp < cert.notBefore) return CertificateStatus.NOT_YET_VALID;
        return CertificateStatus.VALID;
    }

    function _requireCertificate(bytes32 certificateId) private view returns (Certificate storage cert) {
        cert = _certificates[certificateId];
        if (cert.expiresAt == 0) revert DataRightsRegistryUnknownCertificate(certificateId);
    }

    function _requireHolder(bytes32 datasetId, address account) private view returns (address holder) {
        holder = holderOf(datasetId);
        if (account != holder) revert DataRightsRegistryNotHolder(account, datasetId);
        _requireActor(account);
    }

    /// @dev Reverts with the ActorRegistry's own errors unless `account` is a registered,
    ///      non-suspended actor (any role).
    function _requireActor(address account) private view {
        _registry.requireActor(account);
    }

    function _isActor(address account) private view returns (bool) {
        return _registry.isActor(account);
    }

    function _msgSender() internal view override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    // slither-disable-next-line dead-code (required to settle Context against ERC2771Context)
    function _msgData() internal view override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    function _contextSuffixLength() internal view override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }
}

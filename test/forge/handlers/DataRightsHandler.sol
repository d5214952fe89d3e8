// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";

import {IActorRegistry} from "contracts/interfaces/IActorRegistry.sol";
import {IDataRightsRegistry} from "contracts/interfaces/IDataRightsRegistry.sol";

import {DataRightsCompat} from "../lib/DataRightsCompat.sol";
import {Handler} from "../lib/Handler.sol";

/// @title DataRightsHandler
/// @notice The invariant fuzzer's hands on a DataRightsRegistry and the actor standing it
///         depends on: register datasets, grant, revoke and use certificates, move holding
///         rights, suspend and reinstate actors, let time pass (see `Handler` for the pattern).
///         Time is modelled too: every action first warps to `currentTime`, so the handler and
///         the checks always agree on "now". Properties checked after each action on what it
///         touched (a time step touches every certificate):
///         - a certificate is VALID only inside [notBefore, expiresAt) and never once revoked, its
///           status is the model's, and no use is recorded outside that;
///         - at most one open (valid or not yet valid) certificate per (dataset, grantee, right),
///           and `latestCertificate` is the last one granted; ids follow the documented formula;
///         - certificates change only by revocation and use: a holder transfer keeps them all;
///         - `hasRight` is exactly the rule (an active holder, or an active grantee with a valid
///           certificate for that right), and false for datasets never registered.
contract DataRightsHandler is Handler {
    /// A certificate as the model knows it.
    struct GhostCertificate {
        bytes32 id;
        bytes32 datasetId;
        address grantee;
        IDataRightsRegistry.Right right;
        uint64 notBefore;
        uint64 expiresAt;
        bytes32 termsHash;
        uint64 revokedAt;
        uint32 useCount;
    }

    // ---------------------------------------------------------------- storage
    IDataRightsRegistry public immutable rights;
    IActorRegistry public immutable registry;
    /// The only governor (it cannot suspend itself, so it stays active).
    address public immutable governor;
    /// A dataset id nobody ever registers.
    bytes32 public constant UNKNOWN_DATASET = keccak256("never registered");
    /// Callers and grantees; the test leaves the last one unregistered.
    address[] private _pool;
    /// Content hashes the fuzzer registers datasets for.
    bytes32[] private _contents;
    /// Every dataset registered so far.
    bytes32[] private _datasets;
    /// Model time: every action warps here first.
    uint256 public currentTime;

    /// Model: registered and suspended actors.
    mapping(address account => bool) public registered;
    mapping(address account => bool) public suspended;
    /// Model: holder of each dataset (zero while unregistered).
    mapping(bytes32 datasetId => address) public holderOf;
    /// Model: every certificate granted, in order.
    GhostCertificate[] private _certificates;
    /// Model: latest certificate per (dataset, grantee, right).
    mapping(bytes32 datasetId => mapping(address grantee => mapping(IDataRightsRegistry.Right => bytes32))) public
        latest;

    // ---------------------------------------------------------------- constructor
    constructor(
        IDataRightsRegistry rights_,
        IActorRegistry registry_,
        address governor_,
        address[] memory pool_,
        bytes32[] memory contents_,
        bytes32[] memory datasets_
    ) {
        rights = rights_;
        registry = registry_;
        governor = governor_;
        _pool = pool_;
        _contents = contents_;
        _datasets = datasets_;
        currentTime = block.timestamp;
        for (uint256 i = 0; i < pool_.length; ++i) {
            IActorRegistry.Actor memory actor = registry_.getActor(pool_[i]);
            registered[pool_[i]] = actor.registered;
            suspended[pool_[i]] = actor.suspendedAt != 0;
        }
        for (uint256 i = 0; i < datasets_.length; ++i) {
            holderOf[datasets_[i]] = rights_.holderOf(datasets_[i]);
        }
    }

    // ---------------------------------------------------------------- actions (fuzzed)
    function passTime(uint256 secondsSeed) external {
        currentTime += _bound(secondsSeed, 1, 12 hours);
        vm.warp(currentTime);
        checkAll();
    }

    function registerDataset(uint256 callerSeed, uint256 contentSeed) external {
        vm.warp(currentTime);
        address caller = _pick(callerSeed);
        bytes32 contentHash = _contents[contentSeed % _contents.length];
        bytes32 expectedId = DataRightsCompat.datasetIdOf(rights, contentHash, caller);
        bool expected = _active(caller) && holderOf[expectedId] == address(0);
        vm.prank(caller);
        (bool ok, bytes32 datasetId,) = DataRightsCompat.registerDataset(rights, contentHash, keccak256("metadata"));
        if (ok) {
            _check(datasetId == expectedId, "dataset ids follow the documented formula");
            holderOf[datasetId] = caller;
            _datasets.push(datasetId);
        }
        _outcome(expected, ok, "registerDataset");
        _checkHasRight(expectedId, caller);
    }

    function grantCertificate(
        uint256 datasetSeed,
        uint256 callerSeed,
        uint256 granteeSeed,
        uint256 rightSeed,
        uint256 startSeed,
        uint256 lengthSeed
    ) external {
        vm.warp(currentTime);
        bytes32 datasetId = _datasets[datasetSeed % _datasets.length];
        address holder = holderOf[datasetId];
        // Mostly the holder grants (the interesting path); sometimes anyone tries.
        address caller = (_oneIn(callerSeed, 5) || holder == address(0)) ? _pick(callerSeed) : holder;
        address grantee = _pick(granteeSeed);
        // PROCESSING or OPERATION; one time in eight the (never grantable) HOLDING right.
        IDataRightsRegistry.Right right =
            _oneIn(rightSeed, 8) ? IDataRightsRegistry.Right.HOLDING : IDataRightsRegistry.Right(1 + rightSeed % 2);
        // Starts from a day ago (taken as "now") to a day ahead; lasts up to a week (0: refused).
        uint64 notBefore = uint64(_bound(startSeed, currentTime - 1 days, currentTime + 1 days));
        uint64 start = notBefore < currentTime ? uint64(currentTime) : notBefore;
        uint64 expiresAt = uint64(start + _bound(lengthSeed, 0, 7 days));
        bytes32 termsHash = keccak256(abi.encode(startSeed, lengthSeed));
        bytes32 previousId = latest[datasetId][grantee][right];

        bool expected = holder != address(0) && caller == holder && _active(caller)
            && right != IDataRightsRegistry.Right.HOLDING && grantee != holder && expiresAt > start && _active(grantee)
            && _openCertificates(datasetId, grantee, right) == 0;
        vm.prank(caller);
        try rights.grantCertificate(datasetId, grantee, right, notBefore, expiresAt, termsHash) returns (bytes32 id) {
            bytes32 documented =
                keccak256(abi.encode(datasetId, grantee, right, start, expiresAt, termsHash, previousId));
            _check(id == documented, "certificate ids follow the documented formula");
            _certificates.push(
                GhostCertificate({
                    id: id,
                    datasetId: datasetId,
                    grantee: grantee,
                    right: right,
                    notBefore: start,
                    expiresAt: expiresAt,
                    termsHash: termsHash,
                    revokedAt: 0,
                    useCount: 0
                })
            );
            latest[datasetId][grantee][right] = id;
            _outcome(expected, true, "grantCertificate");
            _checkCertificate(_certificates.length - 1);
        } catch {
            _outcome(expected, false, "grantCertificate");
        }
        _checkOneOpenCertificate(datasetId, grantee, right);
        _checkHasRight(datasetId, grantee);
    }

    function revokeCertificate(uint256 certificateSeed, uint256 callerSeed, uint256 reasonSeed) external {
        vm.warp(currentTime);
        if (_certificates.length == 0) return;
        uint256 index = _certificateIndex(certificateSeed);
        GhostCertificate storage cert = _certificates[index];
        address holder = holderOf[cert.datasetId];
        uint256 who = _choice(callerSeed, 4);
        address caller = who == 0 ? holder : who == 1 ? cert.grantee : who == 2 ? governor : _pick(callerSeed);
        bytes32 reasonHash = _hashOrZero(reasonSeed);
        bool allowed = caller == holder ? _active(caller) : (caller == cert.grantee || _governs(caller));
        bool expected = allowed && reasonHash != bytes32(0) && cert.revokedAt == 0 && currentTime < cert.expiresAt;
        vm.prank(caller);
        try rights.revokeCertificate(cert.id, reasonHash) {
            cert.revokedAt = uint64(currentTime);
            _outcome(expected, true, "revokeCertificate");
        } catch {
            _outcome(expected, false, "revokeCertificate");
        }
        _checkCertificate(index);
        _checkHasRight(cert.datasetId, cert.grantee);
    }

    function recordUse(uint256 certificateSeed, uint256 callerSeed, uint256 rightSeed, uint256 purposeSeed) external {
        vm.warp(currentTime);
        if (_certificates.length == 0) return;
        uint256 index = _certificateIndex(certificateSeed);
        GhostCertificate storage cert = _certificates[index];
        // Mostly the grantee with the certificate's right; sometimes someone else or another right.
        address caller = _oneIn(callerSeed, 5) ? _pick(callerSeed) : cert.grantee;
        IDataRightsRegistry.Right right = _oneIn(rightSeed, 5) ? IDataRightsRegistry.Right(rightSeed % 3) : cert.right;
        bytes32 purposeHash = _hashOrZero(purposeSeed);
        bool withinValidity = cert.revokedAt == 0 && cert.notBefore <= currentTime && currentTime < cert.expiresAt;
        bool expected = caller == cert.grantee && right == cert.right && purposeHash != bytes32(0) && withinValidity
            && _active(caller);
        vm.prank(caller);
        try rights.recordUse(cert.id, right, purposeHash) {
            _check(withinValidity, "no use is recorded outside a certificate's validity");
            cert.useCount += 1;
            _outcome(expected, true, "recordUse");
        } catch {
            _outcome(expected, false, "recordUse");
        }
        _checkCertificate(index);
    }

    /// @dev Moves a holding right (ERC-721 transferFrom); every certificate must keep its fields
    ///      and status across it.
    function transferHolding(uint256 datasetSeed, uint256 callerSeed, uint256 toSeed) external {
        vm.warp(currentTime);
        bytes32 datasetId = _datasets[datasetSeed % _datasets.length];
        address holder = holderOf[datasetId];
        if (holder == address(0)) return;
        address caller = _oneIn(callerSeed, 5) ? _pick(callerSeed) : holder;
        address to = _pick(toSeed);
        bool expected = caller == holder && _active(holder) && _active(to);
        vm.prank(caller);
        try IERC721(address(rights)).transferFrom(holder, to, uint256(datasetId)) {
            holderOf[datasetId] = to;
            _outcome(expected, true, "transferHolding");
        } catch {
            _outcome(expected, false, "transferHolding");
        }
        for (uint256 i = 0; i < _certificates.length; ++i) {
            if (_certificates[i].datasetId == datasetId) _checkCertificate(i);
        }
        _checkHasRight(datasetId, holder);
        _checkHasRight(datasetId, to);
    }

    /// @dev One time in four governance suspends someone; otherwise it reinstates a suspended
    ///      actor, so that suspensions stay rare enough for certificates to be used.
    function changeStanding(uint256 accountSeed) external {
        vm.warp(currentTime);
        address account;
        if (_oneIn(accountSeed, 4)) {
            account = _pick(accountSeed);
            bool expected = account != governor && registered[account] && !suspended[account];
            vm.prank(governor);
            try registry.suspendActor(account, bytes32(uint256(1))) {
                suspended[account] = true;
                _outcome(expected, true, "suspendActor");
            } catch {
                _outcome(expected, false, "suspendActor");
            }
        } else {
            account = _suspendedOrAny(accountSeed);
            bool expected = registered[account] && suspended[account];
            vm.prank(governor);
            try registry.reinstateActor(account) {
                suspended[account] = false;
                _outcome(expected, true, "reinstateActor");
            } catch {
                _outcome(expected, false, "reinstateActor");
            }
        }
        for (uint256 d = 0; d < _datasets.length; ++d) {
            _checkHasRight(_datasets[d], account);
        }
    }

    // ---------------------------------------------------------------- properties
    /// @notice Checks every property on everything (after a time step, and once per run from
    ///         the test's `afterInvariant`).
    function checkAll() public {
        for (uint256 i = 0; i < _certificates.length; ++i) {
            _checkCertificate(i);
        }
        for (uint256 d = 0; d < _datasets.length; ++d) {
            bytes32 datasetId = _datasets[d];
            address holder = holderOf[datasetId];
            _check(rights.datasetExists(datasetId) == (holder != address(0)), "datasets as in the model");
            if (holder != address(0)) _check(rights.holderOf(datasetId) == holder, "holders as in the model");
            for (uint256 a = 0; a < _pool.length; ++a) {
                _checkHasRight(datasetId, _pool[a]);
                for (uint8 r = 1; r < 3; ++r) {
                    _checkOneOpenCertificate(datasetId, _pool[a], IDataRightsRegistry.Right(r));
                }
            }
        }
        _check(!rights.datasetExists(UNKNOWN_DATASET), "hasRight is false for unknown datasets: exists");
        for (uint256 a = 0; a < _pool.length; ++a) {
            _checkHasRight(UNKNOWN_DATASET, _pool[a]);
        }
    }

    /// @dev Status within the window only, as the model says; fields changed only by revocation
    ///      and use.
    function _checkCertificate(uint256 index) private {
        GhostCertificate storage ghost = _certificates[index];
        IDataRightsRegistry.Certificate memory cert = rights.getCertificate(ghost.id);
        IDataRightsRegistry.CertificateStatus status = rights.certificateStatus(ghost.id);
        if (status == IDataRightsRegistry.CertificateStatus.VALID) {
            _check(
                cert.revokedAt == 0 && cert.notBefore <= block.timestamp && block.timestamp < cert.expiresAt,
                "a certificate is valid only inside its window and before revocation"
            );
        }
        _check(status == _status(ghost), "certificate status as in the model");
        _check(
            cert.datasetId == ghost.datasetId && cert.grantee == ghost.grantee && cert.right == ghost.right
                && cert.notBefore == ghost.notBefore && cert.expiresAt == ghost.expiresAt
                && cert.termsHash == ghost.termsHash && cert.revokedAt == ghost.revokedAt
                && cert.useCount == ghost.useCount,
            "certificates change only by revocation and use (holder transfers keep them)"
        );
    }

    function _checkOneOpenCertificate(bytes32 datasetId, address grantee, IDataRightsRegistry.Right right) private {
        uint256 open = 0;
        for (uint256 i = 0; i < _certificates.length; ++i) {
            GhostCertificate storage cert = _certificates[i];
            if (cert.datasetId != datasetId || cert.grantee != grantee || cert.right != right) continue;
            IDataRightsRegistry.CertificateStatus status = rights.certificateStatus(cert.id);
            if (
                status == IDataRightsRegistry.CertificateStatus.VALID
                    || status == IDataRightsRegistry.CertificateStatus.NOT_YET_VALID
            ) ++open;
        }
        _check(open <= 1, "at most one open certificate per dataset, grantee and right");
        _check(
            rights.latestCertificate(datasetId, grantee, right) == latest[datasetId][grantee][right],
            "latestCertificate is the last one granted"
        );
    }

    /// @dev hasRight for every right of `account` on `datasetId` is exactly the rule.
    function _checkHasRight(bytes32 datasetId, address account) private {
        address holder = holderOf[datasetId];
        for (uint8 r = 0; r < 3; ++r) {
            IDataRightsRegistry.Right right = IDataRightsRegistry.Right(r);
            bytes32 id = latest[datasetId][account][right];
            bool certified = r != 0 && id != bytes32(0) && _statusOf(id) == IDataRightsRegistry.CertificateStatus.VALID;
            bool expected = holder != address(0) && _active(account) && (account == holder || certified);
            _check(rights.hasRight(datasetId, account, right) == expected, "hasRight is exactly the rule");
        }
    }

    // ---------------------------------------------------------------- reads for the test
    /// @inheritdoc Handler
    function actions() external pure override returns (bytes4[] memory selectors) {
        selectors = new bytes4[](7);
        selectors[0] = this.passTime.selector;
        selectors[1] = this.registerDataset.selector;
        selectors[2] = this.grantCertificate.selector;
        selectors[3] = this.revokeCertificate.selector;
        selectors[4] = this.recordUse.selector;
        selectors[5] = this.transferHolding.selector;
        selectors[6] = this.changeStanding.selector;
    }

    function certificateCount() external view returns (uint256) {
        return _certificates.length;
    }

    // ---------------------------------------------------------------- internals
    function _pick(uint256 seed) private view returns (address) {
        return _pool[seed % _pool.length];
    }

    /// @dev Three times in four a suspended account (if any), else anyone.
    function _suspendedOrAny(uint256 seed) private view returns (address) {
        if (!_oneIn(seed, 4)) {
            uint256 n = _pool.length;
            for (uint256 i = 0; i < n; ++i) {
                address account = _pool[(seed % n + i) % n];
                if (suspended[account]) return account;
            }
        }
        return _pick(seed);
    }

    /// @dev Three times in four a certificate the model says is valid (if any), else any.
    function _certificateIndex(uint256 seed) private view returns (uint256) {
        uint256 n = _certificates.length;
        if (!_oneIn(seed, 4)) {
            for (uint256 i = 0; i < n; ++i) {
                uint256 index = (seed % n + i) % n;
                if (_status(_certificates[index]) == IDataRightsRegistry.CertificateStatus.VALID) return index;
            }
        }
        return seed % n;
    }

    /// @dev A non-zero hash or, one time in sixteen, zero (which every write refuses).
    function _hashOrZero(uint256 seed) private pure returns (bytes32) {
        return _oneIn(seed, 16) ? bytes32(0) : keccak256(abi.encode(seed));
    }

    function _active(address account) private view returns (bool) {
        return registered[account] && !suspended[account];
    }

    function _governs(address account) private view returns (bool) {
        return account == governor && _active(account);
    }

    function _status(GhostCertificate storage cert) private view returns (IDataRightsRegistry.CertificateStatus) {
        if (cert.revokedAt != 0) return IDataRightsRegistry.CertificateStatus.REVOKED;
        if (currentTime >= cert.expiresAt) return IDataRightsRegistry.CertificateStatus.EXPIRED;
        if (currentTime < cert.notBefore) return IDataRightsRegistry.CertificateStatus.NOT_YET_VALID;
        return IDataRightsRegistry.CertificateStatus.VALID;
    }

    /// @dev The model's status of certificate `id` (which must be in the model).
    function _statusOf(bytes32 id) private view returns (IDataRightsRegistry.CertificateStatus) {
        for (uint256 i = _certificates.length; i > 0; --i) {
            if (_certificates[i - 1].id == id) return _status(_certificates[i - 1]);
        }
        revert("certificate not in the model");
    }

    /// @dev Open (valid or not yet valid) certificates of the model for one grant.
    function _openCertificates(bytes32 datasetId, address grantee, IDataRightsRegistry.Right right)
        private
        view
        returns (uint256 open)
    {
        for (uint256 i = 0; i < _certificates.length; ++i) {
            GhostCertificate storage cert = _certificates[i];
            if (cert.datasetId != datasetId || cert.grantee != grantee || cert.right != right) continue;
            IDataRightsRegistry.CertificateStatus status = _status(cert);
            if (
                status == IDataRightsRegistry.CertificateStatus.VALID
                    || status == IDataRightsRegistry.CertificateStatus.NOT_YET_VALID
            ) ++open;
        }
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";

import {Roles} from "contracts/Common.sol";
import {IActorRegistry} from "contracts/interfaces/IActorRegistry.sol";
import {IDataRightsRegistry} from "contracts/interfaces/IDataRightsRegistry.sol";

import {Fixtures} from "./lib/Fixtures.sol";

/// @title DataRightsRegistryFuzzTest
/// @notice One property per test over fuzzed windows, times and accounts, exact errors asserted.
contract DataRightsRegistryFuzzTest is Fixtures {
    IActorRegistry internal registry;
    IDataRightsRegistry internal rights;

    address internal constant HOLDER = address(0xA001);
    address internal constant GRANTEE = address(0xA002);
    address internal constant BUYER = address(0xA003);
    /// The holder's dataset, registered in setUp.
    bytes32 internal dataset;
    bytes32 internal constant TERMS = keccak256("terms");
    IDataRightsRegistry.Right internal constant PROCESSING = IDataRightsRegistry.Right.PROCESSING;

    function setUp() public {
        registry = _deployActorRegistry();
        rights = _deployDataRights(registry);
        _registerActor(registry, HOLDER, Roles.MANUFACTURER, true);
        _registerActor(registry, GRANTEE, Roles.RETAILER, true);
        _registerActor(registry, BUYER, Roles.LOGISTICS, true);
        dataset = _registerDataset(rights, HOLDER, keccak256("dataset manifest"));
    }

    /// Grants a certificate starting `startIn` seconds from now (0..30 days), lasting `length`
    /// seconds (1..365 days); returns its id and window.
    function _grant(uint256 startIn, uint256 length) internal returns (bytes32 id, uint64 notBefore, uint64 expiresAt) {
        notBefore = uint64(block.timestamp + _bound(startIn, 0, 30 days));
        expiresAt = uint64(notBefore + _bound(length, 1, 365 days));
        vm.prank(HOLDER);
        id = rights.grantCertificate(dataset, GRANTEE, PROCESSING, notBefore, expiresAt, TERMS);
    }

    function testFuzz_CertificateValidOnlyInsideItsWindow(uint256 startIn, uint256 length, uint256 at) public {
        (bytes32 id, uint64 notBefore, uint64 expiresAt) = _grant(startIn, length);
        uint256 t = _bound(at, block.timestamp, uint256(expiresAt) + 30 days);
        vm.warp(t);
        bool inside = notBefore <= t && t < expiresAt;
        vm.assertEq(rights.certificateStatus(id) == IDataRightsRegistry.CertificateStatus.VALID, inside, "status");
        vm.assertEq(rights.hasRight(dataset, GRANTEE, PROCESSING), inside, "hasRight");
        if (!inside) {
            vm.expectRevert(
                t < notBefore
                    ? abi.encodeWithSelector(
                        IDataRightsRegistry.DataRightsRegistryCertificateNotYetValid.selector, id, notBefore
                    )
                    : abi.encodeWithSelector(
                        IDataRightsRegistry.DataRightsRegistryCertificateExpired.selector, id, expiresAt
                    )
            );
        }
        vm.prank(GRANTEE);
        rights.recordUse(id, PROCESSING, keccak256("purpose"));
    }

    function testFuzz_RevokedCertificateIsNeverValidAgain(uint256 length, uint256 revokeAfter, uint256 at) public {
        (bytes32 id,, uint64 expiresAt) = _grant(0, length);
        vm.warp(_bound(revokeAfter, block.timestamp, expiresAt - 1));
        uint64 revokedAt = uint64(block.timestamp);
        vm.prank(HOLDER);
        rights.revokeCertificate(id, keccak256("reason"));
        vm.warp(_bound(at, block.timestamp, uint256(expiresAt) + 30 days));
        vm.assertEq(
            uint256(rights.certificateStatus(id)), uint256(IDataRightsRegistry.CertificateStatus.REVOKED), "status"
        );
        vm.assertFalse(rights.hasRight(dataset, GRANTEE, PROCESSING), "hasRight");
        vm.expectRevert(
            abi.encodeWithSelector(IDataRightsRegistry.DataRightsRegistryCertificateRevoked.selector, id, revokedAt)
        );
        vm.prank(GRANTEE);
        rights.recordUse(id, PROCESSING, keccak256("purpose"));
    }

    function testFuzz_HasRightFalseForUnknownDataset(bytes32 datasetId, address account, uint8 right) public view {
        vm.assume(datasetId != dataset);
        IDataRightsRegistry.Right r = IDataRightsRegistry.Right(right % 3);
        vm.assertFalse(rights.hasRight(datasetId, account, r), "hasRight");
        vm.assertFalse(rights.hasRight(datasetId, HOLDER, r), "hasRight of another dataset's holder");
    }

    function testFuzz_SecondOpenCertificateIsRefused(uint256 startIn, uint256 length, uint256 at, uint256 start2)
        public
    {
        (bytes32 id,, uint64 expiresAt) = _grant(startIn, length);
        vm.warp(_bound(at, block.timestamp, uint256(expiresAt) - 1));
        uint64 notBefore2 = uint64(_bound(start2, block.timestamp, uint256(expiresAt) + 30 days));
        vm.expectRevert(abi.encodeWithSelector(IDataRightsRegistry.DataRightsRegistryOpenCertificate.selector, id));
        vm.prank(HOLDER);
        rights.grantCertificate(dataset, GRANTEE, PROCESSING, notBefore2, notBefore2 + 1 days, TERMS);
    }

    function testFuzz_NewCertificateOnceTheOldOneIsClosed(uint256 length, bool revoke) public {
        (bytes32 first,, uint64 expiresAt) = _grant(0, length);
        if (revoke) {
            vm.prank(GRANTEE); // the grantee renounces
            rights.revokeCertificate(first, keccak256("renounced"));
        } else {
            vm.warp(expiresAt);
        }
        vm.prank(HOLDER);
        bytes32 second =
            rights.grantCertificate(dataset, GRANTEE, PROCESSING, 0, uint64(block.timestamp + 1 days), TERMS);
        vm.assertEq(rights.latestCertificate(dataset, GRANTEE, PROCESSING), second, "latest");
        vm.assertTrue(rights.hasRight(dataset, GRANTEE, PROCESSING), "hasRight");
    }

    function testFuzz_HolderTransferKeepsCertificates(uint256 startIn, uint256 length, uint256 at) public {
        (bytes32 id, uint64 notBefore, uint64 expiresAt) = _grant(startIn, length);
        vm.warp(_bound(at, block.timestamp, uint256(expiresAt) + 1 days));
        bytes memory before = abi.encode(rights.getCertificate(id), rights.certificateStatus(id));
        bool hadRight = rights.hasRight(dataset, GRANTEE, PROCESSING);

        vm.prank(HOLDER);
        IERC721(address(rights)).transferFrom(HOLDER, BUYER, uint256(dataset));

        vm.assertEq(rights.holderOf(dataset), BUYER, "holder");
        vm.assertEq(abi.encode(rights.getCertificate(id), rights.certificateStatus(id)), before, "certificate");
        vm.assertEq(rights.hasRight(dataset, GRANTEE, PROCESSING), hadRight, "hasRight");
        vm.assertEq(hadRight, notBefore <= block.timestamp && block.timestamp < expiresAt, "window");
        // The new holder takes over revocation; the old one lost it.
        if (block.timestamp < expiresAt) {
            vm.expectRevert(
                abi.encodeWithSelector(IDataRightsRegistry.DataRightsRegistryNotRevoker.selector, HOLDER, id)
            );
            vm.prank(HOLDER);
            rights.revokeCertificate(id, keccak256("reason"));
            vm.prank(BUYER);
            rights.revokeCertificate(id, keccak256("reason"));
        }
    }

    function testFuzz_SuspendedGranteeHasNoRight(uint256 length) public {
        _grant(0, length);
        vm.prank(GOVERNOR);
        registry.suspendActor(GRANTEE, keccak256("reason"));
        vm.assertFalse(rights.hasRight(dataset, GRANTEE, PROCESSING), "hasRight");
    }
}

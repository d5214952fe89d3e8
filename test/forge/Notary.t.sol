// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Roles} from "contracts/Common.sol";
import {IActorRegistry} from "contracts/interfaces/IActorRegistry.sol";
import {INotary} from "contracts/interfaces/INotary.sol";

import {CoSign} from "./lib/CoSign.sol";
import {Fixtures} from "./lib/Fixtures.sol";
import {ERC1271Wallet} from "./mocks/ERC1271Wallet.sol";

/// @title NotaryFuzzTest
/// @notice One property per test over fuzzed hashes, kinds, times, blocks and signatures, exact
///         errors asserted.
contract NotaryFuzzTest is Fixtures, CoSign {
    IActorRegistry internal registry;
    INotary internal notary;

    address internal constant NOTARY_A = address(0xA001);
    address internal constant NOTARY_B = address(0xA002);
    address internal constant MAKER = address(0xA003); // an actor who is no notary
    /// Parties with known keys: registered actors (ALICE, BOB, CAROL), and the wallet's owner.
    uint256 internal constant ALICE_KEY = 0xA11CE;
    uint256 internal constant BOB_KEY = 0xB0B;
    uint256 internal constant CAROL_KEY = 0xCA201;
    uint256 internal constant OWNER_KEY = 0x0111E2;
    address internal alice;
    address internal bob;
    address internal carol;
    address internal wallet;

    bytes32 internal constant KIND = bytes32("delivery");

    function setUp() public {
        registry = _deployActorRegistry();
        notary = _deployNotary(registry);
        _registerActor(registry, NOTARY_A, _roles(Roles.NOTARY));
        _registerActor(registry, NOTARY_B, _roles(Roles.NOTARY));
        _registerActor(registry, MAKER, _roles(Roles.MANUFACTURER));
        alice = vm.addr(ALICE_KEY);
        bob = vm.addr(BOB_KEY);
        carol = vm.addr(CAROL_KEY);
        wallet = address(new ERC1271Wallet(vm.addr(OWNER_KEY)));
        _registerActor(registry, alice, _roles(Roles.MANUFACTURER));
        _registerActor(registry, bob, _roles(Roles.LOGISTICS));
        _registerActor(registry, carol, new bytes32[](0));
        _registerActor(registry, wallet, _roles(Roles.RETAILER));
    }

    // ---------------------------------------------------------------- helpers
    function _pair(address a, address b) internal pure returns (address[] memory parties) {
        parties = new address[](2);
        (parties[0], parties[1]) = (a, b);
    }

    function _single(address a) internal pure returns (address[] memory parties) {
        parties = new address[](1);
        parties[0] = a;
    }

    function _keyOf(address party) internal view returns (uint256) {
        if (party == alice) return ALICE_KEY;
        if (party == bob) return BOB_KEY;
        if (party == carol) return CAROL_KEY;
        return OWNER_KEY; // the wallet's
    }

    /// Every party's good signature.
    function _signatures(bytes32 recordHash, bytes32 kind, address[] memory parties, uint256 deadline)
        internal
        view
        returns (bytes[] memory signatures)
    {
        signatures = new bytes[](parties.length);
        for (uint256 i = 0; i < parties.length; ++i) {
            signatures[i] = _sign(_keyOf(parties[i]), _coSignDigest(address(notary), recordHash, kind, parties, deadline));
        }
    }

    function _coSign(bytes32 recordHash, address[] memory parties) internal returns (bytes32) {
        uint256 deadline = block.timestamp + 1 days;
        return notary.notarizeCoSigned(recordHash, KIND, parties, deadline, _signatures(recordHash, KIND, parties, deadline));
    }

    // ---------------------------------------------------------------- batches
    function testFuzz_BatchIsNeverAnchoredTwice(bytes32 root, uint32 count, uint32 count2, uint32 later, uint8 blocks)
        public
    {
        vm.assume(root != bytes32(0));
        count = uint32(_bound(count, 1, type(uint32).max));
        count2 = uint32(_bound(count2, 1, type(uint32).max));
        vm.roll(_bound(blocks, 1, 200));
        vm.prank(NOTARY_A);
        bytes32 id = notary.notarizeBatch(root, count, keccak256("manifest"));
        vm.assertEq(id, keccak256(abi.encode(root, NOTARY_A)), "batchId formula");
        (uint256 firstBlock, uint256 firstTime) = (block.number, block.timestamp);

        vm.warp(block.timestamp + later);
        vm.roll(block.number + blocks);
        vm.expectRevert(abi.encodeWithSelector(INotary.NotaryBatchExists.selector, id, firstBlock, firstTime));
        vm.prank(NOTARY_A);
        notary.notarizeBatch(root, count2, keccak256("another manifest"));

        INotary.Batch memory b = notary.getBatch(id);
        vm.assertEq(b.blockNumber, firstBlock, "block");
        vm.assertEq(b.timestamp, firstTime, "time");
        vm.assertEq(b.recordCount, count, "count");
    }

    function testFuzz_AnotherNotaryAnchorsTheSameRoot(bytes32 root, uint32 count) public {
        vm.assume(root != bytes32(0) && count != 0);
        vm.prank(NOTARY_A);
        bytes32 first = notary.notarizeBatch(root, count, bytes32(0));
        vm.prank(NOTARY_B);
        bytes32 second = notary.notarizeBatch(root, count, bytes32(0));
        vm.assertTrue(first != second, "ids differ");
        vm.assertEq(notary.getBatch(second).recordCount, count, "stored");
    }

    function testFuzz_BatchNeedsAnActiveNotary(bytes32 root, bool suspend) public {
        vm.assume(root != bytes32(0));
        address caller = suspend ? NOTARY_A : MAKER;
        if (suspend) _suspendActor(registry, NOTARY_A);
        vm.expectRevert(
            suspend
                ? abi.encodeWithSelector(IActorRegistry.ActorRegistryActorSuspended.selector, NOTARY_A)
                : abi.encodeWithSelector(IActorRegistry.ActorRegistryMissingRole.selector, MAKER, Roles.NOTARY)
        );
        vm.prank(caller);
        notary.notarizeBatch(root, 1, bytes32(0));
    }

    function testFuzz_InclusionOnlyUnderAnAnchoredRoot(bytes32[4] memory hashes, uint256 which) public {
        // A four-leaf StandardMerkleTree (sorted pairs) of (hash, KIND) leaves.
        bytes32[4] memory leaves;
        for (uint256 j = 0; j < 4; ++j) {
            leaves[j] = keccak256(bytes.concat(keccak256(abi.encode(hashes[j], KIND))));
        }
        bytes32 left = _hashPair(leaves[0], leaves[1]);
        bytes32 right = _hashPair(leaves[2], leaves[3]);
        bytes32 root = _hashPair(left, right);
        uint256 i = which % 4;
        bytes32[] memory proof = new bytes32[](2);
        proof[0] = leaves[i ^ 1];
        proof[1] = i < 2 ? right : left;
        vm.assertFalse(notary.verifyInclusion(root, NOTARY_A, hashes[i], KIND, proof), "before anchoring");
        vm.prank(NOTARY_A);
        notary.notarizeBatch(root, 4, bytes32(0));
        vm.assertTrue(notary.verifyInclusion(root, NOTARY_A, hashes[i], KIND, proof), "anchored by A");
        vm.assertFalse(notary.verifyInclusion(root, NOTARY_B, hashes[i], KIND, proof), "not anchored by B");
        vm.assertFalse(notary.verifyInclusion(root, NOTARY_A, hashes[i], bytes32("invoice"), proof), "another kind");
    }

    function _hashPair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }

    // ---------------------------------------------------------------- single records
    function testFuzz_RecordIsNotarizedOnce(bytes32 recordHash, bytes32 kind, uint32 later) public {
        vm.assume(recordHash != bytes32(0) && kind != bytes32(0));
        vm.prank(NOTARY_A);
        bytes32 id = notary.notarize(recordHash, kind);
        vm.assertEq(id, keccak256(abi.encode(recordHash, kind, NOTARY_A)), "singleRecordId formula");
        (uint256 firstBlock, uint256 firstTime) = (block.number, block.timestamp);
        vm.warp(block.timestamp + later);
        vm.roll(block.number + 1);
        vm.expectRevert(abi.encodeWithSelector(INotary.NotaryRecordExists.selector, id, firstBlock, firstTime));
        vm.prank(NOTARY_A);
        notary.notarize(recordHash, kind);
        INotary.Record memory r = notary.getRecord(id);
        vm.assertEq(r.blockNumber, firstBlock, "block");
        vm.assertEq(r.timestamp, firstTime, "time");
        vm.assertEq(uint256(r.method), uint256(INotary.Method.Single), "method");
    }

    /// Whoever saw a record hash notarizes it every way it can; the other notary and the real
    /// parties still notarize it, each under its own id.
    function testFuzz_KnowingAHashBlocksNobody(bytes32 recordHash, uint256 attacker) public {
        vm.assume(recordHash != bytes32(0));
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(recordHash, KIND))));
        // The attacker: another notary (single, a batch of the leaf and one of the hash itself),
        // or an actor co-signing the hash alone.
        if (attacker % 2 == 0) {
            vm.prank(NOTARY_A);
            notary.notarize(recordHash, KIND);
            vm.prank(NOTARY_A);
            notary.notarizeBatch(leaf, 1, bytes32(0));
            vm.prank(NOTARY_A);
            notary.notarizeBatch(recordHash, 1, bytes32(0));
        } else {
            vm.prank(carol);
            _coSign(recordHash, _single(carol));
        }
        vm.prank(NOTARY_B);
        notary.notarize(recordHash, KIND);
        vm.prank(NOTARY_B);
        notary.notarizeBatch(leaf, 1, bytes32(0));
        _coSign(recordHash, _pair(alice, bob));
        _coSign(recordHash, _single(alice));
        vm.assertEq(
            uint256(notary.getRecord(notary.coSignedRecordId(recordHash, KIND, _pair(alice, bob))).method),
            uint256(INotary.Method.CoSigned),
            "the parties' record"
        );
    }

    function testFuzz_SingleNeedsAnActiveNotary(bytes32 recordHash, uint256 who) public {
        vm.assume(recordHash != bytes32(0));
        address caller = [MAKER, alice, address(0xBAD)][who % 3];
        vm.expectRevert(
            caller == address(0xBAD)
                ? abi.encodeWithSelector(IActorRegistry.ActorRegistryUnknownActor.selector, caller)
                : abi.encodeWithSelector(IActorRegistry.ActorRegistryMissingRole.selector, caller, Roles.NOTARY)
        );
        vm.prank(caller);
        notary.notarize(recordHash, KIND);
    }

    // ---------------------------------------------------------------- co-signed records
    function testFuzz_CoSignedIdAndDigestFollowTheFormulas(bytes32 recordHash, bytes32 kind, uint256 deadline)
        public
        view
    {
        address[] memory parties = _pair(alice, wallet);
        vm.assertEq(
            notary.coSignedRecordId(recordHash, kind, parties),
            keccak256(abi.encode(recordHash, kind, keccak256(abi.encodePacked(parties)))),
            "coSignedRecordId"
        );
        vm.assertEq(
            notary.coSignDigest(recordHash, kind, parties, deadline),
            _coSignDigest(address(notary), recordHash, kind, parties, deadline),
            "coSignDigest"
        );
    }

    function testFuzz_CoSignedNeedsEveryPartysValidSignature(bytes32 recordHash, uint256 spoiled, uint8 how) public {
        vm.assume(recordHash != bytes32(0));
        address[] memory parties = new address[](3);
        (parties[0], parties[1], parties[2]) = (alice, bob, wallet);
        uint256 deadline = block.timestamp + 1 hours;
        bytes[] memory signatures = _signatures(recordHash, KIND, parties, deadline);
        uint256 i = spoiled % 3;
        uint256 otherKey = _keyOf(parties[(i + 1) % 3]);
        signatures[i] = _coSignature(
            address(notary), recordHash, KIND, parties, deadline, _keyOf(parties[i]), otherKey, Spoil(1 + how % 4)
        );
        vm.expectRevert(abi.encodeWithSelector(INotary.NotaryInvalidSignature.selector, parties[i], i));
        notary.notarizeCoSigned(recordHash, KIND, parties, deadline, signatures);
    }

    function testFuzz_SignaturesCoverTheRecord(bytes32 recordHash, bytes32 otherHash) public {
        // Signatures of one record never notarize another (nor under another party list).
        vm.assume(recordHash != bytes32(0) && otherHash != bytes32(0) && otherHash != recordHash);
        address[] memory parties = _pair(alice, bob);
        uint256 deadline = block.timestamp + 1 hours;
        bytes[] memory signatures = _signatures(recordHash, KIND, parties, deadline);
        vm.expectRevert(abi.encodeWithSelector(INotary.NotaryInvalidSignature.selector, alice, 0));
        notary.notarizeCoSigned(otherHash, KIND, parties, deadline, signatures);
        // The same signatures with the parties swapped.
        (signatures[0], signatures[1]) = (signatures[1], signatures[0]);
        vm.expectRevert(abi.encodeWithSelector(INotary.NotaryInvalidSignature.selector, bob, 0));
        notary.notarizeCoSigned(recordHash, KIND, _pair(bob, alice), deadline, signatures);
    }

    function testFuzz_CoSignedPartiesInGoodStanding(bytes32 recordHash, bool suspend) public {
        vm.assume(recordHash != bytes32(0));
        uint256 strangerKey = 0x57A;
        address party = suspend ? bob : vm.addr(strangerKey);
        if (suspend) _suspendActor(registry, bob);
        address[] memory parties = _pair(alice, party);
        uint256 deadline = block.timestamp + 1 hours;
        bytes[] memory signatures = new bytes[](2);
        signatures[0] = _sign(ALICE_KEY, _coSignDigest(address(notary), recordHash, KIND, parties, deadline));
        signatures[1] =
            _sign(suspend ? BOB_KEY : strangerKey, _coSignDigest(address(notary), recordHash, KIND, parties, deadline));
        vm.expectRevert(
            suspend
                ? abi.encodeWithSelector(IActorRegistry.ActorRegistryActorSuspended.selector, party)
                : abi.encodeWithSelector(IActorRegistry.ActorRegistryUnknownActor.selector, party)
        );
        notary.notarizeCoSigned(recordHash, KIND, parties, deadline, signatures);
    }

    function testFuzz_CoSignedRepeatIsRefused(bytes32 recordHash, uint32 later, address submitter) public {
        vm.assume(recordHash != bytes32(0));
        address[] memory parties = _pair(alice, wallet);
        uint256 deadline = block.timestamp + 30 days;
        bytes[] memory signatures = _signatures(recordHash, KIND, parties, deadline);
        bytes32 id = notary.notarizeCoSigned(recordHash, KIND, parties, deadline, signatures);
        (uint256 firstBlock, uint256 firstTime) = (block.number, block.timestamp);
        vm.warp(block.timestamp + _bound(later, 0, 30 days));
        vm.roll(block.number + 1);
        vm.expectRevert(abi.encodeWithSelector(INotary.NotaryRecordExists.selector, id, firstBlock, firstTime));
        vm.prank(submitter);
        notary.notarizeCoSigned(recordHash, KIND, parties, deadline, signatures);
    }

    function testFuzz_CoSignaturesExpire(bytes32 recordHash, uint32 late) public {
        vm.assume(recordHash != bytes32(0) && late != 0);
        address[] memory parties = _single(alice);
        uint256 deadline = block.timestamp + 1 hours;
        bytes[] memory signatures = _signatures(recordHash, KIND, parties, deadline);
        vm.warp(deadline + late);
        vm.expectRevert(abi.encodeWithSelector(INotary.NotarySignaturesExpired.selector, deadline));
        notary.notarizeCoSigned(recordHash, KIND, parties, deadline, signatures);
        vm.warp(deadline); // the deadline itself is still in time
        notary.notarizeCoSigned(recordHash, KIND, parties, deadline, signatures);
    }

    function testFuzz_CoSignedPartyListIsWellFormed(bytes32 recordHash, uint256 which) public {
        vm.assume(recordHash != bytes32(0));
        uint256 deadline = block.timestamp + 1 hours;
        uint256 w = which % 3;
        address[] memory parties = w == 0 ? new address[](0) : w == 1 ? _pair(alice, alice) : _pair(alice, bob);
        bytes[] memory signatures = _signatures(recordHash, KIND, parties, deadline);
        if (w == 2) signatures = _signatures(recordHash, KIND, _single(alice), deadline); // one too few
        vm.expectRevert(
            w == 0
                ? abi.encodeWithSelector(INotary.NotaryPartyCount.selector, 0, 32)
                : w == 1
                    ? abi.encodeWithSelector(INotary.NotaryDuplicateParty.selector, alice)
                    : abi.encodeWithSelector(INotary.NotarySignatureCount.selector, 2, 1)
        );
        notary.notarizeCoSigned(recordHash, KIND, parties, deadline, signatures);
    }
}

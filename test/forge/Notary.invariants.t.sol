// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Roles} from "contracts/Common.sol";
import {IActorRegistry} from "contracts/interfaces/IActorRegistry.sol";
import {INotary} from "contracts/interfaces/INotary.sol";

import {NotaryHandler} from "./handlers/NotaryHandler.sol";
import {Fixtures} from "./lib/Fixtures.sol";
import {Console, InvariantTest} from "./lib/Test.sol";
import {ERC1271Wallet} from "./mocks/ERC1271Wallet.sol";

/// @title NotaryInvariants
/// @notice Random sequences of single, co-signed and batch notarizations of a few record hashes,
///         kinds and roots, by notaries, other actors and strangers, with good and spoiled
///         co-signatures, suspensions and the passing of time and blocks. After every call: every
///         call went as the rules say and no property listed in NotaryHandler is broken (a batch
///         or record id is notarized at most once and a repeat is refused naming the first; a
///         co-signed record needs every party's valid signature and good standing; nobody blocks
///         another notary's or party set's notarization of the same record).
contract NotaryInvariants is Fixtures, InvariantTest {
    IActorRegistry internal registry;
    INotary internal notary;
    NotaryHandler internal handler;

    function setUp() public {
        registry = _deployActorRegistry();
        notary = _deployNotary(registry);
        // Callers: the governor, two notaries and one suspended below, a manufacturer, a stranger.
        address[] memory callers = new address[](6);
        callers[0] = GOVERNOR;
        for (uint256 i = 1; i < callers.length; ++i) {
            callers[i] = _account(i);
        }
        _registerActor(registry, callers[1], _roles(Roles.NOTARY));
        _registerActor(registry, callers[2], _roles(Roles.NOTARY));
        _registerActor(registry, callers[3], _roles(Roles.NOTARY));
        _registerActor(registry, callers[4], _roles(Roles.MANUFACTURER));
        // Parties with known keys: three actors, one suspended below, one never registered, and
        // a contract wallet (ERC-1271) whose owner's key signs for it.
        address[] memory parties = new address[](6);
        uint256[] memory keys = new uint256[](6);
        for (uint256 i = 0; i < 5; ++i) {
            keys[i] = uint256(keccak256(abi.encode("party key", i)));
            parties[i] = vm.addr(keys[i]);
        }
        keys[5] = uint256(keccak256(abi.encode("wallet owner key")));
        parties[5] = address(new ERC1271Wallet(vm.addr(keys[5])));
        _registerActor(registry, parties[0], _roles(Roles.MANUFACTURER));
        _registerActor(registry, parties[1], _roles(Roles.LOGISTICS));
        _registerActor(registry, parties[2], new bytes32[](0));
        _registerActor(registry, parties[3], _roles(Roles.RETAILER));
        _registerActor(registry, parties[5], _roles(Roles.RETAILER));
        _suspendActor(registry, callers[3]);
        _suspendActor(registry, parties[3]);
        // Three records, two kinds: every pair is also the root of a one-leaf batch.
        bytes32[] memory hashes = new bytes32[](3);
        for (uint256 i = 0; i < hashes.length; ++i) {
            hashes[i] = keccak256(abi.encode("record", i));
        }
        bytes32[] memory kinds = new bytes32[](2);
        kinds[0] = bytes32("delivery");
        kinds[1] = bytes32("invoice");
        handler = new NotaryHandler(notary, registry, GOVERNOR, callers, parties, keys, hashes, kinds);
        _targetHandler(address(handler), handler.actions());
    }

    /// Checked after every call. Budget: 32 runs of 100 calls by default (about two CPU-seconds);
    /// the deep profile's own 256 x 500 restated, since a `default.` line binds every profile.
    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 100
    /// forge-config: deep.invariant.runs = 256
    /// forge-config: deep.invariant.depth = 500
    function invariant_properties() public view {
        vm.assertEq(handler.violations(), 0, handler.firstViolation());
    }

    /// At the end of each run: every record and batch against the model, and (with -vv) what
    /// the run did.
    function afterInvariant() public {
        handler.checkAll();
        vm.assertEq(handler.violations(), 0, handler.firstViolation());
        Console.log("calls that went through", handler.succeeded());
        Console.log("calls refused", handler.refused());
        Console.log("single records", handler.singles());
        Console.log("co-signed records", handler.coSigned());
        Console.log("batches", handler.batches());
        Console.log("repeats refused", handler.repeatsRefused());
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Roles} from "contracts/Common.sol";
import {IActorRegistry} from "contracts/interfaces/IActorRegistry.sol";
import {IDataRightsRegistry} from "contracts/interfaces/IDataRightsRegistry.sol";

import {DataRightsHandler} from "./handlers/DataRightsHandler.sol";
import {Fixtures} from "./lib/Fixtures.sol";
import {Console, InvariantTest} from "./lib/Test.sol";

/// @title DataRightsRegistryInvariants
/// @notice Random sequences of dataset registrations, grants, revocations, uses, holder
///         transfers, suspensions and the passing of time. After every call: every call went as
///         the rules say and no property listed in DataRightsHandler is broken (a certificate
///         is never valid outside its window or after revocation, hasRight is false for unknown
///         datasets, at most one open certificate per grant, holder transfers keep certificates).
contract DataRightsRegistryInvariants is Fixtures, InvariantTest {
    IActorRegistry internal registry;
    IDataRightsRegistry internal rights;
    DataRightsHandler internal handler;

    function setUp() public {
        registry = _deployActorRegistry();
        rights = _deployDataRights(registry);
        // Pool: the governor, four actors (roles do not matter here), one stranger.
        address[] memory pool = new address[](6);
        pool[0] = GOVERNOR;
        for (uint256 i = 1; i < 5; ++i) {
            pool[i] = _account(i);
            _registerActor(registry, pool[i], Roles.MANUFACTURER, true);
        }
        pool[5] = _account(5);
        bytes32[] memory contents = new bytes32[](3);
        for (uint256 i = 0; i < contents.length; ++i) {
            contents[i] = keccak256(abi.encode("dataset manifest", i));
        }
        // Two datasets start registered, so certificates come early in a run; the fuzzer
        // registers more.
        bytes32[] memory datasets = new bytes32[](2);
        datasets[0] = _registerDataset(rights, pool[1], contents[0]);
        datasets[1] = _registerDataset(rights, pool[2], contents[1]);
        handler = new DataRightsHandler(rights, registry, GOVERNOR, pool, contents, datasets);
        _targetHandler(address(handler), handler.actions());
    }

    /// Checked after every call.
    function invariant_properties() public view {
        vm.assertEq(handler.violations(), 0, handler.firstViolation());
    }

    /// At the end of each run: every property on everything, and (with -vv) what the run did.
    function afterInvariant() public {
        vm.warp(handler.currentTime());
        handler.checkAll();
        vm.assertEq(handler.violations(), 0, handler.firstViolation());
        Console.log("calls that went through", handler.succeeded());
        Console.log("calls refused", handler.refused());
        Console.log("certificates granted", handler.certificateCount());
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Roles} from "contracts/Common.sol";
import {IActorRegistry} from "contracts/interfaces/IActorRegistry.sol";

import {ActorRegistryHandler} from "./handlers/ActorRegistryHandler.sol";
import {Fixtures} from "./lib/Fixtures.sol";
import {Console, InvariantTest} from "./lib/Test.sol";

/// @title ActorRegistryInvariants
/// @notice Random sequences of register / update / suspend / reinstate / grant / revoke /
///         renounce, by governors, plain actors, suspended actors and strangers. After every
///         call: every call went as the rules say, a suspended actor passes no check, only
///         governance changes roles (see ActorRegistryHandler), and governance never locks itself
///         out (some active governor remains).
contract ActorRegistryInvariants is Fixtures, InvariantTest {
    IActorRegistry internal registry;
    ActorRegistryHandler internal handler;

    function setUp() public {
        registry = _deployActorRegistry();
        // Pool: the founding governor, a second governor, three actors with roles, one without,
        // four strangers the fuzzer may register.
        _registerActor(registry, _account(1), Roles.GOVERNANCE, true);
        _registerActor(registry, _account(2), Roles.MANUFACTURER, true);
        _registerActor(registry, _account(3), Roles.LOGISTICS, true);
        _registerActor(registry, _account(4), Roles.NOTARY, true);
        _registerActor(registry, _account(5), 0, false);
        address[] memory pool = new address[](10);
        pool[0] = GOVERNOR;
        for (uint256 i = 1; i < pool.length; ++i) {
            pool[i] = _account(i);
        }
        handler = new ActorRegistryHandler(registry, pool, _allRoles());
        _targetHandler(address(handler), handler.actions());
    }

    /// Checked after every call.
    function invariant_properties() public view {
        vm.assertEq(handler.violations(), 0, handler.firstViolation());
        _anActiveGovernorRemains();
    }

    /// At the end of each run: the properties over the whole pool, not only the touched
    /// accounts, and (with -vv) how many calls went through.
    function afterInvariant() public {
        address[] memory pool = handler.pool();
        for (uint256 i = 0; i < pool.length; ++i) {
            handler.checkAccount(pool[i]);
        }
        vm.assertEq(handler.violations(), 0, handler.firstViolation());
        Console.log("calls that went through", handler.succeeded());
        Console.log("calls refused", handler.refused());
    }

    function _anActiveGovernorRemains() internal view {
        address[] memory pool = handler.pool();
        for (uint256 i = 0; i < pool.length; ++i) {
            if (registry.isActive(pool[i], Roles.GOVERNANCE)) return;
        }
        vm.assertTrue(false, "governance never locks itself out: no active governor left");
    }
}

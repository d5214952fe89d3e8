// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Roles} from "contracts/Common.sol";
import {IActorRegistry} from "contracts/interfaces/IActorRegistry.sol";

import {Fixtures} from "./lib/Fixtures.sol";

/// @title ActorRegistryFuzzTest
/// @notice One property per test, each over fuzzed inputs, with the exact error asserted.
contract ActorRegistryFuzzTest is Fixtures {
    IActorRegistry internal registry;
    /// A second governor, so one governor can act on another.
    address internal constant GOVERNOR_2 = address(0xA001);
    /// An actor holding every role but governance.
    address internal constant ACTOR = address(0xA002);

    function setUp() public {
        registry = _deployActorRegistry();
        _registerActor(registry, GOVERNOR_2, Roles.GOVERNANCE, true);
        _registerActor(registry, ACTOR, Roles.MANUFACTURER, true);
        bytes32[] memory roles = _allRoles();
        for (uint256 i = 2; i < roles.length; ++i) {
            vm.prank(GOVERNOR);
            registry.grantRole(roles[i], ACTOR);
        }
    }

    function testFuzz_SuspendedActorPassesNoCheck(bool suspendGovernor, bytes32 role, bytes32 reasonHash) public {
        address account = suspendGovernor ? GOVERNOR_2 : ACTOR;
        vm.prank(GOVERNOR);
        registry.suspendActor(account, reasonHash);

        bytes memory suspended = abi.encodeWithSelector(IActorRegistry.ActorRegistryActorSuspended.selector, account);
        vm.assertFalse(registry.isActor(account), "isActor");
        vm.assertFalse(registry.isActive(account, role), "isActive");
        vm.expectRevert(suspended);
        registry.requireActor(account);
        vm.expectRevert(suspended);
        registry.requireActive(account, role);
        vm.assertTrue(registry.hasRole(Roles.MANUFACTURER, ACTOR), "suspension keeps roles");

        vm.prank(GOVERNOR);
        registry.reinstateActor(account);
        registry.requireActor(account);
    }

    function testFuzz_SuspendedGovernorCannotGovern(bytes32 role) public {
        vm.prank(GOVERNOR);
        registry.suspendActor(GOVERNOR_2, bytes32(uint256(1)));
        vm.expectRevert(abi.encodeWithSelector(IActorRegistry.ActorRegistryActorSuspended.selector, GOVERNOR_2));
        vm.prank(GOVERNOR_2);
        registry.grantRole(role, ACTOR);
    }

    function testFuzz_OnlyGovernanceGrantsOrRevokes(address caller, bytes32 role, bool revoke) public {
        vm.assume(caller != GOVERNOR && caller != GOVERNOR_2 && caller != FORWARDER);
        bytes memory expected = registry.getActor(caller).registered
            ? abi.encodeWithSelector(IActorRegistry.ActorRegistryMissingRole.selector, caller, Roles.GOVERNANCE)
            : abi.encodeWithSelector(IActorRegistry.ActorRegistryUnknownActor.selector, caller);
        bool before = registry.hasRole(role, ACTOR);
        vm.expectRevert(expected);
        vm.prank(caller);
        if (revoke) registry.revokeRole(role, ACTOR);
        else registry.grantRole(role, ACTOR);
        vm.assertEq(registry.hasRole(role, ACTOR), before, "role changed");
    }

    function testFuzz_RolesGoOnlyToRegisteredActors(address account, bytes32 role) public {
        vm.assume(!registry.getActor(account).registered);
        vm.expectRevert(abi.encodeWithSelector(IActorRegistry.ActorRegistryUnknownActor.selector, account));
        vm.prank(GOVERNOR);
        registry.grantRole(role, account);
    }

    /// A governor cannot suspend itself, revoke or renounce its own governance role.
    function testFuzz_GovernorCannotLockItselfOut(uint8 how, bool second, bytes32 reasonHash) public {
        address governor = second ? GOVERNOR_2 : GOVERNOR;
        vm.expectRevert(abi.encodeWithSelector(IActorRegistry.ActorRegistryGovernanceLockout.selector, governor));
        vm.prank(governor);
        how %= 3;
        if (how == 0) registry.suspendActor(governor, reasonHash);
        else if (how == 1) registry.revokeRole(Roles.GOVERNANCE, governor);
        else registry.renounceRole(Roles.GOVERNANCE, governor);
        registry.requireActive(governor, Roles.GOVERNANCE);
    }

    /// The last active governor stays one, whatever the other governor does to it.
    function testFuzz_LastGovernorStaysActive(bool revokeInsteadOfSuspend) public {
        vm.prank(GOVERNOR);
        if (revokeInsteadOfSuspend) registry.revokeRole(Roles.GOVERNANCE, GOVERNOR_2);
        else registry.suspendActor(GOVERNOR_2, bytes32(uint256(1)));
        // GOVERNOR_2 can no longer act against GOVERNOR, and GOVERNOR cannot act against itself.
        vm.prank(GOVERNOR_2);
        (bool ok,) = address(registry).call(abi.encodeCall(registry.suspendActor, (GOVERNOR, bytes32(0))));
        vm.assertFalse(ok, "a former governor suspended the last one");
        registry.requireActive(GOVERNOR, Roles.GOVERNANCE);
    }
}

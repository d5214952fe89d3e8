// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Roles} from "contracts/Common.sol";
import {IActorRegistry} from "contracts/interfaces/IActorRegistry.sol";
import {IProvenanceRegistry} from "contracts/interfaces/IProvenanceRegistry.sol";

import {ProvenanceHandler} from "./handlers/ProvenanceHandler.sol";
import {Fixtures} from "./lib/Fixtures.sol";
import {Console, InvariantTest} from "./lib/Test.sol";

/// @title ProvenanceRegistryInvariants
/// @notice Random sequences of subject creations, events (single and multi-subject, with new
///         subjects in the same call), batch custody hand-overs, forced custody, recalls,
///         suspensions and the passing of time, by every kind of caller. After every call: every
///         call went as the rules say and no property listed in ProvenanceHandler is broken (a
///         subject's head is the fold of its entries; custody moves only by its custodian or by
///         governance with a reason; only the custodian, or an inspector inspecting or sampling,
///         extends a custodial subject's chain; no retail sale of a recalled subject; a recall is
///         for good; a key is created once; a refused call changes nothing).
contract ProvenanceRegistryInvariants is Fixtures, InvariantTest {
    IActorRegistry internal registry;
    IProvenanceRegistry internal provenance;
    ProvenanceHandler internal handler;

    function setUp() public {
        registry = _deployActorRegistry();
        provenance = _deployProvenance(registry);
        // Pool: the governor; two manufacturers, logistics, a retailer, an inspector, a notary,
        // a manufacturer who is also an inspector; a manufacturer suspended below; a stranger.
        address[] memory pool = new address[](10);
        pool[0] = GOVERNOR;
        for (uint256 i = 1; i < pool.length; ++i) {
            pool[i] = _account(i);
        }
        _registerActor(registry, pool[1], _roles(Roles.MANUFACTURER));
        _registerActor(registry, pool[2], _roles(Roles.MANUFACTURER));
        _registerActor(registry, pool[3], _roles(Roles.LOGISTICS));
        _registerActor(registry, pool[4], _roles(Roles.RETAILER));
        _registerActor(registry, pool[5], _roles(Roles.INSPECTOR));
        _registerActor(registry, pool[6], _roles(Roles.NOTARY));
        _registerActor(registry, pool[7], _roles(Roles.MANUFACTURER, Roles.INSPECTOR));
        _registerActor(registry, pool[8], _roles(Roles.MANUFACTURER));
        // pool[9] stays unregistered.
        // Twenty-four items (custodial) and six lots (open).
        string[] memory identifiers = new string[](30);
        for (uint256 i = 0; i < 24; ++i) {
            identifiers[i] = string.concat("urn:epc:id:sgtin:4012345.011111.", _number(i));
        }
        for (uint256 i = 24; i < 30; ++i) {
            identifiers[i] = string.concat("urn:epc:class:lgtin:4012345.011111.LOT", _number(i));
        }
        handler = new ProvenanceHandler(provenance, registry, GOVERNOR, pool, identifiers, 24);
        // A run starts with subjects: two items and a lot of the first manufacturer, and two
        // items of the manufacturer who is then suspended (for governance to recover).
        handler.setUpSubject(pool[1], 0);
        handler.setUpSubject(pool[1], 1);
        handler.setUpSubject(pool[1], 24);
        handler.setUpSubject(pool[8], 5);
        handler.setUpSubject(pool[8], 6);
        _suspendActor(registry, pool[8]);
        handler.readActor(pool[8]);
        require(handler.violations() == 0, handler.firstViolation());
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

    /// At the end of each run: every subject against the model, and (with -vv) what the run did.
    function afterInvariant() public {
        vm.warp(handler.currentTime());
        handler.checkAll();
        vm.assertEq(handler.violations(), 0, handler.firstViolation());
        Console.log("calls that went through", handler.succeeded());
        Console.log("calls refused", handler.refused());
        Console.log("subjects created", handler.created());
        Console.log("event entries", handler.eventEntries());
        Console.log("custody moves", handler.custodyMoves());
        Console.log("recalls", handler.recalls());
        Console.log("retail sales", handler.retailSales());
        Console.log("inspections", handler.inspections());
    }

    function _number(uint256 i) private pure returns (string memory) {
        return string(abi.encodePacked(bytes1(uint8(48 + i / 10)), bytes1(uint8(48 + i % 10))));
    }
}

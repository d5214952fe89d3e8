// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Roles, TraceChainZeroHash} from "contracts/Common.sol";
import {IActorRegistry} from "contracts/interfaces/IActorRegistry.sol";
import {IProvenanceRegistry} from "contracts/interfaces/IProvenanceRegistry.sol";

import {Fixtures} from "./lib/Fixtures.sol";

/// @title ProvenanceRegistryFuzzTest
/// @notice One property per test over fuzzed steps, entries, times and callers, exact errors asserted.
contract ProvenanceRegistryFuzzTest is Fixtures {
    IActorRegistry internal registry;
    IProvenanceRegistry internal provenance;

    address internal constant MAKER = address(0xA001); // manufacturer
    address internal constant CARRIER = address(0xA002); // logistics
    address internal constant SHOP = address(0xA003); // retailer
    address internal constant INSPECTOR = address(0xA004);
    address internal constant NOTARY = address(0xA005);
    address internal constant STRANGER = address(0xA006); // never registered

    string internal constant ITEM = "urn:epc:id:sgtin:4012345.011111.1001";
    string internal constant LOT = "urn:epc:class:lgtin:4012345.011111.L42";
    bytes32 internal itemKey;
    bytes32 internal lotKey;

    // The protocol's codes, spelled out (the test checks the interface's numbers).
    uint8 internal constant EVENT = 1;
    uint8 internal constant ERROR_DECLARATION = 2;
    uint8 internal constant CUSTODY = 3;
    uint8 internal constant FORCED_CUSTODY = 4;
    uint8 internal constant RECALL = 5;
    uint8 internal constant COMMISSIONING = 5;
    uint8 internal constant INSPECTING = 17;
    uint8 internal constant RETAIL_SELLING = 30;
    uint8 internal constant SAMPLING = 31;
    uint8 internal constant SHIPPING = 33;

    function setUp() public {
        registry = _deployActorRegistry();
        provenance = _deployProvenance(registry);
        _registerActor(registry, MAKER, _roles(Roles.MANUFACTURER));
        _registerActor(registry, CARRIER, _roles(Roles.LOGISTICS));
        _registerActor(registry, SHOP, _roles(Roles.RETAILER));
        _registerActor(registry, INSPECTOR, _roles(Roles.INSPECTOR));
        _registerActor(registry, NOTARY, _roles(Roles.NOTARY));
        itemKey = keccak256(bytes(ITEM));
        lotKey = keccak256(bytes(LOT));
        IProvenanceRegistry.NewSubject[] memory subjects = new IProvenanceRegistry.NewSubject[](2);
        subjects[0] = IProvenanceRegistry.NewSubject(ITEM, keccak256("item metadata"), false);
        subjects[1] = IProvenanceRegistry.NewSubject(LOT, bytes32(0), true);
        vm.prank(MAKER);
        provenance.createSubjects(subjects);
    }

    // ---------------------------------------------------------------- helpers
    function _fold(bytes32 head, uint8 kind, bytes32 ref, bytes32 documentHash, uint8 code, address actor)
        internal
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(head, kind, ref, documentHash, code, actor, uint64(block.timestamp)));
    }

    function _one(bytes32 key) internal pure returns (bytes32[] memory keys) {
        keys = new bytes32[](1);
        keys[0] = key;
    }

    /// A valid CBV step other than the role-restricted and inspection ones.
    function _plainStep(uint8 seed) internal pure returns (uint8 step) {
        step = uint8(_bound(seed, 0, 41));
        if (step == 5 || step == 7 || step == 14 || step == 17 || step == 30 || step == 31) step = SHIPPING;
    }

    // ---------------------------------------------------------------- the hash chain
    function testFuzz_HeadIsTheFoldOfEntries(bytes32[4] memory ids, uint8[4] memory steps, uint32[4] memory gaps)
        public
    {
        bytes32 head = keccak256(abi.encode(itemKey, MAKER, keccak256("item metadata")));
        vm.assertEq(provenance.headOf(itemKey), head, "head_0");
        for (uint256 i = 0; i < 4; ++i) {
            vm.warp(block.timestamp + gaps[i]);
            bytes32 eventId = keccak256(abi.encode(ids[i], i));
            bytes32 documentHash = keccak256(abi.encode(eventId));
            uint8 step = _plainStep(steps[i]);
            vm.prank(MAKER);
            bytes32 returned = provenance.recordEvent(itemKey, eventId, documentHash, step);
            head = _fold(head, EVENT, eventId, documentHash, step, MAKER);
            vm.assertEq(returned, head, "recordEvent returns the new head");
        }
        vm.prank(MAKER);
        provenance.transferCustody(_one(itemKey), CARRIER);
        head = _fold(head, CUSTODY, bytes32(uint256(uint160(CARRIER))), bytes32(0), 0, MAKER);
        vm.prank(GOVERNOR);
        provenance.forceCustody(itemKey, SHOP, keccak256("carrier lost its key"));
        head = _fold(head, FORCED_CUSTODY, bytes32(uint256(uint160(SHOP))), keccak256("carrier lost its key"), 0, GOVERNOR);
        vm.prank(MAKER);
        provenance.recall(itemKey, keccak256("notice"));
        head = _fold(head, RECALL, bytes32(0), keccak256("notice"), 0, MAKER);
        vm.assertEq(provenance.headOf(itemKey), head, "headOf");
        vm.assertEq(provenance.getSubject(itemKey).head, head, "getSubject().head");
    }

    function testFuzz_MultiSubjectEventExtendsEveryChainOnce(bytes32 eventId, bytes32 documentHash, bool declare)
        public
    {
        vm.assume(eventId != bytes32(0) && documentHash != bytes32(0));
        uint8 kind = declare ? ERROR_DECLARATION : EVENT;
        // A new pallet created in the same call as the event naming the item, the lot and it.
        string memory pallet = "urn:epc:id:sscc:4012345.0000000001";
        bytes32 palletKey = keccak256(bytes(pallet));
        IProvenanceRegistry.NewSubject[] memory create = new IProvenanceRegistry.NewSubject[](1);
        create[0] = IProvenanceRegistry.NewSubject(pallet, bytes32(0), false);
        IProvenanceRegistry.EventInput[] memory events = new IProvenanceRegistry.EventInput[](1);
        bytes32[] memory subjects = new bytes32[](3);
        (subjects[0], subjects[1], subjects[2]) = (itemKey, lotKey, palletKey);
        events[0] = IProvenanceRegistry.EventInput(kind, SHIPPING, eventId, documentHash, subjects);
        bytes32[3] memory expected = [
            _fold(provenance.headOf(itemKey), kind, eventId, documentHash, SHIPPING, MAKER),
            _fold(provenance.headOf(lotKey), kind, eventId, documentHash, SHIPPING, MAKER),
            _fold(keccak256(abi.encode(palletKey, MAKER, bytes32(0))), kind, eventId, documentHash, SHIPPING, MAKER)
        ];
        vm.prank(MAKER);
        provenance.recordEvents(create, events);
        for (uint256 i = 0; i < 3; ++i) {
            vm.assertEq(provenance.headOf(subjects[i]), expected[i], "each subject's head");
        }
    }

    // ---------------------------------------------------------------- who extends a chain
    function testFuzz_OnlyTheCustodianRecords(uint8 stepSeed, uint256 who) public {
        uint8 step = _plainStep(stepSeed);
        address caller = [CARRIER, SHOP][who % 2];
        vm.expectRevert(
            abi.encodeWithSelector(IProvenanceRegistry.ProvenanceRegistryNotCustodian.selector, itemKey, caller, MAKER)
        );
        vm.prank(caller);
        provenance.recordEvent(itemKey, keccak256("event"), keccak256("doc"), step);
    }

    function testFuzz_InspectorInspectsAnotherCustodiansSubject(bool sampling, bytes32 eventId) public {
        vm.assume(eventId != bytes32(0));
        uint8 step = sampling ? SAMPLING : INSPECTING;
        bytes32 expected = _fold(provenance.headOf(itemKey), EVENT, eventId, keccak256("doc"), step, INSPECTOR);
        vm.prank(INSPECTOR);
        provenance.recordEvent(itemKey, eventId, keccak256("doc"), step);
        vm.assertEq(provenance.headOf(itemKey), expected, "the custodian's chain is extended");
        vm.assertEq(provenance.getSubject(itemKey).custodian, MAKER, "custody unchanged");
    }

    function testFuzz_InspectorRecordsNothingElse(uint8 stepSeed) public {
        uint8 step = _plainStep(stepSeed);
        vm.expectRevert(
            abi.encodeWithSelector(IProvenanceRegistry.ProvenanceRegistryNotSupplyChainActor.selector, INSPECTOR)
        );
        vm.prank(INSPECTOR);
        provenance.recordEvent(itemKey, keccak256("event"), keccak256("doc"), step);
    }

    function testFuzz_SupplyChainInspectingIsForTheCustodianOnly(bool sampling) public {
        uint8 step = sampling ? SAMPLING : INSPECTING;
        vm.expectRevert(
            abi.encodeWithSelector(IProvenanceRegistry.ProvenanceRegistryNotCustodian.selector, itemKey, CARRIER, MAKER)
        );
        vm.prank(CARRIER);
        provenance.recordEvent(itemKey, keccak256("event"), keccak256("doc"), step);
    }

    function testFuzz_OpenSubjectTakesAnySupplyChainActor(uint8 stepSeed, uint256 who) public {
        uint8 step = _plainStep(stepSeed);
        address caller = [MAKER, CARRIER, SHOP][who % 3];
        bytes32 expected = _fold(provenance.headOf(lotKey), EVENT, keccak256("e"), keccak256("d"), step, caller);
        vm.prank(caller);
        provenance.recordEvent(lotKey, keccak256("e"), keccak256("d"), step);
        vm.assertEq(provenance.headOf(lotKey), expected, "head");
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.ProvenanceRegistryNotSupplyChainActor.selector, NOTARY));
        vm.prank(NOTARY);
        provenance.recordEvent(lotKey, keccak256("e"), keccak256("d"), step);
    }

    function testFuzz_UnknownBizStepIsRefused(uint8 step) public {
        step = uint8(_bound(step, 42, 254));
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.ProvenanceRegistryUnknownBizStep.selector, step));
        vm.prank(MAKER);
        provenance.recordEvent(itemKey, keccak256("event"), keccak256("doc"), step);
    }

    function testFuzz_InvalidKindIsRefused(uint8 kind) public {
        vm.assume(kind != EVENT && kind != ERROR_DECLARATION);
        IProvenanceRegistry.EventInput[] memory events = new IProvenanceRegistry.EventInput[](1);
        events[0] = IProvenanceRegistry.EventInput(kind, SHIPPING, keccak256("e"), keccak256("d"), _one(itemKey));
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.ProvenanceRegistryInvalidKind.selector, kind));
        vm.prank(MAKER);
        provenance.recordEvents(new IProvenanceRegistry.NewSubject[](0), events);
    }

    function testFuzz_CommissioningNeedsAManufacturer(uint256 which) public {
        // The carrier holds the item, yet only a manufacturer may commission.
        vm.prank(MAKER);
        provenance.transferCustody(_one(itemKey), CARRIER);
        uint8 step = [5, 7, 14][which % 3];
        vm.expectRevert(
            abi.encodeWithSelector(IActorRegistry.ActorRegistryMissingRole.selector, CARRIER, Roles.MANUFACTURER)
        );
        vm.prank(CARRIER);
        provenance.recordEvent(itemKey, keccak256("e"), keccak256("d"), step);
    }

    // ---------------------------------------------------------------- recalls and sales
    function testFuzz_RetailSellingNeverLandsOnARecalledSubject(bool byGovernance, bool batch) public {
        vm.prank(MAKER);
        provenance.transferCustody(_one(itemKey), SHOP);
        vm.prank(byGovernance ? GOVERNOR : MAKER);
        provenance.recall(itemKey, keccak256("notice"));
        bytes32 head = provenance.headOf(itemKey);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.ProvenanceRegistrySubjectRecalled.selector, itemKey));
        vm.prank(SHOP);
        if (batch) {
            IProvenanceRegistry.EventInput[] memory events = new IProvenanceRegistry.EventInput[](1);
            events[0] =
                IProvenanceRegistry.EventInput(EVENT, RETAIL_SELLING, keccak256("sale"), keccak256("d"), _one(itemKey));
            provenance.recordEvents(new IProvenanceRegistry.NewSubject[](0), events);
        } else {
            provenance.recordEvent(itemKey, keccak256("sale"), keccak256("d"), RETAIL_SELLING);
        }
        vm.assertEq(provenance.headOf(itemKey), head, "head unchanged");
    }

    function testFuzz_RecalledSubjectStaysRecalled(uint32 later, uint256 who, bytes32 reason) public {
        vm.assume(reason != bytes32(0));
        vm.prank(MAKER);
        provenance.recall(itemKey, keccak256("notice"));
        vm.warp(block.timestamp + later);
        // Custody moves and events go on; the recall does not go away and is not repeated.
        vm.prank(MAKER);
        provenance.transferCustody(_one(itemKey), CARRIER);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.ProvenanceRegistrySubjectRecalled.selector, itemKey));
        vm.prank([MAKER, GOVERNOR][who % 2]);
        provenance.recall(itemKey, reason);
        IProvenanceRegistry.Subject memory s = provenance.getSubject(itemKey);
        vm.assertEq(uint256(s.status), uint256(IProvenanceRegistry.SubjectStatus.Recalled), "status");
        vm.assertEq(provenance.recallReason(itemKey), keccak256("notice"), "first reason kept");
    }

    function testFuzz_OnlyOriginatorOrGovernanceRecalls(uint256 who) public {
        // Even the current custodian may not recall what it did not originate.
        vm.prank(MAKER);
        provenance.transferCustody(_one(itemKey), CARRIER);
        address caller = [CARRIER, SHOP, INSPECTOR, NOTARY][who % 4];
        vm.expectRevert(
            abi.encodeWithSelector(IProvenanceRegistry.ProvenanceRegistryNotRecaller.selector, itemKey, caller)
        );
        vm.prank(caller);
        provenance.recall(itemKey, keccak256("notice"));
    }

    /// Governance may recall any subject, also one it originated without being a manufacturer
    /// (IProvenanceRegistry: "its originator (an active MANUFACTURER) or governance").
    function testFuzz_GovernanceRecallsASubjectItOriginated(bytes32 reason) public {
        vm.assume(reason != bytes32(0));
        address governingCarrier = address(0xA007);
        _registerActor(registry, governingCarrier, _roles(Roles.GOVERNANCE, Roles.LOGISTICS));
        IProvenanceRegistry.NewSubject[] memory one = new IProvenanceRegistry.NewSubject[](1);
        one[0] = IProvenanceRegistry.NewSubject("urn:epc:id:sscc:4012345.0000000003", bytes32(0), false);
        vm.prank(governingCarrier);
        provenance.createSubjects(one);
        bytes32 key = keccak256(bytes(one[0].identifier));
        vm.prank(governingCarrier);
        provenance.recall(key, reason);
        vm.assertEq(provenance.recallReason(key), reason, "recalled");
    }

    // ---------------------------------------------------------------- custody
    function testFuzz_OnlyTheCustodianTransfers(uint256 who, uint256 toWho) public {
        address caller = [CARRIER, SHOP][who % 2];
        address to = [MAKER, CARRIER, SHOP][toWho % 3];
        vm.expectRevert(
            abi.encodeWithSelector(IProvenanceRegistry.ProvenanceRegistryNotCustodian.selector, itemKey, caller, MAKER)
        );
        vm.prank(caller);
        provenance.transferCustody(_one(itemKey), to);
    }

    function testFuzz_BatchTransferIsAllOrNone(uint256 position) public {
        // Three items of the maker and, somewhere in the list, one it does not hold.
        bytes32[] memory keys = new bytes32[](4);
        IProvenanceRegistry.NewSubject[] memory create = new IProvenanceRegistry.NewSubject[](3);
        for (uint256 i = 0; i < 3; ++i) {
            string memory id = string.concat("urn:epc:id:sgtin:4012345.011111.200", string(abi.encodePacked(bytes1(uint8(48 + i)))));
            create[i] = IProvenanceRegistry.NewSubject(id, bytes32(0), false);
        }
        vm.prank(MAKER);
        provenance.createSubjects(create);
        vm.prank(MAKER);
        provenance.transferCustody(_one(itemKey), SHOP);
        uint256 p = position % 4;
        for (uint256 i = 0; i < 4; ++i) {
            keys[i] = i == p ? itemKey : keccak256(bytes(create[i < p ? i : i - 1].identifier));
        }
        vm.expectRevert(
            abi.encodeWithSelector(IProvenanceRegistry.ProvenanceRegistryNotCustodian.selector, itemKey, MAKER, SHOP)
        );
        vm.prank(MAKER);
        provenance.transferCustody(keys, CARRIER);
        for (uint256 i = 0; i < 4; ++i) {
            vm.assertEq(provenance.getSubject(keys[i]).custodian, i == p ? SHOP : MAKER, "custody unchanged");
        }
    }

    function testFuzz_TransferToSelfOrNonSupplyChainIsRefused(uint256 which) public {
        uint256 w = which % 3;
        address to = [MAKER, INSPECTOR, STRANGER][w];
        vm.expectRevert(
            w == 0
                ? abi.encodeWithSelector(IProvenanceRegistry.ProvenanceRegistryAlreadyCustodian.selector, itemKey, MAKER)
                : w == 1
                    ? abi.encodeWithSelector(IProvenanceRegistry.ProvenanceRegistryNotSupplyChainActor.selector, INSPECTOR)
                    : abi.encodeWithSelector(IActorRegistry.ActorRegistryUnknownActor.selector, STRANGER)
        );
        vm.prank(MAKER);
        provenance.transferCustody(_one(itemKey), to);
    }

    function testFuzz_ForceCustodyNeedsGovernanceAndAReason(uint256 who, bool withReason) public {
        address caller = withReason ? [MAKER, CARRIER, INSPECTOR, NOTARY][who % 4] : GOVERNOR;
        bytes32 reason = withReason ? keccak256("reason") : bytes32(0);
        vm.expectRevert(
            withReason
                ? abi.encodeWithSelector(IActorRegistry.ActorRegistryMissingRole.selector, caller, Roles.GOVERNANCE)
                : abi.encodeWithSelector(TraceChainZeroHash.selector)
        );
        vm.prank(caller);
        provenance.forceCustody(itemKey, CARRIER, reason);
        vm.assertEq(provenance.getSubject(itemKey).custodian, MAKER, "custody unchanged");
    }

    function testFuzz_GovernanceRecoversASuspendedCustodiansSubject(uint256 toWho) public {
        address to = [CARRIER, SHOP][toWho % 2];
        _suspendActor(registry, MAKER);
        vm.expectRevert(abi.encodeWithSelector(IActorRegistry.ActorRegistryActorSuspended.selector, MAKER));
        vm.prank(MAKER);
        provenance.transferCustody(_one(itemKey), to);
        vm.prank(GOVERNOR);
        provenance.forceCustody(itemKey, to, keccak256("custodian suspended"));
        IProvenanceRegistry.Subject memory s = provenance.getSubject(itemKey);
        vm.assertEq(s.custodian, to, "custodian");
        vm.assertEq(s.originator, MAKER, "originator kept");
        // The new custodian writes; the old one's slot is gone.
        vm.prank(to);
        provenance.recordEvent(itemKey, keccak256("e"), keccak256("d"), SHIPPING);
    }

    function testFuzz_OpenSubjectHasNoCustodyToMove(uint256 who) public {
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.ProvenanceRegistryOpenSubject.selector, lotKey));
        if (who % 2 == 0) {
            vm.prank(MAKER);
            provenance.transferCustody(_one(lotKey), CARRIER);
        } else {
            vm.prank(GOVERNOR);
            provenance.forceCustody(lotKey, CARRIER, keccak256("reason"));
        }
    }

    // ---------------------------------------------------------------- creation
    function testFuzz_CreationNeverHappensTwice(string memory identifier, uint256 who, bool sameCall) public {
        vm.assume(bytes(identifier).length != 0);
        bytes32 key = keccak256(bytes(identifier));
        vm.assume(key != itemKey && key != lotKey);
        address second = [MAKER, CARRIER, SHOP][who % 3];
        IProvenanceRegistry.NewSubject[] memory one = new IProvenanceRegistry.NewSubject[](1);
        one[0] = IProvenanceRegistry.NewSubject(identifier, keccak256("first"), false);
        if (sameCall) {
            IProvenanceRegistry.NewSubject[] memory two = new IProvenanceRegistry.NewSubject[](2);
            (two[0], two[1]) = (one[0], one[0]);
            vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.ProvenanceRegistrySubjectExists.selector, key));
            vm.prank(MAKER);
            provenance.createSubjects(two);
            vm.assertEq(uint256(provenance.getSubject(key).status), 0, "nothing created");
            return;
        }
        vm.prank(MAKER);
        provenance.createSubjects(one);
        bytes32 head = provenance.headOf(key);
        one[0].metadataHash = keccak256("second");
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.ProvenanceRegistrySubjectExists.selector, key));
        vm.prank(second);
        provenance.recordEvents(one, new IProvenanceRegistry.EventInput[](0));
        vm.assertEq(provenance.getSubject(key).originator, MAKER, "originator");
        vm.assertEq(provenance.headOf(key), head, "head");
    }

    function testFuzz_RecordEventsIsAllOrNone(bytes32 eventId, uint8 badStep) public {
        vm.assume(eventId != bytes32(0));
        badStep = uint8(_bound(badStep, 42, 254));
        string memory pallet = "urn:epc:id:sscc:4012345.0000000002";
        IProvenanceRegistry.NewSubject[] memory create = new IProvenanceRegistry.NewSubject[](1);
        create[0] = IProvenanceRegistry.NewSubject(pallet, bytes32(0), false);
        IProvenanceRegistry.EventInput[] memory events = new IProvenanceRegistry.EventInput[](2);
        events[0] = IProvenanceRegistry.EventInput(EVENT, SHIPPING, eventId, keccak256("d"), _one(itemKey));
        events[1] = IProvenanceRegistry.EventInput(EVENT, badStep, eventId, keccak256("d"), _one(keccak256(bytes(pallet))));
        bytes32 head = provenance.headOf(itemKey);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.ProvenanceRegistryUnknownBizStep.selector, badStep));
        vm.prank(MAKER);
        provenance.recordEvents(create, events);
        vm.assertEq(provenance.headOf(itemKey), head, "first event not kept");
        vm.assertEq(uint256(provenance.getSubject(keccak256(bytes(pallet))).status), 0, "pallet not created");
    }

    function testFuzz_OnlyActiveSupplyChainActorsCreate(uint256 who) public {
        address caller = [INSPECTOR, NOTARY, GOVERNOR, STRANGER][who % 4];
        IProvenanceRegistry.NewSubject[] memory one = new IProvenanceRegistry.NewSubject[](1);
        one[0] = IProvenanceRegistry.NewSubject("urn:epc:id:sgtin:4012345.011111.3000", bytes32(0), false);
        vm.expectRevert(
            caller == STRANGER
                ? abi.encodeWithSelector(IActorRegistry.ActorRegistryUnknownActor.selector, STRANGER)
                : abi.encodeWithSelector(IProvenanceRegistry.ProvenanceRegistryNotSupplyChainActor.selector, caller)
        );
        vm.prank(caller);
        provenance.createSubjects(one);
    }
}

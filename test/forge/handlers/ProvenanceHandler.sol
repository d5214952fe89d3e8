// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Roles} from "contracts/Common.sol";
import {IActorRegistry} from "contracts/interfaces/IActorRegistry.sol";
import {IProvenanceRegistry} from "contracts/interfaces/IProvenanceRegistry.sol";

import {Handler} from "../lib/Handler.sol";

/// @title ProvenanceHandler
/// @notice The invariant fuzzer's hands on a ProvenanceRegistry (see `Handler` for the pattern):
///         create subjects, record events (one subject, or several events over several subjects
///         with new subjects created in the same call), hand custody over in batches, force
///         custody as governance, recall, suspend and reinstate actors, let time pass. Callers
///         come from a pool of manufacturers, a logistics actor, a retailer, an inspector, a
///         notary, a manufacturer-inspector, a suspended manufacturer, an unregistered account
///         and the governor; subjects from a pool of ten identifiers (seven items, three open lots).
///
///         The model keeps each subject's custodian, originator, status, recall reason and its own
///         head, folded here from the documented formulas (not with the contract's `nextHead`).
///         Properties checked after each action on every subject it named (the contract's state
///         before the call is read first, so the checks do not trust the model alone):
///         - a subject's head is the fold of its entries (`headOf` and `getSubject().head`);
///         - custody changes only by transferCustody (by the custodian) and forceCustody (by
///           governance, with a reason);
///         - only the custodian, or an inspector inspecting or sampling, extends a custodial
///           subject's chain with events; open subjects take events from supply-chain actors (and
///           inspectors inspecting or sampling) only;
///         - retail_selling never lands on a recalled subject; a recalled subject stays recalled;
///         - a key is created at most once (never twice in one call either), and its originator,
///           openness and creation time never change;
///         - a refused call changes nothing;
///         - every call goes through exactly when the rules say (`_outcome`), and the subject's
///           state is the model's.
contract ProvenanceHandler is Handler {
    // ---------------------------------------------------------------- the protocol's codes
    // Spelled out here rather than imported, so the test checks the interface's numbers.
    uint8 internal constant EVENT = 1;
    uint8 internal constant ERROR_DECLARATION = 2;
    uint8 internal constant CUSTODY = 3;
    uint8 internal constant FORCED_CUSTODY = 4;
    uint8 internal constant RECALL = 5;
    uint8 internal constant COMMISSIONING = 5;
    uint8 internal constant CREATING_CLASS_INSTANCE = 7;
    uint8 internal constant ENCODING = 14;
    uint8 internal constant INSPECTING = 17;
    uint8 internal constant RETAIL_SELLING = 30;
    uint8 internal constant SAMPLING = 31;
    uint8 internal constant LAST_CBV = 41;
    uint8 internal constant EXTENSION = 255;

    /// The model's role bits (its own layout, read from `hasRole` at construction).
    uint256 internal constant GOVERNANCE = 1;
    uint256 internal constant MANUFACTURER = 2;
    uint256 internal constant LOGISTICS = 4;
    uint256 internal constant RETAILER = 8;
    uint256 internal constant INSPECTOR = 16;
    uint256 internal constant SUPPLY_CHAIN = MANUFACTURER | LOGISTICS | RETAILER;

    /// What an action does, for the checks that depend on it.
    enum Action {
        Create,
        Event,
        Transfer,
        Force,
        Recall
    }

    /// A subject as the model knows it (all zero until created).
    struct Ghost {
        bool exists;
        bool open;
        bool recalled;
        address custodian; // zero when open
        address originator;
        uint64 createdAt;
        bytes32 head;
        bytes32 recallReason;
    }

    /// The subjects one call names: the model's copy the prediction works on, and the
    /// contract's state before the call.
    struct Touched {
        uint256 n;
        bytes32[] keys;
        Ghost[] ghosts;
        IProvenanceRegistry.Subject[] before;
        bytes32[] reasonBefore;
    }

    /// Most subjects one call names here (2 creations + 2 events x 3 subjects, or 3 transfers).
    uint256 internal constant MAX_TOUCHED = 8;

    // ---------------------------------------------------------------- storage
    IProvenanceRegistry public immutable provenance;
    IActorRegistry public immutable registry;
    address public immutable governor;
    address[] private _pool;
    string[] private _identifiers;
    bytes32[] private _keys;
    /// Identifiers from this index on are lots (created open).
    uint256 private immutable _firstOpen;
    /// Model time: every action warps here first.
    uint256 public currentTime;

    /// Model: actors.
    mapping(address account => bool) public registered;
    mapping(address account => bool) public suspended;
    mapping(address account => uint256) public roleBits;
    /// Model: subjects.
    mapping(bytes32 subjectKey => Ghost) private _ghosts;

    /// Run statistics (shown with -vv).
    uint256 public created;
    uint256 public eventEntries;
    uint256 public custodyMoves;
    uint256 public recalls;
    uint256 public retailSales;
    uint256 public inspections;

    // ---------------------------------------------------------------- constructor
    constructor(
        IProvenanceRegistry provenance_,
        IActorRegistry registry_,
        address governor_,
        address[] memory pool_,
        string[] memory identifiers_,
        uint256 firstOpen_
    ) {
        provenance = provenance_;
        registry = registry_;
        governor = governor_;
        _pool = pool_;
        _identifiers = identifiers_;
        _firstOpen = firstOpen_;
        currentTime = block.timestamp;
        for (uint256 i = 0; i < identifiers_.length; ++i) {
            _keys.push(keccak256(bytes(identifiers_[i])));
        }
        for (uint256 i = 0; i < pool_.length; ++i) {
            _readActor(pool_[i]);
        }
    }

    // ---------------------------------------------------------------- set-up helpers (not fuzzed)
    /// @notice `creator` creates subject `index` through the checked path (for the test's setUp).
    function setUpSubject(address creator, uint256 index) external {
        IProvenanceRegistry.NewSubject[] memory subjects = new IProvenanceRegistry.NewSubject[](1);
        subjects[0] = _newSubject(index, keccak256(abi.encode("metadata", index)));
        _create(creator, subjects);
        require(_ghosts[_keys[index]].exists, "setUpSubject failed");
    }

    /// @notice Re-reads `account`'s standing after the test changed it in setUp.
    function readActor(address account) external {
        _readActor(account);
    }

    // ---------------------------------------------------------------- actions (fuzzed)
    function passTime(uint256 secondsSeed) external {
        currentTime += _bound(secondsSeed, 1, 1 days);
        vm.warp(currentTime);
    }

    function createSubjects(uint256 callerSeed, uint256 subjectsSeed) external {
        vm.warp(currentTime);
        // Mostly a supply-chain actor; one time in five anyone.
        address caller = _oneIn(callerSeed, 5) ? _pick(callerSeed) : _supplyChainActor(callerSeed);
        uint256 count = _oneIn(subjectsSeed, 16) ? 0 : 1 + _choice(_sub(subjectsSeed, 1), 3);
        _create(caller, _newSubjects(subjectsSeed, count));
    }

    /// @dev recordEvents with 0-2 new subjects and 1-2 events (each naming 1-3 subjects, among
    ///      them the new ones), mostly by someone who holds a subject.
    function recordEvents(uint256 callerSeed, uint256 createSeed, uint256 eventsSeed) external {
        vm.warp(currentTime);
        address caller = _oneIn(callerSeed, 5) ? _pick(callerSeed) : _holderOfAny(callerSeed);
        uint256 c = _choice(createSeed, 6);
        IProvenanceRegistry.NewSubject[] memory create = _newSubjects(createSeed, c < 3 ? 0 : c < 5 ? 1 : 2);
        uint256 nEvents = _oneIn(eventsSeed, 24) ? 0 : 1 + _choice(_sub(eventsSeed, 1), 2);
        IProvenanceRegistry.EventInput[] memory events = new IProvenanceRegistry.EventInput[](nEvents);
        for (uint256 i = 0; i < nEvents; ++i) {
            events[i] = _eventInput(_sub(eventsSeed, 10 + i), caller, create);
        }

        Touched memory t = _touched();
        for (uint256 i = 0; i < create.length; ++i) {
            _touch(t, keccak256(bytes(create[i].identifier)));
        }
        for (uint256 i = 0; i < nEvents; ++i) {
            for (uint256 j = 0; j < events[i].subjects.length; ++j) {
                _touch(t, events[i].subjects[j]);
            }
        }
        bool expected = (create.length != 0 || nEvents != 0) && (create.length == 0 || _simCreate(t, caller, create));
        for (uint256 i = 0; expected && i < nEvents; ++i) {
            expected = _simEvent(t, caller, events[i]);
        }

        bool ok;
        vm.prank(caller);
        try provenance.recordEvents(create, events) {
            ok = true;
            _checkCreated(t, create);
            for (uint256 i = 0; i < nEvents; ++i) {
                _checkEventAllowed(t, caller, create, events[i].bizStep, events[i].subjects);
            }
        } catch {}
        _outcome(expected, ok, "recordEvents");
        _afterCall(t, ok, expected, Action.Event);
        if (ok && expected) {
            created += create.length;
            for (uint256 i = 0; i < nEvents; ++i) {
                _countEvent(events[i].bizStep, events[i].subjects.length);
            }
        }
    }

    function recordEvent(uint256 keySeed, uint256 callerSeed, uint256 stepSeed, uint256 idSeed) external {
        vm.warp(currentTime);
        uint8 step = _step(stepSeed);
        // A sale is mostly of something a retailer holds (recalled or not).
        bytes32 key = step == RETAIL_SELLING && !_oneIn(keySeed, 4) ? _heldByRetailer(keySeed) : _existingKey(keySeed);
        Ghost storage g = _ghosts[key];
        uint256 who = _choice(callerSeed, 5);
        address caller = who < 3 ? _holderOf(g, callerSeed) : who == 3 ? _inspector(callerSeed) : _pick(callerSeed);
        bytes32 eventId = _hashOrZero(idSeed, 32);
        bytes32 documentHash = _hashOrZero(_sub(idSeed, 1), 32);

        Touched memory t = _touched();
        _touch(t, key);
        IProvenanceRegistry.EventInput memory e;
        e.kind = EVENT;
        e.bizStep = step;
        e.eventId = eventId;
        e.documentHash = documentHash;
        e.subjects = new bytes32[](1);
        e.subjects[0] = key;
        bool expected = _simEvent(t, caller, e);

        bool ok;
        vm.prank(caller);
        try provenance.recordEvent(key, eventId, documentHash, step) returns (bytes32 head) {
            ok = true;
            _checkEventAllowed(t, caller, new IProvenanceRegistry.NewSubject[](0), step, e.subjects);
            _check(head == provenance.headOf(key), "recordEvent returns the subject's new head");
        } catch {}
        _outcome(expected, ok, "recordEvent");
        _afterCall(t, ok, expected, Action.Event);
        if (ok && expected) _countEvent(step, 1);
    }

    /// @dev Mostly a custodian hands 1-3 of its subjects (sometimes someone else's, or one twice) to
    ///      anyone in the pool (sometimes itself, or the zero address).
    function transferCustody(uint256 callerSeed, uint256 keysSeed, uint256 toSeed) external {
        vm.warp(currentTime);
        address caller = _oneIn(callerSeed, 5) ? _pick(callerSeed) : _custodianOfAny(callerSeed);
        // 1-3 keys (one time in twenty-four none): distinct keys in the caller's custody, one
        // time in five replaced by any key (maybe one already in the list).
        uint256 c = _choice(_sub(keysSeed, 1), 6);
        bytes32[] memory keys = _custodyKeys(caller, keysSeed, _oneIn(keysSeed, 24) ? 0 : c < 3 ? 1 : c < 5 ? 2 : 3);
        uint256 n = keys.length;
        address to = _oneIn(toSeed, 32) ? address(0) : _oneIn(_sub(toSeed, 1), 4) ? _pick(toSeed) : _supplyChainActor(toSeed);

        Touched memory t = _touched();
        for (uint256 i = 0; i < n; ++i) {
            _touch(t, keys[i]);
        }
        bool expected = to != address(0) && n != 0 && _supplyChain(caller) && _supplyChain(to);
        for (uint256 i = 0; expected && i < n; ++i) {
            Ghost memory g = t.ghosts[_touch(t, keys[i])];
            expected = g.exists && !g.open && g.custodian == caller && to != caller;
            if (expected) _move(g, to, CUSTODY, bytes32(0), caller);
        }

        bool ok;
        vm.prank(caller);
        try provenance.transferCustody(keys, to) {
            ok = true;
            for (uint256 i = 0; i < n; ++i) {
                uint256 k = _touch(t, keys[i]);
                _check(
                    t.before[k].custodian == caller && !t.before[k].open,
                    "only the custodian hands custody over (transferCustody)"
                );
            }
        } catch {}
        _outcome(expected, ok, "transferCustody");
        _afterCall(t, ok, expected, Action.Transfer);
        if (ok && expected) custodyMoves += n;
    }

    function forceCustody(uint256 callerSeed, uint256 keySeed, uint256 toSeed, uint256 reasonSeed) external {
        vm.warp(currentTime);
        address caller = _oneIn(callerSeed, 5) ? _pick(callerSeed) : governor;
        bytes32 key = _existingKey(keySeed);
        address to = _oneIn(toSeed, 32) ? address(0) : _oneIn(_sub(toSeed, 1), 4) ? _pick(toSeed) : _supplyChainActor(toSeed);
        bytes32 reasonHash = _hashOrZero(reasonSeed, 16);

        Touched memory t = _touched();
        Ghost memory g = t.ghosts[_touch(t, key)];
        bool expected = to != address(0) && reasonHash != bytes32(0) && _has(caller, GOVERNANCE) && _supplyChain(to)
            && g.exists && !g.open && g.custodian != to;
        if (expected) _move(g, to, FORCED_CUSTODY, reasonHash, caller);

        bool ok;
        vm.prank(caller);
        try provenance.forceCustody(key, to, reasonHash) {
            ok = true;
            _check(
                _has(caller, GOVERNANCE) && reasonHash != bytes32(0),
                "only governance, with a reason, forces custody (forceCustody)"
            );
        } catch {}
        _outcome(expected, ok, "forceCustody");
        _afterCall(t, ok, expected, Action.Force);
        if (ok && expected) ++custodyMoves;
    }

    function recall(uint256 callerSeed, uint256 keySeed, uint256 reasonSeed) external {
        vm.warp(currentTime);
        bytes32 key = _existingKey(keySeed);
        uint256 who = _choice(callerSeed, 6);
        address caller = who == 0 ? _ghosts[key].originator : who == 1 ? governor : _pick(callerSeed);
        if (caller == address(0)) caller = _pick(callerSeed);
        bytes32 reasonHash = _hashOrZero(reasonSeed, 16);

        Touched memory t = _touched();
        Ghost memory g = t.ghosts[_touch(t, key)];
        // The documented rule: the originator as an active manufacturer, or governance.
        bool allowed = (caller == g.originator && _has(caller, MANUFACTURER)) || _has(caller, GOVERNANCE);
        bool expected = reasonHash != bytes32(0) && g.exists && !g.recalled && allowed;
        if (expected) {
            g.recalled = true;
            g.recallReason = reasonHash;
            g.head = _fold(g.head, RECALL, bytes32(0), reasonHash, 0, caller);
        }

        bool ok;
        vm.prank(caller);
        try provenance.recall(key, reasonHash) {
            ok = true;
            _check(t.before[0].status == IProvenanceRegistry.SubjectStatus.Active, "a subject is recalled at most once");
            _check(allowed, "only the originator (an active manufacturer) or governance recalls");
        } catch {}
        _outcome(expected, ok, "recall");
        _afterCall(t, ok, expected, Action.Recall);
        if (ok && expected) ++recalls;
    }

    /// @dev One time in four governance suspends someone; otherwise it reinstates a suspended
    ///      actor (the model's standing follows).
    function changeStanding(uint256 accountSeed) external {
        vm.warp(currentTime);
        if (_oneIn(accountSeed, 4)) {
            address account = _pick(accountSeed);
            bool expected = account != governor && registered[account] && !suspended[account];
            vm.prank(governor);
            try registry.suspendActor(account, keccak256("suspended")) {
                suspended[account] = true;
                _outcome(expected, true, "suspendActor");
            } catch {
                _outcome(expected, false, "suspendActor");
            }
        } else {
            address account = _suspendedOrAny(accountSeed);
            bool expected = registered[account] && suspended[account];
            vm.prank(governor);
            try registry.reinstateActor(account) {
                suspended[account] = false;
                _outcome(expected, true, "reinstateActor");
            } catch {
                _outcome(expected, false, "reinstateActor");
            }
        }
    }

    // ---------------------------------------------------------------- properties
    /// @notice Every subject of the pool against the model (once per run, from afterInvariant).
    function checkAll() public {
        for (uint256 i = 0; i < _keys.length; ++i) {
            _checkSubject(_keys[i], provenance.getSubject(_keys[i]));
        }
    }

    /// @dev After a call: a refused call changed nothing, a recalled subject stayed recalled, a
    ///      created one kept its origin, custody moved only by a custody action; then the model is
    ///      updated (only when the call went through as predicted) and compared to the contract.
    function _afterCall(Touched memory t, bool ok, bool expected, Action action) private {
        bool custodyAction = action == Action.Transfer || action == Action.Force;
        bool createAction = action == Action.Create || action == Action.Event;
        for (uint256 i = 0; i < t.n; ++i) {
            bytes32 key = t.keys[i];
            IProvenanceRegistry.Subject memory b = t.before[i];
            IProvenanceRegistry.Subject memory s = provenance.getSubject(key);
            if (!ok) {
                _check(
                    keccak256(abi.encode(s)) == keccak256(abi.encode(b))
                        && provenance.recallReason(key) == t.reasonBefore[i],
                    "a refused call changes nothing"
                );
            }
            if (b.status == IProvenanceRegistry.SubjectStatus.Recalled) {
                _check(s.status == IProvenanceRegistry.SubjectStatus.Recalled, "a recalled subject stays recalled");
                _check(provenance.recallReason(key) == t.reasonBefore[i], "a recall reason never changes");
            }
            if (b.status != IProvenanceRegistry.SubjectStatus.None) {
                _check(
                    s.originator == b.originator && s.createdAt == b.createdAt && s.open == b.open,
                    "a subject is created only once (originator, openness and creation time never change)"
                );
            } else if (s.status != IProvenanceRegistry.SubjectStatus.None) {
                _check(createAction, "subjects are created only by createSubjects and recordEvents");
            }
            if (s.custodian != b.custodian && b.status != IProvenanceRegistry.SubjectStatus.None) {
                _check(custodyAction, "custody changes only by transferCustody and forceCustody");
            }
            if (ok && expected) _ghosts[key] = t.ghosts[i];
            _checkSubject(key, s);
        }
    }

    /// @dev The contract's subject `s` (just read) is the model's, and so is its head by `headOf`.
    function _checkSubject(bytes32 key, IProvenanceRegistry.Subject memory s) private {
        Ghost storage g = _ghosts[key];
        _check(provenance.headOf(key) == g.head, "a subject's head is the fold of its entries (headOf)");
        _check(s.head == g.head, "a subject's head is the fold of its entries (getSubject)");
        IProvenanceRegistry.SubjectStatus status = !g.exists
            ? IProvenanceRegistry.SubjectStatus.None
            : g.recalled ? IProvenanceRegistry.SubjectStatus.Recalled : IProvenanceRegistry.SubjectStatus.Active;
        _check(s.status == status, "subject status as in the model");
        _check(s.custodian == g.custodian, "custodian as in the model");
        _check(
            s.open == g.open && s.originator == g.originator && s.createdAt == g.createdAt,
            "originator, openness and creation time as in the model"
        );
        _check(provenance.recallReason(key) == g.recallReason, "recall reason as in the model");
    }

    /// @dev After a successful create: every key it created did not exist before, and none twice.
    function _checkCreated(Touched memory t, IProvenanceRegistry.NewSubject[] memory create) private {
        for (uint256 i = 0; i < create.length; ++i) {
            bytes32 key = keccak256(bytes(create[i].identifier));
            bool fresh = t.before[_touch(t, key)].status == IProvenanceRegistry.SubjectStatus.None;
            for (uint256 j = 0; j < i; ++j) {
                if (keccak256(bytes(create[j].identifier)) == key) fresh = false;
            }
            _check(fresh, "creation never happens twice for a key");
        }
    }

    /// @dev After a successful event by `actor` with `step` on `subjects` (maybe created in the
    ///      same call, as `create` lists): who may extend whose chain, and no sale of a recalled subject.
    function _checkEventAllowed(
        Touched memory t,
        address actor,
        IProvenanceRegistry.NewSubject[] memory create,
        uint8 step,
        bytes32[] memory subjects
    ) private {
        bool inspection = (step == INSPECTING || step == SAMPLING) && _has(actor, INSPECTOR);
        for (uint256 j = 0; j < subjects.length; ++j) {
            IProvenanceRegistry.Subject memory b = t.before[_touch(t, subjects[j])];
            bool open = b.open;
            address custodian = b.custodian;
            if (b.status == IProvenanceRegistry.SubjectStatus.None) {
                // Created by this call, by `actor`.
                open = _createdOpen(create, subjects[j]);
                custodian = open ? address(0) : actor;
            }
            if (open) {
                _check(
                    _supplyChain(actor) || inspection,
                    "only supply-chain actors (or inspectors inspecting or sampling) extend an open subject's chain"
                );
            } else {
                _check(
                    actor == custodian || inspection,
                    "only the custodian (or an inspector inspecting or sampling) extends a custodial subject's chain"
                );
            }
            if (step == RETAIL_SELLING) {
                _check(
                    b.status != IProvenanceRegistry.SubjectStatus.Recalled,
                    "retail_selling never lands on a recalled subject"
                );
            }
        }
    }

    // ---------------------------------------------------------------- the model's rules
    function _create(address caller, IProvenanceRegistry.NewSubject[] memory subjects) private {
        Touched memory t = _touched();
        for (uint256 i = 0; i < subjects.length; ++i) {
            _touch(t, keccak256(bytes(subjects[i].identifier)));
        }
        bool expected = subjects.length != 0 && _simCreate(t, caller, subjects);
        bool ok;
        vm.prank(caller);
        try provenance.createSubjects(subjects) {
            ok = true;
            _checkCreated(t, subjects);
        } catch {}
        _outcome(expected, ok, "createSubjects");
        _afterCall(t, ok, expected, Action.Create);
        if (ok && expected) created += subjects.length;
    }

    /// @dev createSubjects' rule on the model copy `t`: an active supply-chain actor, non-empty
    ///      identifiers, keys not created yet (including earlier in the same list).
    function _simCreate(Touched memory t, address actor, IProvenanceRegistry.NewSubject[] memory subjects)
        private
        view
        returns (bool)
    {
        if (!_supplyChain(actor)) return false;
        for (uint256 i = 0; i < subjects.length; ++i) {
            if (bytes(subjects[i].identifier).length == 0) return false;
            bytes32 key = keccak256(bytes(subjects[i].identifier));
            Ghost memory g = t.ghosts[_touch(t, key)];
            if (g.exists) return false;
            g.exists = true;
            g.open = subjects[i].open;
            g.custodian = g.open ? address(0) : actor;
            g.originator = actor;
            g.createdAt = uint64(currentTime);
            g.head = keccak256(abi.encode(key, actor, subjects[i].metadataHash));
        }
        return true;
    }

    /// @dev One event's rule on the model copy `t` (folding it into every subject it names).
    function _simEvent(Touched memory t, address actor, IProvenanceRegistry.EventInput memory e)
        private
        view
        returns (bool)
    {
        if (e.kind != EVENT && e.kind != ERROR_DECLARATION) return false;
        if (e.eventId == bytes32(0) || e.documentHash == bytes32(0)) return false;
        if (!_stepAllowed(e.bizStep, actor)) return false;
        if (e.subjects.length == 0) return false;
        for (uint256 j = 0; j < e.subjects.length; ++j) {
            Ghost memory g = t.ghosts[_touch(t, e.subjects[j])];
            if (!_mayExtend(g, actor, e.bizStep)) return false;
            g.head = _fold(g.head, e.kind, e.eventId, e.documentHash, e.bizStep, actor);
        }
        return true;
    }

    /// @dev Who may record which business step at all (IProvenanceRegistry's NatSpec).
    function _stepAllowed(uint8 step, address actor) private view returns (bool) {
        if (step > LAST_CBV && step != EXTENSION) return false;
        if (step == COMMISSIONING || step == CREATING_CLASS_INSTANCE || step == ENCODING) {
            return _has(actor, MANUFACTURER);
        }
        if (step == RETAIL_SELLING) return _has(actor, RETAILER);
        if (step == INSPECTING || step == SAMPLING) return _has(actor, INSPECTOR | SUPPLY_CHAIN);
        return _supplyChain(actor);
    }

    /// @dev Whether `actor` may append an event with `step` to subject `g`.
    function _mayExtend(Ghost memory g, address actor, uint8 step) private view returns (bool) {
        if (!g.exists) return false;
        if (step == RETAIL_SELLING && g.recalled) return false;
        if (g.open || g.custodian == actor) return true;
        return (step == INSPECTING || step == SAMPLING) && _has(actor, INSPECTOR);
    }

    function _move(Ghost memory g, address to, uint8 kind, bytes32 reasonHash, address actor) private view {
        g.custodian = to;
        g.head = _fold(g.head, kind, bytes32(uint256(uint160(to))), reasonHash, 0, actor);
    }

    /// @dev head_n from head_{n-1}, as IProvenanceRegistry documents it (at the model's time).
    function _fold(bytes32 head, uint8 kind, bytes32 ref, bytes32 documentHash, uint8 code, address actor)
        private
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(head, kind, ref, documentHash, code, actor, uint64(currentTime)));
    }

    // ---------------------------------------------------------------- touched subjects
    function _touched() private pure returns (Touched memory t) {
        t.keys = new bytes32[](MAX_TOUCHED);
        t.ghosts = new Ghost[](MAX_TOUCHED);
        t.before = new IProvenanceRegistry.Subject[](MAX_TOUCHED);
        t.reasonBefore = new bytes32[](MAX_TOUCHED);
    }

    /// @dev The index of `key` in `t`, reading the model and the contract the first time.
    function _touch(Touched memory t, bytes32 key) private view returns (uint256) {
        for (uint256 i = 0; i < t.n; ++i) {
            if (t.keys[i] == key) return i;
        }
        require(t.n < MAX_TOUCHED, "too many subjects in one call");
        uint256 k = t.n++;
        t.keys[k] = key;
        t.ghosts[k] = _ghosts[key];
        t.before[k] = provenance.getSubject(key);
        t.reasonBefore[k] = provenance.recallReason(key);
        return k;
    }

    // ---------------------------------------------------------------- inputs
    function _newSubject(uint256 index, bytes32 metadataHash)
        private
        view
        returns (IProvenanceRegistry.NewSubject memory)
    {
        return IProvenanceRegistry.NewSubject({
            identifier: _identifiers[index],
            metadataHash: metadataHash,
            open: index >= _firstOpen
        });
    }

    /// @dev `count` subjects to create: mostly identifiers not created yet, sometimes any (so
    ///      repeats, also within the list, happen), one time in twenty-four an empty identifier.
    function _newSubjects(uint256 seed, uint256 count)
        private
        view
        returns (IProvenanceRegistry.NewSubject[] memory subjects)
    {
        subjects = new IProvenanceRegistry.NewSubject[](count);
        for (uint256 i = 0; i < count; ++i) {
            uint256 s = _sub(seed, 100 + i);
            uint256 index = _oneIn(s, 4) ? _choice(s, _keys.length) : _uncreatedIndex(s);
            subjects[i] = _newSubject(index, _oneIn(_sub(s, 1), 4) ? bytes32(0) : keccak256(abi.encode(s)));
            if (_oneIn(_sub(s, 2), 24)) subjects[i].identifier = "";
        }
    }

    /// @dev An event by `actor`: mostly an EVENT, sometimes an error declaration or an invalid
    ///      kind; naming 1-3 subjects (those `create` makes, those `actor` holds, one time in ten any).
    function _eventInput(uint256 seed, address actor, IProvenanceRegistry.NewSubject[] memory create)
        private
        view
        returns (IProvenanceRegistry.EventInput memory e)
    {
        uint256 k = _choice(seed, 16);
        e.kind = k == 0 ? uint8(_choice(_sub(seed, 1), 7)) : k < 4 ? ERROR_DECLARATION : EVENT;
        e.bizStep = _step(_sub(seed, 2));
        e.eventId = _hashOrZero(_sub(seed, 3), 32);
        e.documentHash = _hashOrZero(_sub(seed, 4), 32);
        uint256 c = _choice(_sub(seed, 6), 6);
        uint256 n = _oneIn(_sub(seed, 5), 24) ? 0 : c < 3 ? 1 : c < 5 ? 2 : 3;
        e.subjects = new bytes32[](n);
        for (uint256 j = 0; j < n; ++j) {
            uint256 s = _sub(seed, 10 + j);
            c = _choice(s, 10);
            if (c < 3 && create.length != 0) {
                e.subjects[j] = keccak256(bytes(create[_choice(_sub(s, 1), create.length)].identifier));
            } else if (c < 9) {
                e.subjects[j] = _heldBy(actor, s);
            } else {
                e.subjects[j] = _key(s);
            }
        }
    }

    /// @dev A business step, valid or not, with the role-restricted ones often.
    function _step(uint256 seed) private pure returns (uint8) {
        uint8[16] memory steps = [
            0,
            1,
            COMMISSIONING,
            CREATING_CLASS_INSTANCE,
            ENCODING,
            INSPECTING,
            INSPECTING,
            SAMPLING,
            RETAIL_SELLING,
            RETAIL_SELLING,
            RETAIL_SELLING,
            33,
            LAST_CBV,
            EXTENSION,
            LAST_CBV + 1,
            EXTENSION - 1
        ];
        return steps[_choice(seed, 16)];
    }

    // ---------------------------------------------------------------- picks
    function _pick(uint256 seed) private view returns (address) {
        return _pool[_choice(seed, _pool.length)];
    }

    function _key(uint256 seed) private view returns (bytes32) {
        return _keys[_choice(seed, _keys.length)];
    }

    /// @dev Seven times in eight a subject that exists (if any), else any key.
    function _existingKey(uint256 seed) private view returns (bytes32) {
        uint256 n = _keys.length;
        if (!_oneIn(seed, 8)) {
            uint256 start = _choice(_sub(seed, 1), n);
            for (uint256 i = 0; i < n; ++i) {
                bytes32 key = _keys[(start + i) % n];
                if (_ghosts[key].exists) return key;
            }
        }
        return _key(seed);
    }

    /// @dev An identifier index not created yet (if any), else any.
    function _uncreatedIndex(uint256 seed) private view returns (uint256) {
        uint256 n = _keys.length;
        uint256 start = _choice(seed, n);
        for (uint256 i = 0; i < n; ++i) {
            uint256 index = (start + i) % n;
            if (!_ghosts[_keys[index]].exists) return index;
        }
        return start;
    }

    /// @dev A key `actor` may write events on (its custody or an open subject), else any.
    function _heldBy(address actor, uint256 seed) private view returns (bytes32) {
        uint256 n = _keys.length;
        uint256 start = _choice(_sub(seed, 1), n);
        for (uint256 i = 0; i < n; ++i) {
            Ghost storage g = _ghosts[_keys[(start + i) % n]];
            if (g.exists && (g.custodian == actor || g.open)) return _keys[(start + i) % n];
        }
        return _key(seed);
    }

    /// @dev `n` keys for `actor` to hand over: distinct keys in its custody while there are
    ///      any (three times in four no more than it holds), each one time in five replaced by
    ///      any key of the pool (maybe one already in the list).
    function _custodyKeys(address actor, uint256 seed, uint256 n) private view returns (bytes32[] memory keys) {
        uint256 count = _keys.length;
        uint256 held = 0;
        for (uint256 j = 0; j < count; ++j) {
            if (_ghosts[_keys[j]].custodian == actor) ++held;
        }
        if (held != 0 && held < n && !_oneIn(_sub(seed, 3), 4)) n = held;
        keys = new bytes32[](n);
        uint256 next = _choice(_sub(seed, 2), count);
        uint256 scanned = 0;
        for (uint256 i = 0; i < n; ++i) {
            uint256 s = _sub(seed, 10 + i);
            keys[i] = _key(s);
            if (_oneIn(s, 5)) continue;
            for (; scanned < count; ++scanned) {
                bytes32 key = _keys[(next + scanned) % count];
                if (_ghosts[key].custodian == actor) {
                    keys[i] = key;
                    ++scanned;
                    break;
                }
            }
        }
    }

    /// @dev A subject in the custody of a retailer (if any), else one that exists.
    function _heldByRetailer(uint256 seed) private view returns (bytes32) {
        uint256 n = _keys.length;
        uint256 start = _choice(_sub(seed, 1), n);
        for (uint256 i = 0; i < n; ++i) {
            bytes32 key = _keys[(start + i) % n];
            if (roleBits[_ghosts[key].custodian] & RETAILER != 0) return key;
        }
        return _existingKey(seed);
    }

    /// @dev Who writes on `g`: its custodian, or for an open subject a supply-chain actor.
    function _holderOf(Ghost storage g, uint256 seed) private view returns (address) {
        if (g.exists && !g.open) return g.custodian;
        return _supplyChainActor(seed);
    }

    /// @dev The custodian of some subject (three times in four an active one), else anyone.
    function _custodianOfAny(uint256 seed) private view returns (address) {
        bool active = !_oneIn(_sub(seed, 2), 4);
        uint256 n = _keys.length;
        uint256 start = _choice(_sub(seed, 1), n);
        for (uint256 i = 0; i < n; ++i) {
            address custodian = _ghosts[_keys[(start + i) % n]].custodian;
            if (custodian != address(0) && (!active || _supplyChain(custodian))) return custodian;
        }
        return _pick(seed);
    }

    /// @dev Who holds some subject (three times in four an active custodian, else any custodian
    ///      or, for an open subject, any supply-chain actor).
    function _holderOfAny(uint256 seed) private view returns (address) {
        if (!_oneIn(seed, 4)) {
            address custodian = _custodianOfAny(seed);
            if (_supplyChain(custodian)) return custodian;
        }
        return _holderOf(_ghosts[_existingKey(seed)], seed);
    }

    /// @dev A pool account with a supply-chain role (suspended or not), uniformly.
    function _supplyChainActor(uint256 seed) private view returns (address) {
        return _withRole(SUPPLY_CHAIN, seed);
    }

    /// @dev A pool account with the inspector role (suspended or not), uniformly.
    function _inspector(uint256 seed) private view returns (address) {
        return _withRole(INSPECTOR, seed);
    }

    /// @dev One of the pool accounts holding any role in `bits` (suspended or not), uniformly;
    ///      anyone when there is none.
    function _withRole(uint256 bits, uint256 seed) private view returns (address) {
        uint256 n = _pool.length;
        uint256 matching = 0;
        for (uint256 i = 0; i < n; ++i) {
            if (roleBits[_pool[i]] & bits != 0) ++matching;
        }
        if (matching == 0) return _pick(seed);
        uint256 k = _choice(seed, matching);
        for (uint256 i = 0; i < n; ++i) {
            if (roleBits[_pool[i]] & bits == 0) continue;
            if (k == 0) return _pool[i];
            --k;
        }
        return _pick(seed);
    }

    /// @dev Three times in four a suspended account (if any), else anyone.
    function _suspendedOrAny(uint256 seed) private view returns (address) {
        if (!_oneIn(seed, 4)) {
            uint256 n = _pool.length;
            uint256 start = _choice(_sub(seed, 1), n);
            for (uint256 i = 0; i < n; ++i) {
                address account = _pool[(start + i) % n];
                if (suspended[account]) return account;
            }
        }
        return _pick(seed);
    }

    // ---------------------------------------------------------------- internals
    function _countEvent(uint8 step, uint256 subjects) private {
        eventEntries += subjects;
        if (step == RETAIL_SELLING) retailSales += subjects;
        if (step == INSPECTING || step == SAMPLING) inspections += subjects;
    }

    function _createdOpen(IProvenanceRegistry.NewSubject[] memory create, bytes32 key) private pure returns (bool) {
        for (uint256 i = 0; i < create.length; ++i) {
            if (keccak256(bytes(create[i].identifier)) == key) return create[i].open;
        }
        return false;
    }

    function _readActor(address account) private {
        IActorRegistry.Actor memory actor = registry.getActor(account);
        registered[account] = actor.registered;
        suspended[account] = actor.suspendedAt != 0;
        uint256 bits = 0;
        if (registry.hasRole(Roles.GOVERNANCE, account)) bits |= GOVERNANCE;
        if (registry.hasRole(Roles.MANUFACTURER, account)) bits |= MANUFACTURER;
        if (registry.hasRole(Roles.LOGISTICS, account)) bits |= LOGISTICS;
        if (registry.hasRole(Roles.RETAILER, account)) bits |= RETAILER;
        if (registry.hasRole(Roles.INSPECTOR, account)) bits |= INSPECTOR;
        roleBits[account] = bits;
    }

    /// @dev Registered, not suspended, and holding any of the roles in `bits`.
    function _has(address account, uint256 bits) private view returns (bool) {
        return registered[account] && !suspended[account] && roleBits[account] & bits != 0;
    }

    function _supplyChain(address account) private view returns (bool) {
        return _has(account, SUPPLY_CHAIN);
    }

    function _sub(uint256 seed, uint256 salt) private pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, salt)));
    }

    /// @dev A non-zero hash or, one time in `n`, zero.
    function _hashOrZero(uint256 seed, uint256 n) private pure returns (bytes32) {
        return _oneIn(seed, n) ? bytes32(0) : keccak256(abi.encode("hash", seed));
    }

    // ---------------------------------------------------------------- reads for the test
    /// @inheritdoc Handler
    function actions() external pure override returns (bytes4[] memory selectors) {
        selectors = new bytes4[](8);
        selectors[0] = this.passTime.selector;
        selectors[1] = this.createSubjects.selector;
        selectors[2] = this.recordEvents.selector;
        selectors[3] = this.recordEvent.selector;
        selectors[4] = this.transferCustody.selector;
        selectors[5] = this.forceCustody.selector;
        selectors[6] = this.recall.selector;
        selectors[7] = this.changeStanding.selector;
    }
}

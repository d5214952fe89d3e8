// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";

import {IActorRegistry, Standing} from "./interfaces/IActorRegistry.sol";
import {BizSteps, EntryKinds, IProvenanceRegistry} from "./interfaces/IProvenanceRegistry.sol";
import {Roles, TraceChainZeroAddress, TraceChainZeroHash} from "./Common.sol";

/// @title ProvenanceRegistry
/// @notice Subjects (items, lots, logistic units, assets, locations), their custody and status, and
///         a hash chain over each subject's entries. See IProvenanceRegistry for the rules.
/// @dev Gas: a subject's head is stored per holder (`_heads[key][custodian]`, or `[key][0]` when
///      open), so the common write, the custodian extending its own subject's chain, touches one
///      storage slot and proves custody by that slot being non-zero. The subject's state slot is
///      read only on the rarer paths (open subjects, inspectors, retail sales, custody, recall).
contract ProvenanceRegistry is IProvenanceRegistry, ERC2771Context {
    // ---------------------------------------------------------------- storage
    /// A subject's state: `account` is its custodian, or its originator when open.
    struct State {
        address account;
        SubjectStatus status;
        bool open;
        uint64 createdAt;
    }

    /// The registry every role check asks.
    IActorRegistry private immutable _registry;
    /// Subject state by key.
    mapping(bytes32 subjectKey => State) private _subjects;
    /// Chain head by subject and holder (the custodian; address(0) for open subjects).
    mapping(bytes32 subjectKey => mapping(address holder => bytes32 head)) private _heads;
    /// Originator of custodial subjects, written at their first custody change (until then it is
    /// the custodian).
    mapping(bytes32 subjectKey => address originator) private _originators;
    /// Hash of the recall notice by subject key (set once, on recall).
    mapping(bytes32 subjectKey => bytes32 reasonHash) private _recallReasons;

    // ---------------------------------------------------------------- constructor
    /// @param actorRegistry The deployment's ActorRegistry.
    /// @param trustedForwarder The ERC-2771 forwarder that may relay signed requests.
    constructor(address actorRegistry, address trustedForwarder) ERC2771Context(trustedForwarder) {
        if (actorRegistry == address(0)) revert TraceChainZeroAddress();
        _registry = IActorRegistry(actorRegistry);
    }

    // ---------------------------------------------------------------- writes
    /// @inheritdoc IProvenanceRegistry
    function createSubjects(NewSubject[] calldata subjects) external {
        if (subjects.length == 0) revert ProvenanceRegistryEmptyBatch();
        address actor = _msgSender();
        _create(subjects, actor, _registry.standingOf(actor));
    }

    /// @inheritdoc IProvenanceRegistry
    function recordEvents(NewSubject[] calldata create, EventInput[] calldata events) external {
        if (create.length == 0 && events.length == 0) revert ProvenanceRegistryEmptyBatch();
        address actor = _msgSender();
        uint256 standing = _registry.standingOf(actor);
        if (create.length != 0) _create(create, actor, standing);
        uint64 timestamp = uint64(block.timestamp);
        for (uint256 i = 0; i < events.length; ++i) {
            EventInput calldata e = events[i];
            if (e.kind != EntryKinds.EVENT && e.kind != EntryKinds.ERROR_DECLARATION) {
                revert ProvenanceRegistryInvalidKind(e.kind);
            }
            if (e.eventId == bytes32(0) || e.documentHash == bytes32(0)) revert TraceChainZeroHash();
            _checkStep(e.bizStep, actor, standing);
            uint256 n = e.subjects.length;
            if (n == 0) revert ProvenanceRegistryEmptyBatch();
            for (uint256 j = 0; j < n; ++j) {
                bytes32 key = e.subjects[j];
                address holder = _holderFor(key, actor, standing, e.bizStep);
                _append(key, holder, e.kind, e.eventId, e.documentHash, e.bizStep, actor, timestamp);
            }
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function recordEvent(bytes32 subjectKey, bytes32 eventId, bytes32 documentHash, uint8 bizStep)
        external
        returns (bytes32 head)
    {
        if (eventId == bytes32(0) || documentHash == bytes32(0)) revert TraceChainZeroHash();
        address actor = _msgSender();
        uint256 standing = _registry.standingOf(actor);
        _checkStep(bizStep, actor, standing);
        address holder = _holderFor(subjectKey, actor, standing, bizStep);
        head = _append(
            subjectKey, holder, EntryKinds.EVENT, eventId, documentHash, bizStep, actor, uint64(block.timestamp)
        );
    }

    /// @inheritdoc IProvenanceRegistry
    function transferCustody(bytes32[] calldata subjectKeys, address to) external {
        if (to == address(0)) revert TraceChainZeroAddress();
        uint256 n = subjectKeys.length;
        if (n == 0) revert ProvenanceRegistryEmptyBatch();
        address actor = _msgSender();
        _requireSupplyChain(_registry.standingOf(actor), actor);
        _requireSupplyChain(_registry.standingOf(to), to);
        for (uint256 i = 0; i < n; ++i) {
            bytes32 key = subjectKeys[i];
            State storage state = _requireCustodial(key);
            if (state.account != actor) revert ProvenanceRegistryNotCustodian(key, actor, state.account);
            if (to == actor) revert ProvenanceRegistryAlreadyCustodian(key, to);
            _moveCustody(key, state, to, EntryKinds.CUSTODY, bytes32(0), actor);
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function forceCustody(bytes32 subjectKey, address to, bytes32 reasonHash) external {
        if (to == address(0)) revert TraceChainZeroAddress();
        if (reasonHash == bytes32(0)) revert TraceChainZeroHash();
        address actor = _msgSender();
        Standing.requireRole(_registry.standingOf(actor), actor, Roles.GOVERNANCE, Standing.GOVERNANCE);
        _requireSupplyChain(_registry.standingOf(to), to);
        State storage state = _requireCustodial(subjectKey);
        if (state.account == to) revert ProvenanceRegistryAlreadyCustodian(subjectKey, to);
        _moveCustody(subjectKey, state, to, EntryKinds.FORCED_CUSTODY, reasonHash, actor);
    }

    /// @inheritdoc IProvenanceRegistry
    function recall(bytes32 subjectKey, bytes32 reasonHash) external {
        if (reasonHash == bytes32(0)) revert TraceChainZeroHash();
        State storage state = _requireSubject(subjectKey);
        if (state.status == SubjectStatus.Recalled) revert ProvenanceRegistrySubjectRecalled(subjectKey);
        address actor = _msgSender();
        uint256 standing = _registry.standingOf(actor);
        if (!Standing.mayAct(standing, Standing.GOVERNANCE)) {
            if (actor != _originatorOf(subjectKey, state)) revert ProvenanceRegistryNotRecaller(subjectKey, actor);
            Standing.requireRole(standing, actor, Roles.MANUFACTURER, Standing.MANUFACTURER);
        }
        state.status = SubjectStatus.Recalled;
        _recallReasons[subjectKey] = reasonHash;
        address holder = state.open ? address(0) : state.account;
        _append(subjectKey, holder, EntryKinds.RECALL, bytes32(0), reasonHash, 0, actor, uint64(block.timestamp));
    }

    // ---------------------------------------------------------------- reads
    /// @inheritdoc IProvenanceRegistry
    function getSubject(bytes32 subjectKey) external view returns (Subject memory subject) {
        State storage state = _subjects[subjectKey];
        if (state.status == SubjectStatus.None) return subject;
        address holder = state.open ? address(0) : state.account;
        subject = Subject({
            custodian: holder,
            status: state.status,
            open: state.open,
            createdAt: state.createdAt,
            originator: _originatorOf(subjectKey, state),
            head: _heads[subjectKey][holder]
        });
    }

    /// @inheritdoc IProvenanceRegistry
    function headOf(bytes32 subjectKey) external view returns (bytes32) {
        State storage state = _subjects[subjectKey];
        return _heads[subjectKey][state.open ? address(0) : state.account];
    }

    /// @inheritdoc IProvenanceRegistry
    function recallReason(bytes32 subjectKey) external view returns (bytes32) {
        return _recallReasons[subjectKey];
    }

    /// @inheritdoc IProvenanceRegistry
    function subjectKeyOf(string calldata identifier) external pure returns (bytes32) {
        return keccak256(bytes(identifier));
    }

    /// @inheritdoc IProvenanceRegistry
    function genesisHead(bytes32 subjectKey, address originator, bytes32 metadataHash)
        external
        pure
        returns (bytes32)
    {
        return _genesisHead(subjectKey, originator, metadataHash);
    }

    /// @inheritdoc IProvenanceRegistry
    function nextHead(
        bytes32 previousHead,
        uint8 kind,
        bytes32 ref,
        bytes32 documentHash,
        uint8 code,
        address actor,
        uint64 timestamp
    ) external pure returns (bytes32) {
        return _nextHead(previousHead, kind, ref, documentHash, code, actor, timestamp);
    }

    // ---------------------------------------------------------------- internals
    function _create(NewSubject[] calldata subjects, address actor, uint256 standing) private {
        _requireSupplyChain(standing, actor);
        uint64 timestamp = uint64(block.timestamp);
        for (uint256 i = 0; i < subjects.length; ++i) {
            NewSubject calldata s = subjects[i];
            if (bytes(s.identifier).length == 0) revert ProvenanceRegistryEmptyIdentifier();
            bytes32 key = keccak256(bytes(s.identifier));
            State storage state = _subjects[key];
            if (state.status != SubjectStatus.None) revert ProvenanceRegistrySubjectExists(key);
            state.account = actor;
            state.status = SubjectStatus.Active;
            state.open = s.open;
            state.createdAt = timestamp;
            _heads[key][s.open ? address(0) : actor] = _genesisHead(key, actor, s.metadataHash);
            emit SubjectCreated(key, actor, s.identifier, s.metadataHash, s.open);
        }
    }

    /// @dev Extends the chain of `key` held under `holder` and emits the entry.
    function _append(
        bytes32 key,
        address holder,
        uint8 kind,
        bytes32 ref,
        bytes32 documentHash,
        uint8 code,
        address actor,
        uint64 timestamp
    ) private returns (bytes32 head) {
        head = _nextHead(_heads[key][holder], kind, ref, documentHash, code, actor, timestamp);
        _heads[key][holder] = head;
        emit EntryAppended(key, ref, actor, kind, code, documentHash);
    }

    /// @dev Whose chain slot an event by `actor` on `key` extends, after checking `actor` may write it:
    ///      its custodian (the fast path: the custodian's slot is non-zero), anyone allowed on an open
    ///      subject, or an inspector inspecting or sampling another's subject.
    function _holderFor(bytes32 key, address actor, uint256 standing, uint8 bizStep) private view returns (address) {
        bool retail = bizStep == BizSteps.RETAIL_SELLING;
        if (!retail && _heads[key][actor] != bytes32(0)) return actor;
        State storage state = _requireSubject(key);
        if (retail && state.status == SubjectStatus.Recalled) revert ProvenanceRegistrySubjectRecalled(key);
        if (state.open) return address(0);
        address custodian = state.account;
        if (custodian == actor) return actor;
        if (
            (bizStep == BizSteps.INSPECTING || bizStep == BizSteps.SAMPLING)
                && Standing.mayAct(standing, Standing.INSPECTOR)
        ) return custodian;
        revert ProvenanceRegistryNotCustodian(key, actor, custodian);
    }

    /// @dev The roles of IProvenanceRegistry's NatSpec: who may record `bizStep` at all.
    function _checkStep(uint8 bizStep, address actor, uint256 standing) private pure {
        if (bizStep > BizSteps.LAST_CBV && bizStep != BizSteps.EXTENSION) {
            revert ProvenanceRegistryUnknownBizStep(bizStep);
        }
        if (
            bizStep == BizSteps.COMMISSIONING || bizStep == BizSteps.CREATING_CLASS_INSTANCE
                || bizStep == BizSteps.ENCODING
        ) {
            Standing.requireRole(standing, actor, Roles.MANUFACTURER, Standing.MANUFACTURER);
        } else if (bizStep == BizSteps.RETAIL_SELLING) {
            Standing.requireRole(standing, actor, Roles.RETAILER, Standing.RETAILER);
        } else if (bizStep == BizSteps.INSPECTING || bizStep == BizSteps.SAMPLING) {
            if (!Standing.mayAct(standing, Standing.INSPECTOR | Standing.SUPPLY_CHAIN)) {
                _requireSupplyChain(standing, actor);
            }
        } else {
            _requireSupplyChain(standing, actor);
        }
    }

    /// @dev Passes for active manufacturer, logistics or retail actors; otherwise reverts with the
    ///      registry's own error for unknown or suspended accounts, else NotSupplyChainActor.
    function _requireSupplyChain(uint256 standing, address account) private pure {
        if (Standing.mayAct(standing, Standing.SUPPLY_CHAIN)) return;
        Standing.requireGoodStanding(standing, account);
        revert ProvenanceRegistryNotSupplyChainActor(account);
    }

    function _moveCustody(bytes32 key, State storage state, address to, uint8 kind, bytes32 reason, address actor)
        private
    {
        address from = state.account;
        if (_originators[key] == address(0)) _originators[key] = from; // the first change: from created it
        bytes32 head = _heads[key][from];
        delete _heads[key][from];
        _heads[key][to] = head;
        state.account = to;
        _append(key, to, kind, bytes32(uint256(uint160(to))), reason, 0, actor, uint64(block.timestamp));
    }

    function _originatorOf(bytes32 key, State storage state) private view returns (address) {
        if (state.open) return state.account;
        address originator = _originators[key];
        return originator == address(0) ? state.account : originator;
    }

    function _requireSubject(bytes32 key) private view returns (State storage state) {
        state = _subjects[key];
        if (state.status == SubjectStatus.None) revert ProvenanceRegistryUnknownSubject(key);
    }

    function _requireCustodial(bytes32 key) private view returns (State storage state) {
        state = _requireSubject(key);
        if (state.open) revert ProvenanceRegistryOpenSubject(key);
    }

    function _genesisHead(bytes32 subjectKey, address originator, bytes32 metadataHash)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(subjectKey, originator, metadataHash));
    }

    function _nextHead(
        bytes32 previousHead,
        uint8 kind,
        bytes32 ref,
        bytes32 documentHash,
        uint8 code,
        address actor,
        uint64 timestamp
    ) private pure returns (bytes32) {
        return keccak256(abi.encode(previousHead, kind, ref, documentHash, code, actor, timestamp));
    }

    // _msgSender/_msgData/_contextSuffixLength come from ERC2771Context: it is the only Context
    // in this contract's ancestry, so relayed calls see the signer without further overrides.
}

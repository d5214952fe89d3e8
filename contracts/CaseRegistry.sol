// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {IActorRegistry, Standing} from "./interfaces/IActorRegistry.sol";
import {ICaseRegistry, StepRules} from "./interfaces/ICaseRegistry.sol";
import {Roles, TraceChainZeroAddress, TraceChainZeroHash} from "./Common.sol";

/// @title CaseRegistry
/// @notice Procurement cases as hash chains of co-signed steps, one storage slot per case. See
///         ICaseRegistry for the rules and the hash formulas.
/// @dev Gas: a case's state (head, step count, parties, rules) lives in calldata and the logs; the
///      slot holds only its hash, so an append reads and writes one slot. Template rules are read
///      from storage once, when a case opens.
contract CaseRegistry is ICaseRegistry, EIP712, ERC2771Context {
    // ---------------------------------------------------------------- constants
    /// EIP-712 type every signer of a step signs.
    bytes32 public constant CASE_STEP_TYPEHASH = keccak256(
        "CaseStep(bytes32 caseId,uint32 index,uint8 kind,uint32 amends,bytes32 documentHash,bytes32 ref,"
        "address party,address[] signers,uint256 deadline)"
    );
    /// Most step kinds one template may define (byte 0 of the rules is unused).
    uint256 public constant MAX_KINDS = 31;

    // ---------------------------------------------------------------- storage
    /// The registry asked for roles and actor standing.
    IActorRegistry private immutable _registry;
    /// keccak256(abi.encode(CaseState)) by case id; zero for unknown cases.
    mapping(bytes32 caseId => bytes32 stateHash) private _cases;
    /// Step rules of registered templates, by template hash.
    mapping(bytes32 templateHash => bytes32 rules) private _templates;

    // ---------------------------------------------------------------- constructor
    /// @param actorRegistry_ The deployment's ActorRegistry.
    /// @param trustedForwarder The ERC-2771 forwarder that may relay signed requests.
    constructor(address actorRegistry_, address trustedForwarder)
        EIP712("TraceChainCases", "1")
        ERC2771Context(trustedForwarder)
    {
        if (actorRegistry_ == address(0)) revert TraceChainZeroAddress();
        _registry = IActorRegistry(actorRegistry_);
    }

    // ---------------------------------------------------------------- writes
    /// @inheritdoc ICaseRegistry
    function registerTemplate(bytes32 templateHash, bytes32 rules, bytes32[] calldata kinds) external {
        address caller = _msgSender();
        Standing.requireRole(_registry.standingOf(caller), caller, Roles.GOVERNANCE, Standing.GOVERNANCE);
        if (templateHash == bytes32(0)) revert TraceChainZeroHash();
        if (_templates[templateHash] != bytes32(0)) revert CaseRegistryTemplateExists(templateHash);
        _checkRules(rules, kinds);
        _templates[templateHash] = rules;
        emit TemplateRegistered(templateHash, caller, rules, kinds);
    }

    /// @inheritdoc ICaseRegistry
    function openCase(string calldata bizTransaction, bytes32 templateHash, address supplier, bytes32 metadataHash)
        external
        returns (bytes32 caseId)
    {
        if (bytes(bizTransaction).length == 0) revert CaseRegistryEmptyBizTransaction();
        address buyer = _msgSender();
        uint256 standing = _registry.standingOf(buyer);
        if (!Standing.mayAct(standing, Standing.SUPPLY_CHAIN)) {
            Standing.requireGoodStanding(standing, buyer);
            revert CaseRegistryNotSupplyChainActor(buyer);
        }
        bytes32 rules = _templates[templateHash];
        if (rules == bytes32(0)) revert CaseRegistryUnknownTemplate(templateHash);
        if (supplier != address(0)) _requireSupplier(supplier, buyer);
        bytes32 key = keccak256(bytes(bizTransaction));
        caseId = keccak256(abi.encode(key, buyer));
        if (_cases[caseId] != bytes32(0)) revert CaseRegistryCaseExists(caseId);
        bytes32 head = _genesisHead(caseId, buyer, supplier, templateHash, metadataHash);
        _cases[caseId] = keccak256(abi.encode(head, uint32(0), buyer, supplier, rules));
        emit CaseOpened(caseId, key, buyer, bizTransaction, templateHash, supplier, metadataHash);
    }

    /// @inheritdoc ICaseRegistry
    function appendStep(
        bytes32 caseId,
        CaseState calldata state,
        Step calldata step,
        address[] calldata signers,
        uint256 deadline,
        bytes[] calldata signatures
    ) external returns (bytes32 head) {
        _requireState(caseId, state);
        if (block.timestamp > deadline) revert CaseRegistrySignaturesExpired(deadline);
        uint8 rule = _ruleOf(state.rules, step.kind);
        if (step.amends > state.steps) revert CaseRegistryInvalidAmendment(step.amends, state.steps);
        if (step.documentHash == bytes32(0)) revert TraceChainZeroHash();
        address supplier = _supplierAfter(state, step, rule);
        _checkSigners(caseId, state.buyer, supplier, rule, signers, signatures);
        bytes32 signersHash = keccak256(abi.encodePacked(signers));
        bytes32 digest = _stepDigest(caseId, state.steps + 1, step, signersHash, deadline);
        for (uint256 i = 0; i < signers.length; ++i) {
            if (!SignatureChecker.isValidSignatureNowCalldata(signers[i], digest, signatures[i])) {
                revert CaseRegistryInvalidSignature(signers[i], i);
            }
        }
        head = _advance(caseId, state, step, supplier, signersHash);
        _emitStep(caseId, state.steps + 1, step, signers);
    }

    // ---------------------------------------------------------------- reads
    /// @inheritdoc ICaseRegistry
    function stateHashOf(bytes32 caseId) external view returns (bytes32) {
        return _cases[caseId];
    }

    /// @inheritdoc ICaseRegistry
    function templateRules(bytes32 templateHash) external view returns (bytes32) {
        return _templates[templateHash];
    }

    /// @inheritdoc ICaseRegistry
    function stepDigest(
        bytes32 caseId,
        uint32 index,
        Step calldata step,
        address[] calldata signers,
        uint256 deadline
    ) external view returns (bytes32) {
        return _stepDigest(caseId, index, step, keccak256(abi.encodePacked(signers)), deadline);
    }

    /// @inheritdoc ICaseRegistry
    function caseIdOf(string calldata bizTransaction, address buyer) external pure returns (bytes32) {
        return keccak256(abi.encode(keccak256(bytes(bizTransaction)), buyer));
    }

    /// @inheritdoc ICaseRegistry
    function genesisHead(bytes32 caseId, address buyer, address supplier, bytes32 templateHash, bytes32 metadataHash)
        external
        pure
        returns (bytes32)
    {
        return _genesisHead(caseId, buyer, supplier, templateHash, metadataHash);
    }

    /// @inheritdoc ICaseRegistry
    function nextHead(
        bytes32 previousHead,
        uint32 index,
        Step calldata step,
        address[] calldata signers,
        uint64 timestamp
    ) external pure returns (bytes32) {
        return _nextHead(previousHead, index, step, keccak256(abi.encodePacked(signers)), timestamp);
    }

    /// @inheritdoc ICaseRegistry
    function stateHash(CaseState calldata state) external pure returns (bytes32) {
        return keccak256(abi.encode(state));
    }

    /// @inheritdoc ICaseRegistry
    function actorRegistry() external view returns (address) {
        return address(_registry);
    }

    // ---------------------------------------------------------------- internals
    /// @dev Rules cover codes 1..kinds.length exactly, each with a signer and only defined bits.
    function _checkRules(bytes32 rules, bytes32[] calldata kinds) private pure {
        uint256 word = uint256(rules);
        uint256 top = 0;
        for (uint256 k = 1; k <= MAX_KINDS; ++k) {
            if (uint8(word >> (8 * k)) != 0) top = k;
        }
        if (word & 0xff != 0) revert CaseRegistryInvalidRules(rules, 0);
        if (top == 0 || kinds.length != top) revert CaseRegistryKindNames(kinds.length, top);
        for (uint256 k = 1; k <= top; ++k) {
            uint8 rule = uint8(word >> (8 * k));
            if (rule & StepRules.SIGNERS == 0 || rule & ~StepRules.ALL != 0 || kinds[k - 1] == bytes32(0)) {
                revert CaseRegistryInvalidRules(rules, k);
            }
        }
    }

    /// @dev Reverts unless `state` is what the case's slot holds.
    function _requireState(bytes32 caseId, CaseState calldata state) private view {
        bytes32 stored = _cases[caseId];
        // slither-disable-next-line incorrect-equality (an empty slot is an unknown case; nobody can make it zero)
        if (stored == bytes32(0)) revert CaseRegistryUnknownCase(caseId);
        if (keccak256(abi.encode(state)) != stored) revert CaseRegistryStateMismatch(caseId, stored);
    }

    /// @dev The case's supplier once `step` is appended: the one it names (checked), else unchanged.
    function _supplierAfter(CaseState calldata state, Step calldata step, uint8 rule) private view returns (address) {
        if (rule & StepRules.NAMES_SUPPLIER != 0) {
            if (step.party == address(0)) revert CaseRegistryInvalidParty(address(0));
            _requireSupplier(step.party, state.buyer);
            return step.party;
        }
        if (step.party != address(0)) revert CaseRegistryInvalidParty(step.party);
        return state.supplier;
    }

    /// @dev Extends the head by `step` and stores the next state's hash.
    function _advance(
        bytes32 caseId,
        CaseState calldata state,
        Step calldata step,
        address supplier,
        bytes32 signersHash
    ) private returns (bytes32 head) {
        uint32 index = state.steps + 1;
        head = _nextHead(state.head, index, step, signersHash, uint64(block.timestamp));
        _cases[caseId] = keccak256(abi.encode(head, index, state.buyer, supplier, state.rules));
    }

    function _emitStep(bytes32 caseId, uint32 index, Step calldata step, address[] calldata signers) private {
        emit StepAppended(caseId, index, step.kind, step.amends, step.documentHash, step.ref, step.party, signers);
    }

    function _ruleOf(bytes32 rules, uint8 kind) private pure returns (uint8 rule) {
        if (kind != 0 && kind <= MAX_KINDS) rule = uint8(uint256(rules) >> (8 * uint256(kind)));
        if (rule == 0) revert CaseRegistryUnknownKind(kind);
    }

    /// @dev A supplier is an active supply-chain actor other than the buyer.
    function _requireSupplier(address supplier, address buyer) private view {
        if (supplier == buyer || !Standing.mayAct(_registry.standingOf(supplier), Standing.SUPPLY_CHAIN)) {
            revert CaseRegistryInvalidSupplier(supplier);
        }
    }

    /// @dev The signers are, in order, the buyer, the supplier and an independent active inspector —
    ///      those `rule` names — each in good standing.
    function _checkSigners(
        bytes32 caseId,
        address buyer,
        address supplier,
        uint8 rule,
        address[] calldata signers,
        bytes[] calldata signatures
    ) private view {
        uint256 expected =
            uint256(rule & StepRules.BUYER) + ((rule >> 1) & 1) + ((rule >> 2) & 1);
        if (signers.length != expected || signatures.length != expected) {
            revert CaseRegistrySignerCount(expected, signers.length, signatures.length);
        }
        uint256 i = 0;
        if (rule & StepRules.BUYER != 0) {
            _requireParty(i, StepRules.BUYER, signers[i], buyer);
            ++i;
        }
        if (rule & StepRules.SUPPLIER != 0) {
            if (supplier == address(0)) revert CaseRegistryNoSupplier(caseId);
            _requireParty(i, StepRules.SUPPLIER, signers[i], supplier);
            ++i;
        }
        if (rule & StepRules.INSPECTOR != 0) {
            address inspector = signers[i];
            if (inspector == buyer || inspector == supplier) revert CaseRegistryInspectorNotIndependent(inspector);
            Standing.requireRole(_registry.standingOf(inspector), inspector, Roles.INSPECTOR, Standing.INSPECTOR);
        }
    }

    function _requireParty(uint256 index, uint8 role, address signer, address expected) private view {
        if (signer != expected) revert CaseRegistryWrongSigner(index, role, signer, expected);
        Standing.requireGoodStanding(_registry.standingOf(signer), signer);
    }

    function _stepDigest(bytes32 caseId, uint32 index, Step calldata step, bytes32 signersHash, uint256 deadline)
        private
        view
        returns (bytes32)
    {
        bytes32 structHash = keccak256(
            abi.encode(
                CASE_STEP_TYPEHASH,
                caseId,
                index,
                step.kind,
                step.amends,
                step.documentHash,
                step.ref,
                step.party,
                signersHash,
                deadline
            )
        );
        return _hashTypedDataV4(structHash);
    }

    function _genesisHead(bytes32 caseId, address buyer, address supplier, bytes32 templateHash, bytes32 metadataHash)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(caseId, buyer, supplier, templateHash, metadataHash));
    }

    function _nextHead(bytes32 previousHead, uint32 index, Step calldata step, bytes32 signersHash, uint64 timestamp)
        private
        pure
        returns (bytes32)
    {
        return keccak256(
            abi.encode(
                previousHead,
                index,
                step.kind,
                step.amends,
                step.documentHash,
                step.ref,
                step.party,
                signersHash,
                timestamp
            )
        );
    }

    // _msgSender/_msgData/_contextSuffixLength come from ERC2771Context: it is the only Context
    // in this contract's ancestry, so relayed calls see the signer without further overrides.
}

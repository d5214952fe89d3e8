// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ICaseRegistry
/// @notice Procurement cases: one purchase, from demand and approval to settlement, as a hash chain of
///         steps signed by the parties its process template names (docs/PROTOCOL.md, "Procurement
///         cases"). Documents stay off-chain; the chain holds one storage slot per case.
///
///         *Templates.* Governance registers a process template by the hash of its JSON document
///         (`templateHash`) with its `rules`: one byte per step kind, byte `k` (counted from the
///         least significant end) for the kind with code `k` (1..31; byte 0 is unused). A rule's
///         bits (`StepRules`) say who signs a step of that kind — the case's buyer, its supplier, an
///         independent active INSPECTOR — whether the step names the supplier (an award) and whether
///         it closes the case. The kind names travel in the registration's log.
///
///         *Cases.* A buyer (an active manufacturer, logistics or retail actor) opens a case for a
///         business transaction (the purchase order as a CBV `bizTransaction` URI) under a registered
///         template; the case id binds the buyer, so nobody can pre-empt another buyer's order:
///
///             caseId = keccak256(abi.encode(keccak256(utf8(bizTransaction)), buyer))
///             head_0 = keccak256(abi.encode(caseId, buyer, supplier, templateHash, metadataHash))
///             head_n = keccak256(abi.encode(head_{n-1}, uint32 n, uint8 kind, uint32 amends,
///                          documentHash, ref, address party, keccak256(abi.encodePacked(signers)),
///                          uint64 timestamp))
///
///         with `n` the step's 1-based index and `timestamp` the block time. The contract stores only
///         `stateHash = keccak256(abi.encode(CaseState))` per case: every append passes the case's
///         current `CaseState` (from the logs or an index), which must hash to the stored value, and
///         stores the next one. A stale or forged state is refused, so two appends cannot both build
///         on one head, and a verifier who folds the logs and matches `stateHashOf(caseId)` has proved
///         that no step was hidden, dropped, altered or reordered.
///
///         *Steps.* Anyone may submit a step: the signatures are the authority. Every required party
///         signs the EIP-712 `CaseStep` (domain "TraceChainCases" version "1") over the case, the
///         step's index (so a signature is good for one position of one case, never replayed) and
///         its content; each signature is checked with OpenZeppelin SignatureChecker (ERC-1271
///         contract wallets may sign). A step signed by the wrong party or role is refused and
///         nothing changes. An amendment is a new step whose `amends` names the earlier step it
///         replaces; nothing is ever overwritten.
///         Opening also works as an ERC-2771 request relayed through the trusted forwarder.
interface ICaseRegistry {
    /// @notice A case's state, hashed into its one storage slot. Passed in full to every append.
    struct CaseState {
        bytes32 head; // hash-chain head after `steps` steps (head_0 when none)
        uint32 steps; // steps appended so far
        address buyer; // who opened the case
        address supplier; // zero until named (at opening or by a step whose rule names it)
        bytes32 rules; // the template's step rules, copied at opening
    }

    /// @notice One step to append.
    struct Step {
        uint8 kind; // the template's code of the step kind (1..31)
        uint32 amends; // index of the step this one amends (1-based), 0 for none
        bytes32 documentHash; // keccak256 of the RFC 8785 canonical step document (or EPCIS event)
        bytes32 ref; // an EPCIS-backed step: the event's id (sha-256 digest of its Event Hash ID); else 0
        address party; // a step that names the supplier: the supplier; else zero
    }

    /// @notice `templateHash` is already registered.
    error CaseRegistryTemplateExists(bytes32 templateHash);
    /// @notice No template is registered under `templateHash`.
    error CaseRegistryUnknownTemplate(bytes32 templateHash);
    /// @notice `rules` are not valid step rules (see `StepRules`); `kind` is the first offending code.
    error CaseRegistryInvalidRules(bytes32 rules, uint256 kind);
    /// @notice The template registers `names` kind names for rules covering `kinds` codes.
    error CaseRegistryKindNames(uint256 names, uint256 kinds);
    /// @notice `account` is not an active manufacturer, logistics or retail actor, so it may not buy.
    error CaseRegistryNotSupplyChainActor(address account);
    /// @notice A business transaction identifier must not be empty.
    error CaseRegistryEmptyBizTransaction();
    /// @notice Case `caseId` is already open (its `CaseOpened` log says when).
    error CaseRegistryCaseExists(bytes32 caseId);
    /// @notice No case has id `caseId`.
    error CaseRegistryUnknownCase(bytes32 caseId);
    /// @notice The state passed for `caseId` does not hash to the stored `stateHash` (stale or forged).
    error CaseRegistryStateMismatch(bytes32 caseId, bytes32 stateHash);
    /// @notice `kind` is not a step kind of the case's template.
    error CaseRegistryUnknownKind(uint8 kind);
    /// @notice `amends` names no earlier step (the case has `steps` steps).
    error CaseRegistryInvalidAmendment(uint32 amends, uint32 steps);
    /// @notice `party` is given for a step that names nobody, or missing for one that names the supplier.
    error CaseRegistryInvalidParty(address party);
    /// @notice `account` may not be the supplier: it is the buyer, or not an active supply-chain actor.
    error CaseRegistryInvalidSupplier(address account);
    /// @notice The step needs the supplier's signature but case `caseId` names no supplier yet.
    error CaseRegistryNoSupplier(bytes32 caseId);
    /// @notice The step needs `expected` signers (and as many signatures); `signers` and `signatures` were given.
    error CaseRegistrySignerCount(uint256 expected, uint256 signers, uint256 signatures);
    /// @notice Signer `signer` at `index` is not the case's party `expected` in `role` (a `StepRules` bit).
    error CaseRegistryWrongSigner(uint256 index, uint8 role, address signer, address expected);
    /// @notice The inspector `account` is the case's buyer or supplier: an inspection must be independent.
    error CaseRegistryInspectorNotIndependent(address account);
    /// @notice The signature at `index` is not `signer`'s signature of this step.
    error CaseRegistryInvalidSignature(address signer, uint256 index);
    /// @notice The signatures expired at `deadline` (a block timestamp).
    error CaseRegistrySignaturesExpired(uint256 deadline);

    /// @notice Emitted when governance registers a template: `rules` as `StepRules` defines, and the
    ///         name of each kind (`kinds[k-1]` for code k, ASCII left-aligned in a bytes32).
    event TemplateRegistered(bytes32 indexed templateHash, address indexed by, bytes32 rules, bytes32[] kinds);
    /// @notice Emitted when `buyer` opens case `caseId` for `bizTransaction` (key =
    ///         keccak256(utf8(bizTransaction))) under template `templateHash`.
    event CaseOpened(
        bytes32 indexed caseId,
        bytes32 indexed bizTransactionKey,
        address indexed buyer,
        string bizTransaction,
        bytes32 templateHash,
        address supplier,
        bytes32 metadataHash
    );
    /// @notice Emitted for every step of case `caseId`; `index` is its 1-based position, the block
    ///         time its timestamp. The head after it follows from the fields (see the contract's NatSpec).
    event StepAppended(
        bytes32 indexed caseId,
        uint32 indexed index,
        uint8 indexed kind,
        uint32 amends,
        bytes32 documentHash,
        bytes32 ref,
        address party,
        address[] signers
    );

    /// @notice Registers a process template. Governance only.
    /// @param templateHash keccak256 of the template's canonical JSON.
    /// @param rules One `StepRules` byte per kind code (byte k for code k, 1..31).
    /// @param kinds The kind names, `kinds[k-1]` for code k: exactly one per non-zero rule byte,
    ///        codes 1..kinds.length all used.
    function registerTemplate(bytes32 templateHash, bytes32 rules, bytes32[] calldata kinds) external;

    /// @notice Opens a case; the caller is its buyer and must be an active supply-chain actor.
    /// @param bizTransaction The purchase order as a CBV bizTransaction URI.
    /// @param templateHash A registered template.
    /// @param supplier The supplier when already known (an active supply-chain actor), else zero.
    /// @param metadataHash Canonical hash of the case's opening document (may be zero).
    /// @return caseId `caseIdOf(bizTransaction, buyer)`.
    function openCase(string calldata bizTransaction, bytes32 templateHash, address supplier, bytes32 metadataHash)
        external
        returns (bytes32 caseId);

    /// @notice Appends a step to case `caseId`, signed by every party its kind's rule requires, in the
    ///         order buyer, supplier, inspector (those the rule names). Anyone may submit it.
    /// @param state The case's current state (must hash to `stateHashOf(caseId)`).
    /// @param step The step.
    /// @param signers The signing parties, in rule order.
    /// @param deadline Block timestamp after which the signatures are no longer accepted.
    /// @param signatures One EIP-712 `CaseStep` signature per signer, in the same order.
    /// @return head The case's new head.
    function appendStep(
        bytes32 caseId,
        CaseState calldata state,
        Step calldata step,
        address[] calldata signers,
        uint256 deadline,
        bytes[] calldata signatures
    ) external returns (bytes32 head);

    /// @notice The stored `stateHash` of `caseId` (zero if it does not exist).
    function stateHashOf(bytes32 caseId) external view returns (bytes32);

    /// @notice The rules of template `templateHash` (zero if it is not registered).
    function templateRules(bytes32 templateHash) external view returns (bytes32);

    /// @notice The EIP-712 digest every signer of a step signs.
    function stepDigest(
        bytes32 caseId,
        uint32 index,
        Step calldata step,
        address[] calldata signers,
        uint256 deadline
    ) external view returns (bytes32);

    /// @notice `keccak256(abi.encode(keccak256(utf8(bizTransaction)), buyer))`.
    function caseIdOf(string calldata bizTransaction, address buyer) external pure returns (bytes32);

    /// @notice head_0 of a case.
    function genesisHead(bytes32 caseId, address buyer, address supplier, bytes32 templateHash, bytes32 metadataHash)
        external
        pure
        returns (bytes32);

    /// @notice The head after appending `step` as step `index` with `signers` at `timestamp`.
    function nextHead(
        bytes32 previousHead,
        uint32 index,
        Step calldata step,
        address[] calldata signers,
        uint64 timestamp
    ) external pure returns (bytes32);

    /// @notice `keccak256(abi.encode(state))`: what the case's slot holds.
    function stateHash(CaseState calldata state) external pure returns (bytes32);

    /// @notice The ActorRegistry asked for roles.
    function actorRegistry() external view returns (address);
}

/// @title StepRules
/// @notice Bits of one step kind's rule byte. A kind is part of a template when its byte is non-zero;
///         it needs at least one signer bit. Signers sign in the order of these bits.
library StepRules {
    /// The case's buyer signs.
    uint8 internal constant BUYER = 1 << 0;
    /// The case's supplier signs (it must be named by then).
    uint8 internal constant SUPPLIER = 1 << 1;
    /// An active INSPECTOR who is neither the buyer nor the supplier signs.
    uint8 internal constant INSPECTOR = 1 << 2;
    /// The step names the supplier in `party` (an award): from then on it is the case's supplier.
    uint8 internal constant NAMES_SUPPLIER = 1 << 3;
    /// The step closes the case (a settlement): indexers report the case closed. Later steps
    /// (amendments) are still accepted.
    uint8 internal constant CLOSES = 1 << 4;
    /// Every signer bit.
    uint8 internal constant SIGNERS = BUYER | SUPPLIER | INSPECTOR;
    /// Every defined bit.
    uint8 internal constant ALL = SIGNERS | NAMES_SUPPLIER | CLOSES;
}

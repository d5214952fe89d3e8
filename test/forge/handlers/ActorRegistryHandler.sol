// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Roles} from "contracts/Common.sol";
import {IActorRegistry} from "contracts/interfaces/IActorRegistry.sol";

import {Handler} from "../lib/Handler.sol";

/// @title ActorRegistryHandler
/// @notice The invariant fuzzer's hands on an ActorRegistry: every action picks a caller and a
///         target from a fixed pool (see `Handler` for the pattern). Properties checked after each
///         action, on the account it touched (`checkAccount`):
///         - the registry's record and roles of the account are the model's;
///         - a suspended account passes no check (isActor, isActive, requireActor, requireActive
///           for every role), and the refusal is `ActorRegistryActorSuspended(account)`; every
///           other check answers exactly as the rules say too (so cached role bits, as in v2's
///           `standingOf`, can never drift from the roles);
///         - no role changed for a caller that was not an active governor (renouncing one's own
///           role aside).
///         The test checks, after every call, that some active governor remains.
contract ActorRegistryHandler is Handler {
    // ---------------------------------------------------------------- storage
    /// The registry under test.
    IActorRegistry public immutable registry;
    /// Everyone who ever calls or is acted upon (registered or not).
    address[] private _pool;
    /// Every role identifier the fuzzer may use, GOVERNANCE first.
    bytes32[] private _roles;

    /// Model: registered accounts.
    mapping(address account => bool) public registered;
    /// Model: suspended accounts.
    mapping(address account => bool) public suspended;
    /// Model: roles held.
    mapping(address account => mapping(bytes32 role => bool)) public holds;

    // ---------------------------------------------------------------- constructor
    /// @dev Reads the registry's starting state for every pool account into the model.
    constructor(IActorRegistry registry_, address[] memory pool_, bytes32[] memory roles_) {
        registry = registry_;
        _pool = pool_;
        _roles = roles_;
        for (uint256 i = 0; i < pool_.length; ++i) {
            address account = pool_[i];
            IActorRegistry.Actor memory actor = registry_.getActor(account);
            registered[account] = actor.registered;
            suspended[account] = actor.suspendedAt != 0;
            for (uint256 r = 0; r < roles_.length; ++r) {
                holds[account][roles_[r]] = registry_.hasRole(roles_[r], account);
            }
        }
    }

    // ---------------------------------------------------------------- actions (fuzzed)
    function registerActor(uint256 callerSeed, uint256 accountSeed, uint256 roleMask) external {
        address caller = _caller(callerSeed);
        address account = _target(accountSeed, false);
        bytes32[] memory granted = _rolesFromMask(roleMask);
        bool governs = _governs(caller);
        bool expected = governs && !registered[account];
        bytes32 metadataHash = keccak256(abi.encode(account, roleMask));
        vm.prank(caller);
        try registry.registerActor(account, "Actor", metadataHash, granted) {
            _check(governs, "only governance changes roles");
            registered[account] = true;
            for (uint256 i = 0; i < granted.length; ++i) {
                holds[account][granted[i]] = true;
            }
            _outcome(expected, true, "registerActor");
        } catch {
            _outcome(expected, false, "registerActor");
        }
        checkAccount(account);
    }

    function updateActor(uint256 callerSeed, uint256 accountSeed, bytes32 metadataHash) external {
        address caller = _pick(callerSeed);
        address account = _pick(accountSeed);
        bool expected = registered[account] && (caller == account ? !suspended[account] : _governs(caller));
        vm.prank(caller);
        try registry.updateActor(account, "Renamed", metadataHash) {
            _outcome(expected, true, "updateActor");
        } catch {
            _outcome(expected, false, "updateActor");
        }
        checkAccount(account);
    }

    function suspendActor(uint256 callerSeed, uint256 accountSeed, bytes32 reasonHash) external {
        address caller = _caller(callerSeed);
        address account = _pick(accountSeed);
        bool expected = _governs(caller) && account != caller && registered[account] && !suspended[account];
        vm.prank(caller);
        try registry.suspendActor(account, reasonHash) {
            suspended[account] = true;
            _outcome(expected, true, "suspendActor");
        } catch {
            _outcome(expected, false, "suspendActor");
        }
        checkAccount(account);
    }

    function reinstateActor(uint256 callerSeed, uint256 accountSeed) external {
        address caller = _caller(callerSeed);
        address account = _target(accountSeed, true);
        bool expected = _governs(caller) && registered[account] && suspended[account];
        vm.prank(caller);
        try registry.reinstateActor(account) {
            suspended[account] = false;
            _outcome(expected, true, "reinstateActor");
        } catch {
            _outcome(expected, false, "reinstateActor");
        }
        checkAccount(account);
    }

    function grantRole(uint256 callerSeed, uint256 accountSeed, uint256 roleSeed) external {
        address caller = _caller(callerSeed);
        address account = _pick(accountSeed);
        bytes32 role = _roles[roleSeed % _roles.length];
        bool governs = _governs(caller);
        bool expected = governs && registered[account];
        vm.prank(caller);
        try registry.grantRole(role, account) {
            _check(governs, "only governance changes roles");
            holds[account][role] = true;
            _outcome(expected, true, "grantRole");
        } catch {
            _outcome(expected, false, "grantRole");
        }
        checkAccount(account);
    }

    function revokeRole(uint256 callerSeed, uint256 accountSeed, uint256 roleSeed) external {
        address caller = _caller(callerSeed);
        address account = _pick(accountSeed);
        bytes32 role = _roles[roleSeed % _roles.length];
        bool governs = _governs(caller);
        bool expected = governs && !(role == Roles.GOVERNANCE && account == caller);
        vm.prank(caller);
        try registry.revokeRole(role, account) {
            _check(governs, "only governance changes roles");
            holds[account][role] = false;
            _outcome(expected, true, "revokeRole");
        } catch {
            _outcome(expected, false, "revokeRole");
        }
        checkAccount(account);
    }

    /// @dev Renouncing: allowed for one's own roles, except governance; never for someone else.
    function renounceRole(uint256 callerSeed, uint256 confirmationSeed, uint256 roleSeed) external {
        address caller = _pick(callerSeed);
        address confirmation = _oneIn(confirmationSeed, 4) ? _pick(confirmationSeed) : caller;
        bytes32 role = _roles[roleSeed % _roles.length];
        bool expected = confirmation == caller && role != Roles.GOVERNANCE;
        vm.prank(caller);
        try registry.renounceRole(role, confirmation) {
            _check(confirmation == caller, "only governance changes roles");
            holds[confirmation][role] = false;
            _outcome(expected, true, "renounceRole");
        } catch {
            _outcome(expected, false, "renounceRole");
        }
        checkAccount(confirmation);
    }

    // ---------------------------------------------------------------- properties
    /// @notice Checks the properties on `account` (each action calls it for the account it
    ///         touched; the test's `afterInvariant` calls it for the whole pool): its record and
    ///         roles are the model's, and every check (isActor, requireActor, and isActive and
    ///         requireActive for every role) answers exactly as the rules say, with the exact error.
    function checkAccount(address account) public {
        IActorRegistry.Actor memory actor = registry.getActor(account);
        _check(actor.registered == registered[account], "registered as in the model");
        _check((actor.suspendedAt != 0) == suspended[account], "suspended as in the model");

        bool isSuspended = suspended[account];
        bool inGoodStanding = registered[account] && !isSuspended;
        bytes memory standingError = !registered[account]
            ? abi.encodeWithSelector(IActorRegistry.ActorRegistryUnknownActor.selector, account)
            : isSuspended
                ? abi.encodeWithSelector(IActorRegistry.ActorRegistryActorSuspended.selector, account)
                : bytes("");
        string memory property =
            isSuspended ? "a suspended actor passes no check" : "checks answer exactly as the rules say";
        _check(registry.isActor(account) == inGoodStanding, property);
        _checkRefusal(abi.encodeCall(IActorRegistry.requireActor, (account)), standingError, property);

        for (uint256 r = 0; r < _roles.length; ++r) {
            bytes32 role = _roles[r];
            bool holdsRole = holds[account][role];
            _check(registry.hasRole(role, account) == holdsRole, "roles as in the model");
            _check(registry.isActive(account, role) == (inGoodStanding && holdsRole), property);
            bytes memory roleError = standingError.length != 0 || holdsRole
                ? standingError
                : abi.encodeWithSelector(IActorRegistry.ActorRegistryMissingRole.selector, account, role);
            _checkRefusal(abi.encodeCall(IActorRegistry.requireActive, (account, role)), roleError, property);
        }
    }

    /// @dev Calls the registry view `callData`: it must pass when `expectedError` is empty, and
    ///      otherwise revert with exactly `expectedError`.
    function _checkRefusal(bytes memory callData, bytes memory expectedError, string memory property) private {
        (bool ok, bytes memory err) = address(registry).staticcall(callData);
        if (expectedError.length == 0) _check(ok, property);
        else _check(!ok && keccak256(err) == keccak256(expectedError), property);
    }

    // ---------------------------------------------------------------- reads for the invariants
    function pool() external view returns (address[] memory) {
        return _pool;
    }

    function roles() external view returns (bytes32[] memory) {
        return _roles;
    }

    /// @inheritdoc Handler
    function actions() external pure override returns (bytes4[] memory selectors) {
        selectors = new bytes4[](7);
        selectors[0] = this.registerActor.selector;
        selectors[1] = this.updateActor.selector;
        selectors[2] = this.suspendActor.selector;
        selectors[3] = this.reinstateActor.selector;
        selectors[4] = this.grantRole.selector;
        selectors[5] = this.revokeRole.selector;
        selectors[6] = this.renounceRole.selector;
    }

    // ---------------------------------------------------------------- internals
    function _pick(uint256 seed) private view returns (address) {
        return _pool[seed % _pool.length];
    }

    /// @dev Three times in four an account that is suspended (`wantSuspended`) or unregistered
    ///      (otherwise), if the pool has one, so reinstating and registering often can succeed.
    function _target(uint256 seed, bool wantSuspended) private view returns (address) {
        if (!_oneIn(seed, 4)) {
            uint256 n = _pool.length;
            for (uint256 i = 0; i < n; ++i) {
                address account = _pool[(seed % n + i) % n];
                if (wantSuspended ? suspended[account] : !registered[account]) return account;
            }
        }
        return _pick(seed);
    }

    /// @dev For governance actions: three times in four an account the model says governs (if
    ///      any), else anyone, so that most calls get past the role check and reach the rules.
    function _caller(uint256 seed) private view returns (address) {
        if (!_oneIn(seed, 4)) {
            uint256 n = _pool.length;
            for (uint256 i = 0; i < n; ++i) {
                address account = _pool[(seed % n + i) % n];
                if (_governs(account)) return account;
            }
        }
        return _pick(seed);
    }

    /// @dev The model's answer to "may `account` govern now?".
    function _governs(address account) private view returns (bool) {
        return registered[account] && !suspended[account] && holds[account][Roles.GOVERNANCE];
    }

    /// @dev Roles picked by the low bits of `mask`; governance only when the four bits above
    ///      the role bits are all set too, so the pool does not fill up with governors.
    function _rolesFromMask(uint256 mask) private view returns (bytes32[] memory picked) {
        uint256 n = _roles.length;
        picked = new bytes32[](n);
        uint256 count = 0;
        for (uint256 i = 0; i < n; ++i) {
            if ((mask >> i) & 1 == 0) continue;
            if (_roles[i] == Roles.GOVERNANCE && (mask >> n) & 0xF != 0xF) continue;
            picked[count++] = _roles[i];
        }
        assembly ("memory-safe") {
            mstore(picked, count)
        }
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";

import {IActorRegistry, Standing} from "./interfaces/IActorRegistry.sol";
import {Roles, TraceChainZeroAddress} from "./Common.sol";

/// @title ActorRegistry
/// @notice Registered actors and their roles for one TraceChain deployment. Writes accept
///         ERC-2771 meta-transactions from the deployment's trusted forwarder.
contract ActorRegistry is IActorRegistry, AccessControl, ERC2771Context {
    // ---------------------------------------------------------------- storage
    /// Actor records by account.
    mapping(address account => Actor) private _actors;
    /// Registered and suspended flags and role bits by account (see `Standing`), kept in step with
    /// `_actors` and AccessControl's roles so a role check is one storage read.
    mapping(address account => uint256 standing) private _standing;

    // ---------------------------------------------------------------- constructor
    /// @param governance First governance actor (holds DEFAULT_ADMIN_ROLE).
    /// @param governanceName Display name of the governance actor.
    /// @param trustedForwarder The ERC-2771 forwarder that may relay signed requests.
    constructor(address governance, string memory governanceName, address trustedForwarder)
        ERC2771Context(trustedForwarder)
    {
        if (governance == address(0)) revert TraceChainZeroAddress();
        _register(governance, governanceName, bytes32(0));
        _grantRole(Roles.GOVERNANCE, governance);
    }

    // ---------------------------------------------------------------- writes
    /// @inheritdoc IActorRegistry
    function registerActor(address account, string calldata name, bytes32 metadataHash, bytes32[] calldata roles)
        external
        onlyRole(Roles.GOVERNANCE)
    {
        if (account == address(0)) revert TraceChainZeroAddress();
        if (_actors[account].registered) revert ActorRegistryActorExists(account);
        _register(account, name, metadataHash);
        for (uint256 i = 0; i < roles.length; ++i) {
            _grantRole(roles[i], account);
        }
    }

    /// @inheritdoc IActorRegistry
    function updateActor(address account, string calldata name, bytes32 metadataHash) external {
        address caller = _msgSender();
        if (caller != account) {
            if (!isActive(caller, Roles.GOVERNANCE)) revert ActorRegistryNotSelfOrGovernance(caller, account);
        } else if (_actors[account].suspendedAt != 0) {
            revert ActorRegistryActorSuspended(account);
        }
        Actor storage actor = _requireRegistered(account);
        if (bytes(name).length == 0) revert ActorRegistryEmptyName();
        actor.name = name;
        actor.metadataHash = metadataHash;
        emit ActorUpdated(account, name, metadataHash);
    }

    /// @inheritdoc IActorRegistry
    function suspendActor(address account, bytes32 reasonHash) external onlyRole(Roles.GOVERNANCE) {
        if (account == _msgSender()) revert ActorRegistryGovernanceLockout(account);
        Actor storage actor = _requireRegistered(account);
        if (actor.suspendedAt != 0) revert ActorRegistryActorSuspended(account);
        actor.suspendedAt = uint64(block.timestamp);
        _standing[account] |= Standing.SUSPENDED;
        emit ActorSuspended(account, reasonHash);
    }

    /// @inheritdoc IActorRegistry
    function reinstateActor(address account) external onlyRole(Roles.GOVERNANCE) {
        Actor storage actor = _requireRegistered(account);
        if (actor.suspendedAt == 0) revert ActorRegistryActorNotSuspended(account);
        actor.suspendedAt = 0;
        _standing[account] &= ~Standing.SUSPENDED;
        emit ActorReinstated(account);
    }

    // ---------------------------------------------------------------- reads
    /// @inheritdoc IActorRegistry
    function getActor(address account) external view returns (Actor memory) {
        return _actors[account];
    }

    /// @inheritdoc IActorRegistry
    function isActor(address account) external view returns (bool) {
        return Standing.inGoodStanding(_standing[account]);
    }

    /// @inheritdoc IActorRegistry
    function requireActor(address account) external view {
        Standing.requireGoodStanding(_standing[account], account);
    }

    /// @inheritdoc IActorRegistry
    function standingOf(address account) external view returns (uint256) {
        return _standing[account];
    }

    /// @inheritdoc IActorRegistry
    function isActive(address account, bytes32 role) public view returns (bool) {
        uint256 standing = _standing[account];
        uint256 bit = Standing.bitOf(role);
        if (bit != 0) return Standing.mayAct(standing, bit);
        return Standing.inGoodStanding(standing) && hasRole(role, account);
    }

    /// @inheritdoc IActorRegistry
    function requireActive(address account, bytes32 role) public view {
        uint256 standing = _standing[account];
        uint256 bit = Standing.bitOf(role);
        if (bit != 0) return Standing.requireRole(standing, account, role, bit);
        Standing.requireGoodStanding(standing, account);
        if (!hasRole(role, account)) revert ActorRegistryMissingRole(account, role);
    }

    // ---------------------------------------------------------------- internals
    function _register(address account, string memory name, bytes32 metadataHash) private {
        if (bytes(name).length == 0) revert ActorRegistryEmptyName();
        _actors[account] = Actor({
            name: name,
            metadataHash: metadataHash,
            registeredAt: uint64(block.timestamp),
            suspendedAt: 0,
            registered: true
        });
        _standing[account] |= Standing.REGISTERED;
        emit ActorRegistered(account, name, metadataHash);
    }

    function _requireRegistered(address account) private view returns (Actor storage actor) {
        actor = _actors[account];
        if (!actor.registered) revert ActorRegistryUnknownActor(account);
    }

    /// @dev Role admins (governance) must also be active: a suspended governor cannot govern.
    function _checkRole(bytes32 role) internal view override {
        requireActive(_msgSender(), role);
    }

    /// @dev Roles go only to registered actors, so every role holder has a name on record.
    function _grantRole(bytes32 role, address account) internal override returns (bool) {
        if (!_actors[account].registered) revert ActorRegistryUnknownActor(account);
        _standing[account] |= Standing.bitOf(role);
        return super._grantRole(role, account);
    }

    /// @dev A governor cannot revoke or renounce its own governance role (another governor can).
    function _revokeRole(bytes32 role, address account) internal override returns (bool) {
        if (role == Roles.GOVERNANCE && account == _msgSender()) revert ActorRegistryGovernanceLockout(account);
        _standing[account] &= ~Standing.bitOf(role);
        return super._revokeRole(role, account);
    }

    function _msgSender() internal view override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    // slither-disable-next-line dead-code (required to settle Context against ERC2771Context)
    function _msgData() internal view override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    function _contextSuffixLength() internal view override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {Roles} from "../Common.sol";

/// @title IActorRegistry
/// @notice Who is who in a TraceChain deployment: every writing account is a registered actor
///         with a display name, a metadata hash (of an off-chain profile document) and roles.
///         Other TraceChain contracts ask this registry whether an account may act in a role, so
///         suspending an actor or revoking a role is one transaction that takes effect everywhere.
interface IActorRegistry is IAccessControl {
    /// @notice A registered actor. `name` is a public business name, never personal data.
    struct Actor {
        string name;
        bytes32 metadataHash;
        uint64 registeredAt;
        uint64 suspendedAt; // 0 while the actor is in good standing
        bool registered;
    }

    /// @notice `account` is already a registered actor.
    error ActorRegistryActorExists(address account);
    /// @notice `account` is not a registered actor.
    error ActorRegistryUnknownActor(address account);
    /// @notice `account` is suspended and may not act.
    error ActorRegistryActorSuspended(address account);
    /// @notice `account` is not suspended, so it cannot be reinstated.
    error ActorRegistryActorNotSuspended(address account);
    /// @notice `account` does not hold `role` (or is not a registered actor).
    error ActorRegistryMissingRole(address account, bytes32 role);
    /// @notice An actor's display name must not be empty.
    error ActorRegistryEmptyName();
    /// @notice A governor may not suspend itself or give up its own governance role, so a
    ///         deployment is never left without a governor by accident.
    error ActorRegistryGovernanceLockout(address account);
    /// @notice `caller` may not update the profile of `account`.
    error ActorRegistryNotSelfOrGovernance(address caller, address account);

    /// @notice Emitted when governance registers `account` under `name`.
    event ActorRegistered(address indexed account, string name, bytes32 metadataHash);
    /// @notice Emitted when the actor's name or metadata hash changes.
    event ActorUpdated(address indexed account, string name, bytes32 metadataHash);
    /// @notice Emitted when governance suspends `account`; `reasonHash` commits to the reason.
    event ActorSuspended(address indexed account, bytes32 reasonHash);
    /// @notice Emitted when governance lifts the suspension of `account`.
    event ActorReinstated(address indexed account);

    /// @notice Registers `account` as an actor and grants it `roles`. Governance only.
    /// @param account The actor's address.
    /// @param name Public display name (a business name, not personal data).
    /// @param metadataHash Canonical hash of the actor's off-chain profile document.
    /// @param roles Roles to grant at once (see `Roles`).
    function registerActor(address account, string calldata name, bytes32 metadataHash, bytes32[] calldata roles)
        external;

    /// @notice Changes an actor's name and metadata hash. The actor itself or governance.
    function updateActor(address account, string calldata name, bytes32 metadataHash) external;

    /// @notice Suspends `account`: it keeps its roles but every role check fails. Governance only.
    /// @param reasonHash Hash of the off-chain reason document.
    function suspendActor(address account, bytes32 reasonHash) external;

    /// @notice Lifts the suspension of `account`. Governance only.
    function reinstateActor(address account) external;

    /// @notice Returns the actor record of `account` (all zero if unknown).
    function getActor(address account) external view returns (Actor memory);

    /// @notice True when `account` is registered and not suspended (whatever its roles).
    function isActor(address account) external view returns (bool);

    /// @notice Reverts with `ActorRegistryUnknownActor` or `ActorRegistryActorSuspended` unless
    ///         `account` is registered and not suspended (whatever its roles).
    function requireActor(address account) external view;

    /// @notice The standing word of `account` (see `Standing`): registered and suspended flags and
    ///         one bit per role, so a contract answers every role question with one call.
    function standingOf(address account) external view returns (uint256);

    /// @notice True when `account` is registered, not suspended and holds `role`.
    function isActive(address account, bytes32 role) external view returns (bool);

    /// @notice Reverts with `ActorRegistryUnknownActor`, `ActorRegistryActorSuspended` or
    ///         `ActorRegistryMissingRole` unless `account` may act in `role`. Other contracts
    ///         call this so refusals look the same everywhere.
    function requireActive(address account, bytes32 role) external view;
}

/// @title Standing
/// @notice Bits of `IActorRegistry.standingOf(account)`: one word that answers every role question
///         about an account with a single call. An account may act in a role when its standing has
///         REGISTERED and the role's bit set and SUSPENDED clear (`mayAct`).
library Standing {
    uint256 internal constant REGISTERED = 1 << 0;
    uint256 internal constant SUSPENDED = 1 << 1;
    uint256 internal constant GOVERNANCE = 1 << 8;
    uint256 internal constant MANUFACTURER = 1 << 9;
    uint256 internal constant LOGISTICS = 1 << 10;
    uint256 internal constant RETAILER = 1 << 11;
    uint256 internal constant INSPECTOR = 1 << 12;
    uint256 internal constant NOTARY = 1 << 13;
    uint256 internal constant AUDITOR = 1 << 14;
    /// Any of the roles that hold and move goods.
    uint256 internal constant SUPPLY_CHAIN = MANUFACTURER | LOGISTICS | RETAILER;

    /// @notice The standing bit of `role` (0 for roles outside `Roles`).
    function bitOf(bytes32 role) internal pure returns (uint256) {
        if (role == Roles.GOVERNANCE) return GOVERNANCE;
        if (role == Roles.MANUFACTURER) return MANUFACTURER;
        if (role == Roles.LOGISTICS) return LOGISTICS;
        if (role == Roles.RETAILER) return RETAILER;
        if (role == Roles.INSPECTOR) return INSPECTOR;
        if (role == Roles.NOTARY) return NOTARY;
        if (role == Roles.AUDITOR) return AUDITOR;
        return 0;
    }

    /// @notice True when `standing` is registered, not suspended and holds any role in `roles`.
    function mayAct(uint256 standing, uint256 roles) internal pure returns (bool) {
        return standing & (REGISTERED | SUSPENDED) == REGISTERED && standing & roles != 0;
    }

    /// @notice True when `standing` is registered and not suspended, whatever its roles.
    function inGoodStanding(uint256 standing) internal pure returns (bool) {
        return standing & (REGISTERED | SUSPENDED) == REGISTERED;
    }

    /// @notice Reverts with the ActorRegistry's own error unless `standing` (of `account`) may act
    ///         in `role`, whose standing bit is `bit`: the same refusals as `requireActive`.
    function requireRole(uint256 standing, address account, bytes32 role, uint256 bit) internal pure {
        requireGoodStanding(standing, account);
        if (standing & bit == 0) revert IActorRegistry.ActorRegistryMissingRole(account, role);
    }

    /// @notice Reverts with the ActorRegistry's own error unless `standing` (of `account`) is
    ///         registered and not suspended: the same refusals as `requireActor`.
    function requireGoodStanding(uint256 standing, address account) internal pure {
        if (standing & REGISTERED == 0) revert IActorRegistry.ActorRegistryUnknownActor(account);
        if (standing & SUSPENDED != 0) revert IActorRegistry.ActorRegistryActorSuspended(account);
    }
}

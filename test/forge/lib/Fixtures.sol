// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ActorRegistry} from "contracts/ActorRegistry.sol";
import {DataRightsRegistry} from "contracts/DataRightsRegistry.sol";
import {Roles} from "contracts/Common.sol";
import {IActorRegistry} from "contracts/interfaces/IActorRegistry.sol";
import {IDataRightsRegistry} from "contracts/interfaces/IDataRightsRegistry.sol";

import {DataRightsCompat} from "./DataRightsCompat.sol";
import {TestBase} from "./Test.sol";

/// @title Fixtures
/// @notice The one place that deploys contracts for the forge tests (so a constructor change is
///         one edit) and names the accounts: a founding governor and a pool of plain addresses.
///         Tests and handlers talk to the contracts through their interfaces only.
abstract contract Fixtures is TestBase {
    /// The ERC-2771 forwarder the contracts trust; nothing in these tests sends from it.
    address internal constant FORWARDER = address(0xF0F0);
    /// The founding governor (DEFAULT_ADMIN_ROLE) of every deployment here.
    address internal constant GOVERNOR = address(0x6000);

    /// @dev Pool account `i`: distinct, non-zero, never a precompile or the forwarder.
    function _account(uint256 i) internal pure returns (address) {
        return address(uint160(0xA000 + i));
    }

    function _deployActorRegistry() internal returns (IActorRegistry registry) {
        vm.warp(START_TIME);
        registry = IActorRegistry(address(new ActorRegistry(GOVERNOR, "Governance", FORWARDER)));
        vm.label(address(registry), "ActorRegistry");
        vm.label(GOVERNOR, "governor");
    }

    function _deployDataRights(IActorRegistry registry) internal returns (IDataRightsRegistry rights) {
        rights = IDataRightsRegistry(address(new DataRightsRegistry(address(registry), FORWARDER)));
        vm.label(address(rights), "DataRightsRegistry");
    }

    /// @dev Governance registers `account`, granting `role` when `withRole` (a zero role cannot
    ///      mean "none": zero is GOVERNANCE).
    function _registerActor(IActorRegistry registry, address account, bytes32 role, bool withRole) internal {
        bytes32[] memory roles = new bytes32[](withRole ? 1 : 0);
        if (withRole) roles[0] = role;
        vm.prank(GOVERNOR);
        registry.registerActor(account, "Actor", keccak256(abi.encode(account)), roles);
    }

    /// @dev `registrant` registers the dataset with `contentHash`; returns its id.
    function _registerDataset(IDataRightsRegistry rights, address registrant, bytes32 contentHash)
        internal
        returns (bytes32 datasetId)
    {
        vm.prank(registrant);
        (bool ok, bytes32 id, bytes memory revertData) =
            DataRightsCompat.registerDataset(rights, contentHash, bytes32(0));
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(revertData, 32), mload(revertData))
            }
        }
        return id;
    }

    /// @dev The role identifiers the contracts use, governance first, plus one no contract knows.
    function _allRoles() internal pure returns (bytes32[] memory roles) {
        roles = new bytes32[](8);
        roles[0] = Roles.GOVERNANCE;
        roles[1] = Roles.MANUFACTURER;
        roles[2] = Roles.LOGISTICS;
        roles[3] = Roles.RETAILER;
        roles[4] = Roles.INSPECTOR;
        roles[5] = Roles.NOTARY;
        roles[6] = Roles.AUDITOR;
        roles[7] = keccak256("UNLISTED");
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Roles
/// @notice Role identifiers shared by every TraceChain contract. Each is keccak256 of its name,
///         except governance, which is OpenZeppelin AccessControl's DEFAULT_ADMIN_ROLE (0x00)
///         and administers every other role.
library Roles {
    bytes32 internal constant GOVERNANCE = 0x00;
    bytes32 internal constant MANUFACTURER = keccak256("MANUFACTURER");
    bytes32 internal constant LOGISTICS = keccak256("LOGISTICS");
    bytes32 internal constant RETAILER = keccak256("RETAILER");
    bytes32 internal constant INSPECTOR = keccak256("INSPECTOR");
    bytes32 internal constant NOTARY = keccak256("NOTARY");
    bytes32 internal constant AUDITOR = keccak256("AUDITOR");
}

/// @notice A required address argument was the zero address.
error TraceChainZeroAddress();

/// @notice A required hash argument was zero.
error TraceChainZeroHash();

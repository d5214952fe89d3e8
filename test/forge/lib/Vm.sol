// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Vm
/// @notice The few Foundry cheatcodes these tests use, declared by hand. forge-std is not a
///         registry package we can pin (npm has only an unofficial, outdated copy that misses
///         StdInvariant), so we declare the cheatcode ABI ourselves instead of vendoring it.
///         Signatures are Foundry's (`forge` 1.7); add more from its cheatcode reference as needed.
interface Vm {
    // Environment
    function warp(uint256 newTimestamp) external;
    function prank(address msgSender) external;
    function label(address account, string calldata newLabel) external;

    // Fuzzing
    function assume(bool condition) external pure;

    // Expectations: the next call must revert with exactly this data / selector.
    function expectRevert(bytes calldata revertData) external;
    function expectRevert(bytes4 revertData) external;

    // Assertions (revert with the message on failure)
    function assertTrue(bool condition, string calldata error) external pure;
    function assertFalse(bool condition, string calldata error) external pure;
    function assertEq(bool left, bool right, string calldata error) external pure;
    function assertEq(uint256 left, uint256 right, string calldata error) external pure;
    function assertEq(address left, address right, string calldata error) external pure;
    function assertEq(bytes32 left, bytes32 right, string calldata error) external pure;
    function assertEq(bytes calldata left, bytes calldata right, string calldata error) external pure;
    function assertLe(uint256 left, uint256 right, string calldata error) external pure;
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {TestBase} from "./Test.sol";

/// @title Handler
/// @notice Base of the invariant fuzzer's handlers. A handler's actions never revert: each
///         predicts from a plain model whether its call must succeed, makes the call with
///         try/catch, updates the model only on success, and then checks the properties on the
///         state that call touched. Anything wrong is counted as a violation (the first one
///         described); the invariant test asserts there is none after every call. Checking the
///         touched state in the action keeps each step cheap; a full sweep runs once per run in
///         the test's `afterInvariant`.
abstract contract Handler is TestBase {
    /// Properties found broken, and a description of the first.
    uint256 public violations;
    string public firstViolation;
    /// Calls that went through, and calls that were refused, in this run.
    uint256 public succeeded;
    uint256 public refused;

    /// @notice The selectors the fuzzer may call.
    function actions() external view virtual returns (bytes4[] memory);

    /// @dev Records a broken property unless `ok`.
    function _check(bool ok, string memory property) internal {
        if (!ok && violations++ == 0) firstViolation = property;
    }

    /// @dev Counts the outcome of `action` and checks it against the model's prediction.
    function _outcome(bool expected, bool actual, string memory action) internal {
        if (actual) ++succeeded;
        else ++refused;
        string memory what = actual ? " went through against the rules" : " was refused against the rules";
        _check(expected == actual, string.concat(action, what));
    }
}

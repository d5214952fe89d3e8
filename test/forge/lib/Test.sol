// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Vm} from "./Vm.sol";

/// @title TestBase
/// @notice What every forge test here shares: the cheatcode handle and a fuzz-input bound.
abstract contract TestBase {
    /// Foundry's cheatcode address: address(uint160(uint256(keccak256("hevm cheat code")))).
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    /// A realistic block time for every test's start (forge starts at 1).
    uint256 internal constant START_TIME = 1_700_000_000;

    /// @dev Maps any `x` into [min, max] (inclusive), keeping in-range values unchanged.
    function _bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        if (x >= min && x <= max) return x;
        uint256 span = max - min;
        if (span == type(uint256).max) return x;
        return min + (x % (span + 1));
    }

    /// @dev One of `n` choices, decided by a hash of `seed`. Fuzzers favour 0, small numbers and
    ///      values seen in storage, which would skew a plain `seed % n`.
    function _choice(uint256 seed, uint256 n) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed))) % n;
    }

    /// @dev True one time in `n` (see `_choice`).
    function _oneIn(uint256 seed, uint256 n) internal pure returns (bool) {
        return _choice(seed, n) == 0;
    }
}

/// @title InvariantTest
/// @notice The part of forge-std's StdInvariant we need: forge asks a test contract for
///         `targetContracts()` and `targetSelectors()` and then calls only those functions, in
///         random order with random arguments, checking every `invariant_*` function after each call.
abstract contract InvariantTest is TestBase {
    /// Shape forge decodes from `targetSelectors()`.
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    address[] private _targetContracts;
    FuzzSelector[] private _targetSelectors;

    /// @dev Fuzz only `selectors` of `handler` (its actions), not its view helpers.
    function _targetHandler(address handler, bytes4[] memory selectors) internal {
        _targetContracts.push(handler);
        _targetSelectors.push(FuzzSelector({addr: handler, selectors: selectors}));
    }

    function targetContracts() public view returns (address[] memory) {
        return _targetContracts;
    }

    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _targetSelectors;
    }
}

/// @title Console
/// @notice forge's console.log (the address and ABI forge intercepts); output shows with -vv.
library Console {
    address private constant CONSOLE = 0x000000000000000000636F6e736F6c652e6c6f67;

    function log(string memory label, uint256 value) internal view {
        (bool ok,) = CONSOLE.staticcall(abi.encodeWithSignature("log(string,uint256)", label, value));
        ok;
    }
}

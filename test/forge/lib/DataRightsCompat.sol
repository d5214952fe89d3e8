// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IDataRightsRegistry} from "contracts/interfaces/IDataRightsRegistry.sol";

/// @title DataRightsCompat
/// @notice The one place that knows both versions of dataset ids. Before protocol v2 a dataset's
///         id is its content hash and `registerDataset` returns nothing; from v2 on the id is
///         `keccak256(abi.encode(contentHash, registrant))`, returned by `registerDataset` and
///         `datasetIdOf`. Both calls go through low-level calls so these tests compile and pass
///         against either. Once only v2 is left, call the registry directly and delete this file.
library DataRightsCompat {
    bytes4 private constant DATASET_ID_OF = bytes4(keccak256("datasetIdOf(bytes32,address)"));

    /// @dev The id `registrant` gets for `contentHash`.
    function datasetIdOf(IDataRightsRegistry rights, bytes32 contentHash, address registrant)
        internal
        view
        returns (bytes32)
    {
        (bool ok, bytes memory ret) =
            address(rights).staticcall(abi.encodeWithSelector(DATASET_ID_OF, contentHash, registrant));
        return ok && ret.length == 32 ? abi.decode(ret, (bytes32)) : contentHash;
    }

    /// @dev Calls `registerDataset` (prank the registrant just before); returns whether it went
    ///      through, the new dataset's id, and the revert data when it did not.
    function registerDataset(IDataRightsRegistry rights, bytes32 contentHash, bytes32 metadataHash)
        internal
        returns (bool ok, bytes32 datasetId, bytes memory revertData)
    {
        bytes memory ret;
        (ok, ret) =
            address(rights).call(abi.encodeCall(IDataRightsRegistry.registerDataset, (contentHash, metadataHash)));
        if (!ok) return (false, bytes32(0), ret);
        datasetId = ret.length == 32 ? abi.decode(ret, (bytes32)) : contentHash;
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";

/// @title TraceChainForwarder
/// @notice OpenZeppelin's ERC-2771 forwarder under the EIP-712 domain name "TraceChainForwarder"
///         (version "1"). An actor signs a ForwardRequest (from, to, value, gas, nonce, deadline,
///         data); anyone may relay it and pay the gas; the target contracts see the signer as
///         `_msgSender()`. Nonces and deadlines make every signed request single-use.
contract TraceChainForwarder is ERC2771Forwarder {
    constructor() ERC2771Forwarder("TraceChainForwarder") {}
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {TestBase} from "./Test.sol";

/// @title CoSign
/// @notice Co-signatures for the Notary tests, computed from INotary's documented EIP-712 types
///         (domain "TraceChainNotary" version "2") rather than with the contract's `coSignDigest`,
///         so the tests check the formula; and the ways a signature can be wrong.
abstract contract CoSign is TestBase {
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant COSIGN_TYPEHASH =
        keccak256("CoSign(bytes32 recordHash,bytes32 kind,address[] parties,uint256 deadline)");
    /// secp256k1's group order: s and n - s make the same ECDSA signature (the malleable twin).
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    /// How a test spoils a co-signature.
    enum Spoil {
        None, // the party's key over the right digest: valid
        WrongKey, // another key over the right digest
        WrongDeadline, // the party's key over the digest of another deadline
        Short, // the valid signature cut to 64 bytes (ERC-2098 form, which is refused)
        HighS // the valid signature's malleable twin (s > n/2, which is refused)
    }

    /// @dev The EIP-712 digest `parties` sign to co-sign `recordHash` of `kind` on `notary`.
    function _coSignDigest(address notary, bytes32 recordHash, bytes32 kind, address[] memory parties, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        bytes32 domain = keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("TraceChainNotary"), keccak256("2"), block.chainid, notary)
        );
        bytes32 structHash =
            keccak256(abi.encode(COSIGN_TYPEHASH, recordHash, kind, keccak256(abi.encodePacked(parties)), deadline));
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    /// @dev A 65-byte (r, s, v) signature of `digest` by `privateKey`.
    function _sign(uint256 privateKey, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(privateKey, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev The co-signature of one party made `how` (`otherKey` for WrongKey).
    function _coSignature(
        address notary,
        bytes32 recordHash,
        bytes32 kind,
        address[] memory parties,
        uint256 deadline,
        uint256 privateKey,
        uint256 otherKey,
        Spoil how
    ) internal view returns (bytes memory) {
        if (how == Spoil.WrongKey) {
            return _sign(otherKey, _coSignDigest(notary, recordHash, kind, parties, deadline));
        }
        if (how == Spoil.WrongDeadline) {
            return _sign(privateKey, _coSignDigest(notary, recordHash, kind, parties, deadline + 1));
        }
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(privateKey, _coSignDigest(notary, recordHash, kind, parties, deadline));
        if (how == Spoil.Short) {
            // r, then s with the parity of v in its top bit.
            return abi.encodePacked(r, bytes32(uint256(s) | (uint256(v - 27) << 255)));
        }
        if (how == Spoil.HighS) {
            return abi.encodePacked(r, bytes32(SECP256K1_N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
        }
        return abi.encodePacked(r, s, v);
    }
}

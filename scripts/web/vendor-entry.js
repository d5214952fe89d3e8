// What the web page takes from npm, bundled by scripts/bundle-web.js into one browser script that
// sets `window.TraceChainVendor`. Keep it small: the page does its own ABI encoding and JCS.
export { keccak_256 } from "@noble/hashes/sha3";
export { bytesToHex, hexToBytes, utf8ToBytes } from "@noble/hashes/utils";

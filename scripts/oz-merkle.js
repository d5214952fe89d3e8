#!/usr/bin/env node
// Drives OpenZeppelin's StandardMerkleTree for interop tests of tracechain.merkle. Reads one JSON
// request on stdin and writes one JSON answer on stdout:
//   {"op":"build","values":[[...],...],"encoding":[...],"sortLeaves":true}
//     -> {"dump": tree.dump(), "root": "0x..", "proofs": [[...] for every value index]}
//   {"op":"verify","dump":{...}}
//     -> {"root": "0x..", "valid": true, "proofs": [...]}, or {"valid": false, "error": "..."} when
//        StandardMerkleTree.load (which validates every hash) rejects the dump.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const { StandardMerkleTree } = require(path.join(root, 'node_modules', '@openzeppelin', 'merkle-tree'));

const allProofs = tree => Array.from({ length: tree.length }, (_, i) => tree.getProof(i));
const toJson = value => JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v));

function build(request) {
  const options = request.sortLeaves === undefined ? {} : { sortLeaves: request.sortLeaves };
  const tree = StandardMerkleTree.of(request.values, request.encoding, options);
  return { dump: tree.dump(), root: tree.root, proofs: allProofs(tree) };
}

function verify(request) {
  let tree;
  try {
    tree = StandardMerkleTree.load(request.dump);
    tree.validate();
  } catch (error) {
    return { valid: false, error: String(error.message || error) };
  }
  return { root: tree.root, valid: true, proofs: allProofs(tree) };
}

const request = JSON.parse(fs.readFileSync(0, 'utf8'));
const ops = { build, verify };
if (!Object.hasOwn(ops, request.op)) {
  process.stderr.write(`oz-merkle: unknown op ${JSON.stringify(request.op)}\n`);
  process.exit(2);
}
process.stdout.write(toJson(ops[request.op](request)) + '\n');

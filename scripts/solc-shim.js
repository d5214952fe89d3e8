#!/usr/bin/env node
// Lets py-solc-x drive the npm `solc` compiler (solc-js): answers `--version` the way the native
// binary does and `--standard-json` with nothing but the JSON output on stdout, resolving
// imports (e.g. @openzeppelin/contracts/...) from the project's node_modules and contracts/.
// forge (foundry.toml, and through it slither) drives it too: it asks `--version` and then
// `--allow-paths <dirs> --base-path <root> --standard-json` with every source inlined.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const solc = require(path.join(root, 'node_modules', 'solc'));

function findImports(importPath) {
  const candidates = [
    path.join(root, 'node_modules', importPath),
    path.join(root, importPath),
    path.join(root, 'contracts', importPath),
  ];
  for (const candidate of candidates) {
    if (fs.existsSync(candidate)) {
      return { contents: fs.readFileSync(candidate, 'utf8') };
    }
  }
  return { error: `File not found: ${importPath}` };
}

const args = process.argv.slice(2);
if (args.includes('--version')) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
} else if (args.includes('--standard-json')) {
  const input = fs.readFileSync(0, 'utf8');
  process.stdout.write(solc.compile(input, { import: findImports }));
} else {
  process.stderr.write('solc-shim: only --version and --standard-json are supported\n');
  process.exit(2);
}

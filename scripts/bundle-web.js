#!/usr/bin/env node
// Bundles the web page's JavaScript libraries from pinned npm packages (package-lock.json) into
// src/tracechain/api/static/vendor/, so the page and the API docs never load code from a CDN:
//   - tracechain-vendor.js: @noble/hashes (keccak-256) as one script setting window.TraceChainVendor;
//   - swagger-ui-dist's bundle and stylesheet for /docs, redoc's standalone bundle for /redoc;
//   - each package's licence beside its files.
// Run by `make install`; the output is generated (git-ignored) and rebuilt when the lock file changes.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const modules = path.join(root, 'node_modules');
const out = path.join(root, 'src', 'tracechain', 'api', 'static', 'vendor');

function version(pkg) {
  return JSON.parse(fs.readFileSync(path.join(modules, pkg, 'package.json'), 'utf8')).version;
}

function copy(pkg, file, as) {
  const from = path.join(modules, pkg, file);
  if (!fs.existsSync(from)) throw new Error(`${pkg}/${file} is missing: run npm ci`);
  fs.copyFileSync(from, path.join(out, as || path.basename(file)));
}

async function main() {
  const esbuild = require(path.join(modules, 'esbuild'));
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  await esbuild.build({
    entryPoints: [path.join(__dirname, 'web', 'vendor-entry.js')],
    bundle: true,
    format: 'iife',
    globalName: 'TraceChainVendor',
    target: ['es2020'],
    minify: true,
    legalComments: 'eof',
    nodePaths: [modules],
    outfile: path.join(out, 'tracechain-vendor.js'),
    logLevel: 'warning',
  });
  copy('@noble/hashes', 'LICENSE', 'noble-hashes.LICENSE.txt');
  for (const file of ['swagger-ui-bundle.js', 'swagger-ui.css', 'favicon-32x32.png']) copy('swagger-ui-dist', file);
  copy('swagger-ui-dist', 'LICENSE', 'swagger-ui.LICENSE.txt');
  copy('redoc', 'bundles/redoc.standalone.js');
  // ReDoc's side menu shows Redocly's logo from their CDN: point it at an empty local image, so /redoc
  // makes no request off this server (the "API docs by Redocly" credit stays).
  const redoc = path.join(out, 'redoc.standalone.js');
  const source = fs.readFileSync(redoc, 'utf8');
  const logo = 'https://cdn.redoc.ly/redoc/logo-mini.svg';
  if (source.split(logo).length !== 2) throw new Error(`expected redoc to load ${logo} once; check scripts/bundle-web.js`);
  fs.writeFileSync(redoc, source.replace(logo, '/static/vendor/redoc-logo-mini.svg'));
  fs.writeFileSync(path.join(out, 'redoc-logo-mini.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>\n');
  copy('redoc', 'LICENSE', 'redoc.LICENSE.txt');
  const manifest = {
    generatedBy: 'scripts/bundle-web.js',
    packages: Object.fromEntries(['@noble/hashes', 'swagger-ui-dist', 'redoc', 'esbuild'].map((p) => [p, version(p)])),
  };
  fs.writeFileSync(path.join(out, 'MANIFEST.json'), JSON.stringify(manifest, null, 2) + '\n');
  console.log(`web assets bundled into ${path.relative(root, out)} (${Object.entries(manifest.packages).map(([p, v]) => `${p} ${v}`).join(', ')})`);
}

main().catch((error) => {
  console.error(`bundle-web: ${error.message}`);
  process.exit(1);
});

// The page's own check of a product answer, trusting nothing the server says about verification:
// RFC 8785 canonical JSON and keccak-256 (from @noble/hashes, bundled) re-hash every document, a
// minimal abi.encode of static types rebuilds the subject's hash chain (docs/PROTOCOL.md), and the
// contract's own head is read over JSON-RPC — from a public node when one is configured, from the
// user's node when they give one, else through the server's read-only proxy (said so on the page).
"use strict";

(function () {
  const vendor = window.TraceChainVendor;
  const ZERO = "0x" + "0".repeat(64);
  const KIND_CODES = {event: 1, error_declaration: 2, custody: 3, forced_custody: 4, recall: 5};
  // CBV 2.0 business steps in alphabetical order: code = position + 1 (docs/PROTOCOL.md).
  const CBV_STEPS = ("accepting arriving assembling collecting commissioning consigning creating_class_instance " +
    "cycle_counting decommissioning departing destroying disassembling dispensing encoding entering_exiting holding " +
    "inspecting installing killing loading other packing picking receiving removing repackaging repairing replacing " +
    "reserving retail_selling sampling sensor_reporting shipping staging_outbound stock_taking stocking storing " +
    "transporting unloading unpacking void_shipping").split(" ");
  const STEP_PREFIXES = ["urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-", "cbv:BizStep-", "gs1:BizStep-"];

  function hex(bytes) { return "0x" + vendor.bytesToHex(bytes); }
  function bytes(hexString) { return vendor.hexToBytes(String(hexString).replace(/^0x/i, "")); }
  function keccak(data) { return hex(vendor.keccak_256(data)); }
  function keccakText(text) { return keccak(new TextEncoder().encode(text)); }

  // RFC 8785: JSON.stringify's number and string forms are JCS's; keys sort by UTF-16 code units.
  function canonical(value) {
    if (value === null || typeof value !== "object") {
      if (typeof value === "number" && !Number.isFinite(value)) throw new Error("non-finite number");
      return JSON.stringify(value);
    }
    if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
    return "{" + Object.keys(value).sort().map((k) => JSON.stringify(k) + ":" + canonical(value[k])).join(",") + "}";
  }
  function documentHash(doc) { return keccakText(canonical(doc)); }

  // abi.encode of static types: every value one 32-byte word.
  function word(type, value) {
    if (type === "bytes32") {
      const b = bytes(value);
      if (b.length !== 32) throw new Error("bytes32 of " + b.length + " bytes");
      return b;
    }
    let n;
    if (type === "address") n = BigInt(value);
    else n = BigInt(value);
    if (n < 0n) throw new Error("negative " + type);
    const out = new Uint8Array(32);
    for (let i = 31; i >= 0 && n > 0n; i--) { out[i] = Number(n & 0xffn); n >>= 8n; }
    return out;
  }
  function abiEncode(types, values) {
    const out = new Uint8Array(32 * types.length);
    types.forEach((type, i) => out.set(word(type, values[i]), 32 * i));
    return out;
  }
  function genesisHead(subjectKey, originator, metadataHash) {
    return keccak(abiEncode(["bytes32", "address", "bytes32"], [subjectKey, originator, metadataHash]));
  }
  function nextHead(previous, kind, ref, docHash, code, actor, timestamp) {
    return keccak(abiEncode(["bytes32", "uint8", "bytes32", "bytes32", "uint8", "address", "uint64"],
      [previous, kind, ref, docHash, code, actor, timestamp]));
  }
  function stepCode(bizStep) {
    let value = String(bizStep || "").trim();
    for (const prefix of STEP_PREFIXES) if (value.startsWith(prefix)) { value = value.slice(prefix.length); break; }
    const i = CBV_STEPS.indexOf(value);
    if (i >= 0) return i + 1;
    return value.includes(":") ? 255 : 0;
  }

  // ---------------------------------------------------------------- JSON-RPC
  let rpcId = 0;
  async function rpc(url, method, params) {
    const response = await fetch(url, {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({jsonrpc: "2.0", id: ++rpcId, method, params}),
    });
    const body = await response.json();
    if (body.error) throw new Error(body.error.message || JSON.stringify(body.error));
    return body.result;
  }
  function selector(signature) { return keccakText(signature).slice(0, 10); }
  // getSubject(bytes32) -> (custodian, status, open, createdAt, originator, head): six static words.
  async function readSubject(url, contract, subjectKey, block) {
    const data = selector("getSubject(bytes32)") + subjectKey.replace(/^0x/, "");
    const tag = typeof block === "number" ? "0x" + block.toString(16) : block;
    const result = await rpc(url, "eth_call", [{to: contract, data}, tag]);
    const raw = String(result).replace(/^0x/, "");
    if (raw.length < 64 * 6) throw new Error("unexpected getSubject answer");
    const w = (i) => raw.slice(64 * i, 64 * (i + 1));
    return {
      status: ["none", "active", "recalled"][parseInt(w(1), 16)] || "unknown",
      originator: "0x" + w(4).slice(24),
      head: "0x" + w(5),
    };
  }

  // ---------------------------------------------------------------- the check
  async function allEntries(product, fetchPage) {
    const entries = [...product.entries];
    let cursor = product.next_cursor;
    let pages = 0;
    while (cursor !== null && cursor !== undefined && pages < 50) {
      const page = await fetchPage(cursor);
      entries.push(...page.entries);
      cursor = page.next_cursor;
      pages += 1;
    }
    return entries.sort((a, b) => a.index - b.index);
  }

  /**
   * Check a product answer against the chain. Returns {verdict: "verified" | "tampered" |
   * "incomplete" | "unavailable", problems: [{code, params, index}], head, chainHead, block, entries,
   * documentChecks: Map(index -> bool)}.
   */
  async function checkProduct(product, {rpcUrl, fetchPage}) {
    const problems = [];
    const add = (code, params, index) => problems.push({code, params: params || {}, index});
    const documentChecks = new Map();
    const v = product.verification;
    const key = keccakText(product.product_id);
    if (key !== product.product_key) add("key_mismatch");
    if (product.metadata !== null && product.metadata !== undefined && documentHash(product.metadata) !== product.metadata_hash) {
      add("metadata_altered");
    }
    const entries = await allEntries(product, fetchPage);
    let head = genesisHead(key, product.originator, product.metadata_hash);
    entries.forEach((e, position) => {
      if (e.index !== position) { add("gap", {}, position); }
      if (e.document !== null && e.document !== undefined) {
        const ok = documentHash(e.document) === e.document_hash;
        documentChecks.set(e.index, ok);
        if (!ok) add("document_altered", {}, e.index);
        else if ((e.kind === "event" || e.kind === "error_declaration") && e.document.bizStep !== undefined &&
                 stepCode(e.document.bizStep) !== e.biz_step_code) {
          add("biz_step_mismatch", {}, e.index);
        }
      } else if (e.document_hash !== ZERO) {
        documentChecks.set(e.index, false);
        add("document_missing", {}, e.index);
      }
      const kind = KIND_CODES[e.kind] ?? Number(String(e.kind).replace(/^kind_/, ""));
      head = nextHead(head, kind, e.ref, e.document_hash, e.biz_step_code, e.actor, e.timestamp);
    });
    // Events inherited from containers belong to the containers' chains (the server checks those);
    // their documents must still hash to what those chains committed.
    const inherited = product.lineage && Array.isArray(product.lineage.inherited) ? product.lineage.inherited : [];
    for (const x of inherited) {
      if (x.document && documentHash(x.document) !== x.document_hash) add("inherited_altered", {unit: x.container});
    }
    if (product.recalled_via && product.recalled_via.reason && product.recalled_via.reason_hash &&
        documentHash(product.recalled_via.reason) !== product.recalled_via.reason_hash) {
      add("recall_notice_altered");
    }
    if (product.recall && product.recall.reason) {
      if (documentHash(product.recall.reason) !== product.recall.reason_hash) add("recall_notice_altered");
    }
    const result = {verdict: "verified", problems, head, chainHead: null, block: null, entries: entries.length,
                    documentChecks, contract: v.contract, chainId: v.chain_id};
    try {
      const chainId = parseInt(await rpc(rpcUrl, "eth_chainId", []), 16);
      if (chainId !== v.chain_id) add("chain_mismatch", {got: chainId, want: v.chain_id});
      const latest = parseInt(await rpc(rpcUrl, "eth_blockNumber", []), 16);
      const subject = await readSubject(rpcUrl, v.contract, key, latest);
      result.chainHead = subject.head;
      result.block = latest;
      if (subject.head !== head) {
        const then = latest > v.block_number ? await readSubject(rpcUrl, v.contract, key, v.block_number) : subject;
        add(then.head === head ? "newer_entries" : "head_mismatch");
      }
      if (subject.originator.toLowerCase() !== String(product.originator).toLowerCase()) add("originator_mismatch");
      if (subject.status !== product.status) add("status_mismatch", {chain: subject.status, server: product.status});
    } catch (error) {
      result.verdict = "unavailable";
      result.error = String(error.message || error);
      return result;
    }
    const tampering = new Set(["document_altered", "inherited_altered", "head_mismatch", "biz_step_mismatch", "recall_notice_altered",
                               "metadata_altered", "key_mismatch", "status_mismatch", "originator_mismatch"]);
    if (problems.length) result.verdict = problems.some((p) => tampering.has(p.code)) ? "tampered" : "incomplete";
    return result;
  }

  async function fileHash(file) {
    return keccak(new Uint8Array(await file.arrayBuffer()));
  }

  window.TraceChainVerify = {canonical, documentHash, keccakText, keccak, abiEncode, genesisHead, nextHead,
                             stepCode, rpc, readSubject, checkProduct, fileHash, available: Boolean(vendor)};
})();

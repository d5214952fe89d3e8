// The TraceChain web page: the consumer scan (product card, verdict, inspection, cold chain, journey,
// the browser's own check) and the auditor desk (verify records, certificates and datasets, actor
// activity). Plain DOM, no framework; words from i18n.js, checks from verify.js.
"use strict";

const CONFIG = JSON.parse(document.getElementById("tc-config").textContent || "{}");
const LANGS = ["en", "zh-CN"];
const state = {lang: "en", view: null, actors: null};
const $ = (id) => document.getElementById(id);
const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));

// ---------------------------------------------------------------- language
function initialLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  const stored = localStorage.getItem("tc.lang");
  for (const candidate of [asked, stored, CONFIG.language, document.documentElement.lang]) {
    if (LANGS.includes(candidate)) return candidate;
  }
  return "en";
}
function t(key, params) {
  const table = window.TC_I18N[state.lang] || {};
  let text = table[key] ?? window.TC_I18N.en[key] ?? key;
  for (const [name, value] of Object.entries(params || {})) text = text.split("{" + name + "}").join(value);
  return text;
}
// t() with every parameter HTML-escaped, for building markup.
function th(key, params) {
  const safe = {};
  for (const [name, value] of Object.entries(params || {})) safe[name] = value && value.__html ? value.__html : esc(value);
  return t(key, safe);
}
const html = (markup) => ({__html: markup});
function pick(value) {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    return value[state.lang] ?? value[state.lang.split("-")[0]] ?? value.en ?? value.und ?? Object.values(value)[0];
  }
  return value;
}
function setLanguage(lang) {
  state.lang = lang;
  localStorage.setItem("tc.lang", lang);
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  document.querySelectorAll(".lang button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.lang === lang)));
  $("footer-api").innerHTML = th("footer.api", {docs: html('<a href="/docs">/docs</a>'), redoc: html('<a href="/redoc">/redoc</a>'),
                                                 deployment: html('<a href="/v1/deployment">/v1/deployment</a>')});
  if (state.view) state.view();
}

// ---------------------------------------------------------------- formatting
const locale = () => (state.lang === "zh-CN" ? "zh-CN" : "en-GB");
function offsetMinutes(offset) {
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(offset || "");
  return m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : null;
}
// An EPCIS event time at the place's own offset (eventTimeZoneOffset), with the offset stated.
function placeTime(eventTime, offset, withDate = true) {
  const ms = Date.parse(eventTime);
  if (Number.isNaN(ms)) return esc(eventTime);
  const minutes = offsetMinutes(offset) ?? 0;
  const shifted = new Date(ms + minutes * 60000);
  const options = withDate ? {timeZone: "UTC", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit"}
                           : {timeZone: "UTC", hour: "2-digit", minute: "2-digit"};
  const zone = "UTC" + (offset || "+00:00").replace(/:00$/, "").replace(/^([+-])0/, "$1");
  return `${new Intl.DateTimeFormat(locale(), options).format(shifted)} <span class="zone">${esc(zone)}</span>`;
}
function placeDate(eventTime, offset) {
  const ms = Date.parse(eventTime);
  const shifted = new Date(ms + (offsetMinutes(offset) ?? 0) * 60000);
  return new Intl.DateTimeFormat(locale(), {timeZone: "UTC", day: "numeric", month: "long", year: "numeric"}).format(shifted);
}
function calendarDate(value) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(value || ""));
  if (!m) return esc(value);
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return new Intl.DateTimeFormat(locale(), {timeZone: "UTC", day: "numeric", month: "long", year: "numeric"}).format(date);
}
// A block timestamp in the reader's own time zone, named.
function localTime(seconds) {
  if (seconds === null || seconds === undefined) return "";
  return new Intl.DateTimeFormat(locale(), {day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
                                            timeZoneName: "short"}).format(new Date(seconds * 1000));
}
function shortHash(value) {
  const full = String(value ?? "");
  if (!full) return "—";
  const shown = full.length > 18 ? full.slice(0, 10) + "…" + full.slice(-6) : full;
  return `<span class="hash"><code title="${esc(full)}">${esc(shown)}</code><button type="button" class="copy" data-copy="${esc(full)}" aria-label="${esc(t("copy"))} ${esc(full)}">${esc(t("copy"))}</button></span>`;
}
// Long identifiers (Digital Link paths, URNs) may wrap after / . : — never inside a word.
function wrapId(value) { return esc(value).replace(/([/.:])/g, "$1<wbr>"); }
async function actorNames() {
  if (state.actors) return state.actors;
  state.actors = {};
  try {
    const body = await api("/v1/actors?limit=500");
    for (const a of Array.isArray(body) ? body : body.items || []) state.actors[a.address.toLowerCase()] = a.name;
  } catch { /* names are a nicety */ }
  return state.actors;
}
function who(address, name) {
  const known = name || (state.actors && address ? state.actors[String(address).toLowerCase()] : null);
  return known ? `<span class="who">${esc(known)}</span>` : shortHash(address);
}

// ---------------------------------------------------------------- HTTP
async function api(path, options) {
  let response;
  try { response = await fetch(path, options); } catch { throw Object.assign(new Error(t("error.network")), {code: "network"}); }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = body.error || {code: "http_" + response.status, message: response.statusText};
    throw Object.assign(new Error(error.message), {code: error.code, status: response.status});
  }
  return body;
}
function errorText(error) {
  const key = "error." + (error.code || "");
  const text = t(key);
  return text === key ? error.message : text;
}
function showError(target, error) {
  target.innerHTML = `<div class="banner bad" role="alert"><h2>${esc(errorText(error))}</h2>
    ${error.code && errorText(error) !== error.message ? `<p class="small">${esc(error.message)}</p>` : ""}</div>`;
}

// ---------------------------------------------------------------- tabs
function selectTab(name) {
  document.querySelectorAll("nav.tabs button").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.tab === name)));
  ["product", "auditor"].forEach((tab) => $("tab-" + tab).hidden = tab !== name);
}

// ---------------------------------------------------------------- product facts
const STEP_WORD = (step) => (window.TC_STEPS[state.lang] || window.TC_STEPS.en)[step] || String(step || "").replace(/_/g, " ");
const DISPOSITION_WORD = (d) => {
  const bare = String(d || "").replace(/^.*[:-]/, "");
  return (window.TC_DISPOSITIONS[state.lang] || window.TC_DISPOSITIONS.en)[bare] || bare.replace(/_/g, " ");
};
function ilmdValue(doc, names) {
  const ilmd = doc && doc.ilmd;
  if (!ilmd || typeof ilmd !== "object") return null;
  for (const [k, v] of Object.entries(ilmd)) if (names.includes(k.replace(/^.*[:#/]/, ""))) return v;
  return null;
}
function locationOf(doc) { return doc && ((doc.bizLocation && doc.bizLocation.id) || (doc.readPoint && doc.readPoint.id)); }
function placeName(id, md) {
  const record = md[id];
  if (record && record.attributes) {
    const a = record.attributes;
    const name = pick(a.name);
    const city = pick(a.city);
    return name ? (city && !String(name).includes(city) ? `${name}, ${city}` : name) : (city || id);
  }
  const gln = /^urn:epc:id:sgln:(\d+)\.(\d+)\./.exec(id || "");
  return gln ? `GLN ${gln[1]}${gln[2]}` : id;
}
function attachmentsOf(doc) {
  const found = [];
  for (const [k, v] of Object.entries(doc || {})) {
    if (v && typeof v === "object" && !Array.isArray(v) && /^0x[0-9a-fA-F]{64}$/.test(v.documentHash || "")) found.push({key: k, ...v});
  }
  return found;
}
function temperatures(p) {
  const readings = [];
  const inherited = p.lineage && Array.isArray(p.lineage.inherited) ? p.lineage.inherited : [];
  for (const e of [...p.entries, ...inherited]) {
    const doc = e.document;
    if (!doc || !Array.isArray(doc.sensorElementList)) continue;
    for (const element of doc.sensorElementList) {
      for (const r of element.sensorReport || []) {
        if (!/Temperature$/.test(String(r.type || "")) || typeof r.value !== "number") continue;
        const value = r.uom === "FAR" ? (r.value - 32) * 5 / 9 : r.value;
        const time = r.time || (element.sensorMetadata && element.sensorMetadata.time) || doc.eventTime;
        readings.push({value, time, ms: Date.parse(time), offset: doc.eventTimeZoneOffset, exception: r.exception});
      }
    }
  }
  return readings.filter((r) => !Number.isNaN(r.ms)).sort((a, b) => a.ms - b.ms);
}

function productFacts(p, md) {
  const events = p.entries.filter((e) => e.kind === "event" && e.document).slice().reverse();
  const made = events.find((e) => ["commissioning", "creating_class_instance"].includes(e.biz_step));
  const doc = made && made.document;
  const m = /^01\/(\d{14})(?:\/21\/(.+))?$/.exec(p.product_id);
  const productMd = md[p.product_id];
  const a = (productMd && productMd.attributes) || {};
  const meta = p.metadata || {};
  const producedIlmd = ilmdValue(doc, ["productionDate", "manufacturingDate"]);
  return {
    name: pick(a.name) || meta.name || p.product_id,
    brand: pick(a.brand) || meta.brand,
    image: typeof a.image === "string" && /^(https?:\/\/|\/)/.test(a.image) ? a.image : null,
    gtin: m ? m[1] : (meta.gtin || null),
    serial: m && m[2] ? decodeURIComponent(m[2]) : null,
    lot: ilmdValue(doc, ["lotNumber"]),
    produced: producedIlmd ? calendarDate(producedIlmd) : (doc ? placeDate(doc.eventTime, doc.eventTimeZoneOffset) : null),
    bestBefore: ilmdValue(doc, ["bestBeforeDate", "itemExpirationDate", "sellByDate"]),
    net: pick(a.netContent),
    maker: pick(a.manufacturer) || p.originator_name,
    where: doc ? placeName(locationOf(doc), md) : null,
    allergens: pick(a.allergens),
    storage: pick(a.storage),
    origin: pick(a.countryOfOrigin),
    min: typeof a.minimumTemperature === "number" ? a.minimumTemperature : null,
    max: typeof a.maximumTemperature === "number" ? a.maximumTemperature : null,
    hasMasterData: Boolean(productMd),
  };
}

// ---------------------------------------------------------------- product views
function cardView(p, f) {
  const row = (key, value) => (value ? `<div class="fact"><dt>${esc(t(key))}</dt><dd>${value}</dd></div>` : "");
  return `<section class="card product-card" aria-labelledby="product-name">
    <div class="product-head">
      ${f.image ? `<img class="product-image" src="${esc(f.image)}" alt="" width="88" height="117">` : ""}
      <div class="product-title">
        <h2 id="product-name">${f.name === p.product_id ? `<span class="mono wrap">${wrapId(f.name)}</span>` : esc(f.name)}</h2>
        ${f.brand ? `<p class="brand">${esc(t("card.brandBy", {brand: f.brand}))}</p>` : ""}
      </div>
    </div>
    <dl class="facts">
      ${row("card.produced", f.produced ? esc(f.produced) : "")}
      ${row("card.bestBefore", f.bestBefore ? calendarDate(f.bestBefore) : "")}
      ${row("card.lot", f.lot ? esc(f.lot) : "")}
      ${row("card.net", f.net ? esc(f.net) : "")}
      ${row("card.maker", f.maker ? esc(f.maker) : "")}
      ${row("card.where", f.where ? esc(f.where) : "")}
      ${row("card.gtin", f.gtin ? `<span class="mono">${esc(f.gtin)}</span>` : "")}
      ${row("card.serial", f.serial ? `<span class="mono">${esc(f.serial)}</span>` : "")}
      ${row("card.allergens", f.allergens ? esc(f.allergens) : "")}
      ${row("card.storage", f.storage ? esc(f.storage) : "")}
      ${row("card.held", p.custodian ? who(p.custodian, p.custodian_name) : "")}
    </dl>
    ${f.hasMasterData ? "" : `<p class="small muted">${esc(t("card.noMasterData"))}</p>`}
  </section>`;
}

function verdictOf(p, check) {
  if (check && check.verdict === "tampered") return "altered";
  if (!p.verification.verified) return p.verification.verdict === "tampered" ? "altered" : "incomplete";
  if (check && check.verdict === "incomplete") return "incomplete";
  return p.recalled ? "recalled" : "authentic";
}
function browserLine(check) {
  if (!check) return `<p class="browser-check pending" data-browser-verdict="pending">${esc(t("verdict.browser.pending"))}</p>`;
  if (check.verdict === "verified") return `<p class="browser-check ok" data-browser-verdict="verified">✓ ${esc(t("verdict.browser.ok"))}</p>`;
  if (check.verdict === "unavailable") {
    return `<p class="browser-check warn" data-browser-verdict="unavailable">${esc(t("verdict.browser.unavailable", {reason: check.error}))}</p>`;
  }
  const reason = check.problems.map((x) => t("problem." + x.code, x.params)).filter((v, i, all) => all.indexOf(v) === i).join(" ");
  return `<p class="browser-check bad" data-browser-verdict="${esc(check.verdict)}">✗ ${esc(t("verdict.browser.bad", {reason}))}</p>`;
}
function verdictView(p, check) {
  const verdict = verdictOf(p, check);
  let body = "";
  if (verdict === "recalled") {
    const via = !p.recall && p.recalled_via ? p.recalled_via : null;
    const notice = (p.recall && p.recall.reason) || (via && via.reason) || null;
    const local = notice && notice.translations && notice.translations[state.lang] ? notice.translations[state.lang] : {};
    const field = (name) => pick(local[name] ?? (notice ? notice[name] : null));
    const when = p.recall && p.recall.timestamp ? localTime(p.recall.timestamp) : "";
    body = `${field("reason") ? `<p class="reason">${esc(field("reason"))}</p>` : `<p>${esc(t("verdict.recalled.reasonHidden"))}</p>`}
      ${field("consumerAdvice") ? `<p><strong>${esc(field("consumerAdvice"))}</strong></p>` : ""}
      ${field("action") ? `<p class="small">${esc(t("verdict.recalled.action", {action: field("action")}))}</p>` : ""}
      ${field("authority") ? `<p class="small">${esc(t("verdict.recalled.authority", {authority: field("authority")}))}</p>` : ""}
      ${via ? `<p class="small" id="recall-path">${th("verdict.recalled.via", {what: html(subjectLink(via.recalled, state.md || {})),
        when: via.recalled_at ? localTime(via.recalled_at) : ""})}</p>`
            : `<p class="small">${th("verdict.recalled.by", {who: html(who(p.recall && p.recall.by, p.recall && p.recall.by_name)), when})}</p>`}`;
  } else {
    body = `<p>${esc(t(`verdict.${verdict}.detail`))}</p>`;
  }
  const css = {authentic: "ok", recalled: "bad", altered: "bad", incomplete: "warn"}[verdict];
  return `<section class="banner ${css}" id="verdict" data-verdict="${verdict}" role="status">
    <h2>${verdict === "authentic" ? "✓ " : "⚠ "}${esc(t("verdict." + verdict))}</h2>${body}${browserLine(check)}</section>`;
}

function inspectionView(p, md, reports, check) {
  const inspections = p.entries.filter((e) => e.kind === "event" && e.document && ["inspecting", "sampling"].includes(e.biz_step)).reverse();
  if (!inspections.length) return "";
  const items = inspections.map((e) => {
    const d = e.document;
    const disposition = String(d.disposition || "").replace(/^.*[:-]/, "");
    const passed = disposition !== "non_conformant";
    const altered = !e.document_verified || (check && check.documentChecks && check.documentChecks.get(e.index) === false);
    const attached = attachmentsOf(d).map((att) => {
      const got = reports[att.documentHash];
      let status = "";
      let body = "";
      if (got === undefined) status = `<span class="muted">…</span>`;
      else if (got === null) status = `<span class="muted">${esc(t("inspection.missing"))}</span>`;
      else {
        status = got.matches ? `<span class="good" data-report-check="match">${esc(t("inspection.matches"))}</span>`
                             : `<span class="badtext" data-report-check="mismatch">${esc(t("inspection.mismatch"))}</span>`;
        const tests = Array.isArray(got.doc.tests) ? got.doc.tests : [];
        body = `${got.doc.summary ? `<p>${esc(pick(got.doc.summary))}</p>` : ""}
          ${tests.length ? `<ul class="tests">${tests.map((x) => `<li><span class="${x.pass === false ? "badtext" : "good"}">${x.pass === false ? "✗" : "✓"}</span>
            <span><strong>${esc(pick(x.name))}</strong>: ${esc(pick(x.result))}${x.limit ? ` <span class="muted">(${esc(t("inspection.limit"))} ${esc(pick(x.limit))})</span>` : ""}</span></li>`).join("")}</ul>` : ""}
          <p><a class="button-link" download="${esc((att.name || "report").replace(/[^\w.-]+/g, "-"))}.json" href="${esc(got.url)}">${esc(t("inspection.download"))}</a></p>`;
      }
      return `<div class="report"><p><strong>${esc(t("inspection.report"))}:</strong> ${esc(att.name || "")} ${status}</p>${body}</div>`;
    }).join("");
    return `<div class="inspection${altered ? " altered" : ""}">
      ${altered ? `<p class="badtext"><strong>⚠ ${esc(t("journey.altered"))}</strong></p>` : ""}
      <p class="result ${passed ? "good" : "badtext"}"><strong>${passed ? "✓ " : "✗ "}${esc(t(passed ? "inspection.passed" : "inspection.failed"))}</strong>
        — ${esc(DISPOSITION_WORD(d.disposition))}</p>
      <p class="small">${th("inspection.by", {who: html(who(e.actor, e.actor_name)), when: html(placeTime(d.eventTime, d.eventTimeZoneOffset))})}</p>
      <p class="small">${esc(placeName(locationOf(d), md))}</p>
      ${attached}</div>`;
  }).join("");
  return `<section class="card" id="inspection"><h3>${esc(t("inspection.title"))}</h3>${items}</section>`;
}

function chartView(p, f) {
  const readings = temperatures(p);
  if (!readings.length) return "";
  const values = readings.map((r) => r.value);
  const low = Math.min(...values);
  const high = Math.max(...values);
  const hasLimits = f.min !== null && f.max !== null;
  const outside = (r) => Boolean(r.exception) || (hasLimits && (r.value < f.min || r.value > f.max));
  const excursions = readings.filter(outside);
  const W = 340, H = 160, L = 34, R = 8, T = 10, B = 26;
  const yMin = Math.floor(Math.min(low, hasLimits ? f.min : low) - 1);
  const yMax = Math.ceil(Math.max(high, hasLimits ? f.max : high) + 1);
  const t0 = readings[0].ms, t1 = readings[readings.length - 1].ms || t0 + 1;
  const x = (ms) => L + ((ms - t0) / Math.max(1, t1 - t0)) * (W - L - R);
  const y = (v) => T + (1 - (v - yMin) / Math.max(1, yMax - yMin)) * (H - T - B);
  const band = hasLimits ? `<rect x="${L}" y="${y(f.max)}" width="${W - L - R}" height="${y(f.min) - y(f.max)}" class="band"/>
    <text x="${L - 4}" y="${y(f.max) + 4}" class="tick" text-anchor="end">${f.max}</text>
    <text x="${L - 4}" y="${y(f.min) + 4}" class="tick" text-anchor="end">${f.min}</text>` :
    `<text x="${L - 4}" y="${y(high) + 4}" class="tick" text-anchor="end">${high}</text>`;
  const line = readings.map((r) => `${x(r.ms).toFixed(1)},${y(r.value).toFixed(1)}`).join(" ");
  const dots = readings.map((r) => `<circle cx="${x(r.ms).toFixed(1)}" cy="${y(r.value).toFixed(1)}" r="${outside(r) ? 4 : 2}" class="${outside(r) ? "dot bad" : "dot"}"><title>${r.value} °C</title></circle>`).join("");
  const first = readings[0], last = readings[readings.length - 1];
  const svg = `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(t("cold.title"))}">
    ${band}<polyline points="${line}" class="line"/>${dots}
    <text x="${L}" y="${H - 8}" class="tick">${placeTime(first.time, first.offset).replace(/<[^>]+>/g, "")}</text>
    <text x="${W - R}" y="${H - 8}" class="tick" text-anchor="end">${placeTime(last.time, last.offset, false).replace(/<[^>]+>/g, "")}</text>
    <text x="4" y="${T + 8}" class="tick">${esc(t("cold.axis"))}</text></svg>`;
  let summary;
  if (excursions.length) {
    summary = `<p class="badtext" data-excursions="${excursions.length}">⚠ ${th("cold.excursions", {count: excursions.length, min: f.min ?? "", max: f.max ?? "",
      high: Math.max(...excursions.map((r) => r.value)), from: html(placeTime(excursions[0].time, excursions[0].offset)),
      to: html(placeTime(excursions[excursions.length - 1].time, excursions[excursions.length - 1].offset, false))})}</p>`;
  } else if (hasLimits) {
    summary = `<p class="good" data-excursions="0">✓ ${esc(t("cold.ok", {min: f.min, max: f.max, count: readings.length}))}</p>`;
  } else {
    summary = `<p>${esc(t("cold.noLimits", {count: readings.length, low, high}))}</p>`;
  }
  return `<section class="card" id="cold-chain"><h3>${esc(t("cold.title"))}</h3>${summary}${svg}</section>`;
}

// The subject's own entries (chain order) and the events of containers it was inside (inherited),
// merged by event time; entries without an event time (hand-overs) stay after the step before them.
function journeyItems(p) {
  const own = p.entries.slice().reverse();
  let last = -Infinity;
  const items = own.map((e) => {
    const ms = e.document && e.document.eventTime ? Date.parse(e.document.eventTime) : NaN;
    last = Number.isNaN(ms) ? last : ms;
    return {entry: e, ms: last};
  });
  const inherited = (p.lineage && Array.isArray(p.lineage.inherited) ? p.lineage.inherited : [])
    .map((x) => ({inherited: x, ms: x.event_time_ms}));
  return [...items, ...inherited].map((x, i) => ({...x, i})).sort((a, b) => (a.ms - b.ms) || (a.i - b.i));
}
const EVENT_TYPE_WORD = (doc) => {
  const type = doc && doc.type;
  if (type === "AggregationEvent") return t(doc.action === "DELETE" ? "type.unpacked" : "type.packed");
  return t("type." + (type || "event"));
};
function inheritedView(x, md) {
  const d = x.document || {};
  const title = x.biz_step ? STEP_WORD(x.biz_step) : EVENT_TYPE_WORD(d);
  const lines = [];
  if (d.disposition) lines.push(`<span class="disposition">${esc(DISPOSITION_WORD(d.disposition))}</span>`);
  const where = locationOf(d);
  if (where) lines.push(`<span class="place">${esc(placeName(where, md))}</span>`);
  lines.push(`<span class="by">${th("journey.by", {who: html(who(x.actor))})}</span>`);
  const bad = !x.document_verified || x.container_verdict !== "verified";
  return `<li class="inherited${bad ? " altered" : ""}" data-container="${esc(x.container)}">
    <p class="when">${d.eventTime ? placeTime(d.eventTime, d.eventTimeZoneOffset) : ""}</p><p class="step">${esc(title)}</p>
    <p class="meta">${lines.join(" · ")}</p>
    <p class="small muted">${th("journey.inside", {unit: html(subjectLink(x.container, md))})}</p>
    ${bad ? `<p class="badtext small">⚠ ${esc(t("journey.altered"))}</p>` : ""}</li>`;
}
function journeyView(p, md, check) {
  const entries = p.entries.slice().reverse();
  if (!entries.length) return `<section class="card" id="journey"><h3>${esc(t("journey.title"))}</h3><p>${esc(t("journey.none"))}</p></section>`;
  const items = journeyItems(p).map(({entry: e, inherited}) => {
    if (inherited) return inheritedView(inherited, md);
    const d = e.document;
    const altered = !e.document_verified || (check && check.documentChecks && check.documentChecks.get(e.index) === false);
    let title, lines = [], time;
    if ((e.kind === "event" || e.kind === "error_declaration") && d) {
      title = e.kind === "error_declaration" ? t("journey.errorDeclaration")
        : (e.biz_step || d.bizStep) ? STEP_WORD(e.biz_step || d.bizStep) : EVENT_TYPE_WORD(d);
      if (d.disposition) lines.push(`<span class="disposition">${esc(DISPOSITION_WORD(d.disposition))}</span>`);
      const where = locationOf(d);
      if (where) lines.push(`<span class="place">${esc(placeName(where, md))}</span>`);
      time = placeTime(d.eventTime, d.eventTimeZoneOffset);
    } else if (e.kind === "custody" || e.kind === "forced_custody") {
      title = t(e.kind === "custody" ? "journey.handover" : "journey.forced", {who: e.custodian_name || e.custodian});
      time = esc(t("journey.recorded", {when: localTime(e.timestamp)}));
    } else if (e.kind === "recall") {
      title = t("journey.recall");
      time = esc(t("journey.recorded", {when: localTime(e.timestamp)}));
    } else {
      title = STEP_WORD(e.biz_step) || e.kind;
      time = esc(t("journey.recorded", {when: localTime(e.timestamp)}));
    }
    lines.push(`<span class="by">${th("journey.by", {who: html(who(e.actor, e.actor_name))})}</span>`);
    const declared = e.declared_erroneous;
    if (declared) lines.push(`<span class="badtext">${esc(t("journey.declaredErroneous", {reason: declared.reason || ""}))}</span>`);
    return `<li class="${altered ? "altered" : ""} kind-${esc(e.kind)}" data-index="${e.index}">
      <p class="when">${time}</p><p class="step">${esc(title)}</p>
      <p class="meta">${lines.join(" · ")}</p>
      ${altered ? `<p class="badtext small">⚠ ${esc(t("journey.altered"))}</p>` : ""}</li>`;
  }).join("");
  return `<section class="card" id="journey"><h3>${esc(t("journey.title"))}</h3>
    <p class="small muted">${esc(t("journey.localTime"))}</p><ol class="timeline">${items}</ol></section>`;
}

function rpcSource() {
  const custom = localStorage.getItem("tc.rpc");
  if (custom) return {url: custom, label: t("self.source.custom", {url: custom}), kind: "custom"};
  if (CONFIG.publicRpcUrl) return {url: CONFIG.publicRpcUrl, label: t("self.source.public", {url: CONFIG.publicRpcUrl}), kind: "public"};
  return {url: CONFIG.rpcProxy || "/v1/rpc", label: t("self.source.proxy"), kind: "proxy"};
}
function selfCheckView(p, check) {
  const v = p.verification;
  const source = rpcSource();
  const row = (key, value) => `<div class="fact"><dt>${esc(t(key))}</dt><dd>${value}</dd></div>`;
  const problems = [
    ...v.problems.map((x) => `<li>${esc(x.message)}</li>`),
    ...(check && check.problems ? check.problems.map((x) => `<li>${esc(t("problem." + x.code, x.params))}${x.index !== undefined ? ` (#${x.index})` : ""}</li>`) : []),
  ];
  const browser = !check ? "…" : esc(t("v." + check.verdict));
  return `<details class="card" id="self-check" ${check && check.verdict !== "verified" ? "open" : ""}>
    <summary><h3>${esc(t("self.title"))}</h3>
      <span class="chips"><span class="chip ${v.verified ? "ok" : "bad"}">${esc(t("self.server"))}: ${esc(t("v." + v.verdict))}</span>
      <span class="chip ${!check ? "" : check.verdict === "verified" ? "ok" : check.verdict === "unavailable" ? "warn" : "bad"}" id="browser-verdict">${esc(t("self.browser"))}: ${browser}</span></span></summary>
    <p>${esc(t("self.intro"))}</p>
    <p class="small" data-rpc-source="${source.kind}">${esc(source.label)}</p>
    <form class="row" id="rpc-form"><input id="rpc-url" type="url" inputmode="url" placeholder="${esc(t("self.rpc.placeholder"))}" value="${esc(localStorage.getItem("tc.rpc") || "")}">
      <button type="submit">${esc(t("self.rpc.use"))}</button><button type="button" id="rpc-reset">${esc(t("self.rpc.reset"))}</button></form>
    <dl class="facts">
      ${row("self.server", esc(t("v." + v.verdict)))}
      ${row("self.browser", browser)}
      ${row("self.chain", esc(v.chain_id))}
      ${row("self.contract", shortHash(v.contract))}
      ${row("self.block", esc(check && check.block !== null ? check.block : v.block_number))}
      ${row("self.chainHead", shortHash(check && check.chainHead ? check.chainHead : v.chain_head))}
      ${row("self.recomputed", shortHash(check ? check.head : v.recomputed_head))}
      ${row("self.entries", esc(check ? check.entries : v.entry_count))}
    </dl>
    ${problems.length ? `<h4>${esc(t("self.problems"))}</h4><ul class="problems">${problems.join("")}</ul>` : ""}
    <p class="small muted">${esc(t("self.how"))}</p></details>`;
}

// Lineage from the product answer: what it is made from, packed in, contains, made into, its lot.
const LINEAGE_GROUPS = [["inputs", "lineage.madeFrom"], ["containers", "lineage.packedIn"], ["contents", "lineage.contains"],
                        ["outputs", "lineage.madeInto"], ["lots", "lineage.lot"], ["items", "lineage.items"]];
function subjectName(identifier, md) {
  // Markup: the product's name, then its lot or serial kept on one line.
  const record = md[identifier];
  const name = record && record.attributes ? pick(record.attributes.name) : null;
  const lot = /\/10\/([^/]+)/.exec(identifier);
  const serial = /\/21\/([^/]+)/.exec(identifier);
  const sscc = /^00\/(\d{18})$/.exec(identifier);
  const keep = (text) => `<span class="nowrap">${esc(text)}</span>`;
  if (sscc) return `${esc(t("lineage.unit", {id: ""}).trim())} ${keep(sscc[1])}`;
  if (!name) return null;
  if (lot) return `${esc(name)} · ${keep(`${t("card.lot")} ${decodeURIComponent(lot[1])}`)}`;
  if (serial) return `${esc(name)} · ${keep(decodeURIComponent(serial[1]))}`;
  return esc(name);
}
function subjectLink(identifier, md, extra = "") {
  const name = subjectName(identifier, md);
  return `<a href="/?id=${encodeURIComponent(identifier)}">${name || `<span class="mono wrap">${wrapId(identifier)}</span>`}</a>${extra}`;
}
function lineageView(p, md) {
  const lineage = p.lineage || {};
  const groups = LINEAGE_GROUPS.map(([field, key]) => [key, (Array.isArray(lineage[field]) ? lineage[field] : [])
    .map((x) => (typeof x === "string" ? {identifier: x} : x)).filter((x) => x && (x.identifier || x.product_id))])
    .filter(([, items]) => items.length);
  if (!groups.length) return "";
  return `<section class="card" id="lineage"><h3>${esc(t("lineage.title"))}</h3>${groups.map(([key, items]) =>
    `<h4>${esc(t(key))}</h4><ul class="links">${items.map((x) => `<li>${subjectLink(x.identifier || x.product_id, md,
      x.recalled ? ` <span class="badtext small">⚠ ${esc(t("lineage.recalled"))}</span>` :
      ["tampered", "incomplete"].includes(x.verdict) ? ` <span class="badtext small">⚠ ${esc(t("v." + x.verdict))}</span>` : "")}</li>`).join("")}</ul>`).join("")}</section>`;
}

function detailsView(p) {
  const row = (key, value) => `<div class="fact"><dt>${esc(t(key))}</dt><dd>${value}</dd></div>`;
  const entries = p.entries.map((e) => `<li><strong>${esc(t("details.entry", {index: e.index, kind: e.biz_step ? STEP_WORD(e.biz_step) : e.kind}))}</strong>
    <dl class="facts">${e.event_hash_id ? row("details.event", shortHash(e.event_hash_id)) : ""}
    ${row("details.document", shortHash(e.document_hash))}${row("details.head", shortHash(e.head))}
    ${row("details.tx", shortHash(e.tx_hash))}${row("details.block", esc(e.block_number))}</dl></li>`).join("");
  return `<details class="card" id="details"><summary><h3>${esc(t("details.title"))}</h3></summary>
    <div class="qr-row"><img class="qr" src="/v1/products/${encodeURIComponent(p.product_id)}/qr.svg" alt="QR" width="120" height="120"></div>
    <dl class="facts">${row("details.id", `<span class="mono wrap">${wrapId(p.product_id)}</span>`)}
      ${row("details.link", `<a class="mono wrap" href="${esc(p.consumer_url)}">${wrapId(p.consumer_url)}</a>`)}
      ${row("details.key", shortHash(p.product_key))}
      ${row("details.registered", `${esc(localTime(p.created_at))} · ${esc(t("details.block"))} ${esc(p.created_block)}`)}
      ${row("details.tx", shortHash(p.created_tx))}</dl>
    <ol class="entries">${entries}</ol></details>`;
}

async function checkProduct(id) {
  const target = $("product-result");
  const query = id.trim();
  if (!query) return;
  target.innerHTML = `<p class="muted">${esc(t("product.checking"))}</p>`;
  history.replaceState(null, "", "/?id=" + encodeURIComponent(query) + (state.lang !== CONFIG.language ? "&lang=" + state.lang : ""));
  let product;
  try {
    product = await api("/v1/products/" + encodeURIComponent(query) + "?limit=500");
  } catch (error) {
    state.view = null;
    if (error.code === "product_not_found") {
      state.view = () => { target.innerHTML = `<section class="banner bad" id="verdict" data-verdict="unknown" role="status"><h2>⚠ ${esc(t("verdict.unknown"))}</h2><p>${esc(t("verdict.unknown.detail"))}</p><p class="small mono wrap">${wrapId(query)}</p></section>`; };
      return state.view();
    }
    return showError(target, error);
  }
  await actorNames();
  const ids = new Set([product.product_id]);
  const lineage = product.lineage || {};
  for (const [field] of LINEAGE_GROUPS) for (const x of lineage[field] || []) if (x && x.identifier) ids.add(x.identifier);
  if (product.recalled_via) ids.add(product.recalled_via.recalled);
  for (const e of [...product.entries, ...(lineage.inherited || [])]) {
    const d = e.document;
    if (d && d.bizLocation && d.bizLocation.id) ids.add(d.bizLocation.id);
    if (d && d.readPoint && d.readPoint.id) ids.add(d.readPoint.id);
  }
  let md = {};
  try {
    const params = new URLSearchParams();
    ids.forEach((x) => params.append("id", x));
    params.append("prefer", product.originator);
    md = (await api("/v1/masterdata?" + params.toString())).items || {};
  } catch { /* the page still works without master data */ }
  state.md = md;
  const view = {product, md, check: null, reports: {}};
  const render = () => {
    const f = productFacts(product, md);
    target.innerHTML = cardView(product, f) + verdictView(product, view.check) + inspectionView(product, md, view.reports, view.check) +
      chartView(product, f) + lineageView(product, md) + journeyView(product, md, view.check) + selfCheckView(product, view.check) + detailsView(product);
    const form = $("rpc-form");
    form.addEventListener("submit", (ev) => { ev.preventDefault(); const url = $("rpc-url").value.trim(); if (url) localStorage.setItem("tc.rpc", url); runCheck(); });
    $("rpc-reset").addEventListener("click", () => { localStorage.removeItem("tc.rpc"); runCheck(); });
  };
  const runCheck = async () => {
    view.check = null;
    render();
    try {
      view.check = await window.TraceChainVerify.checkProduct(product, {
        rpcUrl: rpcSource().url,
        fetchPage: (before) => api("/v1/products/" + encodeURIComponent(product.product_id) + "?limit=500&before=" + before),
      });
    } catch (error) {
      view.check = {verdict: "unavailable", error: String(error.message || error), problems: []};
    }
    if (state.view === render) render();
  };
  state.view = render;
  render();
  // Reports attached to inspections: fetched, re-hashed here, offered for download.
  for (const e of product.entries) {
    for (const att of attachmentsOf(e.document)) {
      if (att.documentHash in view.reports) continue;
      view.reports[att.documentHash] = undefined;
      api(`/v1/attachments/${att.documentHash}?subject=${encodeURIComponent(product.product_id)}`).then((doc) => {
        const matches = window.TraceChainVerify.documentHash(doc) === att.documentHash.toLowerCase();
        const url = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], {type: "application/json"}));
        view.reports[att.documentHash] = {doc, matches, url};
      }).catch(() => { view.reports[att.documentHash] = null; }).finally(() => { if (state.view === render) render(); });
    }
  }
  runCheck();
}

// ---------------------------------------------------------------- auditor: verify
function looksLikeReceipt(value) {
  return value && typeof value === "object" && !Array.isArray(value) &&
    (/receipt/.test(String(value.format || "")) || ((value.recordHash || value.record_hash) && (value.txHash || value.tx_hash) && value.chainId !== undefined));
}
async function verifyBody(body, input, fallbackHash) {
  const target = $("verify-result");
  target.innerHTML = `<p class="muted">${esc(t("auditor.verify.checking"))}</p>`;
  await actorNames();
  let head = null;
  try {
    head = (await api("/v1/health")).block;
    const v = await api("/v1/verify", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    state.view = () => { target.innerHTML = verificationView(v, input, head); };
    state.view();
  } catch (error) {
    if (fallbackHash && error.code === "notarization_not_found") return verifyBody({record_hash: fallbackHash}, input, null);
    state.view = null;
    showError(target, error);
  }
}
function verificationView(v, input, head) {
  const row = (key, value) => (value ? `<div class="fact"><dt>${esc(t(key))}</dt><dd>${value}</dd></div>` : "");
  const notary = v.notary || v.notarized_by;
  const parties = (v.parties || []).map((x) => who(x)).join("<br>");
  const now = new Intl.DateTimeFormat(locale(), {dateStyle: "long", timeStyle: "short"}).format(new Date());
  const statement = th("auditor.report.statement", {now, input: html(input), chain: v.chain_id, contract: html(`<span class="mono">${esc(v.contract)}</span>`),
                                                    head: head ?? "?", block: v.block_number});
  return `<section class="banner ${v.ok ? "ok" : "bad"}" id="verify-verdict" data-ok="${v.ok}" role="status">
      <h2>${v.ok ? "✓ " : "⚠ "}${esc(t(v.ok ? "auditor.verify.ok" : "auditor.verify.bad"))}</h2>
      <p>${v.ok ? th("auditor.verify.summary", {kind: String(v.kind || "").replace(/_/g, " "), how: t("method." + v.method),
        who: html((v.parties && v.parties.length ? v.parties : [notary]).filter(Boolean).map((x) => who(x)).join(", ")),
        when: localTime(v.timestamp), block: v.block_number}) : esc(v.reason)}</p></section>
    <section class="card report-print" id="verify-report">
      <h3 class="print-only">${esc(t("auditor.report.title"))}</h3>
      <p class="statement">${statement}</p>
      <dl class="facts">
        ${row("auditor.verify.kindOf", esc(String(v.kind || "").replace(/_/g, " ")))}
        ${row("auditor.verify.how", esc(t("method." + v.method)))}
        ${row("auditor.verify.by", notary ? who(notary) : "")}
        ${row("auditor.verify.parties", parties)}
        ${row("auditor.verify.when", `${esc(localTime(v.timestamp))} · ${esc(t("details.block"))} ${esc(v.block_number)}`)}
        ${row("auditor.verify.hash", `<span class="mono wrap">${wrapId(v.record_hash)}</span>`)}
        ${row("auditor.verify.chain", esc(v.chain_id))}
        ${row("auditor.verify.contract", `<span class="mono wrap">${esc(v.contract)}</span>`)}
        ${row("auditor.verify.tx", `<span class="mono wrap">${esc(v.tx_hash)}</span>`)}
        ${row("auditor.verify.root", v.merkle_root ? `<span class="mono wrap">${esc(v.merkle_root)}</span>` : "")}
      </dl>
      <h4>${esc(t("auditor.verify.checks"))}</h4><ul class="checks">${(v.checks || []).map((c) => `<li>✓ ${esc(c)}</li>`).join("")}</ul>
      <p class="no-print"><button type="button" class="primary" onclick="window.print()">${esc(t("auditor.print"))}</button></p>
    </section>`;
}
async function verifyText(text) {
  const value = text.trim();
  if (/^0x[0-9a-fA-F]{64}$/.test(value)) return verifyBody({record_hash: value}, t("auditor.verify.input.hash"));
  let parsed;
  try { parsed = JSON.parse(value); } catch { return showError($("verify-result"), {code: "not_json", message: t("error.not_json")}); }
  if (looksLikeReceipt(parsed)) return verifyBody({receipt: parsed}, t("auditor.verify.input.receipt"));
  return verifyBody({record: parsed}, t("auditor.verify.input.record"));
}
async function verifyFile(file) {
  const digest = await window.TraceChainVerify.fileHash(file);
  const described = t("auditor.verify.input.file", {name: file.name, size: file.size});
  let parsed = null;
  try { parsed = JSON.parse(new TextDecoder("utf-8", {fatal: true}).decode(await file.arrayBuffer())); } catch { parsed = null; }
  if (parsed !== null && looksLikeReceipt(parsed)) return verifyBody({receipt: parsed}, t("auditor.verify.input.receipt"));
  if (parsed !== null) return verifyBody({record: parsed}, t("auditor.verify.input.record"), digest);
  return verifyBody({record_hash: digest}, described);
}

// ---------------------------------------------------------------- auditor: certificates and datasets
function statusWord(status) { return t("cert." + status); }
async function lookUpCertificate(id) {
  const target = $("cert-result");
  const value = id.trim();
  await actorNames();
  try {
    const c = await api("/v1/certificates/" + encodeURIComponent(value));
    let dataset = null;
    try { dataset = await api("/v1/datasets/" + encodeURIComponent(c.dataset_id)); } catch { dataset = null; }
    state.view = () => { target.innerHTML = certificateView(c, dataset); bindAuditorLinks(target); };
    state.view();
  } catch (error) {
    if (error.code !== "certificate_not_found" && error.status !== 404) return showError(target, error);
    try {
      const d = await api("/v1/datasets/" + encodeURIComponent(value));
      state.view = () => { target.innerHTML = datasetView(d); bindAuditorLinks(target); };
      state.view();
    } catch (second) { showError(target, second.code === "dataset_not_found" ? error : second); }
  }
}
function datasetTitle(d) {
  const m = d && d.manifest;
  return (m && (pick(m.title) || m.name)) || (d ? d.dataset_id.slice(0, 10) + "…" : "");
}
function termsView(terms) {
  if (!terms || typeof terms !== "object") return terms ? esc(terms) : "";
  return `<ul class="terms">${Object.entries(terms).map(([k, v]) => `<li><span class="muted">${esc(k.replace(/_/g, " "))}:</span> ${
    typeof v === "object" && v !== null ? esc(Object.values(v).join(" ")) : esc(String(v))}</li>`).join("")}</ul>`;
}
function certificateView(c, dataset) {
  const row = (key, value) => (value ? `<div class="fact"><dt>${esc(t(key))}</dt><dd>${value}</dd></div>` : "");
  const good = c.status === "valid";
  const until = localTime(c.expires_at);
  const summary = th("cert.summary", {grantee: html(who(c.grantee)), right: t("cert.right." + c.right), dataset: datasetTitle(dataset), until});
  const r = c.revocation;
  const reason = r ? (r.reason ? esc(pick(r.reason.reason || r.reason)) : r.reason_hash ? th("cert.reasonHidden", {hash: html(shortHash(r.reason_hash))}) : "") : "";
  return `<section class="banner ${good ? "ok" : "bad"}" id="cert-verdict" data-status="${esc(c.status)}" role="status">
      <h2>${good ? "✓ " : "⚠ "}${esc(statusWord(c.status))}</h2><p>${summary}</p>
      ${!good && (c.reasons || []).length ? `<p class="small">${c.reasons.map(esc).join("; ")}</p>` : ""}</section>
    <section class="card"><dl class="facts">
      ${row("cert.right", esc(t("cert.rightName." + c.right)))}
      ${row("cert.grantee", who(c.grantee))}
      ${row("cert.grantor", c.grantor ? who(c.grantor) : "")}
      ${row("cert.window", esc(t("cert.windowText", {from: localTime(c.not_before), until})))}
      ${row("cert.dataset", `<a href="?dataset=${esc(c.dataset_id)}" data-dataset="${esc(c.dataset_id)}">${esc(datasetTitle(dataset))}</a>`)}
      ${row("cert.terms", termsView(c.terms))}
      ${row("cert.uses", `${esc(c.use_count)} <button type="button" class="linkish" data-uses="${esc(c.certificate_id)}">${esc(t("cert.showUses"))}</button>`)}
      ${r ? row("cert.revokedAt", th("cert.revokedText", {when: localTime(r.revoked_at), who: html(r.revoked_by ? who(r.revoked_by) : "—")})) : ""}
      ${r ? row("cert.reason", reason) : ""}
      ${row("cert.previous", c.previous_certificate_id ? shortHash(c.previous_certificate_id) : "")}
    </dl><div id="uses"></div>
    <p class="small muted">${esc(t("cert.checkedAt", {block: c.checked_at.block_number, when: localTime(c.checked_at.timestamp)}))}</p></section>`;
}
function datasetView(d) {
  const row = (key, value) => (value ? `<div class="fact"><dt>${esc(t(key))}</dt><dd>${value}</dd></div>` : "");
  const certs = (d.certificates || []).map((c) => `<li><a href="?certificate=${esc(c.certificate_id)}" data-certificate="${esc(c.certificate_id)}">${esc(t("cert.rightName." + c.right))}</a>
      — ${who(c.grantee)} · <span class="${c.status === "valid" ? "good" : "badtext"}">${esc(statusWord(c.status))}</span> · ${esc(localTime(c.expires_at))}</li>`).join("");
  const holders = (d.holders || []).map((h) => `<li>${who(h.from_address)} → ${who(h.to_address)} · ${esc(localTime(h.tx.timestamp))}</li>`).join("");
  return `<section class="card" id="dataset-view"><h3>${esc(t("dataset.title"))}: ${esc(datasetTitle(d))}</h3><dl class="facts">
      ${row("dataset.holder", `<a href="?actor=${esc(d.holder)}" data-actor="${esc(d.holder)}">${who(d.holder)}</a>`)}
      ${row("dataset.registered", d.registered ? esc(localTime(d.registered.timestamp)) : "")}
      ${row("dataset.manifest", termsView(d.manifest))}
      ${row("details.key", shortHash(d.dataset_id))}</dl>
      ${certs ? `<h4>${esc(t("dataset.certificates"))}</h4><ul>${certs}</ul>` : ""}
      ${holders ? `<h4>${esc(t("dataset.holders"))}</h4><ul>${holders}</ul>` : ""}</section>`;
}
function bindAuditorLinks(root) {
  root.querySelectorAll("[data-dataset],[data-certificate]").forEach((a) => a.addEventListener("click", (ev) => {
    ev.preventDefault();
    const id = a.dataset.dataset || a.dataset.certificate;
    $("cert-id").value = id;
    lookUpCertificate(id);
  }));
  root.querySelectorAll("[data-actor]").forEach((a) => a.addEventListener("click", (ev) => {
    ev.preventDefault();
    $("activity-actor").value = a.dataset.actor;
    loadActivity();
  }));
  root.querySelectorAll("[data-uses]").forEach((b) => b.addEventListener("click", async () => {
    const u = await api(`/v1/certificates/${b.dataset.uses}/uses`).catch(() => null);
    $("uses").innerHTML = u ? `<ul>${u.uses.map((x) => `<li>${th("cert.use", {index: x.use_index, who: html(who(x.user)), when: localTime(x.tx.timestamp)})}
      ${x.purpose ? `<span class="muted">— ${esc(pick(x.purpose.purpose) || JSON.stringify(x.purpose))}</span>` : ""}</li>`).join("")}</ul>` : "";
  }));
}

// ---------------------------------------------------------------- auditor: activity
const activity = {address: null, items: [], total: 0};
async function fillActors() {
  const names = await actorNames();
  $("actor-list").innerHTML = Object.entries(names).map(([a, n]) => `<option value="${esc(a)}">${esc(n)}</option>`).join("");
}
async function loadActivity() {
  const address = $("activity-actor").value.trim();
  const target = $("activity-result");
  if (!address) return;
  try {
    const items = [];
    let offset = 0, total = 0;
    for (let page = 0; page < 20; page++) {
      const body = await api(`/v1/actors/${address}/activity?limit=500&offset=${offset}`);
      items.push(...body.items);
      total = body.total;
      if (body.next_offset === null || body.next_offset === undefined) break;
      offset = body.next_offset;
    }
    Object.assign(activity, {address, items, total});
    const kinds = [...new Set(items.map((x) => x.kind))].sort();
    const select = $("activity-kind");
    const chosen = select.value;
    select.innerHTML = `<option value="">${esc(t("auditor.activity.any"))}</option>` +
      kinds.map((k) => `<option value="${esc(k)}">${esc(ACTIVITY_WORD(k))}</option>`).join("");
    if (kinds.includes(chosen)) select.value = chosen;
    state.view = renderActivity;
    renderActivity();
  } catch (error) { state.view = null; showError(target, error); }
}
const ACTIVITY_WORD = (kind) => (window.TC_ACTIVITY[state.lang] || window.TC_ACTIVITY.en)[kind] || kind;
function filteredActivity() {
  const kind = $("activity-kind").value;
  const from = $("activity-from").value ? Date.parse($("activity-from").value + "T00:00:00") / 1000 : null;
  const to = $("activity-to").value ? Date.parse($("activity-to").value + "T23:59:59") / 1000 : null;
  return activity.items.filter((x) => (!kind || x.kind === kind) && (from === null || x.timestamp >= from) && (to === null || x.timestamp <= to));
}
function renderActivity() {
  const rows = filteredActivity();
  const target = $("activity-result");
  const csvColumns = ["block_number", "time", "timestamp", "actor", "kind", "subject", "contract", "tx_hash", "log_index"];
  const csvCell = (v) => /[",\n]/.test(String(v ?? "")) ? `"${String(v).replace(/"/g, '""')}"` : String(v ?? "");
  const csv = [csvColumns.join(","), ...rows.map((r) => csvColumns.map((c) => csvCell(r[c])).join(","))].join("\n") + "\n";
  const url = URL.createObjectURL(new Blob([csv], {type: "text/csv"}));
  target.innerHTML = `<h4>${who(activity.address)}</h4><p>${esc(t("auditor.activity.count", {shown: rows.length, total: activity.total}))} ·
      <a class="button-link" id="activity-csv" href="${url}" download="activity-${esc(activity.address)}.csv">${esc(t("auditor.activity.csv"))}</a>
      <a href="/v1/actors/${esc(activity.address)}/activity.csv">${esc(t("auditor.activity.csvAll"))}</a></p>
    ${rows.length ? `<ol class="activity">${rows.map((r) => `<li><span class="when">${esc(localTime(r.timestamp))}</span>
      <span class="kind" title="${esc(r.kind)}">${esc(ACTIVITY_WORD(r.kind))}</span> <span class="mono wrap">${wrapId(r.subject.length > 70 ? r.subject.slice(0, 66) + "…" : r.subject)}</span>
      <span class="small muted">${esc(t("details.block"))} ${esc(r.block_number)}</span></li>`).join("")}</ol>` : `<p>${esc(t("auditor.activity.none"))}</p>`}`;
}

// ---------------------------------------------------------------- wiring
document.addEventListener("click", async (ev) => {
  const button = ev.target.closest("button.copy");
  if (!button) return;
  try { await navigator.clipboard.writeText(button.dataset.copy); } catch { /* no clipboard: the title shows it */ }
  button.textContent = t("copied");
  setTimeout(() => { button.textContent = t("copy"); }, 1500);
});

function start() {
  state.lang = initialLanguage();
  document.querySelectorAll(".lang button").forEach((b) => b.addEventListener("click", () => setLanguage(b.dataset.lang)));
  document.querySelectorAll("nav.tabs button").forEach((b) => b.addEventListener("click", () => {
    selectTab(b.dataset.tab);
    if (b.dataset.tab === "auditor") fillActors();
  }));
  $("product-form").addEventListener("submit", (e) => { e.preventDefault(); checkProduct($("product-id").value); });
  $("verify-form").addEventListener("submit", (e) => { e.preventDefault(); verifyText($("verify-input").value); });
  $("verify-file").addEventListener("change", (e) => { const file = e.target.files && e.target.files[0]; if (file) verifyFile(file); });
  $("cert-form").addEventListener("submit", (e) => { e.preventDefault(); lookUpCertificate($("cert-id").value); });
  $("activity-form").addEventListener("submit", (e) => { e.preventDefault(); loadActivity(); });
  ["activity-kind", "activity-from", "activity-to"].forEach((id) => $(id).addEventListener("change", () => { if (activity.address) renderActivity(); }));
  setLanguage(state.lang);

  // A QR code holds a GS1 Digital Link URL: scan it where the browser offers BarcodeDetector.
  if ("BarcodeDetector" in window && navigator.mediaDevices) {
    $("scan").hidden = false;
    $("scan").addEventListener("click", async () => {
      const video = $("camera");
      const stream = await navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}});
      video.srcObject = stream; video.hidden = false; await video.play();
      const detector = new BarcodeDetector({formats: ["qr_code", "data_matrix"]});
      const tick = async () => {
        const codes = await detector.detect(video).catch(() => []);
        if (codes.length) {
          stream.getTracks().forEach((track) => track.stop()); video.hidden = true;
          $("product-id").value = codes[0].rawValue; checkProduct(codes[0].rawValue);
        } else { requestAnimationFrame(tick); }
      };
      tick();
    });
  }

  // Deep links: /?id= (the Digital Link resolver sends phones here), ?certificate=, ?dataset=, ?actor=.
  const params = new URLSearchParams(location.search);
  if (params.get("id")) { $("product-id").value = params.get("id"); checkProduct(params.get("id")); }
  const auditorId = params.get("certificate") || params.get("dataset");
  if (auditorId || params.get("actor") || params.get("tab") === "auditor") {
    selectTab("auditor");
    fillActors().then(() => {
      if (params.get("actor")) { $("activity-actor").value = params.get("actor"); loadActivity(); }
    });
    if (auditorId) { $("cert-id").value = auditorId; lookUpCertificate(auditorId); }
  }
}
start();

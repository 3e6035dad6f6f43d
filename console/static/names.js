// Names in place of codes (GET /api/names: reports/names.py, config/regions.py): alarm
// kinds, severities and states, pollutants with their unit (HJ 212-2017 Appendix B),
// regions from the administrative-division code list. docs/console.md §2.
// Loaded after app.js, whose helpers (api, lang, h, t) it uses.
"use strict";

let NAMES = null;

async function loadNames() {
  try { NAMES = await api("/names"); } catch (e) { NAMES = null; }
}

function named(table, code) {
  const entry = NAMES && NAMES[table] && NAMES[table][code];
  return entry ? entry[lang === "zh" ? 0 : 1] : code;
}
const kindName = (k) => named("kinds", k);
const severityName = (k) => named("severities", k);
const stateName = (k) => named("states", k);
const caseKindName = (k) => named("case_kinds", k);

// 二氧化硫 (mg/m³) for a21026; the code as a tooltip
function factorName(code, withUnit = true) {
  const f = NAMES && NAMES.factors && NAMES.factors[code];
  if (!f) return code || "";
  const name = lang === "zh" ? f.zh : f.en;
  return withUnit && f.unit ? `${name} (${f.unit})` : name;
}
const factorCell = (code) => h("td", { title: code || "", "data-code": code || "" }, factorName(code));
const unitOf = (code) => (NAMES && NAMES.factors && NAMES.factors[code] && NAMES.factors[code].unit) || "";

// 湖北省武汉市江岸区 for 420102 (a prefix 4201 or 42 too); the code when unknown
function regionName(code, short = false) {
  if (!code) return t("all");
  const six = code.length < 6 ? code.padEnd(6, "0") : code;
  const r = NAMES && NAMES.regions && NAMES.regions[six];
  if (!r) return code;
  return short ? r.name : r.full;
}

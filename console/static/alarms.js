// The alarm inbox (#/alarms) as a work queue: alarms grouped by station and kind with
// their count and newest time, critical first; filters (region, kind, severity,
// state, time); pages; bulk acknowledgement with a note (each alarm audited); a group
// opens to its alarms with their own steps. A station's alarm history is on its page
// (alarmHistory). docs/console.md §4. Uses app.js and names.js helpers.
"use strict";

Object.assign(TEXT.zh, {
  inbox: "报警处理", groups: "组", alarms_n: "条报警", pick_all: "全选本页", bulk_ack: "批量确认",
  sure_bulk: "确认所选报警（请写明处理情况）：", note_needed: "请填写备注", open_group: "展开",
  close_group: "收起", data_hour: "数据时间", cleared: "已恢复", ongoing: "持续中", prev: "上一页",
  next: "下一页", page: "页", from: "自", to: "至", history: "报警记录", factors: "因子",
  threshold_v: "阈值", any: "全部",
});
Object.assign(TEXT.en, {
  inbox: "Alarm inbox", groups: "groups", alarms_n: "alarms", pick_all: "Pick this page",
  bulk_ack: "Acknowledge picked", sure_bulk: "Acknowledge the picked alarms (say what was done):",
  note_needed: "A note is required", open_group: "Open", close_group: "Close",
  data_hour: "Data time", cleared: "cleared", ongoing: "ongoing", prev: "Previous", next: "Next",
  page: "page", from: "From", to: "To", history: "Alarm history", factors: "Factors",
  threshold_v: "Threshold", any: "Any",
});
TIMED.add("data_hour");

const PAGE = 25;
const inbox = { state: "active", region: "", kind: "", severity: "", since: "", until: "",
  offset: 0, open: new Set(), picked: new Set() };
const canActNow = () => me && (me.role === "administrator" || me.role === "operator");

function inboxQuery() {
  const q = new URLSearchParams({ state: inbox.state, offset: inbox.offset, limit: PAGE });
  for (const k of ["region", "kind", "severity"]) if (inbox[k]) q.set(k, inbox[k]);
  if (inbox.since) q.set("since", asBeijingDay(inbox.since));
  if (inbox.until) q.set("until", asBeijingDay(inbox.until));
  return q.toString();
}
const asBeijingDay = (d) => `${d}T00:00:00+08:00`;

function filterBar(totals) {
  const set = (k) => (e) => { inbox[k] = e.target.value; inbox.offset = 0; inbox.picked.clear(); refresh(); };
  const pick = (id, k, options) => h("select", { id, onchange: set(k) },
    options.map(([v, label]) => h("option", { value: v, selected: inbox[k] === v }, label)));
  const kinds = Object.keys(totals).filter((k) => k.startsWith("kind:")).map((k) => k.slice(5));
  if (inbox.kind && !kinds.includes(inbox.kind)) kinds.push(inbox.kind);
  const regionCodes = Object.keys((NAMES && NAMES.regions) || {}).filter((c) => !c.endsWith("0000")).sort();
  return h("p", { class: "filters" },
    `${t("region")} `, pick("f-region", "region", [["", t("any")], ...regionCodes.map((c) =>
      [c.endsWith("00") ? c.slice(0, 4) : c, (c.endsWith("00") ? "" : "\u3000") + regionName(c, !c.endsWith("00"))])]),
    ` ${t("kind")} `, pick("f-kind", "kind", [["", t("any")], ...kinds.map((k) =>
      [k, `${kindName(k)} (${totals["kind:" + k] || 0})`])]),
    ` ${t("severity")} `, pick("f-severity", "severity", [["", t("any")],
      ...["critical", "warning", "info"].map((k) => [k, severityName(k)])]),
    ` ${t("state")} `, pick("f-state", "state", ["active", "open", "acknowledged", "resolved", "closed"]
      .map((k) => [k, stateName(k)])),
    ` ${t("from")} `, h("input", { id: "f-since", type: "date", value: inbox.since, onchange: set("since") }),
    ` ${t("to")} `, h("input", { id: "f-until", type: "date", value: inbox.until, onchange: set("until") }));
}

async function groupAlarms(g) {
  const list = await api(`/alarms?state=${inbox.state}&mn=${encodeURIComponent(g.mn)}` +
    `&kind=${encodeURIComponent(g.kind)}&limit=200`);
  return list.map((a) => alarmRow(a, false));
}

function alarmRow(a, withKind) {
  const act = (action) => async () => {
    const note = await ask(`${t("sure_" + action)} #${a.id} ${a.station || a.mn} ${kindName(a.kind)}`, true);
    if (note === null) return;
    try { await api(`/alarms/${a.id}/${action}`, { note }); } catch (e) { alert(e.message); }
    refresh();
  };
  const live = a.state === "open" || a.state === "acknowledged";
  return h("tr", { "data-alarm": a.id, class: "member" + (a.severity === "critical" ? " critical" : "") },
    h("td", {}), h("td", {}, fmtTime(a.raised_at)), h("td", {}, fmtTime(a.data_time)),
    h("td", {}, withKind ? kindName(a.kind) : (a.station || a.mn)),
    factorCell(a.pollutant), h("td", { class: "num" }, fmtNum(a.value)),
    h("td", { class: "num" }, fmtNum(a.threshold)),
    h("td", {}, h("span", { class: "sev " + a.severity }, severityName(a.severity))),
    h("td", { class: "state" }, stateName(a.state)),
    h("td", {}, a.cleared_at ? h("span", { class: "badge online" }, t("cleared")) : t("ongoing")),
    h("td", {}, canActNow() && live ? [
      a.state === "open" ? h("button", { class: "act ack", type: "button", onclick: act("ack") }, t("ack")) : null,
      h("button", { class: "act resolve", type: "button", onclick: act("resolve") }, t("resolve")),
    ] : null));
}

async function bulkAck(groups) {
  const ids = groups.filter((g) => inbox.picked.has(`${g.mn}|${g.kind}`)).flatMap((g) => g.ids);
  if (!ids.length) return;
  const note = await ask(`${t("sure_bulk")} ${ids.length} ${t("alarms_n")}`, true);
  if (note === null) return;
  if (!note.trim()) { alert(t("note_needed")); return; }
  try { await api("/alarms/ack", { ids, note }); inbox.picked.clear(); } catch (e) { alert(e.message); }
  refresh();
}

async function alarms(main) {
  const found = await api("/alarm-groups?" + inboxQuery());
  const { groups, totals } = found;
  const rows = [];
  for (const g of groups) {
    const key = `${g.mn}|${g.kind}`;
    const opened = inbox.open.has(key);
    const box = h("input", { type: "checkbox", class: "pick", checked: inbox.picked.has(key),
      onchange: (e) => e.target.checked ? inbox.picked.add(key) : inbox.picked.delete(key) });
    rows.push(h("tr", { "data-group": key, class: "group" + (g.critical ? " critical" : "") },
      h("td", {}, canActNow() ? box : null), h("td", {}, fmtTime(g.newest)), h("td", {}, fmtTime(g.newest_data)),
      h("td", {}, h("a", { href: "#/station/" + encodeURIComponent(g.mn) }, g.station),
        h("div", { class: "muted" }, regionName(g.region_code))),
      h("td", { class: "kind" }, kindName(g.kind)),
      h("td", {}, g.pollutants.map((p) => factorName(p, false)).join("、")),
      h("td", { class: "num count" }, g.count),
      h("td", {}, h("span", { class: "sev " + (g.critical ? "critical" : "warning") },
        severityName(g.critical ? "critical" : "warning"))),
      h("td", { class: "state" }, `${stateName("open")} ${g.open} / ${stateName("acknowledged")} ${g.count - g.open}`),
      h("td", {}, `${t("ongoing")} ${g.ongoing}`),
      h("td", {}, h("button", { type: "button", class: "act toggle", onclick: () => {
        opened ? inbox.open.delete(key) : inbox.open.add(key); refresh(); } },
      opened ? t("close_group") : t("open_group")))));
    if (opened) rows.push(...await groupAlarms(g));
  }
  const pages = Math.max(1, Math.ceil(totals.groups / PAGE));
  const at = Math.floor(inbox.offset / PAGE) + 1;
  const go = (delta) => () => { inbox.offset = Math.max(0, inbox.offset + delta * PAGE); refresh(); };
  const pickAll = () => { for (const g of groups) inbox.picked.add(`${g.mn}|${g.kind}`); refresh(); };
  main.replaceChildren(
    h("h2", {}, `${t("inbox")} `, h("span", { class: "muted", id: "inbox-totals" },
      `${totals.groups} ${t("groups")} · ${totals.alarms} ${t("alarms_n")} · ${severityName("critical")} ${totals.critical}`)),
    filterBar(totals),
    canActNow() ? h("p", {}, h("button", { type: "button", id: "pick-all", onclick: pickAll }, t("pick_all")), " ",
      h("button", { type: "button", id: "bulk-ack", onclick: () => bulkAck(groups) }, t("bulk_ack"))) : null,
    table(["", "raised", "data_hour", "station", "kind", "factors", "count", "severity", "state", "", ""], rows),
    h("p", { class: "pager" }, h("button", { type: "button", id: "page-prev", disabled: at <= 1, onclick: go(-1) }, t("prev")),
      ` ${at} / ${pages} ${t("page")} `,
      h("button", { type: "button", id: "page-next", disabled: at >= pages, onclick: go(1) }, t("next"))));
}

// the station page's alarm history: every state, newest first
async function alarmHistory(mn) {
  const list = await api(`/alarms?state=all&mn=${encodeURIComponent(mn)}&limit=50`);
  return h("div", { id: "station-alarms" }, h("h3", {}, t("history")),
    list.length ? table(["", "raised", "data_hour", "kind", "factor", "value", "threshold_v", "severity", "state", "", ""],
      list.map((a) => alarmRow(a, true))) : h("p", { class: "muted" }, t("none")));
}

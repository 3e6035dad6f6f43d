// The overview as a duty board (#/): the region tree to narrow, what needs action first
// (offline stations, critical alarms, cases by their next deadline), counters that
// lead to their pages, today's and this month's effective transmission rate against
// the threshold; what is new since the previous visit is marked. docs/console.md §3.
// Loaded after app.js and names.js, whose helpers it uses.
"use strict";

Object.assign(TEXT.zh, {
  duty: "值班总览", todo: "待处理", offline_list: "离线站点", silent_for: "离线时长",
  never: "从未上线", critical_alarms: "严重报警", warning_alarms: "一般报警",
  acked: "已确认", open_alarms: "未处理报警", near_deadlines: "临近期限的案件",
  next_due: "最近期限", etr_today: "今日有效传输率", etr_month: "本月有效传输率",
  region_tree: "地区", count: "次数", newest: "最新", new_mark: "新", narrow: "范围",
  cases_open: "未结案件", nothing: "无待处理事项",
});
Object.assign(TEXT.en, {
  duty: "Duty board", todo: "To do", offline_list: "Offline stations", silent_for: "Silent for",
  never: "never online", critical_alarms: "Critical alarms", warning_alarms: "Warnings",
  acked: "Acknowledged", open_alarms: "Open alarms", near_deadlines: "Cases by next deadline",
  next_due: "Next deadline", etr_today: "ETR today", etr_month: "ETR this month",
  region_tree: "Regions", count: "Count", newest: "Newest", new_mark: "new", narrow: "Region",
  cases_open: "Open cases", nothing: "Nothing to do",
});
TIMED.add("newest"); TIMED.add("next_due");

// what was new at the previous visit's last look: read once, written at each render
const PREVIOUS_LOOK = Number(localStorage.getItem("look") || 0);
const board = { region: localStorage.getItem("board-region") || "" };
const isNew = (iso) => PREVIOUS_LOOK && iso && Date.parse(iso) > PREVIOUS_LOOK;
const newMark = (iso) => isNew(iso) ? h("span", { class: "badge new" }, t("new_mark")) : null;

function since(iso) {
  if (!iso) return t("never");
  const hours = (Date.now() - Date.parse(iso)) / 3.6e6;
  return hours >= 48 ? `${(hours / 24).toFixed(1)} d` : `${hours.toFixed(1)} h`;
}

// the server says whether the rate passes (rules.transmission.below: 大于 the threshold)
function rateCard(id, key, rate, threshold) {
  const verdict = rate.etr === null || rate.etr === undefined ? "" : rate.passes ? "ok" : "bad";  // no hour ended yet: none
  return h("a", { class: "card " + verdict, id, href: "#/rates" }, t(key),
    h("b", {}, pct(rate.etr)), h("small", {}, `${t("threshold")} ${pct(threshold)}`));
}

function regionPicker(tree) {
  const options = [h("option", { value: "" }, t("all"))];
  for (const city of tree) {
    options.push(h("option", { value: city.code.slice(0, 4), selected: board.region === city.code.slice(0, 4) },
      city.name));
    for (const county of city.children) {
      options.push(h("option", { value: county.code, selected: board.region === county.code },
        "\u3000" + regionName(county.code, true)));
    }
  }
  return h("select", { id: "board-region", onchange: (e) => {
    board.region = e.target.value; localStorage.setItem("board-region", board.region); refresh();
  } }, options);
}

function treeTable(tree) {
  const row = (n, cls) => h("tr", { class: cls, "data-region": n.code },
    h("td", {}, h("a", { href: "#/", onclick: (e) => { e.preventDefault();
      board.region = cls === "city" ? n.code.slice(0, 4) : n.code;
      localStorage.setItem("board-region", board.region); refresh(); } },
    cls === "city" ? n.name : "\u3000" + regionName(n.code, true))),
    ...["stations", "online", "offline", "alarms", "overdue"].map((k) =>
      h("td", { class: "num" + (k === "offline" && n[k] ? " flag" : "") }, n[k])));
  return table(["region_tree", "total", "online", "offline", "alarming", "overdue"],
    tree.flatMap((c) => [row(c, "city"), ...c.children.map((k) => row(k, "county"))]));
}

async function overview(main) {
  const b = await api("/board" + (board.region ? `?region=${board.region}` : ""));
  const a = b.alarms;
  const offline = b.offline.length ? table(["station", "region", "last", "silent_for"], b.offline.map((s) =>
    h("tr", { "data-offline": s.mn }, h("td", {}, h("a", { href: "#/station/" + encodeURIComponent(s.mn) }, s.name)),
      h("td", {}, s.region), h("td", {}, fmtTime(s.last_frame)),
      h("td", { class: "num" }, s.refused ? `${t("refused")}：${why(s.refused)}` : since(s.last_frame)))))
    : h("p", { class: "muted" }, t("none"));
  const groups = b.alarm_groups.length ? table(["newest", "station", "kind", "count", "severity"],
    b.alarm_groups.map((g) => h("tr", { "data-group": `${g.mn}|${g.kind}`, class: g.critical ? "critical" : "" },
      h("td", {}, fmtTime(g.newest), " ", newMark(g.newest)),
      h("td", {}, h("a", { href: "#/station/" + encodeURIComponent(g.mn) }, g.station)),
      h("td", {}, kindName(g.kind)), h("td", { class: "num" }, g.count),
      h("td", {}, h("span", { class: "sev " + (g.critical ? "critical" : "warning") },
        severityName(g.critical ? "critical" : "warning"))))))
    : h("p", { class: "muted" }, t("none"));
  const cases = b.cases.length ? table(["station", "kind", "next_due", "report_due", "restore_due"],
    b.cases.map((c) => h("tr", { "data-case": c.id },
      h("td", {}, h("a", { href: "#/station/" + encodeURIComponent(c.mn) }, c.station)),
      h("td", {}, caseKindName(c.kind)), h("td", {}, fmtTime(c.next_due)),
      h("td", {}, countdown(c.report_due)), h("td", {}, countdown(c.restore_due)))))
    : h("p", { class: "muted" }, t("none"));
  main.replaceChildren(
    h("h2", {}, t("duty"), " ", h("span", { class: "muted" }, `${t("narrow")} `), regionPicker(b.tree)),
    h("div", { class: "cards" },
      h("a", { class: "card", href: "#/stations" }, t("total"), h("b", {}, b.stations.total)),
      h("a", { class: "card ok", href: "#/stations" }, t("online"), h("b", { id: "count-online" }, b.stations.online)),
      h("a", { class: "card" + (b.stations.offline ? " bad" : ""), href: "#/stations" }, t("offline"),
        h("b", { id: "count-offline" }, b.stations.offline)),
      h("a", { class: "card bad", href: "#/alarms" }, t("critical_alarms"), h("b", { id: "count-critical" }, a["open:critical"] || 0),
        h("small", {}, `${t("acked")} ${a["acknowledged:critical"] || 0}`)),
      h("a", { class: "card warn", href: "#/alarms" }, t("warning_alarms"), h("b", {}, a["open:warning"] || 0),
        h("small", {}, `${t("acked")} ${a["acknowledged:warning"] || 0}`)),
      h("a", { class: "card warn", href: "#/cases" }, t("cases_open"), h("b", {}, b.cases.length)),
      rateCard("etr-today", "etr_today", b.etr_today, b.threshold),
      rateCard("etr-month", "etr_month", b.etr_month, b.threshold)),
    h("div", { class: "grid2" },
      h("div", { class: "panel", id: "todo-offline" }, h("h3", {}, t("offline_list")), offline),
      h("div", { class: "panel", id: "todo-cases" }, h("h3", {}, t("near_deadlines")), cases)),
    h("div", { class: "panel", id: "todo-alarms" }, h("h3", {}, t("open_alarms")), groups),
    h("h3", {}, t("region_tree")), treeTable(b.tree));
  localStorage.setItem("look", String(Date.now()));
}

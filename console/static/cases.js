// The case desk (#/cases): the enterprise's open cases with what is due next and by
// when, its forms (written report, restoration notice, manual sample, advance notice of
// a planned stop, mark proposal with attachments); the regulator's queue (reports
// waiting, returned, late; samples to review). docs/regulations.md §6.5.
// Loaded after app.js, whose helpers (h, t, api, table, fmtTime, countdown, ask, me)
// it uses; every value from the server goes in through textContent.
"use strict";

Object.assign(TEXT.zh, {
  case_desk: "案件办理", my_cases: "我的未结案件", due_next: "待办事项", what: "事项",
  by: "期限", file_report: "提交书面报告", file_restoration: "提交恢复通知",
  enter_sample: "录入人工监测数据", notice: "计划停运/维护预告", propose_mark: "申请数据标记",
  cause: "原因", started_at: "故障开始", expected_restore: "预计恢复", measures: "已采取措施",
  attachments: "附件", submit: "提交", sampled_at: "采样时间", method: "监测方法",
  laboratory: "检测单位", lab_report: "检测报告", start_at: "开始", end_at: "结束",
  plan: "人工监测方案", reviews: "待审核", waiting: "待审核的报告", returned_list: "已退回未更正",
  late_list: "逾期提交的报告", samples_pending: "待审核的人工监测数据", filed_by: "提交人",
  filed_at: "提交时间", acknowledge: "确认", return: "退回", accept: "采纳", reject: "不采纳",
  sure_acknowledge: "确认此报告？", sure_return: "退回此报告（请写明需更正之处）：",
  sure_accept: "采纳此人工监测数据？", sure_reject: "不采纳此人工监测数据（请写明原因）：",
  filed: "已提交", "what:report": "书面报告（24 小时内）", "what:restoration": "恢复正常运行",
  "what:manual-sample": "下一次人工采样（间隔不超过 6 小时）", "state:due": "待办",
  "state:overdue": "已逾期", "state:done": "已完成", "state:late": "逾期完成",
  "state:returned": "已退回，待更正", "kind:written": "书面报告", "kind:restoration": "恢复通知",
  "kind:planned-stop": "计划停运", "kind:planned-maintenance": "计划维护",
  "kind:shutdown": "停运", "kind:maintenance": "维护", "kind:calibration": "校准",
  "kind:force-majeure": "不可抗力", "kind:other": "其他", manual: "人工监测数据（不参与超标判定）",
  no_cases: "没有未结案件", sample_state: "审核", id: "编号", "sample:pending": "待审核",
  "sample:accepted": "已采纳", "sample:rejected": "未采纳", "report:filed": "已提交，待审核",
  "report:acknowledged": "已确认", "report:returned": "已退回", "kind:facility": "设施故障",
  "kind:outage": "联网中断",
});
Object.assign(TEXT.en, {
  case_desk: "Cases", my_cases: "My open cases", due_next: "Due next", what: "What", by: "By",
  file_report: "File the written report", file_restoration: "File the restoration notice",
  enter_sample: "Enter a manual sample", notice: "Planned stop / maintenance notice",
  propose_mark: "Propose a data mark", cause: "Cause", started_at: "Fault began",
  expected_restore: "Expected restoration", measures: "Measures taken", attachments: "Attachments",
  submit: "Submit", sampled_at: "Sampled at", method: "Method", laboratory: "Laboratory",
  lab_report: "Lab report", start_at: "From", end_at: "To", plan: "Manual-monitoring plan",
  reviews: "To review", waiting: "Reports waiting for review",
  returned_list: "Returned, not corrected", late_list: "Reports filed late",
  samples_pending: "Manual samples to review", filed_by: "Filed by", filed_at: "Filed at",
  acknowledge: "Acknowledge", return: "Return", accept: "Accept", reject: "Reject",
  sure_acknowledge: "Acknowledge this report?",
  sure_return: "Return this report (say what to correct):",
  sure_accept: "Accept this manual sample?", sure_reject: "Reject this manual sample (why):",
  filed: "Filed", "what:report": "Written report (24 h)", "what:restoration": "Normal operation again",
  "what:manual-sample": "Next manual sample (at most 6 h apart)", "state:due": "due",
  "state:overdue": "overdue", "state:done": "done", "state:late": "done late",
  "state:returned": "returned, to correct", "kind:written": "Written report",
  "kind:restoration": "Restoration notice", "kind:planned-stop": "Planned stop",
  "kind:planned-maintenance": "Planned maintenance", "kind:shutdown": "Shutdown",
  "kind:maintenance": "Maintenance", "kind:calibration": "Calibration",
  "kind:force-majeure": "Force majeure", "kind:other": "Other",
  manual: "Manual samples (never judged for exceedance)", no_cases: "No open cases",
  sample_state: "Review", id: "No.", "sample:pending": "pending", "sample:accepted": "accepted",
  "sample:rejected": "rejected", "report:filed": "filed, waiting for review",
  "report:acknowledged": "acknowledged", "report:returned": "returned", "kind:facility": "Facility fault",
  "kind:outage": "Outage",
});
for (const key of ["filed_at", "sampled_at", "by"]) TIMED.add(key);
FORM_PAGES.add("/cases");  // its forms would be wiped by polling

const CAN_PROPOSE = ["administrator", "operator", "enterprise"];
const CAN_REVIEW = ["administrator", "operator"];

// A datetime-local value is read as Beijing time, whatever the browser's zone.
const asBeijing = (value) => value ? `${value}:00+08:00` : null;

async function fileBody(input) {
  const out = [];
  for (const file of input.files) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    out.push({ name: file.name, content_type: file.type || "application/octet-stream", content_base64: btoa(text) });
  }
  return out;
}

// Posts a form; a refusal lists every error the server found, one line each.
async function send(path, body, msg) {
  const r = await fetch("/api" + path, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body) });
  const answer = await r.json().catch(() => ({}));
  if (r.ok) { msg.className = "ok"; msg.replaceChildren(t("filed")); return true; }
  const detail = Array.isArray(answer.detail) ? answer.detail : [answer.detail || r.status];
  msg.className = "error";
  msg.replaceChildren(...detail.map((d) => h("div", {}, typeof d === "string" ? d : `${(d.loc || []).slice(1).join(".")}: ${d.msg}`)));
  return false;
}

function input(id, key, attrs) {
  return h("label", { class: "field" }, h("span", {}, t(key)), h(attrs && attrs.rows ? "textarea" : "input", { id, ...attrs }));
}
const val = (form, id) => form.querySelector("#" + id).value;

function reportForm(c, kind) {
  const returned = c.reports.filter((r) => r.kind === "written" && r.state === "returned").pop();
  const form = h("form", { class: "panel stack", id: `report-form-${c.case.id}` }, h("h3", {}, t(kind === "written" ? "file_report" : "file_restoration")),
    input("r-cause", "cause", { rows: 2 }),
    kind === "written" ? input("r-started", "started_at", { type: "datetime-local" }) : null,
    kind === "written" ? input("r-restore", "expected_restore", { type: "datetime-local" }) : null,
    input("r-measures", "measures", { rows: 2 }),
    input("r-files", "attachments", { type: "file", multiple: true }),
    h("p", { id: "r-msg" }), h("button", { type: "submit", id: "r-submit" }, t("submit")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { kind, cause: val(form, "r-cause"), measures: val(form, "r-measures"),
      attachments: await fileBody(form.querySelector("#r-files")) };
    if (kind === "written") {
      body.started_at = asBeijing(val(form, "r-started"));
      body.expected_restore = asBeijing(val(form, "r-restore"));
      if (returned) body.corrects = returned.id;
    }
    if (await send(`/cases/${c.case.id}/reports`, body, form.querySelector("#r-msg"))) reloadCases();
  });
  return form;
}

function sampleForm(c) {
  const form = h("form", { class: "panel stack", id: `sample-form-${c.case.id}` }, h("h3", {}, t("enter_sample")),
    input("s-pollutant", "factor", { value: c.case.pollutant || "", size: 8 }),
    input("s-at", "sampled_at", { type: "datetime-local" }),
    input("s-value", "value", { type: "number", step: "any" }),
    input("s-unit", "unit", { value: "mg/m3", size: 8 }),
    input("s-method", "method"), input("s-lab", "laboratory"),
    input("s-files", "lab_report", { type: "file", accept: ".pdf,.png,.jpg,.jpeg,.txt" }),
    h("p", { id: "s-msg" }), h("button", { type: "submit", id: "s-submit" }, t("submit")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { pollutant: val(form, "s-pollutant"), sampled_at: asBeijing(val(form, "s-at")),
      value: Number(val(form, "s-value")), unit: val(form, "s-unit"), method: val(form, "s-method"),
      laboratory: val(form, "s-lab"), attachments: await fileBody(form.querySelector("#s-files")) };
    if (await send(`/cases/${c.case.id}/samples`, body, form.querySelector("#s-msg"))) reloadCases();
  });
  return form;
}

function stationForm(id, title, stations, fields, path, body) {
  const pick = h("select", { id: `${id}-mn` }, stations.map((st) => h("option", { value: st.mn }, `${st.name} (${st.mn})`)));
  const form = h("form", { class: "panel stack", id }, h("h3", {}, t(title)),
    h("label", { class: "field" }, h("span", {}, t("station")), pick), ...fields,
    input(`${id}-files`, "attachments", { type: "file", multiple: true }),
    h("p", { id: `${id}-msg` }), h("button", { type: "submit", id: `${id}-submit` }, t("submit")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = { ...body(form), attachments: await fileBody(form.querySelector(`#${id}-files`)) };
    await send(path(encodeURIComponent(pick.value)), data, form.querySelector(`#${id}-msg`));
  });
  return form;
}

function noticeForm(stations) {
  const kinds = h("select", { id: "n-kind" }, ["planned-stop", "planned-maintenance"].map((k) => h("option", { value: k }, t("kind:" + k))));
  return stationForm("notice-form", "notice", stations, [
    h("label", { class: "field" }, h("span", {}, t("kind")), kinds),
    input("n-start", "start_at", { type: "datetime-local" }), input("n-end", "end_at", { type: "datetime-local" }),
    input("n-cause", "cause", { rows: 2 }), input("n-plan", "plan", { rows: 2 })],
  (mn) => `/stations/${mn}/notices`,
  (f) => ({ kind: val(f, "n-kind"), start: asBeijing(val(f, "n-start")), end: asBeijing(val(f, "n-end")),
    cause: val(f, "n-cause"), measures: val(f, "n-plan") }));
}

function markForm(stations) {
  const kinds = h("select", { id: "m-kind" }, ["shutdown", "maintenance", "calibration", "force-majeure", "other"].map((k) => h("option", { value: k }, t("kind:" + k))));
  return stationForm("mark-form", "propose_mark", stations, [
    h("label", { class: "field" }, h("span", {}, t("kind")), kinds),
    input("m-start", "start_at", { type: "datetime-local" }), input("m-end", "end_at", { type: "datetime-local" }),
    input("m-reason", "reason", { rows: 2 })],
  (mn) => `/stations/${mn}/marks`,
  (f) => ({ kind: val(f, "m-kind"), start: asBeijing(val(f, "m-start")), end: asBeijing(val(f, "m-end")),
    reason: val(f, "m-reason") }));
}

function dueTable(c) {
  return table(["what", "by", "state"], c.due.map((d) => h("tr", { "data-due": d.what },
    h("td", {}, t("what:" + d.what)), h("td", {}, fmtTime(d.by)),
    h("td", { class: d.state === "overdue" || d.state === "returned" ? "overdue" : "" }, t("state:" + d.state), " ",
      d.state === "due" ? countdown(d.by) : null))));
}

function caseCard(c, names, slot) {
  const show = (form) => () => slot.replaceChildren(form);
  const canFile = me && CAN_PROPOSE.includes(me.role);
  const written = c.reports.filter((r) => r.kind === "written").pop();
  return h("div", { class: "panel", "data-case": c.case.id },
    h("h3", {}, `${names[c.case.mn] || c.case.mn} · ${t("kind:" + c.case.kind)} ${c.case.pollutant || ""} · ${fmtTime(c.case.opened_at)}${zone()}`),
    dueTable(c),
    written ? h("p", { class: "muted report-state" }, `${t("kind:written")} #${written.id}: ${t("report:" + written.state)}`,
      written.review_note ? ` — ${written.review_note}` : "") : null,
    canFile ? h("p", {},
      h("button", { type: "button", class: "act", id: `file-report-${c.case.id}`, onclick: show(reportForm(c, "written")) }, t("file_report")),
      h("button", { type: "button", class: "act", id: `enter-sample-${c.case.id}`, onclick: show(sampleForm(c)) }, t("enter_sample")),
      h("button", { type: "button", class: "act", id: `file-restoration-${c.case.id}`, onclick: show(reportForm(c, "restoration")) }, t("file_restoration")))
      : null);
}

function reviewButtons(item, path, yes, no, yesBody, noBody) {
  const act = (key, body) => async () => {
    const note = await ask(t("sure_" + key), key !== yes);
    if (note === null) return;
    try { await api(path, body(note)); } catch (e) { alert(e.message); }
    refresh();  // a form page: not refreshed by the dialog's closing
  };
  return h("td", {}, h("button", { type: "button", class: `act ${yes}`, onclick: act(yes, yesBody) }, t(yes)),
    h("button", { type: "button", class: `act ${no}`, onclick: act(no, noBody) }, t(no)));
}

function reportRows(list, withActions) {
  return list.map((r) => h("tr", { "data-report": r.id }, h("td", {}, `#${r.id}`), h("td", {}, r.mn),
    h("td", {}, t("kind:" + r.kind)), h("td", {}, r.filed_by), h("td", {}, fmtTime(r.filed_at)),
    h("td", {}, r.cause), withActions ? reviewButtons(r, `/reports/${r.id}/review`, "acknowledge", "return",
      () => ({ decision: "acknowledge" }), (note) => ({ decision: "return", note })) : h("td", {}, r.review_note)));
}

function reviewDesk(q) {
  const heads = ["id", "mn", "kind", "filed_by", "filed_at", "cause", ""];
  const section = (key, rows) => [h("h3", {}, t(key), ` (${rows.length})`),
    rows.length ? table(heads, rows) : h("p", { class: "muted" }, t("none"))];
  const samples = q.samples.map((x) => h("tr", { "data-sample": x.id }, h("td", {}, `#${x.id}`), h("td", {}, x.mn),
    h("td", {}, x.pollutant), h("td", {}, `${x.value} ${x.unit}`), h("td", {}, fmtTime(x.sampled_at)),
    h("td", {}, x.laboratory), reviewButtons(x, `/samples/${x.id}/review`, "accept", "reject",
      () => ({ accept: true }), (note) => ({ accept: false, note }))));
  return h("div", { id: "review-desk" }, h("h2", {}, t("reviews")),
    ...section("waiting", reportRows(q.waiting, true)), ...section("returned_list", reportRows(q.returned, false)),
    ...section("late_list", reportRows(q.late, false)),
    h("h3", {}, t("samples_pending"), ` (${q.samples.length})`),
    q.samples.length ? table(["id", "mn", "factor", "value", "sampled_at", "laboratory", ""], samples)
      : h("p", { class: "muted" }, t("none")));
}

// After a filing only the list of cases is drawn again: the other forms keep their input.
let reloadCases = async () => {};

async function casesPage(main) {
  const [open, stations] = await Promise.all([api("/cases/open"), api("/stations")]);
  const names = Object.fromEntries(stations.map((st) => [st.mn, st.name]));
  const slot = h("div", { id: "case-form" });
  const list = h("div", { id: "case-list" });
  const draw = (cases) => list.replaceChildren(...(cases.length ? cases.map((c) => caseCard(c, names, slot))
    : [h("p", { class: "muted" }, t("no_cases"))]));
  reloadCases = async () => { draw(await api("/cases/open")); };
  draw(open);
  const parts = [h("h2", {}, t("my_cases")), list, slot];
  if (me && CAN_PROPOSE.includes(me.role)) parts.push(h("div", { class: "grid2" }, noticeForm(stations), markForm(stations)));
  if (me && CAN_REVIEW.includes(me.role)) parts.push(reviewDesk(await api("/reviews")));
  main.replaceChildren(...parts.flat());
}

// Manual samples of a factor in a chart's window, drawn by app.js's chart as their own series.
async function manualSeries(mn, pollutant, start, end) {
  if (!pollutant || !start || !end) return [];
  return api(`/stations/${encodeURIComponent(mn)}/samples?pollutant=${pollutant}` +
    `&start=${encodeURIComponent(start)}&end=${encodeURIComponent(end)}`);
}

// The station page's list of manual samples (hooked in by app.js).
async function manualPanel(mn, pollutant) {
  const end = new Date(), start = new Date(end - 30 * 864e5);
  const found = await api(`/stations/${encodeURIComponent(mn)}/samples?start=${encodeURIComponent(start.toISOString())}&end=${encodeURIComponent(end.toISOString())}` +
    (pollutant ? `&pollutant=${pollutant}` : ""));
  return h("div", { id: "manual-samples" }, h("h3", {}, t("manual")),
    found.length ? table(["sampled_at", "factor", "value", "unit", "laboratory", "sample_state"], found.map((x) =>
      h("tr", {}, h("td", {}, fmtTime(x.sampled_at)), h("td", {}, x.pollutant), h("td", { class: "num" }, fmtNum(x.value)),
        h("td", {}, x.unit), h("td", {}, x.laboratory), h("td", {}, t("sample:" + x.state)))))
      : h("p", { class: "muted" }, t("none")));
}

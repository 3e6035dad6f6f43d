// Data correction (#/corrections, 数据修正): the enterprise proposes a corrected value of a
// wrong hour or a substitution of a missing one by rule, with its reason and vouchers;
// a regulator of the station's region approves, returns or rejects it
// (docs/corrections.md). Loaded after app.js and cases.js, whose helpers (h, t, api,
// table, fmtTime, fmtNum, ask, me; send, input, val, fileBody, asBeijing) it uses;
// every value from the server goes in through textContent.
"use strict";

Object.assign(TEXT.zh, {
  corrections: "数据修正", propose_correction: "申请修正或修约", correction_list: "修正记录",
  hour_start: "小时（起始时间）", corr_kind: "方式", "corr:correction": "修正（更正错误值）",
  "corr:substitution": "修约（按规则替代缺失/无效值）", new_value: "修正值", rule: "修约规则",
  "rule:hj75-mean-adjacent": "HJ/T 75 缺失 1-24 小时：前后有效小时均值", original: "原始值",
  proposed_by: "申请人", proposed_at: "申请时间", reviewed_by: "审核人", review_note: "审核意见",
  approve: "通过", "corr-return": "退回", "corr-reject": "驳回", sure_approve: "通过此修正？",
  "sure_corr-return": "退回此修正（请写明原因）：", "sure_corr-reject": "驳回此修正（请写明原因）：",
  "cstate:pending": "待审核", "cstate:approved": "已通过", "cstate:returned": "已退回",
  "cstate:rejected": "已驳回", corr_note: "修约值只用于排放量核算，不参与超标判定；原始数据不变。",
});
Object.assign(TEXT.en, {
  corrections: "Corrections", propose_correction: "Propose a correction or substitution",
  correction_list: "Corrections", hour_start: "Hour (its start)", corr_kind: "How",
  "corr:correction": "Correction (a wrong value)", "corr:substitution": "Substitution (a missing or invalid value, by rule)",
  new_value: "Corrected value", rule: "Rule",
  "rule:hj75-mean-adjacent": "HJ/T 75, gap of 1-24 h: mean of the valid hours either side",
  original: "Original", proposed_by: "Proposed by", proposed_at: "Proposed at",
  reviewed_by: "Reviewer", review_note: "Review note", approve: "Approve", "corr-return": "Return",
  "corr-reject": "Reject", sure_approve: "Approve this correction?",
  "sure_corr-return": "Return this correction (say why):", "sure_corr-reject": "Reject this correction (say why):",
  "cstate:pending": "pending", "cstate:approved": "approved", "cstate:returned": "returned",
  "cstate:rejected": "rejected",
  corr_note: "Substituted values count in emission totals only, never in exceedance; the raw data stay as they were.",
});
for (const key of ["hour_start", "proposed_at"]) TIMED.add(key);
FORM_PAGES.add("/corrections");  // its form would be wiped by polling

function correctionForm(list) {
  const pick = h("select", { id: "c-mn" }, list.stations.map((st) => h("option", { value: st.mn }, `${st.name} (${st.mn})`)));
  const kind = h("select", { id: "c-kind" }, ["correction", "substitution"].map((k) => h("option", { value: k }, t("corr:" + k))));
  const rule = h("select", { id: "c-rule" }, list.rules.map((r) => h("option", { value: r }, t("rule:" + r))));
  const value = input("c-value", "new_value", { type: "number", step: "any" });
  const ruleField = h("label", { class: "field", id: "c-rule-field" }, h("span", {}, t("rule")), rule);
  // .field sets display, which the hidden attribute would not override
  const shown = () => {
    value.style.display = kind.value === "correction" ? "" : "none";
    ruleField.style.display = kind.value === "correction" ? "none" : "";
  };
  kind.addEventListener("change", shown);
  shown();
  const form = h("form", { class: "panel stack", id: "correction-form" }, h("h3", {}, t("propose_correction")),
    h("label", { class: "field" }, h("span", {}, t("station")), pick),
    input("c-pollutant", "factor", { value: "a21026", size: 8 }),
    input("c-at", "hour_start", { type: "datetime-local", step: 3600 }),
    h("label", { class: "field" }, h("span", {}, t("corr_kind")), kind), value, ruleField,
    input("c-reason", "reason", { rows: 2 }), input("c-files", "attachments", { type: "file", multiple: true }),
    h("p", { class: "muted" }, t("corr_note")),
    h("p", { id: "c-msg" }), h("button", { type: "submit", id: "c-submit" }, t("submit")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const correcting = kind.value === "correction";
    const body = { mn: pick.value, pollutant: val(form, "c-pollutant"), data_time: asBeijing(val(form, "c-at")),
      kind: kind.value, reason: val(form, "c-reason"), attachments: await fileBody(form.querySelector("#c-files")) };
    if (correcting) body.new_value = val(form, "c-value") === "" ? null : Number(val(form, "c-value"));
    else body.rule = rule.value;
    if (await send("/corrections", body, form.querySelector("#c-msg"))) reloadCorrections();
  });
  return form;
}

function correctionReview(c) {
  const act = (key, outcome) => async () => {
    const note = await ask(t("sure_" + key), key !== "approve");
    if (note === null) return;
    try { await api(`/corrections/${c.id}/review`, { outcome, note }); } catch (e) { alert(e.message); }
    reloadCorrections();
  };
  return h("td", {},
    h("button", { type: "button", class: "act approve", onclick: act("approve", "approved") }, t("approve")),
    h("button", { type: "button", class: "act return", onclick: act("corr-return", "returned") }, t("corr-return")),
    h("button", { type: "button", class: "act reject", onclick: act("corr-reject", "rejected") }, t("corr-reject")));
}

function correctionRows(list) {
  const canReview = me && CAN_REVIEW.includes(me.role);
  return list.corrections.map((c) => h("tr", { "data-correction": c.id, "data-state": c.state },
    h("td", {}, `#${c.id}`), h("td", {}, c.station), h("td", {}, c.pollutant), h("td", {}, fmtTime(c.data_time)),
    h("td", {}, t("corr:" + c.kind).split(/[（(]/)[0].trim(), c.rule ? ` · ${c.rule}` : ""),
    h("td", { class: "num" }, fmtNum(c.original)), h("td", { class: "num" }, fmtNum(c.new_value)),
    h("td", {}, c.reason, c.attachments.length ? ` (${c.attachments.length} ${t("attachments")})` : ""),
    h("td", {}, c.proposed_by), h("td", {}, fmtTime(c.proposed_at)),
    h("td", { class: "corr-state" }, t("cstate:" + c.state), c.reviewed_by ? ` · ${c.reviewed_by}` : "",
      c.review_note ? ` — ${c.review_note}` : ""),
    canReview && c.state === "pending" && c.proposed_by !== me.name ? correctionReview(c) : h("td", {})));
}

// After a proposal or a review only the list is drawn again: the form keeps its input.
let reloadCorrections = async () => {};

async function correctionsPage(main) {
  const first = await api("/corrections");
  const list = h("div", { id: "correction-list" });
  const heads = ["id", "station", "factor", "hour_start", "corr_kind", "original", "new_value", "reason",
    "proposed_by", "proposed_at", "state", ""];
  const draw = (found) => list.replaceChildren(found.corrections.length ? table(heads, correctionRows(found))
    : h("p", { class: "muted" }, t("none")));
  reloadCorrections = async () => { draw(await api("/corrections")); };
  draw(first);
  const parts = [h("h2", {}, t("corrections"))];
  if (me && CAN_PROPOSE.includes(me.role)) parts.push(correctionForm(first));
  parts.push(h("h3", {}, t("correction_list")), list);
  main.replaceChildren(...parts);
}

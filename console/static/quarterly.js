// The quarterly direct report (#/quarterly, docs/quarterly.md §6): the quarter's status
// of every reporting enterprise in the user's jurisdiction with its three deadlines;
// one submission with its lines, frozen versions (hash verified), reviews and the
// differences between versions; the steps the signed-in user may take (an enterprise:
// pre-fill, correct with a reason, submit; a city: return or forward; a province:
// return or approve). Loaded after app.js, whose helpers (h, t, api, table, fmtTime,
// fmtNum, ask, me) it uses; every value from the server goes in through textContent.
"use strict";

Object.assign(TEXT.zh, {
  quarterly: "季度直报", quarter: "季度", q_enterprise: "企业", q_region: "行政区",
  q_state: "状态", q_due_enterprise: "企业上报期限", q_due_city: "市级审核期限",
  q_due_province: "省级审核期限", q_open: "打开", q_prefill: "生成草稿", q_late: "逾期",
  q_lines: "填报数据", q_outlet: "排口", q_month: "月份", q_item: "项目", q_unit: "单位",
  q_computed: "平台核算值", q_amount: "填报值", q_reason: "修改原因", q_save: "保存修改",
  q_submit: "提交", q_versions: "已提交版本", q_version: "版本", q_sha: "SHA-256",
  q_submitted: "提交时间", q_verified: "校验", q_reviews: "审核记录", q_level: "层级",
  q_outcome: "结论", q_comment: "意见", q_reviewer: "审核人", q_diff: "版本差异",
  q_field: "字段", q_old: "原值", q_new: "新值", q_export: "导出", q_none: "无需上报的企业",
  q_saved: "已保存", q_sure_submit: "提交此版本？提交后即冻结并计算哈希。",
  q_sure: "审核意见：", q_manual: "含人工数据", "qs:none": "未填报", "qs:draft": "草稿",
  "qs:submitted": "已提交，待市级审核", "qs:city-returned": "市级退回", "qs:city-forwarded": "市级已上报，待省级审核",
  "qs:province-returned": "省级退回", "qs:approved": "省级已审定", "qo:returned": "退回",
  "qo:forwarded": "审核通过并上报", "qo:approved": "审定", "ql:city": "市级", "ql:province": "省级",
  "ql:enterprise": "企业", q_ok: "一致", q_broken: "不一致",
  "item:w00000": "废水排放量", "item:w01018": "化学需氧量", "item:w21003": "氨氮",
  "item:a00000": "废气排放量", "item:a21026": "二氧化硫", "item:a21002": "氮氧化物", "item:a34013": "烟尘",
});
Object.assign(TEXT.en, {
  quarterly: "Quarterly report", quarter: "Quarter", q_enterprise: "Enterprise", q_region: "Region",
  q_state: "State", q_due_enterprise: "Enterprise due", q_due_city: "City due",
  q_due_province: "Province due", q_open: "Open", q_prefill: "Pre-fill", q_late: "late",
  q_lines: "Lines", q_outlet: "Outlet", q_month: "Month", q_item: "Item", q_unit: "Unit",
  q_computed: "Computed", q_amount: "Reported", q_reason: "Reason for a change", q_save: "Save changes",
  q_submit: "Submit", q_versions: "Submitted versions", q_version: "Version", q_sha: "SHA-256",
  q_submitted: "Submitted", q_verified: "Hash", q_reviews: "Reviews", q_level: "Level",
  q_outcome: "Outcome", q_comment: "Comment", q_reviewer: "Reviewer", q_diff: "Changes between versions",
  q_field: "Field", q_old: "Old", q_new: "New", q_export: "Export", q_none: "No reporting enterprise",
  q_saved: "Saved", q_sure_submit: "Submit this version? It is frozen and hashed.",
  q_sure: "Review comment:", q_manual: "manual data", "qs:none": "not filed", "qs:draft": "draft",
  "qs:submitted": "submitted, with the city", "qs:city-returned": "returned by the city",
  "qs:city-forwarded": "forwarded, with the province", "qs:province-returned": "returned by the province",
  "qs:approved": "approved", "qo:returned": "Return", "qo:forwarded": "Forward", "qo:approved": "Approve",
  "ql:city": "city", "ql:province": "province", "ql:enterprise": "enterprise", q_ok: "matches",
  q_broken: "BROKEN",
  "item:w00000": "Waste water", "item:w01018": "COD", "item:w21003": "NH3-N", "item:a00000": "Flue gas",
  "item:a21026": "SO2", "item:a21002": "NOx", "item:a34013": "Particulates",
});
FORM_PAGES.add("/quarterly");  // its forms are not wiped by polling

let quarterShown = null;
let submissionShown = null;

async function quarterlyPage(main) {
  const data = await api("/quarterly" + (quarterShown ? `?quarter=${quarterShown}` : ""));
  quarterShown = data.quarter;
  const pick = h("input", { id: "q-quarter", value: data.quarter, size: 7, pattern: "[0-9]{4}Q[1-4]" });
  const go = h("button", { type: "button", onclick: () => { quarterShown = pick.value.trim().toUpperCase(); submissionShown = null; refresh(); } }, "→");
  const detail = h("div", { id: "q-detail" });
  const due = (d, level) => h("td", { class: d.late.includes(level) ? "overdue" : "", title: fmtTime(d.deadlines[level]) },
    d.days[level], d.late.includes(level) ? ` ${t("q_late")}` : "");
  const rows = data.enterprises.map((d) => h("tr", { "data-enterprise": d.enterprise },
    h("td", {}, d.enterprise), h("td", {}, d.region_code), h("td", { class: "q-state" }, t("qs:" + d.state)),
    due(d, "enterprise"), due(d, "city"), due(d, "province"),
    h("td", {}, d.submission_id ? h("button", { type: "button", class: "q-open",
      onclick: () => showSubmission(detail, d.submission_id) }, t("q_open"))
      : me.role === "enterprise" ? h("button", { type: "button", id: "q-prefill", onclick: async () => {
        const made = await api("/quarterly/prefill", { enterprise_id: d.enterprise_id, quarter: data.quarter });
        submissionShown = made.id; refresh();
      } }, t("q_prefill")) : "—")));
  main.append(h("h2", {}, t("quarterly"), " ", pick, go),
    rows.length ? table(["q_enterprise", "q_region", "q_state", "q_due_enterprise", "q_due_city",
      "q_due_province", ""], rows) : h("p", { class: "muted" }, t("q_none")), detail);
  if (submissionShown) await showSubmission(detail, submissionShown);
  if (me.role === "administrator") main.append(await enterpriseRegister());
}

function linesTable(sub) {
  const inputs = [];
  const rows = sub.lines.map((x) => {
    const amount = h("input", { class: "q-amount", type: "number", step: "any", min: 0, value: x.amount,
      disabled: !sub.editable });
    const reason = h("input", { class: "q-reason", value: x.reason || "", disabled: !sub.editable });
    inputs.push({ line: x, amount, reason });
    return h("tr", { "data-line": `${x.mn}/${x.month}/${x.item}`, class: x.corrected ? "corrected" : "" },
      h("td", {}, x.outlet), h("td", {}, x.month), h("td", {}, TEXT[lang]["item:" + x.item] || x.item),
      h("td", {}, x.unit), h("td", { class: "num" }, fmtNum(x.computed),
        x.manual_hours ? h("span", { class: "badge" }, ` ${t("q_manual")}`) : null),
      h("td", {}, amount), h("td", {}, reason));
  });
  return { inputs, el: table(["q_outlet", "q_month", "q_item", "q_unit", "q_computed", "q_amount", "q_reason"], rows) };
}

async function showSubmission(slot, id) {
  submissionShown = id;
  const sub = await api(`/quarterly/${id}`);
  const lines = linesTable(sub);
  const msg = h("p", { id: "q-message", class: "muted" });
  const fail = (e) => { msg.className = "error"; msg.textContent = String(e.message); };
  const actions = h("div", { class: "actions" });
  if (sub.editable) {
    actions.append(h("button", { type: "button", id: "q-save", onclick: async () => {
      const changes = lines.inputs.filter((i) => Number(i.amount.value) !== i.line.amount || i.reason.value !== (i.line.reason || ""))
        .map((i) => ({ mn: i.line.mn, month: i.line.month, item: i.line.item, amount: Number(i.amount.value),
          reason: i.reason.value, attachment: i.line.attachment }));
      if (!changes.length) return;
      try { await api(`/quarterly/${id}/correct`, { changes }); await showSubmission(slot, id); }
      catch (e) { fail(e); }
    } }, t("q_save")), " ", h("button", { type: "button", id: "q-submit", onclick: async () => {
      if (await ask(t("q_sure_submit"), false) === null) return;
      try { await api(`/quarterly/${id}/submit`, { note: "" }); refresh(); } catch (e) { fail(e); }
    } }, t("q_submit")));
  }
  for (const outcome of sub.reviewable) {
    actions.append(h("button", { type: "button", class: "q-review", "data-outcome": outcome, onclick: async () => {
      const comment = await ask(t("q_sure") + " " + t("qo:" + outcome), true);
      if (comment === null) return;
      try { await api(`/quarterly/${id}/review`, { outcome, comment }); refresh(); } catch (e) { fail(e); }
    } }, t("qo:" + outcome)), " ");
  }
  if (sub.version) {
    for (const f of ["csv", "xlsx", "pdf"]) {
      actions.append(h("a", { href: `/api/quarterly/${id}/export?format=${f}`, class: "q-export" }, `${t("q_export")} ${f.toUpperCase()}`), " ");
    }
  }
  const versions = table(["q_version", "q_sha", "q_submitted", "q_late", "q_verified"], sub.versions.map((v) =>
    h("tr", {}, h("td", {}, String(v.version)), h("td", { title: v.sha256 }, v.sha256.slice(0, 16) + "…"),
      h("td", {}, fmtTime(v.submitted_at)), h("td", {}, v.late ? t("q_late") : ""),
      h("td", { class: v.verified ? "" : "overdue" }, v.verified ? t("q_ok") : t("q_broken")))));
  const reviews = table(["q_level", "q_outcome", "q_reviewer", "time", "q_comment"], sub.reviews.map((r) =>
    h("tr", {}, h("td", {}, t("ql:" + r.level)), h("td", {}, t("qo:" + r.outcome)), h("td", {}, r.reviewer),
      h("td", {}, fmtTime(r.at)), h("td", {}, r.comment))));
  const parts = [h("h3", { id: "q-title" }, `${sub.enterprise} ${sub.quarter}: ${t("qs:" + sub.state)}`), actions, msg,
    h("h4", {}, t("q_versions")), versions, h("h4", {}, t("q_reviews")), reviews];
  if (sub.versions.length >= 2) {
    const n = sub.versions.length;
    const changes = await api(`/quarterly/${id}/diff?old=${n - 1}&new=${n}`);
    parts.push(h("h4", {}, `${t("q_diff")} ${n - 1} → ${n}`), table(["q_outlet", "q_month", "q_item", "q_field", "q_old", "q_new", "q_reason"],
      changes.map((c) => h("tr", {}, h("td", {}, c.mn), h("td", {}, c.month), h("td", {}, c.item), h("td", {}, c.field),
        h("td", { class: "num" }, String(c.old)), h("td", { class: "num" }, String(c.new)), h("td", {}, c.reason)))));
  }
  parts.push(h("h4", {}, t("q_lines")), lines.el);
  slot.replaceChildren(...parts);
}

// The enterprise register (docs/quarterly.md §1), for administrators: add an enterprise
// with its credit code (checked by the server, GB 32100-2015), rename one with a reason.
Object.assign(TEXT.zh, {
  q_register: "企业名录", q_code: "统一社会信用代码", q_name: "名称", q_add: "登记企业",
  q_rename: "更名", q_new_name: "新名称", q_rename_reason: "更名原因",
});
Object.assign(TEXT.en, {
  q_register: "Enterprise register", q_code: "Credit code", q_name: "Name", q_add: "Register",
  q_rename: "Rename", q_new_name: "New name", q_rename_reason: "Reason",
});

async function enterpriseRegister() {
  const found = await api("/enterprises");
  const msg = h("p", { id: "e-message", class: "muted" });
  const fail = (e) => { msg.className = "error"; msg.textContent = String(e.message); };
  const rows = found.map((e) => {
    const name = h("input", { class: "e-new-name", placeholder: t("q_new_name") });
    const reason = h("input", { class: "e-reason", placeholder: t("q_rename_reason") });
    return h("tr", { "data-enterprise-id": String(e.id) }, h("td", {}, String(e.id)), h("td", { class: "e-name" }, e.name),
      h("td", {}, e.credit_code || "—"), h("td", {}, e.region_code || "—"),
      h("td", {}, name, " ", reason, " ", h("button", { type: "button", class: "e-rename", onclick: async () => {
        try { await api(`/enterprises/${e.id}/rename`, { name: name.value, reason: reason.value }); refresh(); }
        catch (err) { fail(err); }
      } }, t("q_rename"))));
  });
  const fields = { name: h("input", { id: "e-name" }), credit_code: h("input", { id: "e-code", size: 20 }),
    region_code: h("input", { id: "e-region", size: 7 }) };
  const add = h("button", { type: "button", id: "e-add", onclick: async () => {
    const body = Object.fromEntries(Object.entries(fields).map(([k, el]) => [k, el.value.trim() || null]));
    try { await api("/enterprises", body); refresh(); } catch (err) { fail(err); }
  } }, t("q_add"));
  return h("div", { id: "enterprise-register" }, h("h3", {}, t("q_register")),
    table(["id", "q_name", "q_code", "q_region", ""], rows),
    h("p", {}, h("label", {}, t("q_name"), " ", fields.name), " ", h("label", {}, t("q_code"), " ", fields.credit_code), " ",
      h("label", {}, t("q_region"), " ", fields.region_code), " ", add), msg);
}

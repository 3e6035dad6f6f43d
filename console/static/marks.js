// Data marks (#/marks, 数据审核): the proposals of the jurisdiction by state, each with its
// period, reason and attachments; a regulator approves or rejects with a note (another
// user than the proposer: storage/marks.py); the proposal form is the case desk's
// (cases.js markForm). docs/console.md §1. Uses app.js, names.js and cases.js helpers.
"use strict";

Object.assign(TEXT.zh, {
  marks_page: "数据标记审核", proposed_by: "申请人", proposed_at: "申请时间", approve: "批准",
  sure_approve: "批准此标记申请？", sure_reject_mark: "驳回此标记申请（请写明原因）：", reports: "报表",
  "mark:pending": "待审核", "mark:approved": "已批准", "mark:rejected": "已驳回", "mark:all": "全部",
  period: "时段", reviewed_by: "审核人",
});
Object.assign(TEXT.en, {
  marks_page: "Data mark review", proposed_by: "Proposed by", proposed_at: "Proposed at",
  approve: "Approve", sure_approve: "Approve this mark?", sure_reject_mark: "Reject this mark (why):",
  reports: "Reports", "mark:pending": "pending", "mark:approved": "approved", "mark:rejected": "rejected",
  "mark:all": "all", period: "Period", reviewed_by: "Reviewed by",
});
TIMED.add("proposed_at");
FORM_PAGES.add("/marks");  // the proposal form would be wiped by polling
const markView = { state: "pending" };

async function marksPage(main) {
  const [list, stations] = await Promise.all([api(`/mark-requests?state=${markView.state}`), api("/stations")]);
  const canReview = me && ["administrator", "operator"].includes(me.role);
  const review = (r, approve) => async () => {
    const note = await ask(`${t(approve ? "sure_approve" : "sure_reject_mark")} #${r.id} ${r.station}`, true);
    if (note === null) return;
    try { await api(`/mark-requests/${r.id}/review`, { approve, note }); } catch (e) { alert(e.message); }
    marksPage(document.getElementById("main"));
  };
  const states = h("select", { id: "mark-state", onchange: (e) => { markView.state = e.target.value; refresh(); } },
    ["pending", "approved", "rejected", "all"].map((k) => h("option", { value: k, selected: markView.state === k }, t("mark:" + k))));
  main.replaceChildren(h("h2", {}, `${t("marks_page")} `, states),
    list.length ? table(["station", "kind", "factor", "period", "reason", "attachments", "proposed_by", "proposed_at",
      "state", "reviewed_by", ""], list.map((r) => h("tr", { "data-mark": r.id },
      h("td", {}, h("a", { href: "#/station/" + encodeURIComponent(r.mn) }, r.station)),
      h("td", {}, t("kind:" + r.kind)), factorCell(r.pollutant),
      h("td", {}, `${fmtTime(r.start)} — ${fmtTime(r.end)}`), h("td", {}, r.reason),
      h("td", {}, r.attachments.map((a) => a.name).join("、")), h("td", {}, r.requested_by),
      h("td", {}, fmtTime(r.requested_at)), h("td", { class: "state" }, t("mark:" + r.state)),
      h("td", {}, r.reviewed_by ? `${r.reviewed_by} ${r.review_note || ""}` : "—"),
      h("td", {}, canReview && r.state === "pending" && r.requested_by !== me.name ? [
        h("button", { type: "button", class: "act approve", onclick: review(r, true) }, t("approve")),
        h("button", { type: "button", class: "act reject", onclick: review(r, false) }, t("reject"))] : null))))
      : h("p", { class: "muted" }, t("none")),
    me && CAN_PROPOSE.includes(me.role) ? markForm(stations) : null);
  if (main.isConnected) exportButtons(main);
}

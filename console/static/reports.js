// Reports (#/reports): the transmission-rate or emission report of a day, month,
// quarter or year for a region, viewed on the page and downloaded as xlsx, csv, html
// or pdf (GET /api/reports/{kind}; reports/). docs/console.md §1. Uses app.js helpers.
"use strict";

Object.assign(TEXT.zh, {
  report_kind: "报表", "report:transmission": "有效传输率报表", "report:emissions": "排放量报表",
  period_hint: "时段（日 2026-10-03、月 2026-10、季度 2026Q3、年 2026）", view: "查看", download: "下载",
});
Object.assign(TEXT.en, {
  report_kind: "Report", "report:transmission": "Transmission rates", "report:emissions": "Emissions",
  period_hint: "Period (day 2026-10-03, month 2026-10, quarter 2026Q3, year 2026)", view: "View",
  download: "Download",
});
FORM_PAGES.add("/reports");  // a report is made on request, not polled

function thisMonth() {
  return beijing(Date.now()).slice(0, 7);
}
const reportView = { kind: "transmission", period: null, region: "" };

async function reportsPage(main) {
  reportView.period = reportView.period || thisMonth();
  const kind = h("select", { id: "report-kind" }, ["transmission", "emissions"].map((k) =>
    h("option", { value: k, selected: reportView.kind === k }, t("report:" + k))));
  const period = h("input", { id: "report-period", value: reportView.period, size: 10 });
  const codes = Object.keys((NAMES && NAMES.regions) || {}).sort();
  const region = h("select", { id: "report-region" }, [h("option", { value: "" }, t("all")),
    ...codes.map((c) => { const p = c.endsWith("0000") ? c.slice(0, 2) : c.endsWith("00") ? c.slice(0, 4) : c;
      return h("option", { value: p, selected: reportView.region === p }, regionName(c)); })]);
  const frame = h("iframe", { id: "report-frame", class: "report", title: "report", sandbox: "" });
  const msg = h("span", { id: "report-msg", class: "muted" });
  const query = (format) => {
    Object.assign(reportView, { kind: kind.value, period: period.value.trim(), region: region.value });
    const q = new URLSearchParams({ period: reportView.period, format });
    if (reportView.region) q.set("region", reportView.region);
    return `/api/reports/${reportView.kind}?${q}`;
  };
  const view = async () => {
    msg.textContent = "…";
    const r = await fetch(query("html"));
    if (!r.ok) { msg.className = "error"; msg.textContent = (await r.json().catch(() => ({}))).detail || r.status; return; }
    frame.srcdoc = await r.text();
    msg.className = "muted"; msg.textContent = "";
  };
  const get = (format) => async () => {
    const r = await fetch(query(format));
    if (!r.ok) { msg.className = "error"; msg.textContent = (await r.json().catch(() => ({}))).detail || r.status; return; }
    download(await r.blob(), `${reportView.kind}-${reportView.period}.${format}`);  // export.js
    msg.className = "ok"; msg.textContent = `${t("download")} ${format}`;
  };
  main.replaceChildren(h("h2", {}, t("reports")),
    h("p", { class: "filters" }, `${t("report_kind")} `, kind, ` ${t("period_hint")} `, period, ` ${t("region")} `, region, " ",
      h("button", { type: "button", id: "report-view", onclick: view }, t("view")), " ",
      ...["xlsx", "csv", "html", "pdf"].map((f) => h("button", { type: "button", id: "report-" + f, onclick: get(f) },
        `${t("download")} ${f}`)), " ", msg),
    frame);
}

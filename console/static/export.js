// Every table on a page exports to Excel: a button before it sends what the table shows
// (names, not codes) to POST /api/export.xlsx, which writes the workbook (openpyxl).
// docs/console.md §1. Uses app.js helpers.
"use strict";

Object.assign(TEXT.zh, { to_xlsx: "导出 Excel" });
Object.assign(TEXT.en, { to_xlsx: "Export to Excel" });

function download(blob, name) {
  const a = h("a", { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

function tableTitle(el) {
  let at = el.previousElementSibling;
  while (at && !/^H[23]$/.test(at.tagName)) at = at.previousElementSibling;
  if (!at && el.parentElement) {
    const inside = el.parentElement.querySelector("h3");
    if (inside) at = inside;
  }
  const page = document.querySelector("main h2");
  const words = [page && page.textContent, at && at !== page && at.textContent].filter(Boolean);
  return words.join(" - ").replace(/[\\/:*?"<>|\[\]]/g, " ").trim().slice(0, 90) || "table";
}

async function exportTable(el, title) {
  const text = (cell) => cell.querySelector("select,input,button") ? "" : cell.textContent.trim();
  const columns = [...el.querySelectorAll("thead th")].map((th) => th.textContent.trim() || "—");
  const rows = [...el.querySelectorAll("tbody tr")].map((tr) => [...tr.children].map(text))
    .filter((r) => r.length === columns.length);
  const r = await fetch("/api/export.xlsx", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ title, columns, rows }) });
  if (!r.ok) { alert((await r.json().catch(() => ({}))).detail || r.status); return; }
  download(await r.blob(), `${title}.xlsx`);
}

// called by refresh() on each page it renders
function exportButtons(main) {
  main.querySelectorAll("table").forEach((el, i) => {
    if (!el.querySelector("thead")) return;
    const button = h("button", { type: "button", class: "to-xlsx", "data-table": i,
      onclick: () => exportTable(el, tableTitle(el)) }, t("to_xlsx"));
    el.before(h("div", { class: "export" }, button));
  });
}

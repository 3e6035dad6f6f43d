// The station page (#/station/MN): status, the chart of one factor (SVG, with its
// limit line, flagged points, marked periods and manual samples) and the several-factor
// chart (charts.js), live values with names and units, open cases with what is still
// expected of whom, the station's alarm history, emissions, commands, recent frames,
// and for inspectors the evidence export. docs/console.md §5-§6.
// Loaded after app.js, names.js, alarms.js and cases.js, whose helpers it uses.
"use strict";

Object.assign(TEXT.zh, {
  timeline: "时间线", add_note: "添加备注", "ev:opened": "立案", "ev:closed": "结案", "ev:note": "备注",
  evidence: "导出证据包", evidence_from: "证据时段自", evidence_hours: "小时数",
  evidence_done: "证据包已下载", phase: "当前情况", expected_of: "待办（责任方）",
  "phase:silent": "仍无数据：联网中断", "phase:stopped": "已恢复联网，企业报告停产（F）且无流量：停运时段不计入考核",
  "phase:flag-without-stop": "已恢复联网，数据标记F但仍有流量/工况：按无效数据处理",
  "phase:invalid": "已恢复联网，数据无效", "phase:valid": "有效数据已恢复，案件将关闭",
  "who:enterprise": "企业", "who:regulator": "监管部门", "who:engine": "系统",
  "what:restore-link": "恢复联网", "what:stop-notice": "提交停产说明/停运标记申请",
  "what:review-stop": "审核停产说明", "what:valid-data": "恢复有效数据", "what:close": "关闭案件",
  legend_flag: "红点：非正常标记数据", legend_mark: "橙色区域：已批准的数据标记", legend_limit: "红色虚线：排放限值",
  flags_legend: "标记：N 正常，F 停运，D 故障，M 维护，C 校准，T 超量程，S 设定值，B 通讯异常",
});
Object.assign(TEXT.en, {
  timeline: "Timeline", add_note: "Add a note", "ev:opened": "opened", "ev:closed": "closed", "ev:note": "note",
  evidence: "Export evidence bundle", evidence_from: "Evidence from", evidence_hours: "Hours",
  evidence_done: "Evidence bundle downloaded", phase: "Now", expected_of: "Still expected (of whom)",
  "phase:silent": "still silent: outage", "phase:stopped": "link back; plant reports stopped (F, no flow): hours out of the period",
  "phase:flag-without-stop": "link back; F yet the unit runs: invalid data",
  "phase:invalid": "link back; data invalid", "phase:valid": "valid data again: the case closes",
  "who:enterprise": "enterprise", "who:regulator": "regulator", "who:engine": "system",
  "what:restore-link": "restore the link", "what:stop-notice": "file the stop notice / shutdown mark",
  "what:review-stop": "review the stop notice", "what:valid-data": "valid data again", "what:close": "close the case",
  legend_flag: "red dots: flagged data", legend_mark: "orange: approved data marks", legend_limit: "red dashes: limit",
  flags_legend: "Flags: N normal, F stopped, D fault, M maintenance, C calibration, T over range, S set value, B link fault",
});

const CNS = [["2011", "rt"], ["2051", "minute"], ["2061", "hour"], ["2031", "day"]];
const HOURS = { "2011": 6, "2051": 48, "2061": 24 * 7, "2031": 24 * 31 };
const view = { pollutant: null, cn: "2011" };

function chart(series) {
  const W = 900, H = 280, L = 50, R = 10, T = 10, B = 30;
  const svg = s("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img",
    "data-points": series.points.length });
  // The window, narrowed to the data when there is less of it (a station just started).
  const t1 = new Date(series.end).getTime();
  const first = series.points.length ? new Date(series.points[0].data_time).getTime() : 0;
  const t0 = Math.max(new Date(series.start).getTime(), first - 0.02 * (t1 - first)) || t1 - 3.6e6;
  const vals = series.points.flatMap((p) => [p.value, p.converted]).filter((v) => v !== null && v !== undefined);
  if (series.limit !== null) vals.push(series.limit);
  const manual = series.manual || [];  // manual samples: their own series (cases.js)
  vals.push(...manual.map((m) => m.value));
  const lo = Math.min(0, ...vals), hi = Math.max(1, ...vals) * 1.1;
  const x = (ms) => L + ((ms - t0) / (t1 - t0)) * (W - L - R);
  const y = (v) => H - B - ((v - lo) / (hi - lo)) * (H - T - B);
  for (const m of series.marks) {
    const a = Math.max(t0, m.start ? new Date(m.start).getTime() : t0);
    const b = Math.min(t1, m.end ? new Date(m.end).getTime() : t1);
    if (b > a) svg.append(s("rect", { class: "mark", x: x(a), y: T, width: x(b) - x(a),
      height: H - T - B }, undefined));
  }
  svg.append(s("line", { class: "axis", x1: L, y1: H - B, x2: W - R, y2: H - B }));
  svg.append(s("line", { class: "axis", x1: L, y1: T, x2: L, y2: H - B }));
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    svg.append(s("text", { x: 4, y: y(v) + 4 }, v.toFixed(1)));
    const ms = t0 + ((t1 - t0) * i) / 4;
    const label = beijing(ms);
    svg.append(s("text", { x: Math.min(x(ms) - 25, W - R - 60), y: H - 10 }, t1 - t0 > 864e5 ? label.slice(5, -3) : label.slice(11)));
  }
  svg.append(s("text", { class: "tz", x: L + 6, y: T + 10 }, t("tz")));  // the x axis zone
  svg.append(s("text", { class: "unit", x: L + 6, y: T + 24 }, unitOf(series.pollutant)));  // the y axis unit
  if (series.limit !== null) {
    svg.append(s("line", { class: "limit", x1: L, x2: W - R, y1: y(series.limit), y2: y(series.limit) }));
    svg.append(s("text", { x: W - R - 90, y: y(series.limit) - 4 }, `${t("limit")} ${series.limit}`));
  }
  const pts = series.points.filter((p) => p.value !== null);
  if (pts.length) {
    svg.append(s("polyline", { class: "line", points: pts.map((p) =>
      `${x(new Date(p.data_time).getTime()).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ") }));
  }
  // the converted (折算) values, where the limit applies to them: the line the limit judges
  const conv = series.points.filter((p) => p.converted !== null && p.converted !== undefined);
  if (conv.length) {
    svg.append(s("polyline", { class: "line converted", points: conv.map((p) =>
      `${x(new Date(p.data_time).getTime()).toFixed(1)},${y(p.converted).toFixed(1)}`).join(" ") }));
  }
  for (const p of pts) {
    const flagged = p.flag && p.flag !== "N";
    const c = s("circle", { class: "pt" + (flagged ? " flagged" : ""), r: flagged ? 3 : 1.8,
      cx: x(new Date(p.data_time).getTime()), cy: y(p.value) });
    c.append(s("title", {}, `${fmtTime(p.data_time)} ${p.value} ${p.flag || ""}`));
    svg.append(c);
  }
  for (const m of manual) {
    const r = s("rect", { class: "manual", width: 7, height: 7,
      x: x(new Date(m.sampled_at).getTime()) - 3.5, y: y(m.value) - 3.5 });
    r.append(s("title", {}, `${t("manual")} ${fmtTime(m.sampled_at)} ${m.value} ${m.unit}`));
    svg.append(r);
  }
  return svg;
}

async function station(main, mn) {
  const enc = encodeURIComponent(mn);
  const [st, live, cases, frames, cmds, em] = await Promise.all([
    api(`/stations/${enc}`), api(`/stations/${enc}/latest?cn=${view.cn}`),
    api(`/cases?mn=${enc}`), api(`/stations/${enc}/frames?limit=15`),
    api(`/stations/${enc}/commands?limit=10`), api(`/stations/${enc}/emissions?days=7`)]);
  // a station that sends no real-time data (hourly only, or silent for a while): its
  // hourly records, said so in the panel's title
  let cn = view.cn, latest = live;
  if (!latest.length && cn === "2011") {
    cn = "2061";
    latest = await api(`/stations/${enc}/latest?cn=2061`);
  }
  // the factors from the registry as well as from the latest data: a view of a station
  // silent for days still has its factors
  const factors = [...new Set([...latest.map((l) => l.pollutant), ...st.limits.map((l) => l.pollutant)])];
  if (!view.pollutant || !factors.includes(view.pollutant)) {
    const limited = st.limits.filter((l) => l.emission_limit !== null).map((l) => l.pollutant);
    view.pollutant = factors.find((f) => limited.includes(f)) || factors[0] || null;
  }
  const series = view.pollutant ? await api(`/stations/${enc}/series?pollutant=${view.pollutant}` +
    `&cn=${cn}&hours=${HOURS[cn]}`) : null;
  if (series) series.manual = await manualSeries(mn, view.pollutant, series.start, series.end);  // cases.js
  if (series) series.pollutant = view.pollutant;
  const limits = Object.fromEntries(st.limits.map((l) => [l.pollutant, l]));
  const pick = h("select", { id: "pick-factor", onchange: (e) => { view.pollutant = e.target.value; refresh(); } },
    factors.map((f) => h("option", { value: f, selected: f === view.pollutant }, factorName(f))));
  const cnPick = h("select", { id: "pick-cn", onchange: (e) => { view.cn = e.target.value; refresh(); } },
    CNS.map(([c, k]) => h("option", { value: c, selected: c === cn }, t(k))));
  const phases = await Promise.all(cases.filter((c) => c.kind === "outage")
    .map((c) => api(`/cases/${c.id}/filings`).catch(() => null)));
  const phaseOf = Object.fromEntries(phases.filter(Boolean).map((f) => [f.case.id, f]));
  main.replaceChildren(
    h("h2", {}, `${st.name} `, h("span", { class: "muted" },
      `${st.mn} · ${st.enterprise} · ${regionName(st.region_code)}`), " ", statusBadges(st)),
    h("div", { class: "grid" },
      h("div", { class: "panel" }, h("h3", {}, t("chart"), " ", pick, " ", cnPick),
        series ? chart(series) : h("p", { class: "muted" }, t("none")),
        h("p", { class: "legend muted" }, `${t("legend_limit")} · ${t("legend_flag")} · ${t("legend_mark")}`)),
      h("div", { class: "panel" }, h("h3", { id: "latest-title" }, `${t(cn === "2011" ? "latest" : CNS.find((c) => c[0] === cn)[1])}`),
        table(["factor", "value", "converted", "limit", "flag", "time"], latest.map((l) => {
          const lim = limits[l.pollutant];
          // the rules' judgement where they make one (a gas hourly limit: on the converted
          // value), else the measured value against the limit
          const over = l.over !== null && l.over !== undefined ? l.over
            : lim && lim.emission_limit !== null && l.value > lim.emission_limit;
          const conv = l.basis === "converted" || l.basis === "device-converted";
          return h("tr", { "data-factor": l.pollutant }, factorCell(l.pollutant),
            h("td", { class: "num" + (over && !conv ? " flag" : "") }, fmtNum(l.value)),
            h("td", { class: "num converted" + (over && conv ? " flag" : "") }, conv ? fmtNum(l.judged) : "—"),
            h("td", { class: "num" }, lim ? fmtNum(lim.emission_limit) : "—"),
            h("td", { class: l.flag && l.flag !== "N" ? "flag" : "" }, l.flag || "N"),
            h("td", {}, fmtTime(l.data_time)));
        })), h("p", { class: "legend muted" }, t("flags_legend")))),
    await severalFactors(mn, st, factors),  // charts.js
    h("h3", {}, t("cases")),
    cases.length ? table(["kind", "factor", "time", "report_due", "restore_due", "phase", "expected_of", ""],
      (await Promise.all(cases.map((c) => caseRows(c, phaseOf[c.id])))).flat())
      : h("p", { class: "muted" }, t("none")),
    await alarmHistory(mn),  // alarms.js
    h("h3", {}, t("emissions")),
    table(["factor", "computed", "device", "hours"], Object.entries(em.factors).map(([code, days]) => {
      const sum = (k) => days.reduce((a, d) => a + (d[k] || 0), 0);
      return h("tr", {}, factorCell(code), h("td", { class: "num" }, fmtNum(sum("computed"))),
        h("td", { class: "num" }, fmtNum(sum("device"))), h("td", { class: "num" }, sum("hours")));
    })),
    await manualPanel(mn, view.pollutant),  // cases.js: the manual samples' own series
    ...[evidencePanel(mn)].filter(Boolean),
    commandPanel(mn, cmds),
    h("h3", {}, t("frames")),
    table(["time", "cn", "status", "frames"], frames.map((f) => h("tr", {},
      h("td", {}, fmtTime(f.received_at)), h("td", {}, f.cn || ""), h("td", {}, f.status),
      h("td", {}, h("pre", { class: "raw" }, f.raw))))));
}

// A case row, what the data say and who must do what (docs/console.md §6), and on
// request its timeline (GET /api/cases/{id}/timeline) with a note to add.
const openCases = new Set();
async function caseRows(c, f) {
  const toggle = () => { openCases.has(c.id) ? openCases.delete(c.id) : openCases.add(c.id); refresh(); };
  const row = h("tr", { "data-case": c.id }, h("td", {}, caseKindName(c.kind)), factorCell(c.pollutant),
    h("td", {}, fmtTime(c.opened_at)), h("td", {}, countdown(c.report_due)), h("td", {}, countdown(c.restore_due)),
    h("td", { class: "phase" }, f && f.phase ? t("phase:" + f.phase) : "—"),
    h("td", { class: "expected" }, f ? f.expected.map((e) => `${t("what:" + e.what)}（${t("who:" + e.who)}）`).join("；") : "—"),
    h("td", {}, h("button", { type: "button", class: "act timeline", onclick: toggle },
      openCases.has(c.id) ? t("close_group") : t("timeline"))));
  if (!openCases.has(c.id)) return [row];
  const events = await api(`/cases/${c.id}/timeline`);
  const note = async () => {
    const text = await ask(`${t("add_note")} #${c.id}`, true);
    if (!text) return;
    try { await api(`/cases/${c.id}/notes`, { note: text }); } catch (e) { alert(e.message); }
    refresh();
  };
  const canNote = me && ["administrator", "operator"].includes(me.role);
  return [row, h("tr", { class: "member", "data-timeline": c.id }, h("td", { colspan: 8 },
    h("ol", { class: "timeline" }, events.map((e) => h("li", {}, `${fmtTime(e.at)} `,
      h("b", {}, t("ev:" + e.kind) === "ev:" + e.kind ? kindName(e.kind) : t("ev:" + e.kind)), " ",
      e.detail.note ? `${e.detail.by || ""}：${e.detail.note}` : (e.detail.reason || "")))),
    canNote ? h("button", { type: "button", class: "act add-note", onclick: note }, t("add_note")) : null))];
}

// Inspectors (and administrators) take a signed bundle of the last hours with them;
// `hj212 evidence verify` checks it offline (evidence/verify.py).
function evidencePanel(mn) {
  if (!me || !["inspector", "administrator"].includes(me.role)) return null;
  const hours = h("input", { id: "evidence-hours", type: "number", min: 1, max: 744, value: 24, size: 4 });
  const msg = h("span", { id: "evidence-msg", class: "muted" });
  const go = async () => {
    const end = new Date();
    const start = new Date(end - Number(hours.value) * 3.6e6);
    msg.textContent = "…";
    const r = await fetch(`/api/stations/${encodeURIComponent(mn)}/evidence`, { method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ start: start.toISOString(), end: end.toISOString() }) });
    if (!r.ok) { msg.className = "error"; msg.textContent = (await r.json().catch(() => ({}))).detail || r.status; return; }
    download(await r.blob(), `evidence-${mn}.zip`);
    msg.className = "ok"; msg.textContent = t("evidence_done");
  };
  return h("div", { class: "panel", id: "evidence-panel" }, h("h3", {}, t("evidence")),
    h("p", {}, `${t("evidence_hours")} `, hours, " ",
      h("button", { type: "button", id: "evidence-export", onclick: go }, t("evidence")), " ", msg));
}

function commandPanel(mn, cmds) {
  const canAct = me && (me.role === "administrator" || me.role === "operator");
  const cn = h("input", { id: "cmd-cn", value: "1011", size: 6 });
  const params = h("input", { id: "cmd-params", size: 30 });
  const send = async () => {
    if (await ask(`${t("sure_send")} ${mn}: CN=${cn.value} ${params.value}`, false) === null) return;
    const p = Object.fromEntries(params.value.split(";").filter((x) => x.includes("="))
      .map((x) => x.split("=", 2)));
    try { await api(`/stations/${encodeURIComponent(mn)}/commands`, { cn: cn.value, params: p }); }
    catch (e) { alert(e.message); }
    refresh();
  };
  return h("div", {}, h("h3", {}, t("commands")),
    canAct ? h("p", {}, `${t("cn")} `, cn, ` ${t("params")} `, params, " ",
      h("button", { type: "button", id: "cmd-send", onclick: send }, t("send"))) : null,
    table(["time", "cn", "params", "state"], cmds.map((c) => h("tr", {},
      h("td", {}, fmtTime(c.created_at)), h("td", {}, c.cn), h("td", {}, c.cp), h("td", {}, c.state)))));
}

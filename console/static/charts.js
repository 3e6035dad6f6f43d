// Several factors in one chart (Apache ECharts, installed by ./dev from the npm registry
// and served by the console at /vendor/echarts.min.js, never from a CDN): each factor's
// line, its limit as a dashed line, flagged records as red points, approved marks as
// shaded periods, zoom inside the day/week/month window. docs/console.md §5.
// Uses app.js helpers; the chart is drawn after the page is in the document (AFTER).
"use strict";

Object.assign(TEXT.zh, { several: "多因子趋势", span_day: "日", span_week: "周", span_month: "月",
  no_echarts: "图表库未安装（运行 ./dev）", flagged: "异常标记" });
Object.assign(TEXT.en, { several: "Several factors", span_day: "Day", span_week: "Week",
  span_month: "Month", no_echarts: "chart library not installed (run ./dev)", flagged: "flagged" });

// the window, the record type it is drawn from, and the hours it spans
const SPANS = { day: ["2011", 24], week: ["2061", 24 * 7], month: ["2061", 24 * 31] };
const several = { span: "day", zoom: null };
const NOT_POLLUTANTS = new Set(["a00000", "w00000", "a19001", "a01011", "a01012", "a01013", "a01014"]);

function chosenFactors(st, factors) {
  // pollutants only (flow, O2, temperature, pressure, humidity are conditions), with a
  // limit first: the factors the alarms are about
  const limited = new Set(st.limits.filter((l) => l.emission_limit !== null).map((l) => l.pollutant));
  const pollutants = factors.filter((f) => !NOT_POLLUTANTS.has(f));
  return [...pollutants.filter((f) => limited.has(f)), ...pollutants.filter((f) => !limited.has(f))].slice(0, 4);
}

function echartsOption(list) {
  const out = [];
  for (const one of list) {
    const name = factorName(one.pollutant);
    const data = one.points.filter((p) => p.value !== null).map((p) => [p.data_time, p.value]);
    const line = { name, type: "line", showSymbol: false, data, sampling: "lttb" };
    if (one.limit !== null) {
      line.markLine = { symbol: "none", lineStyle: { type: "dashed", color: "#c0392b" },
        label: { formatter: `${t("limit")} ${one.limit}` }, data: [{ yAxis: one.limit }] };
    }
    const areas = one.marks.map((m) => [{ xAxis: m.start || one.start }, { xAxis: m.end || one.end }]);
    if (areas.length) line.markArea = { itemStyle: { color: "rgba(245,176,65,0.25)" }, data: areas };
    out.push(line);
    const flagged = one.points.filter((p) => p.value !== null && p.flag && p.flag !== "N")
      .map((p) => [p.data_time, p.value, p.flag]);
    if (flagged.length) {
      out.push({ name: `${name} ${t("flagged")}`, type: "scatter", symbolSize: 6,
        itemStyle: { color: "#c0392b" }, data: flagged });
    }
  }
  return {
    animation: false,
    legend: { top: 0 },
    tooltip: { trigger: "axis" },
    grid: { left: 50, right: 20, top: 40, bottom: 60 },
    xAxis: { type: "time", axisLabel: { formatter: (v) => beijing(v).slice(5, 16) } },
    yAxis: { type: "value", scale: true },
    dataZoom: [{ type: "inside", ...(several.zoom || {}) }, { type: "slider", ...(several.zoom || {}) }],
    series: out,
  };
}

async function severalFactors(mn, st, factors) {
  const chosen = chosenFactors(st, factors);
  const box = h("div", { class: "echart", id: "several-chart", "data-factors": chosen.length });
  const [cn, hours] = SPANS[several.span];
  const fetch = (c) => Promise.all(chosen.map((p) =>
    api(`/stations/${encodeURIComponent(mn)}/series?pollutant=${p}&cn=${c}&hours=${hours}`)));
  let list = await fetch(cn);
  // a station without real-time data (hourly uploads only): the day from its hours
  if (cn === "2011" && !list.some((one) => one.points.length)) list = await fetch("2061");
  box.dataset.points = list.reduce((n, one) => n + one.points.length, 0);
  AFTER.push(() => {
    if (!window.echarts) { box.replaceChildren(h("p", { class: "muted" }, t("no_echarts"))); return; }
    const chart = window.echarts.init(box, null, { renderer: "canvas" });
    chart.setOption(echartsOption(list));
    chart.on("datazoom", () => {
      const z = chart.getOption().dataZoom[0];
      several.zoom = { start: z.start, end: z.end };
    });
    box.dataset.drawn = "1";
  });
  const spanButton = (k) => h("button", { type: "button", id: "span-" + k, class: several.span === k ? "on" : "",
    onclick: () => { several.span = k; several.zoom = null; refresh(); } }, t("span_" + k));
  return h("div", { class: "panel" }, h("h3", {}, t("several"), " ", ...["day", "week", "month"].map(spanButton)),
    box, h("p", { class: "legend muted" }, `${t("legend_limit")} · ${t("legend_flag")} · ${t("legend_mark")}`));
}

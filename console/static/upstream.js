// The upstreams page (docs/forwarding.md §4): what each platform above has been sent,
// what waits for it and how far behind it is. Loaded after app.js, whose helpers
// (h, t, api, table, fmtTime) it uses; app.js routes #/upstreams here.
"use strict";

Object.assign(TEXT.zh, {
  upstreams: "上级平台", up_name: "名称", up_target: "地址", up_version: "协议",
  up_delivered: "已送达", up_backlog: "待发送", up_stations: "待发站点", up_lag: "滞后",
  up_failures: "失败次数", up_error: "最近错误", up_behind: "滞后报警", up_ok: "正常",
  up_none: "未配置上级平台（hj212.toml 的 [[upstream]]）", up_inactive: "已停用",
});
Object.assign(TEXT.en, {
  upstreams: "Upstreams", up_name: "Name", up_target: "Address", up_version: "Protocol",
  up_delivered: "Delivered", up_backlog: "Queued", up_stations: "Stations queued", up_lag: "Lag",
  up_failures: "Failures", up_error: "Last error", up_behind: "Behind", up_ok: "OK",
  up_none: "No upstream configured ([[upstream]] in hj212.toml)", up_inactive: "inactive",
});

function lagText(seconds) {
  if (seconds < 120) return `${seconds.toFixed(0)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(0)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

async function upstreams(main) {
  const rows = await api("/upstreams");
  if (!rows.length) {
    main.append(h("p", { class: "muted", id: "upstreams-none" }, t("up_none")));
    return;
  }
  const body = rows.map((u) => h("tr", { "data-upstream": u.name },
    h("td", {}, u.name, u.active ? null : ` (${t("up_inactive")})`),
    h("td", {}, `${u.host}:${u.port}`),
    h("td", {}, u.version),
    h("td", {}, String(u.delivered)),
    h("td", { class: "backlog" }, String(u.backlog)),
    h("td", {}, String(u.stations)),
    h("td", {}, lagText(u.lag_s)),
    h("td", {}, u.behind ? h("span", { class: "badge alarm" }, t("up_behind"))
      : h("span", { class: "badge online" }, t("up_ok"))),
    h("td", {}, String(u.failures)),
    h("td", { title: fmtTime(u.last_error_at) }, u.last_error || "—")));
  main.append(h("h2", {}, t("upstreams")), table(["up_name", "up_target", "up_version",
    "up_delivered", "up_backlog", "up_stations", "up_lag", "up_behind", "up_failures",
    "up_error"], body));
}

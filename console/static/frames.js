// The raw archive's findings (issue 20): which stations bend HJ 212 how, and what a
// station's answers and event uploads said. Loaded after app.js, whose helpers it uses.
"use strict";

Object.assign(TEXT.zh, {
  deviations: "报文偏差", deviation: "偏差", frames_n: "报文数", first: "首次",
  last_seen: "最近", device_events: "设备事件", payload: "内容", every_kind: "全部偏差",
  events_of: "设备事件：",
});
Object.assign(TEXT.en, {
  deviations: "Deviations", deviation: "Deviation", frames_n: "Frames", first: "First",
  last_seen: "Last", device_events: "Device events", payload: "Content",
  every_kind: "Every deviation", events_of: "Device events of ",
});
TIMED.add("first");
TIMED.add("last_seen");

// #/deviations[/<word>]: per station and deviation over the last 7 days
async function deviations(main, word) {
  const rows = await api("/deviations" + (word ? "?kind=" + encodeURIComponent(word) : ""));
  const words = [...new Set(rows.map((r) => r.deviation.split(":")[0]))].sort();
  const pick = h("p", { class: "kinds" }, h("a", { href: "#/deviations" }, t("every_kind")),
    words.flatMap((w) => [" · ", h("a", { href: "#/deviations/" + encodeURIComponent(w) }, w)]));
  main.replaceChildren(h("h2", {}, t("deviations") + (word ? ": " + word : "")), pick,
    table(["mn", "station", "deviation", "frames_n", "first", "last_seen"], rows.map((r) =>
      h("tr", { "data-mn": r.mn || "" },
        h("td", {}, r.mn ? h("a", { href: "#/events/" + encodeURIComponent(r.mn) }, r.mn) : "—"),
        h("td", {}, r.name || "—"), h("td", {}, r.deviation), h("td", {}, r.frames),
        h("td", {}, fmtTime(r.first)), h("td", {}, fmtTime(r.last))))));
}

// #/events/<mn>: the station's device events of the last 7 days
async function deviceEvents(main, mn) {
  const rows = await api(`/stations/${encodeURIComponent(mn)}/events`);
  main.replaceChildren(h("h2", {}, t("events_of") + mn),
    table(["time", "cn", "kind", "factor", "payload"], rows.map((e) =>
      h("tr", { "data-kind": e.kind }, h("td", {}, fmtTime(e.data_time)), h("td", {}, e.cn),
        h("td", {}, e.kind), h("td", {}, e.pollutant || "—"),
        h("td", { class: "payload" }, JSON.stringify(e.payload))))));
}

// HJ 212 console: plain JavaScript; one chart is SVG drawn here, the several-factor chart
// is Apache ECharts (charts.js). The pages live in their own files (overview.js,
// alarms.js, station.js, cases.js, marks.js, reports.js ...); this one is the shell.
// Every value from the server goes in through textContent (never innerHTML).
"use strict";

const TEXT = {
  zh: {
    title: "污染源自动监控平台", overview: "总览", stations: "站点", alarms: "报警",
    rates: "传输率", audit: "审计", logout: "退出", note: "备注", cancel: "取消",
    confirm: "确认", login: "登录", name: "用户名", password: "密码",
    wrong: "用户名或密码错误", total: "站点总数", online: "在线", offline: "离线",
    alarming: "报警中", overdue: "逾期", region: "地区", station: "站点", enterprise: "企业",
    status: "状态", last: "最后数据", mn: "MN", open_cases: "未结案件", latest: "实时数据",
    factor: "因子", value: "数值", flag: "标记", time: "时间", limit: "限值",
    chart: "趋势", rt: "实时", minute: "分钟", hour: "小时", day: "日",
    cases: "案件", kind: "类型", report_due: "报告期限", restore_due: "恢复期限",
    frames: "最近报文", commands: "反控命令", send: "发送", cn: "命令编码",
    params: "参数 (KEY=VALUE;...)", sure_send: "确认向站点发送命令", state: "状态",
    ack: "确认", resolve: "解决", close: "关闭", severity: "级别", raised: "报警时间",
    sure_ack: "确认此报警？", sure_resolve: "标记为已解决？", sure_close: "关闭此报警？",
    etr: "有效传输率", threshold: "考核线", trend: "每日趋势", expected: "应传",
    valid: "有效", actor: "用户", action: "操作", object: "对象", left: "剩余",
    late: "已逾期", none: "无", updated: "更新于", marks: "数据标记", all: "全部",
    emissions: "排放量（近 7 天，小时数据）", computed: "核算量 (C×V)", device: "设备累计 (Cou)",
    hours: "小时数", tz: "北京时间", refused: "已连接，报文全部被拒", converted: "折算值",
    counted_to: "统计至（已结束并已判定的小时）",
    "why:legacy-crc": "旧版CRC（未获准）", "why:decrypt": "无法解密",
    "why:wrong-password": "密码错误", "why:unknown-station": "未登记", "why:crc": "CRC错误",
    "why:deactivated": "已停用", "why:throttled": "密码尝试过多", "why:plaintext": "未加密",
    "why:other-mn": "连接已属其他站", "why:after-refusal": "认证失败后", "why:future": "数据时间超前",
    users: "用户", account: "我的账户", full_name: "姓名", unit: "单位", phone: "电话",
    role: "角色", created: "创建时间", created_by: "创建人", active: "已启用", inactive: "已停用",
    new_user: "新建用户", edit_user: "修改用户", edit: "修改", save: "保存", create: "创建",
    new_pw_reset: "新密码（留空则不变，至少 10 位）", deactivate: "停用", reactivate: "启用",
    tokens: "API 令牌", label: "用途", days: "有效天数", expires: "到期", revoked: "已撤销",
    revoke: "撤销", new_token: "生成令牌", token_once: "令牌只显示这一次，请立即保存：",
    change_pw: "修改密码", current_pw: "当前密码", new_pw: "新密码（至少 10 位）",
    repeat_pw: "再次输入新密码", pw_mismatch: "两次输入的新密码不一致",
    pw_changed: "密码已修改，您的其他会话已退出", revoke_tokens: "同时撤销我的 API 令牌",
    revoke_user_tokens: "同时撤销该用户的 API 令牌", last_used: "最近使用", saved: "已保存",
    sure_deactivate: "停用此用户？其会话和令牌立即失效：", sure_reactivate: "重新启用此用户：",
    sure_revoke: "撤销此令牌？", sure_reset: "重置此用户的密码？其所有会话将结束：",
    unblock: "解除登录限制", sure_unblock: "清除此用户在所有来源的失败登录计数？",
    unblocked: "已清除失败登录计数（来源数）", client: "来源地址", reason: "原因", cancel_edit: "取消修改", profile: "账户信息", expired: "已过期",
    role_administrator: "管理员", role_operator: "值班员", role_inspector: "检查员",
    role_enterprise: "企业用户",
  },
  en: {
    title: "Pollution Source Monitoring", overview: "Overview", stations: "Stations",
    alarms: "Alarms", rates: "Transmission", audit: "Audit", logout: "Sign out", note: "Note",
    cancel: "Cancel", confirm: "Confirm", login: "Sign in", name: "User", password: "Password",
    wrong: "Wrong user or password", total: "Stations", online: "Online", offline: "Offline",
    alarming: "Alarming", overdue: "Overdue", region: "Region", station: "Station",
    enterprise: "Enterprise", status: "Status", last: "Last data", mn: "MN",
    open_cases: "Open cases", latest: "Live values", factor: "Factor", value: "Value",
    flag: "Flag", time: "Time", limit: "Limit", chart: "Trend", rt: "Real-time",
    minute: "Minute", hour: "Hour", day: "Day", cases: "Cases", kind: "Kind",
    report_due: "Report due", restore_due: "Restore due", frames: "Recent frames",
    commands: "Commands", send: "Send", cn: "Command (CN)", params: "Params (KEY=VALUE;...)",
    sure_send: "Send this command to the station", state: "State", ack: "Acknowledge",
    resolve: "Resolve", close: "Close", severity: "Severity", raised: "Raised",
    sure_ack: "Acknowledge this alarm?", sure_resolve: "Mark as resolved?",
    sure_close: "Close this alarm?", etr: "Effective rate", threshold: "Threshold",
    trend: "Daily trend", expected: "Expected", valid: "Valid", actor: "User",
    action: "Action", object: "Object", left: "left", late: "overdue", none: "none",
    updated: "Updated", marks: "Data marks", all: "All",
    emissions: "Emissions (last 7 days, hourly data)", computed: "Computed (C×V)",
    device: "Device (Cou)", hours: "Hours", tz: "Beijing time",
    refused: "connected, every frame refused", converted: "Converted",
    counted_to: "Counted to (hours ended and judged)",
    "why:legacy-crc": "legacy CRC (not allowed)", "why:decrypt": "cannot decrypt",
    "why:wrong-password": "wrong password", "why:unknown-station": "not registered",
    "why:crc": "CRC error",
    "why:deactivated": "deactivated", "why:throttled": "too many wrong passwords",
    "why:plaintext": "not encrypted", "why:other-mn": "another station's connection",
    "why:after-refusal": "after a failed sign-in", "why:future": "DataTime ahead",
    users: "Users", account: "My account", full_name: "Full name", unit: "Unit", phone: "Phone",
    role: "Role", created: "Created", created_by: "Created by", active: "Active",
    inactive: "Deactivated", new_user: "New user", edit_user: "Change user", edit: "Change",
    save: "Save", create: "Create", new_pw_reset: "New password (empty: unchanged; 10+ characters)",
    deactivate: "Deactivate", reactivate: "Reactivate", tokens: "API tokens", label: "Label",
    days: "Days valid", expires: "Expires", revoked: "Revoked", revoke: "Revoke",
    new_token: "Make a token", token_once: "Shown only this once, keep it now:",
    change_pw: "Change password", current_pw: "Current password",
    new_pw: "New password (10+ characters)", repeat_pw: "New password again",
    pw_mismatch: "The new passwords differ",
    pw_changed: "Password changed; your other sessions are signed out",
    revoke_tokens: "Also revoke my API tokens", revoke_user_tokens: "Also revoke the user's API tokens",
    last_used: "Last used", saved: "Saved",
    sure_deactivate: "Deactivate this user? Its sessions and tokens end at once:",
    sure_reactivate: "Reactivate this user:", sure_revoke: "Revoke this token?",
    sure_reset: "Reset this user's password? All its sessions end:", reason: "Reason",
    client: "Client", unblock: "Unblock sign-in",
    sure_unblock: "Forget this user's failed sign-ins from every source?",
    unblocked: "Failed sign-ins forgotten (sources)",
    cancel_edit: "Cancel", profile: "Account", expired: "Expired", role_administrator: "Administrator",
    role_operator: "Operator", role_inspector: "Inspector", role_enterprise: "Enterprise",
  },
};
let lang = localStorage.getItem("lang") || "zh";
const t = (key) => TEXT[lang][key] || key;
let me = null;
let timer = null;
let generation = 0;
const AFTER = [];  // drawing that needs the page in the document (charts.js)

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
const NS = "http://www.w3.org/2000/svg";
function s(tag, attrs, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

async function api(path, options, method) {
  const init = options ? { method: method || "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(options) } : {};
  const r = await fetch("/api" + path, init);
  if (r.status === 401) { me = null; showLogin(); throw new Error("401"); }
  if (!r.ok) throw new Error((await r.json().catch(() => ({}))).detail || r.status);
  return r.json();
}

// Every time is shown in Beijing time whatever the browser's own zone (HJ 212 times are
// Beijing time), and the headers say so.
const BEIJING = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", hourCycle: "h23",
  year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
function beijing(ms) {
  const p = Object.fromEntries(BEIJING.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}
const fmtTime = (iso) => iso ? beijing(Date.parse(iso)) : "—";
const TIMED = new Set(["time", "last", "raised", "created", "expires", "last_used"]);  // columns of times: labelled 北京时间
const zone = () => lang === "zh" ? `（${t("tz")}）` : ` (${t("tz")})`;
const fmtNum = (v) => v === null || v === undefined ? "—" : Number(v).toFixed(2);
const pct = (v) => v === null || v === undefined ? "—" : (v * 100).toFixed(1) + " %";

function countdown(iso) {
  if (!iso) return h("span", { class: "muted" }, "—");
  const ms = new Date(iso) - Date.now();
  const hours = Math.abs(ms) / 3.6e6;
  const text = hours >= 48 ? (hours / 24).toFixed(1) + " d" : hours.toFixed(1) + " h";
  return ms < 0 ? h("span", { class: "overdue" }, `${t("late")} ${text}`)
    : h("span", {}, `${t("left")} ${text}`);
}

const why = (code) => TEXT[lang]["why:" + code] || code;  // a refusal's code, in words

// Online: frames that authenticate and parse arrive; refused: frames come, none gets through.
function link(st) {
  if (st.online) return h("span", { class: "badge online" }, t("online"));
  if (st.refused) {
    return h("span", { class: "badge refused", title: fmtTime(st.last_refused) },
      `${t("refused")}：${why(st.refused)}`);
  }
  return h("span", { class: "badge offline" }, t("offline"));
}

function statusBadges(st) {
  return h("span", {},
    link(st), " ",
    st.open_alarms ? h("span", { class: "badge alarm" }, `${t("alarming")} ${st.open_alarms}`) : null,
    " ",
    st.overdue_cases ? h("span", { class: "badge overdue" }, `${t("overdue")} ${st.overdue_cases}`)
      : null);
}

// columns of numbers: their headers stand right-aligned over them
const NUMERIC = new Set(["total", "online", "offline", "alarming", "overdue", "count", "expected", "valid",
  "etr", "threshold", "value", "converted", "limit", "computed", "device", "hours", "open_cases", "threshold_v"]);
function table(headers, rows) {
  const head = (x) => TIMED.has(x) ? t(x) + zone() : t(x);
  return h("table", {}, h("thead", {}, h("tr", {}, headers.map((x) =>
    h("th", { class: NUMERIC.has(x) ? "num" : null }, head(x))))),
    h("tbody", {}, rows));
}

function ask(text, withNote) {
  const dlg = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = text;
  const note = document.getElementById("confirm-note");
  note.value = "";
  note.parentElement.hidden = !withNote;
  return new Promise((resolve) => {
    dlg.addEventListener("close", () => resolve(dlg.returnValue === "ok" ? note.value : null),
      { once: true });
    dlg.showModal();
  });
}

// -- pages ---------------------------------------------------------------------------
async function stations(main) {
  const list = await api("/stations");
  main.replaceChildren(h("h2", {}, `${t("stations")} (${list.length})`),
    table(["mn", "station", "enterprise", "region", "status", "last", "open_cases"],
      list.map((st) => h("tr", { "data-mn": st.mn },
        h("td", {}, h("a", { href: "#/station/" + encodeURIComponent(st.mn) }, st.mn)),
        h("td", {}, h("a", { href: "#/station/" + encodeURIComponent(st.mn) }, st.name)),
        h("td", {}, st.enterprise), h("td", { title: st.region_code }, regionName(st.region_code)),
        h("td", {}, statusBadges(st)), h("td", {}, fmtTime(st.last_frame)),
        h("td", { class: "num" }, st.open_cases)))));
}

function trendChart(trend, threshold) {
  const W = 900, H = 200, L = 50, B = 25, T = 10;
  const svg = s("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, "data-points": trend.length });
  const y = (v) => H - B - v * (H - T - B);
  const bw = (W - L - 10) / Math.max(1, trend.length);
  trend.forEach((d, i) => {
    const v = d.etr || 0;
    svg.append(s("rect", { class: "bar" + (v < threshold ? " below" : ""), x: L + i * bw + 2,
      y: y(v), width: bw - 4, height: H - B - y(v) }));
    svg.append(s("text", { x: L + i * bw + 2, y: H - 8 }, d.day.slice(5, 10)));
  });
  svg.append(s("line", { class: "target", x1: L, x2: W - 10, y1: y(threshold), y2: y(threshold) }));
  svg.append(s("text", { x: 4, y: y(threshold) + 4 }, pct(threshold)));
  return svg;
}

async function rates(main) {
  const r = await api("/rates?days=7");
  main.replaceChildren(h("h2", {}, t("rates")),
    h("p", { id: "counted-to", class: "muted" }, `${t("counted_to")} ${fmtTime(r.counted_to)}${zone()}`),
    h("div", { class: "panel" }, h("h3", {}, t("trend")), trendChart(r.trend, r.threshold)),
    h("h3", {}, t("etr")),
    table(["mn", "station", "region", "expected", "valid", "etr", "threshold"], r.stations.map((x) =>
      h("tr", {}, h("td", {}, x.mn), h("td", {}, x.name), h("td", { title: x.region_code }, regionName(x.region_code)),
        h("td", { class: "num" }, x.expected), h("td", { class: "num" }, x.valid),
        h("td", { class: "num" + (x.etr !== null && !x.passes ? " flag" : "") }, pct(x.etr)),
        h("td", { class: "num" }, pct(x.threshold))))));
}

async function audit(main) {
  const rows = await api("/audit?hours=24&limit=200");
  main.replaceChildren(h("h2", {}, t("audit")),
    table(["time", "actor", "action", "object", "mn", "client"], rows.map((a) => h("tr", {},
      h("td", {}, fmtTime(a.at)), h("td", {}, a.actor), h("td", {}, a.action),
      h("td", {}, a.object), h("td", {}, a.mn || ""),
      h("td", { class: "client" }, (a.detail && a.detail.client) || "—")))));
}

// -- accounts (users, own password, tokens); no polling here: it would wipe the forms ---
const ROLES = ["administrator", "operator", "inspector", "enterprise"];
const roleName = (r) => t("role_" + r);
const FORM_PAGES = new Set(["/users", "/account"]);

function field(id, key, attrs) {
  return h("label", { class: "field" }, h("span", {}, t(key)), h("input", { id, ...attrs }));
}

function tokenTable(tokens, after) {
  const revoke = (tk) => async () => {
    if (await ask(`${t("sure_revoke")} #${tk.id} ${tk.label}`, false) === null) return;
    try { await api(`/tokens/${tk.id}/revoke`, {}); } catch (e) { alert(e.message); }
    after();
  };
  return table(["label", "created", "expires", "last_used", "state", ""], tokens.map((tk) =>
    h("tr", { "data-token": tk.id }, h("td", {}, tk.label || "—"), h("td", {}, fmtTime(tk.created_at)),
      h("td", {}, fmtTime(tk.expires_at)), h("td", {}, fmtTime(tk.last_used_at)),
      h("td", { class: "state" }, tk.revoked_at ? `${t("revoked")} (${tk.revoked_by || ""})`
        : new Date(tk.expires_at) < Date.now() ? t("expired") : t("valid")),
      h("td", {}, tk.revoked_at ? null
        : h("button", { type: "button", class: "revoke", onclick: revoke(tk) }, t("revoke"))))));
}

function tokenMaker(path, after) {
  const label = h("input", { id: "token-label", size: 20 });
  const days = h("input", { id: "token-days", type: "number", min: 1, max: 366, value: 90, size: 4 });
  const shown = h("code", { id: "token-new" });
  const make = async () => {
    try {
      const made = await api(path, { label: label.value, days: Number(days.value) });
      await after();
      document.getElementById("token-once").replaceChildren(t("token_once"), " ", h("code", { id: "token-new" }, made.token));
    } catch (e) { alert(e.message); }
  };
  return h("div", {}, h("p", {}, `${t("label")} `, label, ` ${t("days")} `, days, " ",
    h("button", { type: "button", id: "token-make", onclick: make }, t("new_token"))),
    h("p", { id: "token-once", class: "muted" }, shown));
}

async function account(main) {
  const mine = await api("/me/tokens");
  const cur = h("input", { id: "pw-current", type: "password", autocomplete: "current-password" });
  const pw1 = h("input", { id: "pw-new", type: "password", autocomplete: "new-password" });
  const pw2 = h("input", { id: "pw-repeat", type: "password", autocomplete: "new-password" });
  const drop = h("input", { id: "pw-revoke", type: "checkbox", checked: true });
  const msg = h("p", { id: "pw-msg" });
  const change = async (e) => {
    e.preventDefault();
    if (pw1.value !== pw2.value) { msg.className = "error"; msg.textContent = t("pw_mismatch"); return; }
    try {
      await api("/me/password", { current: cur.value, new: pw1.value, revoke_tokens: drop.checked });
      msg.className = "ok"; msg.textContent = t("pw_changed");
      cur.value = pw1.value = pw2.value = "";
      await renderTokens();
    } catch (err) { msg.className = "error"; msg.textContent = String(err.message); }
  };
  const tokensBox = h("div", { id: "my-tokens" });
  const renderTokens = async () => tokensBox.replaceChildren(tokenTable(await api("/me/tokens"), renderTokens));
  tokensBox.append(tokenTable(mine, renderTokens));
  main.replaceChildren(h("h2", {}, t("account")),
    h("div", { class: "panel" }, h("h3", {}, t("profile")),
      table(["name", "full_name", "unit", "phone", "role", "region", "enterprise"], [h("tr", {},
        ...[me.name, me.full_name, me.unit, me.phone, roleName(me.role), me.region_prefix || t("all"),
          me.enterprise].map((v) => h("td", {}, v || "—")))])),
    h("form", { class: "panel stack", id: "pw-form", onsubmit: change }, h("h3", {}, t("change_pw")),
      h("label", { class: "field" }, h("span", {}, t("current_pw")), cur),
      h("label", { class: "field" }, h("span", {}, t("new_pw")), pw1),
      h("label", { class: "field" }, h("span", {}, t("repeat_pw")), pw2),
      h("label", {}, drop, " ", t("revoke_tokens")), msg,
      h("button", { type: "submit", id: "pw-submit" }, t("change_pw"))),
    h("div", { class: "panel" }, h("h3", {}, t("tokens")), tokensBox,
      tokenMaker("/me/tokens", renderTokens)));
}

function userForm(editing, done) {
  const u = editing || { role: "operator", region_prefix: me.region_prefix };
  const v = (k) => u[k] || "";
  const role = h("select", { id: "user-role" }, ROLES.map((r) =>
    h("option", { value: r, selected: r === u.role }, roleName(r))));
  const msg = h("p", { id: "user-msg" });
  const inputs = {
    name: h("input", { id: "user-name", value: v("name"), readonly: !!editing, autocomplete: "off" }),
    password: h("input", { id: "user-password", type: "password", autocomplete: "new-password" }),
    region_prefix: h("input", { id: "user-region", value: v("region_prefix"), size: 6 }),
    enterprise: h("input", { id: "user-enterprise", value: v("enterprise") }),
    full_name: h("input", { id: "user-full-name", value: v("full_name") }),
    unit: h("input", { id: "user-unit", value: v("unit") }),
    phone: h("input", { id: "user-phone", value: v("phone") }),
  };
  const drop = h("input", { id: "user-revoke", type: "checkbox", checked: true });
  const submit = async (e) => {
    e.preventDefault();
    const body = Object.fromEntries(["region_prefix", "enterprise", "full_name", "unit", "phone"]
      .map((k) => [k, inputs[k].value.trim()]));
    body.role = role.value;
    try {
      if (!editing) {
        await api("/users", { ...body, name: inputs.name.value.trim(), password: inputs.password.value });
      } else {
        const changed = Object.fromEntries(Object.entries(body).filter(([k, x]) => x !== (u[k] || "")));
        await api(`/users/${encodeURIComponent(u.name)}`, changed, "PATCH");
        if (inputs.password.value) {
          if (await ask(`${t("sure_reset")} ${u.name}`, false) === null) return;
          await api(`/users/${encodeURIComponent(u.name)}/password`,
            { password: inputs.password.value, revoke_tokens: drop.checked });
        }
      }
      await done(t("saved"));
    } catch (err) { msg.className = "error"; msg.textContent = String(err.message); }
  };
  const row = (key, input) => h("label", { class: "field" }, h("span", {}, t(key)), input);
  return h("form", { class: "panel stack", id: "user-form", onsubmit: submit },
    h("h3", {}, editing ? `${t("edit_user")} ${u.name}` : t("new_user")),
    row("name", inputs.name), row(editing ? "new_pw_reset" : "new_pw", inputs.password),
    editing ? h("label", {}, drop, " ", t("revoke_user_tokens")) : null,
    row("role", role), row("region", inputs.region_prefix), row("enterprise", inputs.enterprise),
    row("full_name", inputs.full_name), row("unit", inputs.unit), row("phone", inputs.phone), msg,
    h("button", { type: "submit", id: "user-submit" }, editing ? t("save") : t("create")),
    editing ? h("button", { type: "button", id: "user-cancel", onclick: () => done("") }, t("cancel_edit")) : null);
}

async function users(main, state = {}) {
  const list = await api("/users");
  const again = (note, patch) => users(main, { ...state, note, ...patch });
  const step = (u, which) => async () => {
    const reason = await ask(`${t("sure_" + which)} ${u.name}`, true);
    if (reason === null) return;
    try { await api(`/users/${encodeURIComponent(u.name)}/${which}`, { reason }); }
    catch (e) { alert(e.message); }
    again("");
  };
  const unblock = (u) => async () => {
    if (await ask(`${t("sure_unblock")} ${u.name}`, false) === null) return;
    try {
      const done = await api(`/users/${encodeURIComponent(u.name)}/unblock`, {});
      again(`${t("unblocked")} ${u.name}: ${done.sources_cleared}`);
    } catch (e) { alert(e.message); }
  };
  const editing = state.edit ? list.find((u) => u.name === state.edit) : null;
  let tokens = null;
  if (state.tokens) {
    const path = `/users/${encodeURIComponent(state.tokens)}/tokens`;
    tokens = h("div", { class: "panel", id: "user-tokens" }, h("h3", {}, `${t("tokens")} ${state.tokens}`),
      tokenTable(await api(path), () => again("")));
  }
  main.replaceChildren(...[h("h2", {}, `${t("users")} (${list.length})`),
    state.note ? h("p", { class: "ok", id: "users-note" }, state.note) : null,
    table(["name", "full_name", "unit", "phone", "role", "region", "enterprise", "state", ""],
      list.map((u) => h("tr", { "data-user": u.name, class: u.active ? "" : "muted" },
        h("td", {}, u.name), h("td", {}, u.full_name), h("td", {}, u.unit), h("td", {}, u.phone),
        h("td", {}, roleName(u.role)), h("td", {}, u.region_prefix || t("all")),
        h("td", {}, u.enterprise), h("td", { class: "state" }, u.active ? t("active") : t("inactive")),
        h("td", {}, u.name === me.name ? null : [
          h("button", { type: "button", class: "act edit", onclick: () => again("", { edit: u.name }) }, t("edit")),
          h("button", { type: "button", class: "act tokens", onclick: () => again("", { tokens: u.name }) }, t("tokens")),
          u.active ? h("button", { type: "button", class: "act deactivate", onclick: step(u, "deactivate") }, t("deactivate"))
            : h("button", { type: "button", class: "act reactivate", onclick: step(u, "reactivate") }, t("reactivate")),
          h("button", { type: "button", class: "act unblock", onclick: unblock(u) }, t("unblock")),
        ])))),
    tokens,
    userForm(editing, (note) => again(note, { edit: null }))].filter(Boolean));
}

// -- shell ---------------------------------------------------------------------------
function showLogin() {
  clearTimeout(timer);
  generation++;
  document.getElementById("nav").hidden = true;
  document.getElementById("logout").hidden = true;
  document.getElementById("who").textContent = "";
  const name = h("input", { id: "login-name", autocomplete: "username" });
  const pw = h("input", { id: "login-password", type: "password", autocomplete: "current-password" });
  const err = h("p", { class: "error" });
  const form = h("form", { class: "login", onsubmit: async (e) => {
    e.preventDefault();
    const r = await fetch("/api/login", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: name.value, password: pw.value }) });
    if (!r.ok) { err.textContent = t("wrong"); return; }
    await start();
  } }, h("h2", {}, t("login")), h("label", {}, t("name"), name),
  h("label", {}, t("password"), pw), err, h("button", { type: "submit", id: "login-submit" }, t("login")));
  document.getElementById("main").replaceChildren(form);
}

function showWho() {
  if (!me) return;
  document.getElementById("who").textContent =
    `${me.name} (${roleName(me.role)}${me.region_prefix ? " " + me.region_prefix : ""})`;
}

function translate() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.getElementById("lang").textContent = lang === "zh" ? "English" : "中文";
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  showWho();
}

async function refresh() {
  clearTimeout(timer);
  if (!me) return;
  const route = location.hash.slice(1) || "/";
  // Pages render into a detached box, swapped in only if no newer refresh started
  // meanwhile (a slow overview must not overwrite the page the user went to).
  const seq = ++generation;
  AFTER.length = 0;
  const main = h("main", { id: "main" });
  for (const a of document.querySelectorAll("#nav a")) {
    a.classList.toggle("on", a.getAttribute("href") === "#" + route.split("/").slice(0, 2).join("/"));
  }
  try {
    if (route.startsWith("/station/")) await station(main, decodeURIComponent(route.slice(9)));
    else if (route === "/stations") await stations(main);
    else if (route === "/alarms") await alarms(main);
    else if (route === "/rates") await rates(main);
    else if (route === "/audit") await audit(main);
    else if (route === "/users") await users(main);
    else if (route === "/upstreams") await upstreams(main);  // upstream.js
    else if (route === "/account") await account(main);
    else if (route === "/cases") await casesPage(main);  // cases.js
    else if (route === "/quarterly") await quarterlyPage(main);  // quarterly.js
    else if (route === "/corrections") await correctionsPage(main);  // corrections.js
    else if (route === "/marks") await marksPage(main);  // marks.js
    else if (route === "/reports") await reportsPage(main);  // reports.js
    else if (route.startsWith("/deviations")) await deviations(main, decodeURIComponent(route.slice(12)));
    else if (route.startsWith("/events/")) await deviceEvents(main, decodeURIComponent(route.slice(8)));
    else await overview(main);
    document.getElementById("updated").textContent = `${t("updated")} ${fmtTime(new Date().toISOString())}${zone()}`;
  } catch (e) {
    if (e.message === "401") return;
    main.append(h("p", { class: "error" }, String(e.message)));
  }
  if (seq !== generation) return;
  exportButtons(main);  // export.js: every table to xlsx
  document.getElementById("main").replaceWith(main);
  for (const draw of AFTER.splice(0)) draw();
  // Live updates by polling; the open confirmation dialog holds them back, and the
  // account pages, whose forms a refresh would wipe, have none.
  if (FORM_PAGES.has(route)) return;
  timer = setTimeout(() => document.getElementById("confirm").open ? null : refresh(),
    (me.poll_seconds || 5) * 1000);
}

async function start() {
  try { me = await api("/me"); } catch { return; }
  document.getElementById("nav").hidden = false;
  document.getElementById("logout").hidden = false;
  document.getElementById("nav-audit").hidden = !["administrator", "enterprise"].includes(me.role);
  document.getElementById("nav-users").hidden = me.role !== "administrator";
  document.getElementById("nav-upstreams").hidden = me.role === "enterprise" ||
    (me.role !== "administrator" && me.region_prefix !== "");
  await loadNames();  // names.js; before the user is shown: a page rendered from now on
  showWho();          // has its names, and no second render replaces the first
  refresh();
}

document.addEventListener("DOMContentLoaded", () => {
  translate();
  document.getElementById("lang").addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh";
    localStorage.setItem("lang", lang);
    translate();
    if (me) refresh(); else showLogin();
  });
  document.getElementById("logout").addEventListener("click", async () => {
    await fetch("/api/logout", { method: "POST" });
    me = null;
    showLogin();
  });
  // After a dialog, pages refresh; the account pages re-render themselves after their
  // action instead (a second render could wipe what the first one showed).
  document.getElementById("confirm").addEventListener("close", () => setTimeout(() =>
    FORM_PAGES.has(location.hash.slice(1)) ? null : refresh(), 100));
  window.addEventListener("hashchange", refresh);
  start();
});

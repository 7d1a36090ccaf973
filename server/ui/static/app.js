// The question page. It calls only the service's HTTP API, with the token
// the person gives (kept in sessionStorage), exactly as any caller does.
"use strict";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "text2sql.token";
const state = { history: [], busy: false, hasModel: true };

let hljs = null;
const hljsReady = (async () => {
  try {
    const meta = (n) => document.querySelector(`meta[name="asset:${n}"]`).content;
    const [core, sql] = await Promise.all([import(meta("highlight-core")), import(meta("highlight-sql"))]);
    core.default.registerLanguage("sql", sql.default);
    hljs = core.default;
  } catch (e) {
    // Plain text is still readable; highlighting is a nicety.
  }
})();

// --- the API -------------------------------------------------------------

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let resp;
  try {
    resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    return { status: 0, body: { message: "The service cannot be reached: " + e.message } };
  }
  let data = null;
  try { data = await resp.json(); } catch (e) { data = { message: `The service answered HTTP ${resp.status}.` }; }
  if (resp.status === 401) showAuth("The service needs a token: enter it under Access token.");
  return { status: resp.status, body: data || {} };
}

function failureOf(body) {
  for (const d of body.details || []) {
    if (String(d["@type"] || "").endsWith(".GenerationFailure")) return d;
  }
  return null;
}

// --- SQL display -----------------------------------------------------------

const BREAK = /^(select|from|where|group|order|having|limit|offset|union|intersect|except|join|left|right|inner|full|cross|on|with|window|fetch)$/i;
const PAIR = { left: 1, right: 1, inner: 1, full: 1, cross: 1, group: 1, order: 1 };

// formatSQL starts each clause on its own line, indented by parenthesis
// depth; string literals and quoted names are copied untouched.
function formatSQL(sql) {
  const tokens = sql.match(/'(?:[^']|'')*'|"(?:[^"]|"")*"|`[^`]*`|\s+|[A-Za-z_][A-Za-z_0-9$]*|[()]|[^\sA-Za-z_()'"`]+/g) || [];
  let out = "", depth = 0, prev = "";
  for (const t of tokens) {
    if (/^\s+$/.test(t)) { if (!out.endsWith("\n") && !out.endsWith(" ")) out += " "; continue; }
    const lower = t.toLowerCase();
    // "LEFT JOIN", "LEFT OUTER JOIN", "GROUP BY" stay on one line.
    const joined = (lower === "join" || lower === "by") && (PAIR[prev] || prev === "outer");
    if (BREAK.test(t) && !joined && out.trim() !== "") {
      out = out.trimEnd() + "\n" + "  ".repeat(depth) + (lower === "on" ? "  " : "");
    }
    if (t === "(") depth++;
    if (t === ")") depth = Math.max(0, depth - 1);
    out += t;
    prev = lower;
  }
  return out.trim();
}

async function showSQL(code, sql) {
  code.textContent = formatSQL(sql);
  await hljsReady;
  if (hljs) code.innerHTML = hljs.highlight(code.textContent, { language: "sql" }).value;
}

// --- databases and the model ----------------------------------------------

async function loadModel() {
  const el = $("model");
  const r = await api("GET", "/readyz");
  const m = (r.body && r.body.model) || {};
  state.hasModel = !!m.name;
  el.classList.toggle("none", !m.name);
  el.textContent = m.name ? `Model: ${m.name} (${m.reason}).` : `No model answers questions: ${m.reason || "none is configured"}. The Validate SQL tab works without one.`;
  $("ask").disabled = !state.hasModel;
}

async function loadDatabases() {
  const sel = $("database");
  const r = await api("GET", "/v1/databases");
  sel.replaceChildren();
  if (r.status !== 200) {
    $("database-help").textContent = r.body.message || "The databases could not be listed.";
    return;
  }
  for (const d of r.body.databases || []) {
    const o = document.createElement("option");
    o.value = d.name;
    o.textContent = `${d.name} (${d.dialect || d.backend || "unknown dialect"}, ${d.tableCount || 0} tables)`;
    sel.append(o);
  }
  $("database-help").textContent = sel.options.length ? "" : "No database is visible to you.";
}

function showAuth(message) {
  const auth = $("auth");
  auth.open = true;
  $("database-help").textContent = message;
}

// --- asking ----------------------------------------------------------------

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function violationList(violations, onPick) {
  const ul = el("ul", "violations");
  for (const v of violations || []) {
    const li = el("li");
    const where = v.line ? `line ${v.line}, column ${v.column}` : "";
    if (where && onPick) {
      const b = el("button", "goto", where);
      b.type = "button";
      b.setAttribute("aria-label", `Go to ${where}`);
      b.addEventListener("click", () => onPick(v));
      li.append(b);
    } else if (where) {
      li.append(el("span", "where", where + ": "));
    }
    li.append(el("code", "", v.code), document.createTextNode(" " + v.message));
    ul.append(li);
  }
  return ul;
}

function attemptsDetails(attempts, refusedOnly) {
  const shown = refusedOnly ? attempts.slice(0, -1) : attempts;
  if (!shown.length) return null;
  const d = el("details", "attempts");
  d.append(el("summary", "", refusedOnly ? `Why ${shown.length} earlier ${shown.length === 1 ? "attempt was" : "attempts were"} refused` : `The ${shown.length} ${shown.length === 1 ? "attempt" : "attempts"}`));
  for (const a of shown) {
    d.append(el("p", "", `Attempt ${a.number}` + (a.error ? `: ${a.error}` : "")));
    if (a.sql) d.append(el("pre", "", a.sql));
    if (a.violations && a.violations.length) d.append(violationList(a.violations));
  }
  return d;
}

function sqlLabLink(link, answer) {
  if (answer.sqllabUrl) {
    link.href = answer.sqllabUrl;
  } else {
    link.removeAttribute("href");
    link.setAttribute("aria-disabled", "true");
    link.title = "The service has no Superset address (--sqllab-url), so it cannot link to SQL Lab.";
  }
}

function renderAnswer(li, answer) {
  const tpl = $("answer-template").content.cloneNode(true);
  const box = tpl.querySelector(".answer");
  showSQL(box.querySelector("code"), answer.sql);
  const tries = (answer.attempts || []).length;
  const tables = (answer.tables || []).join(", ") || "no table";
  box.querySelector(".meta").textContent =
    `Reads ${tables} · ${answer.dialect} · ${tries} ${tries === 1 ? "attempt" : "attempts"}` + (answer.cached ? " · from the cache" : "");
  sqlLabLink(box.querySelector(".open-sqllab"), answer);
  const copy = box.querySelector(".copy");
  copy.addEventListener("click", async () => {
    try { await navigator.clipboard.writeText(answer.sql); copy.textContent = "Copied"; }
    catch (e) { copy.textContent = "Copy failed: select the SQL"; }
    setTimeout(() => { copy.textContent = "Copy SQL"; }, 2000);
  });
  const why = attemptsDetails(answer.attempts || [], true);
  if (why) box.append(why);
  li.append(box);
}

function renderRefusal(li, status, body) {
  const failure = failureOf(body);
  let text = body.message || `The service answered HTTP ${status}.`;
  if (status === 422) text = "No safe SQL could be written for this question. The service said: " + text;
  if (status === 501) text = "No model is configured, so questions cannot be answered. The service said: " + text;
  const p = el("p", "refusal", text);
  p.setAttribute("role", "alert");
  li.append(p);
  if (failure) {
    if (failure.violations && failure.violations.length) li.append(violationList(failure.violations));
    const d = attemptsDetails(failure.attempts || [], false);
    if (d) li.append(d);
  }
}

async function ask(question) {
  const database = $("database").value;
  if (!database || !question.trim() || state.busy) return;
  state.busy = true;
  $("ask").disabled = true;
  const li = el("li", "turn");
  li.append(el("p", "question", question));
  const pending = el("p", "pending", "Writing SQL…");
  li.append(pending);
  $("conversation").append(li);
  const r = await api("POST", "/v1/sql:generate", { database, question, history: state.history });
  pending.remove();
  if (r.status === 200 && r.body.sql) {
    renderAnswer(li, r.body);
    state.history.push({ question, sql: r.body.sql });
  } else {
    renderRefusal(li, r.status, r.body);
    state.history.push({ question, sql: "" });
  }
  state.busy = false;
  $("ask").disabled = !state.hasModel;
  li.scrollIntoView({ block: "nearest" });
}

// --- validating --------------------------------------------------------------

function pick(textarea, v) {
  const lines = textarea.value.split("\n");
  let offset = 0;
  for (let i = 0; i < v.line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
  offset += Math.max(0, v.column - 1);
  textarea.focus();
  textarea.setSelectionRange(offset, offset + 1);
}

async function validate() {
  const out = $("validation");
  const sql = $("sql").value;
  if (!sql.trim()) return;
  out.replaceChildren(el("p", "pending", "Checking…"));
  const r = await api("POST", "/v1/sql:validate", { database: $("database").value, sql });
  out.replaceChildren();
  if (r.status !== 200) {
    out.append(el("p", "refusal", r.body.message || `The service answered HTTP ${r.status}.`));
    return;
  }
  if (r.body.valid) {
    const box = el("div", "valid");
    box.append(el("p", "ok", `Valid: reads ${(r.body.tables || []).join(", ") || "no table"}. As it would run:`));
    const pre = el("pre", "sql");
    const code = el("code", "language-sql");
    pre.append(code);
    box.append(pre);
    showSQL(code, r.body.sql);
    out.append(box);
    return;
  }
  const n = (r.body.violations || []).length;
  const p = el("p", "refusal", `Refused: ${n} ${n === 1 ? "problem" : "problems"}.`);
  p.setAttribute("role", "alert");
  out.append(p, violationList(r.body.violations, (v) => pick($("sql"), v)));
}

// --- tabs and keys -----------------------------------------------------------

function selectTab(tab) {
  for (const t of document.querySelectorAll("[role=tab]")) {
    const on = t === tab;
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
    $(t.getAttribute("aria-controls")).hidden = !on;
  }
  tab.focus();
}

function init() {
  const tabs = [...document.querySelectorAll("[role=tab]")];
  for (const t of tabs) {
    t.addEventListener("click", () => selectTab(t));
    t.addEventListener("keydown", (e) => {
      const i = tabs.indexOf(t);
      if (e.key === "ArrowRight") selectTab(tabs[(i + 1) % tabs.length]);
      if (e.key === "ArrowLeft") selectTab(tabs[(i - 1 + tabs.length) % tabs.length]);
    });
  }
  $("ask-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = $("question").value;
    $("question").value = "";
    ask(q);
  });
  $("question").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $("ask-form").requestSubmit();
    }
  });
  $("new-conversation").addEventListener("click", () => {
    state.history = [];
    $("conversation").replaceChildren();
    $("question").focus();
  });
  $("validate-form").addEventListener("submit", (e) => { e.preventDefault(); validate(); });
  $("sql").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); validate(); }
  });
  $("token").value = sessionStorage.getItem(TOKEN_KEY) || "";
  $("token-save").addEventListener("click", () => {
    const v = $("token").value.trim();
    if (v) sessionStorage.setItem(TOKEN_KEY, v); else sessionStorage.removeItem(TOKEN_KEY);
    loadDatabases();
  });
  loadModel();
  loadDatabases();
}

init();

// The hoopgate console: pending approvals with approve/deny, sessions with a replay view. Plain
// DOM, data only ever written with textContent; the token stays in sessionStorage.
"use strict";

const KEY = "hoopgate.token";
const $ = (id) => document.getElementById(id);

function token() {
  return sessionStorage.getItem(KEY);
}

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { authorization: `Bearer ${token()}`, ...(options.body ? { "content-type": "application/json" } : {}) },
  });
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : await response.text();
  if (response.status === 401) {
    signOut(`Signed out: ${body.message ?? "token refused"}`);
    throw new Error(body.message);
  }
  if (!response.ok) throw new Error(body.message ?? `HTTP ${response.status}`);
  return body;
}

function say(text, error = false) {
  $("message").textContent = text;
  $("message").className = error ? "error" : "";
}

function cell(row, text, code = false) {
  const td = row.insertCell();
  if (code) {
    const c = document.createElement("code");
    c.textContent = text;
    td.append(c);
  } else td.textContent = text;
  return td;
}

function button(label, className, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.className = className;
  b.addEventListener("click", onClick);
  return b;
}

async function decide(id, verb) {
  try {
    const result = await api(`/api/approvals/${encodeURIComponent(id)}/${verb}`, { method: "POST", body: "{}" });
    say(`Request ${id} ${result.state}.`);
  } catch (err) {
    say(`Could not ${verb} ${id}: ${err.message}`, true);
  }
  await refresh();
}

async function loadApprovals() {
  const { approvals } = await api("/api/approvals?state=pending");
  const body = $("approvals").tBodies[0];
  body.replaceChildren();
  const focus = new URLSearchParams(location.hash.slice(1)).get("approval");
  for (const a of approvals) {
    const row = body.insertRow();
    row.dataset.id = a.id;
    if (a.id === focus) row.className = "focus";
    cell(row, a.id);
    cell(row, a.statement, true);
    cell(row, `${a.requester.subject} (${a.requester.issuer})`);
    cell(row, a.connection);
    cell(row, a.rules.map((r) => `${r.id} → ${r.approvers.join(" or ")}`).join("; "));
    cell(row, new Date(a.expiresAt).toLocaleString());
    const actions = row.insertCell();
    actions.append(button("Approve", "approve", () => decide(a.id, "approve")), " ", button("Deny", "deny", () => decide(a.id, "deny")));
  }
  $("no-approvals").hidden = approvals.length > 0;
}

async function loadSessions() {
  const { sessions } = await api("/api/sessions?limit=50");
  const body = $("sessions").tBodies[0];
  body.replaceChildren();
  for (const s of sessions) {
    const row = body.insertRow();
    row.dataset.id = s.id;
    cell(row, new Date(s.startedAt).toLocaleString());
    cell(row, s.subject);
    cell(row, s.connection);
    cell(row, String(s.statements));
    cell(row, String(s.rows));
    cell(row, s.endedAt ? new Date(s.endedAt).toLocaleString() : "open");
    row.insertCell().append(button("Replay", "replay", () => replay(s.id)));
  }
}

async function replay(id) {
  try {
    $("replay-text").textContent = await api(`/api/sessions/${encodeURIComponent(id)}?format=text`);
    $("replay-id").textContent = id;
    $("replay").hidden = false;
  } catch (err) {
    say(`Could not load session ${id}: ${err.message}`, true);
  }
}

async function refresh() {
  try {
    await Promise.all([loadApprovals(), loadSessions()]);
  } catch (err) {
    say(err.message, true);
  }
}

function subjectOf(jwt) {
  try {
    const payload = JSON.parse(atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return `${payload.sub} (${payload.iss})`;
  } catch {
    return "";
  }
}

function show() {
  const signedIn = token() !== null;
  $("sign-in").hidden = signedIn;
  $("app").hidden = !signedIn;
  $("sign-out").hidden = !signedIn;
  $("who").textContent = signedIn ? subjectOf(token()) : "";
  if (signedIn) void refresh();
}

function signOut(message) {
  sessionStorage.removeItem(KEY);
  show();
  if (message) say(message, true);
}

document.addEventListener("DOMContentLoaded", () => {
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, $("token").value.trim());
    $("token").value = "";
    say("");
    show();
  });
  $("sign-out").addEventListener("click", () => signOut());
  $("refresh").addEventListener("click", () => void refresh());
  $("close-replay").addEventListener("click", () => ($("replay").hidden = true));
  setInterval(() => token() !== null && void refresh(), 5000);
  show();
});

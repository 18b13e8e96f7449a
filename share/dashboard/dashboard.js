/* sipguard dashboard: polls /api/v1/state once a second with the bearer
 * token and renders it.  Everything from the daemon is inserted as text
 * (textContent), never as HTML: URIs and reasons come from the network.
 * No framework, no external resource (the Content-Security-Policy allows
 * only this origin). */
"use strict";

const POLL_MS = 1000;
const MAX_EVENTS = 100;
let token = "";
let seq = 0;
let timer = null;

function $(id) { return document.getElementById(id); }

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const c of cells) {
    tr.appendChild(c instanceof Node ? wrap(c) : el("td", c === null ? "-" : c));
  }
  return tr;
}

function wrap(node) { const td = el("td"); td.appendChild(node); return td; }

function hms(s) {
  s = Number(s) || 0;
  const h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), x = s % 60;
  return h + ":" + String(m).padStart(2, "0") + ":" + String(x).padStart(2, "0");
}

function expiry(s) {
  if (s === null) return "never";
  return s >= 3600 ? Math.floor(s / 3600) + "h" + String(Math.floor(s % 3600 / 60)).padStart(2, "0") + "m"
                   : Math.floor(s / 60) + "m" + String(s % 60).padStart(2, "0") + "s";
}

function clock(ms) { return new Date(ms).toLocaleTimeString(); }

function setStatus(text, bad) {
  const s = $("status");
  s.textContent = text;
  s.className = "status" + (bad ? " bad" : " ok");
}

function showLogin(why) {
  $("main").hidden = true;
  $("login").hidden = false;
  setStatus(why, true);
  if (timer) { clearTimeout(timer); timer = null; }
}

async function api(path, method) {
  const r = await fetch(path, {
    method: method || "GET",
    headers: { "Authorization": "Bearer " + token },
    cache: "no-store",
  });
  if (r.status === 401) { showLogin("token refused"); throw new Error("401"); }
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error || ("HTTP " + r.status));
  return body;
}

/* Per-second differences of a running total. */
function deltas(a) {
  const d = [];
  for (let i = 1; i < a.length; i++) d.push(Math.max(0, a[i] - a[i - 1]));
  return d;
}

function lastSum(a, n) { return a.slice(-n).reduce((x, y) => x + y, 0); }

function chart(svg, lines) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const W = 300, H = 80;
  let max = 1;
  for (const l of lines) for (const v of l.data) max = Math.max(max, v);
  for (const l of lines) {
    const n = l.data.length;
    if (n < 2) continue;
    const pts = l.data.map((v, i) =>
      ((i * W) / (n - 1)).toFixed(1) + "," + (H - 2 - (v * (H - 4)) / max).toFixed(1));
    const p = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    p.setAttribute("points", pts.join(" "));
    p.setAttribute("class", l.cls);
    svg.appendChild(p);
  }
  const t = document.createElementNS("http://www.w3.org/2000/svg", "text");
  t.setAttribute("x", "2"); t.setAttribute("y", "10");
  t.textContent = "max " + max;
  svg.appendChild(t);
}

function fill(id, rows) {
  const tb = $(id).tBodies[0];
  while (tb.firstChild) tb.removeChild(tb.firstChild);
  for (const r of rows) tb.appendChild(r);
}

/* A button that lifts something in two clicks (a stray one must not):
 * what names it ("Unban"), done says it happened ("unbanned"), then the
 * API path with its argument and the thing. */
function liftButton(what, done, path, thing) {
  const b = el("button", what, what.toLowerCase());
  b.dataset.what = thing;
  b.addEventListener("click", async () => {
    if (!b.classList.contains("armed")) {
      b.classList.add("armed");
      b.textContent = "Confirm " + what.toLowerCase();
      setTimeout(() => { b.classList.remove("armed"); b.textContent = what; }, 5000);
      return;
    }
    b.disabled = true;
    try {
      await api(path + encodeURIComponent(thing), "POST");
      setStatus(done + " " + thing, false);
    } catch (e) {
      setStatus(what.toLowerCase() + " " + thing + ": " + e.message, true);
    }
    poll(true);
  });
  return b;
}

function unbanButton(addr) {
  const b = liftButton("Unban", "unbanned", "/api/v1/unban?addr=", addr);
  b.dataset.addr = addr;
  return b;
}

function render(s) {
  const sr = s.series, inv = deltas(sr.invites), ref = deltas(sr.refused),
        drp = deltas(sr.dropped);
  $("t-calls").textContent = s.totals.calls;
  $("t-rate").textContent = lastSum(inv, 60);
  $("t-refused").textContent = lastSum(ref, 60);
  $("t-dropped").textContent = lastSum(drp, 60);
  $("t-bans").textContent = s.totals.bans;
  $("t-media").textContent = s.totals.media_streams;
  // media.kernel: the share of the relayed packets the eBPF fast path
  // carried (0 when it is off or could not load).
  const mp = s.totals.media_packets, mk = s.totals.media_kernel_packets;
  $("t-mpkts").textContent = mp;
  $("t-kernel").textContent = mk;
  $("t-kernel-l").textContent = "of them by the kernel" +
    (mp > 0 ? " (" + Math.round(100 * mk / mp) + "%)" : "");
  chart($("c-invites"), [{ data: inv, cls: "l1" }]);
  chart($("c-bad"), [{ data: ref, cls: "l2" }, { data: drp, cls: "l3" }]);
  chart($("c-bans"), [{ data: sr.bans, cls: "l2" }]);

  $("calls-n").textContent = s.calls.length ? "(" + s.calls.length + ")" : "";
  fill("calls", s.calls.map(c => row([c.caller, (c.caller_addr || "-") + " (" + c.caller_zone + ")",
    c.callee, (c.callee_addr || "-") + " (" + c.callee_zone + ")", c.state, hms(c.duration), hms(c.talk),
    c.media ? c.media.caller + "/" + c.media.callee + " (" + c.media.dropped + ")" : "-"])));
  fill("bans", s.bans.map(b => row([b.addr, expiry(b.expires_in), b.hits, b.rule, b.reason,
    unbanButton(b.addr)])));
  fill("top", s.top.map(t => row([t.src, t.count, clock(t.last), t.rule, t.reason || t.event])));
  // Users a toll-fraud rule blocks or throttles (here or elsewhere in
  // the cluster); unblocking lifts them on every instance.
  $("held-n").textContent = s.held.length ? "(" + s.held.length + ")" : "";
  fill("held", s.held.map(h => row([h.user, h.action, expiry(h.expires_in), h.rule,
    liftButton("Unblock", "unblocked", "/api/v1/unblock?user=", h.user)])));
  $("t-overflow").textContent = s.totals.udp_overflow;

  const tb = $("events").tBodies[0];
  for (const e of s.events) {
    const v = e.ev;
    const tr = row([v.ts ? new Date(v.ts).toLocaleTimeString() : "-", v.type, v.event,
      v.src, v.zone, v.rule, v.reason, v.count]);
    tr.className = "ev-" + String(v.type).replace(/[^a-z-]/g, "");
    tb.insertBefore(tr, tb.firstChild);
  }
  while (tb.rows.length > MAX_EVENTS) tb.deleteRow(tb.rows.length - 1);
  seq = s.seq;
}

async function poll(once) {
  if (timer && !once) { clearTimeout(timer); timer = null; }
  try {
    const s = await api("/api/v1/state?after=" + seq);
    $("main").hidden = false;
    $("login").hidden = true;
    render(s);
    setStatus("live " + clock(s.now), false);
  } catch (e) {
    if (e.message === "401") return;
    setStatus("no answer: " + e.message, true);
  }
  if (!once) timer = setTimeout(poll, POLL_MS);
}

/* A token in the URL fragment (never sent to the server): kept for this
 * tab, then taken out of the address bar and the history. */
function tokenFromHash() {
  const m = /[#&]token=([^&]+)/.exec(location.hash);
  if (!m) return false;
  sessionStorage.setItem("sipguard-token", decodeURIComponent(m[1]));
  history.replaceState(null, "", location.pathname);
  token = sessionStorage.getItem("sipguard-token");
  return true;
}

function start() {
  tokenFromHash();
  window.addEventListener("hashchange", () => { if (tokenFromHash()) { seq = 0; poll(); } });
  token = sessionStorage.getItem("sipguard-token") || "";
  $("login").addEventListener("submit", ev => {
    ev.preventDefault();
    token = $("token").value.trim();
    sessionStorage.setItem("sipguard-token", token);
    seq = 0;
    poll();
  });
  if (!token) showLogin("token needed");
  else poll();
}

document.addEventListener("DOMContentLoaded", start);

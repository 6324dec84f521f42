import { createHash } from "node:crypto";

/**
 * The admin page served at `/`: one self-contained HTML file (no external assets, no data in it).
 * It opens with a sign-in form only; the admin token pasted there is kept in sessionStorage (this
 * tab, never a URL or a cookie) and travels to `/ws` only in the `connect` frame. Nothing is shown
 * until the edge answers `admin.nodes` (a token without `"admin": true` gets `forbidden` and the
 * page signs out). Then: the cluster's nodes with version and commit (refreshed every 5 s), live
 * orders (orders.created + orders.status) with `process_order` actions on a selected order, and a
 * user's sockets on every edge with a Disconnect button (`admin.disconnect`, close 4009).
 */
export const DASHBOARD_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>orderstream admin</title>
<style>
  [hidden] { display: none !important; }
  body { font: 13px/1.4 system-ui, sans-serif; margin: 0; color: #222; background: #f4f5f7; }
  header { display: flex; gap: 1rem; align-items: center; padding: .6rem 1.2rem; background: #1f2937; color: #fff; }
  header h1 { font-size: 1.1rem; margin: 0; flex: 1; }
  main { display: grid; grid-template-columns: 3fr 2fr; gap: 1rem; padding: 1rem 1.2rem; }
  section { background: #fff; border: 1px solid #e3e5e8; border-radius: 6px; padding: .6rem .8rem; min-width: 0; }
  section.wide { grid-column: 1 / -1; }
  .col { display: flex; flex-direction: column; gap: 1rem; min-width: 0; }
  h2 { font-size: .95rem; margin: 0 0 .5rem; }
  .pill { padding: .1rem .6rem; border-radius: 1rem; background: #6b7280; }
  .pill.on { background: #15803d; } .pill.off { background: #b91c1c; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .25rem .45rem; border-bottom: 1px solid #eee; font-variant-numeric: tabular-nums; white-space: nowrap; }
  th { background: #f3f4f6; font-weight: 600; }
  .mono { font-family: ui-monospace, monospace; font-size: 12px; }
  .scroll { max-height: 360px; overflow: auto; }
  #rows tr { cursor: pointer; } #rows tr.sel { background: #dbeafe; }
  .s-PENDING { color: #6b7280; } .s-CONFIRMED { color: #1565c0; } .s-PROCESSING { color: #ef6c00; }
  .s-SHIPPED { color: #6a1b9a; } .s-DELIVERED { color: #2e7d32; font-weight: 600; } .s-CANCELLED, .s-FAILED { color: #c62828; }
  .bar { display: flex; gap: 1.2rem; margin-bottom: .4rem; color: #444; }
  button { font: inherit; padding: .25rem .7rem; border: 1px solid #9ca3af; border-radius: 4px; background: #f9fafb; cursor: pointer; }
  button.danger { border-color: #b91c1c; color: #b91c1c; }
  input { font: inherit; padding: .3rem .4rem; border: 1px solid #9ca3af; border-radius: 4px; }
  #login { max-width: 30rem; margin: 4rem auto; }
  #login input { width: 100%; box-sizing: border-box; margin: .4rem 0; }
  .msg { color: #b91c1c; min-height: 1.2em; } .ok { color: #15803d; }
  .row { display: flex; gap: .4rem; align-items: center; flex-wrap: wrap; margin-bottom: .4rem; }
</style>
</head>
<body>
<header><h1>orderstream admin</h1><span id="who"></span><span id="conn" class="pill off">signed out</span><button id="signout" hidden>Sign out</button></header>
<section id="login">
  <h2>Sign in</h2>
  <form id="login-form" autocomplete="off">
    <label for="token">Admin token (a JWT with <code>"admin": true</code>)</label>
    <input id="token" type="password" spellcheck="false" required>
    <button id="signin" type="submit">Sign in</button>
  </form>
  <p>The token stays in this tab (sessionStorage) and goes to the edge only in the socket's <code>connect</code> frame.</p>
  <p id="login-error" class="msg"></p>
</section>
<main id="app" hidden>
  <section class="wide"><h2>Nodes</h2>
    <table id="nodes"><thead><tr><th>Service</th><th>Node</th><th>Host</th><th>PID</th><th>Version</th><th>Commit</th><th>Up</th><th>Figures</th><th>Seen</th></tr></thead><tbody></tbody></table>
  </section>
  <section><h2>Live orders</h2>
    <div class="bar"><span>orders: <b id="orders">0</b></span><span>events: <b id="events">0</b></span><span>created: <b id="created">0</b></span><span>status updates: <b id="updates">0</b></span></div>
    <div class="scroll"><table><thead><tr><th>Order</th><th>User</th><th>Items</th><th>Total</th><th>Status</th><th>Created</th></tr></thead><tbody id="rows"></tbody></table></div>
  </section>
  <div class="col">
    <section><h2>Order <span id="sel" class="mono">(click an order)</span></h2>
      <div class="row" id="actions"><button data-action="confirm">confirm</button><button data-action="process">process</button><button data-action="ship">ship</button><button data-action="deliver">deliver</button><button data-action="cancel">cancel</button><button data-action="retry">retry</button></div>
      <div id="action-result" class="mono"></div>
    </section>
    <section><h2>A user's sockets</h2>
      <form id="user-form" class="row"><input id="user" placeholder="user id (token sub)" required><button type="submit">Find</button><button id="disconnect" type="button" class="danger">Disconnect</button></form>
      <table id="sockets"><thead><tr><th>Socket</th><th>Node</th><th>Channels</th><th>Since</th><th>Remote</th></tr></thead><tbody></tbody></table>
      <p id="user-result" class="mono"></p>
    </section>
  </div>
</main>
<script>
(function () {
  "use strict";
  var KEY = "orderstream.adminToken", MAX_ROWS = 200;
  var ws = null, token = sessionStorage.getItem(KEY), live = false, joined = false, backoff = 500, timer = null, nextId = 1;
  var rows = new Map(), offsets = {}, counts = { events: 0, created: 0, updates: 0 }, selected = null;
  function $(id) { return document.getElementById(id); }
  function text(id, t) { $(id).textContent = t; }
  function send(msg) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(msg)); }
  function td(tr, t, cls) { var c = document.createElement("td"); c.textContent = t; if (cls) c.className = cls; tr.appendChild(c); return c; }
  function ago(ms) { var s = Math.max(0, Math.round((Date.now() - ms) / 1000)); return s < 120 ? s + "s" : s < 7200 ? Math.round(s / 60) + "m" : Math.round(s / 3600) + "h"; }
  function pill(t, on) { text("conn", t); $("conn").className = "pill " + (on ? "on" : "off"); }
  function clearData() {
    rows.clear(); offsets = {}; counts = { events: 0, created: 0, updates: 0 }; selected = null;
    ["rows"].forEach(function (id) { $(id).textContent = ""; });
    $("nodes").tBodies[0].textContent = ""; $("sockets").tBodies[0].textContent = "";
    ["orders", "events", "created", "updates"].forEach(function (id) { text(id, "0"); });
    text("sel", "(click an order)"); text("action-result", ""); text("user-result", ""); text("who", "");
  }
  function signOut(why) {
    sessionStorage.removeItem(KEY); token = null; live = false; clearInterval(timer);
    if (ws) { var old = ws; ws = null; old.onclose = null; try { old.close(1000); } catch (e) {} }
    clearData(); $("app").hidden = true; $("signout").hidden = true; $("login").hidden = false;
    text("login-error", why || ""); pill("signed out", false);
  }
  function renderNodes(nodes) {
    var tb = $("nodes").tBodies[0]; tb.textContent = "";
    nodes.forEach(function (n) {
      var tr = document.createElement("tr");
      var figs = Object.keys(n.stats).map(function (k) { return k.replace("_", " ") + " " + n.stats[k]; }).join(", ");
      [n.service, n.node, n.host, n.pid, n.version, n.commit, ago(n.started_at), figs, ago(n.seen_at) + " ago"].forEach(function (v, i) { td(tr, String(v), i === 5 ? "mono" : ""); });
      tb.appendChild(tr);
    });
  }
  function renderOrder(o) {
    var tr = rows.get(o.id);
    if (!tr) {
      tr = document.createElement("tr"); tr.dataset.id = o.id;
      for (var i = 0; i < 6; i++) td(tr, "", i === 0 ? "mono" : "");
      tr.onclick = function () { select(tr.dataset.id); };
      rows.set(o.id, tr); $("rows").insertBefore(tr, $("rows").firstChild);
      while (rows.size > MAX_ROWS) { var last = $("rows").lastChild; rows.delete(last.dataset.id); last.remove(); }
    }
    var c = tr.children;
    c[0].textContent = o.id; c[1].textContent = o.userId;
    c[2].textContent = (o.items || []).reduce(function (n, it) { return n + it.quantity; }, 0);
    c[3].textContent = Number(o.total).toFixed(2);
    c[4].textContent = o.status; c[4].className = "s-" + o.status;
    c[5].textContent = new Date(o.createdAt).toLocaleTimeString();
    text("orders", rows.size);
  }
  function select(id) {
    selected = id; text("sel", id); text("action-result", "");
    rows.forEach(function (tr, k) { tr.classList.toggle("sel", k === id); });
  }
  function onFrame(m) {
    switch (m.type) {
      case "admin.nodes.result":
        renderNodes(m.nodes);
        if (!joined) {
          joined = true; live = true; backoff = 500; $("login").hidden = true; $("app").hidden = false; $("signout").hidden = false;
          var sub = { type: "subscribe", channels: ["orders.created", "orders.status"], id: "subscribe" };
          if (Object.keys(offsets).length) sub.since = offsets;
          send(sub);
        }
        return;
      case "connected": text("who", "signed in as " + m.user); return;
      case "subscribed":
        pill("live", true);
        for (var ch in m.offsets) if (!offsets[ch]) offsets[ch] = m.offsets[ch];
        return;
      case "order.created": case "order.status":
        offsets[m.channel] = m.offset; counts.events++;
        if (m.type === "order.created") counts.created++; else counts.updates++;
        renderOrder(m.data);
        text("events", counts.events); text("created", counts.created); text("updates", counts.updates);
        return;
      case "process_order.result":
        text("action-result", m.order_id + ": " + (m.error_code ? m.error_code + " (" + (m.message || "") + "), status " + m.status : "now " + m.status));
        return;
      case "admin.user_sockets.result": {
        var tb = $("sockets").tBodies[0]; tb.textContent = "";
        m.sockets.forEach(function (s) {
          var tr = document.createElement("tr");
          [s.id, s.node, s.channels.join(" ") || "-", ago(s.connected_at) + " ago", s.remote_address].forEach(function (v) { td(tr, String(v)); });
          tb.appendChild(tr);
        });
        text("user-result", m.user + ": " + m.sockets.length + " socket(s) on " + m.edges + " edge(s)");
        return;
      }
      case "admin.disconnect.result":
        text("user-result", m.user + ": disconnected " + m.disconnected + " socket(s) (close 4009) on " + m.edges + " edge(s)");
        $("sockets").tBodies[0].textContent = "";
        return;
      case "error":
        if (m.id === "nodes" && m.error.code === "forbidden") { signOut("forbidden: this token is not an admin token"); return; }
        if (typeof m.id === "string" && m.id.indexOf("act") === 0) text("action-result", "error: " + m.error.code + " (" + m.error.message + ")");
        else if (m.id === "sockets" || m.id === "disc") text("user-result", "error: " + m.error.code + " (" + m.error.message + ")");
        else pill("error: " + m.error.code, false);
        return;
    }
  }
  function start() {
    pill("connecting", false); text("login-error", ""); joined = false;
    var sock = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws", "orderstream.v1");
    ws = sock;
    sock.onopen = function () {
      send({ type: "connect", token: token, id: "connect" });
      send({ type: "admin.nodes", id: "nodes" });
      clearInterval(timer);
      timer = setInterval(function () { send({ type: "admin.nodes", id: "nodes" }); }, 5000);
    };
    sock.onmessage = function (ev) { if (ws === sock) onFrame(JSON.parse(ev.data)); };
    sock.onclose = function (ev) {
      if (ws !== sock) return;
      clearInterval(timer);
      if (ev.code === 4001) return signOut("unauthorized (4001): the token was refused");
      if (ev.code === 4009) return signOut("disconnected by an admin (4009)");
      if (!live) return signOut("could not connect (" + ev.code + ")");
      pill("closed (" + ev.code + "), reconnecting", false);
      setTimeout(function () { if (token && ws === sock) start(); }, backoff + Math.random() * backoff);
      backoff = Math.min(backoff * 2, 15000);
    };
  }
  $("login-form").onsubmit = function (ev) {
    ev.preventDefault();
    token = $("token").value.trim(); $("token").value = "";
    if (!token) return;
    sessionStorage.setItem(KEY, token); live = false; clearData(); start();
  };
  $("signout").onclick = function () { signOut(""); };
  $("actions").onclick = function (ev) {
    var a = ev.target.dataset && ev.target.dataset.action;
    if (!a) return;
    if (!selected) { text("action-result", "select an order first"); return; }
    text("action-result", a + " " + selected + "...");
    send({ type: "process_order", order_id: selected, action: a, timestamp: Date.now(), id: "act" + nextId++ });
  };
  $("user-form").onsubmit = function (ev) {
    ev.preventDefault();
    send({ type: "admin.user_sockets", user: $("user").value.trim(), id: "sockets" });
  };
  $("disconnect").onclick = function () {
    var u = $("user").value.trim();
    if (u) send({ type: "admin.disconnect", user: u, id: "disc" });
  };
  if (token) start();
})();
</script>
</body>
</html>
`;

function sha256(source: string): string {
  return `'sha256-${createHash("sha256").update(source).digest("base64")}'`;
}

function between(open: string, close: string): string {
  const from = DASHBOARD_HTML.indexOf(open) + open.length;
  return DASHBOARD_HTML.slice(from, DASHBOARD_HTML.indexOf(close, from));
}

/**
 * The page's Content-Security-Policy: only its own inline script and style (by hash), sockets to
 * its own origin, no frames around it (the Disconnect button cannot be clickjacked), no forms
 * posted anywhere.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${sha256(between("<script>", "</script>"))}`,
  `style-src ${sha256(between("<style>", "</style>"))}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * The live dashboard page served at `/`: one self-contained HTML file (no external assets, no
 * data). It connects to `/ws` on the same host, sends the token from its URL fragment
 * (`/#token=<admin JWT>`, never sent to a server; needed when anonymous all-orders access is off) in
 * a `connect` frame, subscribes to orders.created + orders.status, and shows the live orders with
 * their status and counters.
 */
export const DASHBOARD_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>orderstream live orders</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #222; background: #fafafa; }
  h1 { font-size: 1.3rem; margin: 0 0 .5rem; }
  .bar { display: flex; gap: 1.5rem; align-items: center; margin-bottom: 1rem; }
  .pill { padding: .15rem .6rem; border-radius: 1rem; background: #ddd; }
  .pill.on { background: #c8f0c8; } .pill.off { background: #f5c6c6; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #eee; font-variant-numeric: tabular-nums; }
  th { background: #f0f0f0; }
  td.id { font-family: ui-monospace, monospace; font-size: 12px; }
  .s-PENDING { color: #777; } .s-CONFIRMED { color: #1565c0; } .s-PROCESSING { color: #ef6c00; }
  .s-SHIPPED { color: #6a1b9a; } .s-DELIVERED { color: #2e7d32; font-weight: 600; } .s-CANCELLED { color: #c62828; }
  tr.flash { animation: flash 1s ease-out; }
  @keyframes flash { from { background: #fff7c0; } to { background: #fff; } }
</style>
</head>
<body>
<h1>orderstream: live orders</h1>
<div class="bar">
  <span id="conn" class="pill off">connecting</span>
  <span>orders seen: <b id="orders">0</b></span>
  <span>events: <b id="events">0</b></span>
  <span>created: <b id="created">0</b></span>
  <span>status updates: <b id="updates">0</b></span>
</div>
<table>
  <thead><tr><th>Order</th><th>User</th><th>Items</th><th>Total</th><th>Status</th><th>Created</th><th>Last offset</th></tr></thead>
  <tbody id="rows"></tbody>
</table>
<script>
(function () {
  var MAX_ROWS = 200;
  var rows = new Map();
  var counts = { events: 0, created: 0, updates: 0 };
  var offsets = {};
  var backoff = 500;
  var tbody = document.getElementById("rows");
  function el(id) { return document.getElementById(id); }
  function cell(tr, cls) { var td = document.createElement("td"); if (cls) td.className = cls; tr.appendChild(td); return td; }
  function render(order, offset) {
    var tr = rows.get(order.id);
    if (!tr) {
      tr = document.createElement("tr");
      for (var i = 0; i < 7; i++) cell(tr, i === 0 ? "id" : "");
      rows.set(order.id, tr);
      tbody.insertBefore(tr, tbody.firstChild);
      while (rows.size > MAX_ROWS) { var oldest = tbody.lastChild; rows.delete(oldest.dataset.id); tbody.removeChild(oldest); }
    }
    tr.dataset.id = order.id;
    var c = tr.children;
    c[0].textContent = order.id;
    c[1].textContent = order.userId;
    c[2].textContent = (order.items || []).reduce(function (n, it) { return n + it.quantity; }, 0);
    c[3].textContent = Number(order.total).toFixed(2);
    c[4].textContent = order.status; c[4].className = "s-" + order.status;
    c[5].textContent = new Date(order.createdAt).toLocaleTimeString();
    c[6].textContent = offset;
    tr.classList.remove("flash"); void tr.offsetWidth; tr.classList.add("flash");
    el("orders").textContent = rows.size;
  }
  // The token travels in the URL fragment (never sent to a server) and then in a connect frame.
  var token = new URLSearchParams(location.hash.slice(1)).get("token") || new URLSearchParams(location.search).get("token");
  if (location.search.indexOf("token=") >= 0) history.replaceState(null, "", location.pathname + (token ? "#token=" + encodeURIComponent(token) : ""));
  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
    var ws = new WebSocket(url, "orderstream.v1");
    ws.onopen = function () {
      backoff = 500;
      el("conn").textContent = "subscribing";
      if (token) ws.send(JSON.stringify({ type: "connect", token: token, id: "connect" }));
      var msg = { type: "subscribe", channels: ["orders.created", "orders.status"], id: "subscribe" };
      if (Object.keys(offsets).length) msg.since = offsets;
      ws.send(JSON.stringify(msg));
    };
    ws.onmessage = function (ev) {
      var m = JSON.parse(ev.data);
      if (m.type === "order.created" || m.type === "order.status") {
        offsets[m.channel] = m.offset;
        counts.events++;
        if (m.type === "order.created") counts.created++; else counts.updates++;
        render(m.data, m.offset);
        el("events").textContent = counts.events; el("created").textContent = counts.created; el("updates").textContent = counts.updates;
      } else if (m.type === "subscribed") {
        el("conn").textContent = "live"; el("conn").className = "pill on";
        for (var ch in (m.offsets || {})) if (!offsets[ch]) offsets[ch] = m.offsets[ch];
      } else if (m.type === "error") {
        el("conn").textContent = "error: " + m.error.code + (m.error.code === "forbidden" ? " (open /#token=<admin JWT>)" : ""); el("conn").className = "pill off";
      }
    };
    ws.onclose = function (ev) {
      el("conn").textContent = "closed (" + ev.code + "), reconnecting"; el("conn").className = "pill off";
      if (ev.code === 4001) { el("conn").textContent = "unauthorized: open /#token=<admin JWT>"; return; }
      if ([4008, 4400].indexOf(ev.code) >= 0) return;
      setTimeout(connect, backoff + Math.random() * backoff);
      backoff = Math.min(backoff * 2, 15000);
    };
  }
  connect();
})();
</script>
</body>
</html>
`;

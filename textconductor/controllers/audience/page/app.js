// The audience page: one puck over the engine's styles, the text streaming in, and the pull.
// Plain JS, no build step, no CDN. The server does all the maths (puck_geometry on the Python side):
// this page draws what it is told and sends where the finger is.
"use strict";
(() => {
  const SEND_HZ = 20, PING_MS = 2000, TEXT_KEEP = 1200, DISC = 1.15;
  const canvas = document.getElementById("puck"), ctx = canvas.getContext("2d");
  const el = (id) => document.getElementById(id);
  let styles = [], colours = {}, snap = 0.18, puck = null, mine = null, crowd = [], mode = "off", blend = 0.5;
  let ws = null, lastSent = 0, pending = null, timer = null, text = "", retryMs = 2000;

  function wsUrl() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    return proto + "//" + location.host + location.pathname.replace(/\/$/, "") + "/ws";
  }

  function connect() {
    el("state").textContent = "connecting…";
    ws = new WebSocket(wsUrl());
    ws.onopen = () => { el("state").textContent = "connected"; retryMs = 2000; if (puck) send(puck); };
    ws.onmessage = (ev) => { try { receive(JSON.parse(ev.data)); } catch (e) { /* ignore a bad frame */ } };
    ws.onclose = (ev) => {
      if (ev.code === 4001) { el("state").textContent = "The room is full. Trying again in 15 s…"; retryMs = 15000; }
      else if (ev.code === 4002) { el("state").textContent = "Disconnected (idle). Touch the circle to rejoin."; return; }
      else { el("state").textContent = "Disconnected. Reconnecting…"; }
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 30000);
    };
  }

  function receive(m) {
    if (m.t === "hello") {
      styles = m.styles || []; colours = m.colours || {}; snap = m.snap || 0.18;
      for (const [k, v] of Object.entries(colours)) document.documentElement.style.setProperty("--" + k, v);
      text = m.text || ""; el("prime").hidden = !m.prime; mode = m.mode; blend = m.blend;
      mine = null; showText(); showMode(); draw();
    } else if (m.t === "room") {
      crowd = m.crowd || []; mine = m.mine; mode = m.mode; blend = m.blend;
      if (m.text) { text = (text + m.text).slice(-TEXT_KEEP); showText(); }
      el("state").textContent = m.phones + (m.phones === 1 ? " phone plays" : " phones play") +
        " (" + m.connected + " connected)";
      showMode(); showPull(); draw();
    } else if (m.t === "full") {
      el("state").textContent = "The room is full. Trying again soon…";
    }
  }

  function showText() { el("text").textContent = text.slice(-600); }

  function showMode() {
    el("mode").textContent = mode === "crowd" ? "The room has the piece: you are conducting."
      : mode === "blend" ? "The room and the performer share it (the room counts " + Math.round(blend * 100) + "%)."
      : "The performer has the piece: your moves wait for the room's turn.";
  }

  function top(w) {
    let best = -1;
    (w || []).forEach((v, i) => { if (best < 0 || v > w[best]) best = i; });
    return best;
  }

  function showPull() {
    const i = top(mine), j = top(crowd);
    el("pull").textContent = i < 0 ? "Touch the circle: drag towards the styles you want."
      : "You pull towards " + styles[i].display + " (" + Math.round(mine[i] * 100) + "%)" +
        (i === j ? ": it is winning." : ".");
    const order = crowd.map((v, k) => [v, k]).sort((a, b) => b[0] - a[0]).filter((p) => p[0] >= 0.05).slice(0, 4);
    el("room").textContent = order.length ? "The room: " + order.map((p) => styles[p[1]].display + " " +
      Math.round(p[0] * 100) + "%").join(" · ") : "";
  }

  // -- the puck, as the window draws it: styles on the circle, lines whose width is the weight --
  function frame() {
    const w = canvas.clientWidth, h = canvas.clientHeight;
    // labels along the spokes need room outside the circle when there are many styles (as the window's)
    return { cx: w / 2, cy: h / 2, r: Math.min(w, h) / 2 * (styles.length >= 11 ? 0.64 : 0.78) };
  }
  function toScreen(x, y) { const f = frame(); return [f.cx + x * f.r, f.cy - y * f.r]; }
  window.tcPuck = { toScreen: toScreen };  // for the browser test: where a puck position is on the canvas

  function draw() {
    const dpr = window.devicePixelRatio || 1, w = canvas.clientWidth, h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * dpr)) { canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr); }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = colours.panel || "#11131a"; ctx.fillRect(0, 0, w, h);
    const f = frame(), icon = Math.max(7, f.r * 0.07);
    ctx.strokeStyle = colours.panel_edge || "#262a36"; ctx.lineWidth = 1.5;
    ctx.beginPath(); ctx.arc(f.cx, f.cy, f.r, 0, 2 * Math.PI); ctx.stroke();
    const p = puck ? toScreen(puck[0], puck[1]) : null;
    styles.forEach((s, i) => {
      const [sx, sy] = toScreen(s.x, s.y), wi = mine && p ? mine[i] : 0;
      if (wi > 0.005) {
        ctx.globalAlpha = 0.25 + 0.75 * wi; ctx.strokeStyle = s.colour; ctx.lineWidth = 1 + 14 * wi;
        ctx.lineCap = "round"; ctx.beginPath(); ctx.moveTo(p[0], p[1]); ctx.lineTo(sx, sy); ctx.stroke();
        ctx.globalAlpha = 1;
      }
      const cw = crowd[i] || 0;
      ctx.fillStyle = s.colour; ctx.strokeStyle = colours.background || "#000"; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.arc(sx, sy, icon * (0.8 + 0.6 * cw), 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
      label(s, sx, sy, icon, wi > 0.005 || cw > 0.05);
    });
    if (p) {
      ctx.fillStyle = colours.accent || "#ffd54f"; ctx.strokeStyle = colours.foreground || "#fff"; ctx.lineWidth = 2.5;
      ctx.beginPath(); ctx.arc(p[0], p[1], icon * 1.1, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
    }
  }

  function label(s, sx, sy, icon, lit) {
    const many = styles.length >= 11;
    ctx.font = "bold " + (many ? 10 : 13) + "px DejaVu Sans, sans-serif";
    ctx.fillStyle = lit ? s.colour : (colours.muted || "#8d93a1");
    const gap = icon * 1.5;
    if (many) {  // along the spoke, never upside down (as the window's radial labels)
      ctx.save(); ctx.translate(sx, sy);
      let a = Math.atan2(-s.y, s.x);
      if (s.x < -1e-9) { ctx.rotate(a + Math.PI); ctx.textAlign = "right"; ctx.textBaseline = "middle"; ctx.fillText(s.display, -gap, 0); }
      else { ctx.rotate(a); ctx.textAlign = "left"; ctx.textBaseline = "middle"; ctx.fillText(s.display, gap, 0); }
      ctx.restore();
    } else {
      ctx.textAlign = "center"; ctx.textBaseline = s.y > 0.05 ? "bottom" : "top";
      ctx.fillText(s.display, sx, s.y > 0.05 ? sy - gap : sy + gap);
    }
  }

  // -- the finger ----------------------------------------------------------------------------
  function at(ev) {
    const r = canvas.getBoundingClientRect(), f = frame();
    let x = (ev.clientX - r.left - f.cx) / f.r, y = (f.cy - (ev.clientY - r.top)) / f.r;
    const d = Math.hypot(x, y);
    if (d > DISC) { x *= DISC / d; y *= DISC / d; }
    return [x, y];
  }
  function send(xy) {
    if (!ws || ws.readyState !== 1) return;
    ws.send(JSON.stringify({ t: "move", x: +xy[0].toFixed(4), y: +xy[1].toFixed(4) }));
    lastSent = performance.now();
  }
  function move(xy) {
    puck = xy; draw();
    const wait = 1000 / SEND_HZ - (performance.now() - lastSent);
    if (wait <= 0) send(xy);
    else { pending = xy; if (!timer) timer = setTimeout(() => { timer = null; if (pending) send(pending); pending = null; }, wait); }
  }
  let down = false;
  canvas.addEventListener("pointerdown", (ev) => {
    down = true; canvas.setPointerCapture(ev.pointerId); move(at(ev));
    if (!ws || ws.readyState > 1) connect();
  });
  canvas.addEventListener("pointermove", (ev) => { if (down) move(at(ev)); });
  canvas.addEventListener("pointerup", (ev) => { if (down) move(at(ev)); down = false; });
  canvas.addEventListener("pointercancel", () => { down = false; });
  setInterval(() => {
    if (ws && ws.readyState === 1 && performance.now() - lastSent > PING_MS) {
      ws.send(JSON.stringify({ t: "ping" })); lastSent = performance.now();
    }
  }, 500);

  el("prime").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const t = el("prime-text").value.trim();
    if (t && ws && ws.readyState === 1) { ws.send(JSON.stringify({ t: "prime", text: t.slice(0, 140) })); el("prime-text").value = ""; }
  });
  window.addEventListener("resize", draw);
  connect();
  draw();
})();

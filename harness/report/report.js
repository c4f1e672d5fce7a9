/* report.js — draws report.html's timeline, latency and throughput plots on canvases (embedded; no external resources). */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("rapat-data").textContent);
  var O = JSON.parse(document.getElementById("rapat-ops").textContent);
  var N = O.s.length;
  var COL = { 1: "#2e9d4c", 2: "#d64550", 3: "#e69a1c", 0: "#9aa0a6" };
  var TYPE = { 0: "never completed", 1: "ok", 2: "fail", 3: "info" };
  var PAL = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];
  var LEFT = 64, RIGHT = 12;
  var unit = D.has_time ? "s" : "line";
  var tmin = 0, tmax = D.duration || 1;
  for (var i = 0; i < N; i++) { if (O.s[i] < tmin) tmin = O.s[i]; if (O.e[i] > tmax) tmax = O.e[i]; }
  if (tmax <= tmin) tmax = tmin + 1;
  var view = { t0: tmin, t1: tmax };
  var tip = document.getElementById("tip");

  // ops per lane, in start order (the history is in invoke order)
  var nl = D.lanes.length, lanes = [];
  for (var l = 0; l < nl; l++) lanes.push([]);
  for (i = 0; i < N; i++) lanes[O.lane[i]].push(i);
  function endOf(i) { return O.e[i] < 0 ? tmax : O.e[i]; }

  // the counterexample's operations, found by process and invocation time
  var cxOps = [], cxLo = Infinity, cxHi = -Infinity;
  (D.cx || []).forEach(function (c) {
    var best = -1;
    for (var i = 0; i < N; i++) if (O.p[i] === c[0] && Math.abs(O.s[i] - c[1]) < 1e-6) { best = i; break; }
    if (best < 0) return;
    cxOps.push(best); cxLo = Math.min(cxLo, O.s[best]); cxHi = Math.max(cxHi, endOf(best));
  });

  function fmtT(t) { return D.has_time ? t.toFixed(3) + " s" : "line " + Math.round(t); }
  function niceStep(span, n) {
    var raw = span / n, p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
  }
  function setup(cv, h) {
    var dpr = window.devicePixelRatio || 1, w = cv.parentNode.clientWidth || 900;
    cv.style.height = h + "px"; cv.width = Math.round(w * dpr); cv.height = Math.round(h * dpr);
    var g = cv.getContext("2d"); g.setTransform(dpr, 0, 0, dpr, 0, 0);
    return { g: g, w: w, h: h };
  }
  function xOf(t, w) { return LEFT + (t - view.t0) / (view.t1 - view.t0) * (w - LEFT - RIGHT); }
  function tOf(x, w) { return view.t0 + (x - LEFT) / (w - LEFT - RIGHT) * (view.t1 - view.t0); }
  function faults(c, top, bottom, labels) {
    var g = c.g;
    for (var k = 0; k < D.faults.length; k++) {
      var f = D.faults[k], x0 = Math.max(xOf(f.start, c.w), LEFT), x1 = Math.min(xOf(f.end, c.w), c.w - RIGHT);
      if (x1 < LEFT || x0 > c.w - RIGHT) continue;
      g.fillStyle = "rgba(214,69,80,0.12)"; g.fillRect(x0, top, Math.max(x1 - x0, 1), bottom - top);
      if (labels) { g.fillStyle = "#b3303b"; g.font = "11px sans-serif"; g.fillText(f.kind, x0 + 2, top + 10); }
    }
  }
  function xAxis(c, y) {
    var g = c.g, span = view.t1 - view.t0, st = niceStep(span, Math.max(2, Math.floor((c.w - LEFT) / 110)));
    g.strokeStyle = "#5f6b76"; g.fillStyle = "#5f6b76"; g.font = "11px sans-serif"; g.lineWidth = 1;
    g.beginPath(); g.moveTo(LEFT, y + 0.5); g.lineTo(c.w - RIGHT, y + 0.5); g.stroke();
    var dec = Math.max(0, -Math.floor(Math.log10(st)));
    for (var t = Math.ceil(view.t0 / st) * st; t <= view.t1; t += st) {
      var x = Math.round(xOf(t, c.w)) + 0.5;
      g.beginPath(); g.moveTo(x, y); g.lineTo(x, y + 4); g.stroke();
      g.fillText(D.has_time ? t.toFixed(dec) + "s" : String(Math.round(t)), x - 10, y + 15);
    }
  }

  // ---- timeline ----
  var tl = document.getElementById("tl"), tlc, laneH = nl <= 30 ? 18 : nl <= 80 ? 9 : 5, TOP = 16;
  function drawTimeline() {
    tlc = setup(tl, TOP + Math.max(nl, 1) * laneH + 24);
    var g = tlc.g, w = tlc.w, bottom = TOP + nl * laneH;
    g.clearRect(0, 0, w, tlc.h);
    faults(tlc, 0, bottom, true);
    g.font = "10px sans-serif";
    for (var l = 0; l < nl; l++) {
      var y = TOP + l * laneH;
      if (laneH >= 9) { g.fillStyle = "#5f6b76"; g.fillText((D.concurrency > 0 ? "thread " : "lane ") + D.lanes[l], 2, y + laneH - 4); }
      if (l % 2) { g.fillStyle = "rgba(0,0,0,0.025)"; g.fillRect(LEFT, y, w - LEFT - RIGHT, laneH); }
    }
    var bh = Math.max(laneH - 3, 2), pxPerT = (w - LEFT - RIGHT) / (view.t1 - view.t0);
    for (var t = 0; t <= 3; t++) {
      g.fillStyle = COL[t];
      for (var i = 0; i < N; i++) {
        if (O.t[i] !== t) continue;
        var s = O.s[i], e = endOf(i);
        if (e < view.t0 || s > view.t1) continue;
        var x0 = LEFT + (s - view.t0) * pxPerT, x1 = LEFT + (e - view.t0) * pxPerT;
        if (x0 < LEFT) x0 = LEFT; if (x1 > w - RIGHT) x1 = w - RIGHT;
        g.fillRect(x0, TOP + O.lane[i] * laneH + 1, Math.max(x1 - x0, 1), bh);
      }
    }
    // counterexample operations: outlined, so the failure is easy to find
    g.strokeStyle = "#7a0f18"; g.lineWidth = 2;
    for (var c = 0; c < cxOps.length; c++) {
      var k = cxOps[c], cs = Math.max(O.s[k], view.t0), ce = Math.min(endOf(k), view.t1);
      if (ce < view.t0 || cs > view.t1) continue;
      var cx0 = LEFT + (cs - view.t0) * pxPerT, cx1 = LEFT + (ce - view.t0) * pxPerT;
      g.strokeRect(cx0 - 2, TOP + O.lane[k] * laneH - 1, Math.max(cx1 - cx0, 1) + 4, bh + 4);
    }
    g.lineWidth = 1;
    xAxis(tlc, bottom + 2);
    document.getElementById("view").textContent = N + " operations; showing " + fmtT(view.t0) + " \u2013 " + fmtT(view.t1);
  }
  function opAt(x, y) {
    var l = Math.floor((y - TOP) / laneH);
    if (l < 0 || l >= nl || x < LEFT) return -1;
    var t = tOf(x, tlc.w), tol = 3 * (view.t1 - view.t0) / (tlc.w - LEFT - RIGHT), a = lanes[l];
    var lo = 0, hi = a.length - 1, best = -1;
    while (lo <= hi) { var m = (lo + hi) >> 1; if (O.s[a[m]] <= t + tol) { best = m; lo = m + 1; } else hi = m - 1; }
    for (var k = best; k >= 0 && k > best - 64; k--) if (endOf(a[k]) >= t - tol) return a[k];
    return -1;
  }
  function describe(i) {
    var lat = O.e[i] >= 0 ? ((O.e[i] - O.s[i]) * (D.has_time ? 1e3 : 1)).toFixed(D.has_time ? 3 : 0) + (D.has_time ? " ms" : " lines") : "\u2013";
    return "process " + O.p[i] + "  " + D.fs[O.f[i]] + (O.k.length && O.k[i] !== null ? " key " + O.k[i] : "") +
      " " + O.v[i] + "\n" + TYPE[O.t[i]] +
      (O.n[i] >= 0 ? " on " + D.nodes[O.n[i]] : "") + (O.err[i] ? "  error: " + O.err[i] : "") +
      "\ninvoked " + fmtT(O.s[i]) + ", latency " + lat + "\nhistory index " + O.i[i];
  }
  function showTip(ev, text) {
    if (!text) { tip.style.display = "none"; return; }
    tip.textContent = text; tip.style.display = "block";
    var x = ev.clientX + 14, y = ev.clientY + 14;
    if (x + 380 > window.innerWidth) x = ev.clientX - 390;
    tip.style.left = x + "px"; tip.style.top = y + "px";
  }

  // ---- latency ----
  var lat = document.getElementById("lat"), latc, fcol = function (f) { return PAL[f % PAL.length]; };
  var qs = (function () { // p50/p99 of ok latencies per bucket over the whole run
    var nb = 150, bw = (tmax - tmin) / nb, b = [], out = [];
    for (var k = 0; k < nb; k++) b.push([]);
    for (var i = 0; i < N; i++) if (O.t[i] === 1) b[Math.min(nb - 1, Math.floor((O.s[i] - tmin) / bw))].push(O.e[i] - O.s[i]);
    for (k = 0; k < nb; k++) {
      if (!b[k].length) continue;
      b[k].sort(function (x, y) { return x - y; });
      out.push([tmin + (k + 0.5) * bw, b[k][Math.floor(0.5 * (b[k].length - 1))], b[k][Math.ceil(0.99 * (b[k].length - 1))], k]);
    }
    return out;
  })();
  var lmin = Infinity, lmax = 0;
  for (i = 0; i < N; i++) if (O.e[i] >= 0) { var d = O.e[i] - O.s[i]; if (d > 0 && d < lmin) lmin = d; if (d > lmax) lmax = d; }
  if (!(lmin < Infinity)) { lmin = 1e-4; lmax = 1; }
  lmin = Math.pow(10, Math.floor(Math.log10(lmin))); lmax = Math.pow(10, Math.ceil(Math.log10(lmax)));
  if (lmax <= lmin) lmax = lmin * 10;
  function drawLatency() {
    latc = setup(lat, 260);
    var g = latc.g, w = latc.w, top = 6, bottom = 232, L0 = Math.log10(lmin), L1 = Math.log10(lmax);
    function y(v) { return bottom - (Math.log10(Math.max(v, lmin)) - L0) / (L1 - L0) * (bottom - top); }
    g.clearRect(0, 0, w, 260);
    faults(latc, top, bottom, false);
    g.font = "10px sans-serif"; g.fillStyle = "#5f6b76"; g.strokeStyle = "#e3e6ea";
    for (var p = L0; p <= L1; p++) {
      var yy = Math.round(y(Math.pow(10, p))) + 0.5, v = Math.pow(10, p) * (D.has_time ? 1e3 : 1);
      g.beginPath(); g.moveTo(LEFT, yy); g.lineTo(w - RIGHT, yy); g.stroke();
      g.fillText((D.has_time ? (v >= 1 ? v.toFixed(0) + " ms" : v.toPrecision(1) + " ms") : v + " lines"), 2, yy + 3);
    }
    var pxPerT = (w - LEFT - RIGHT) / (view.t1 - view.t0);
    for (var i = 0; i < N; i++) {
      if (O.e[i] < 0 || O.s[i] < view.t0 || O.s[i] > view.t1) continue;
      var x = LEFT + (O.s[i] - view.t0) * pxPerT, yv = y(O.e[i] - O.s[i]);
      g.fillStyle = g.strokeStyle = fcol(O.f[i]);
      if (O.t[i] === 1) g.fillRect(x - 1, yv - 1, 2.5, 2.5);
      else if (O.t[i] === 2) g.strokeRect(x - 2, yv - 2, 4, 4);
      else { g.beginPath(); g.moveTo(x - 2.5, yv - 2.5); g.lineTo(x + 2.5, yv + 2.5); g.moveTo(x + 2.5, yv - 2.5); g.lineTo(x - 2.5, yv + 2.5); g.stroke(); }
    }
    [[1, "#1d2329"], [2, "#d64550"]].forEach(function (q) {
      g.strokeStyle = q[1]; g.lineWidth = 1.5; g.beginPath();
      var prev = -2; // bucket of the previous point: a gap (no ok op) breaks the line
      for (var k = 0; k < qs.length; k++) {
        var xx = xOf(qs[k][0], w); if (xx < LEFT || xx > w - RIGHT) { prev = -2; continue; }
        if (qs[k][3] !== prev + 1) g.moveTo(xx, y(qs[k][q[0]])); else g.lineTo(xx, y(qs[k][q[0]]));
        prev = qs[k][3];
      }
      g.stroke(); g.lineWidth = 1;
    });
    xAxis(latc, bottom + 2);
  }

  // ---- throughput ----
  var thr = document.getElementById("thr"), thrc;
  function drawThroughput() {
    thrc = setup(thr, 220);
    var g = thrc.g, w = thrc.w, top = 8, bottom = 192, span = view.t1 - view.t0;
    var bw = D.has_time ? Math.max(niceStep(span, 80), 0.001) : Math.max(1, niceStep(span, 80));
    var b0 = Math.floor(view.t0 / bw), nb = Math.ceil(view.t1 / bw) - b0 + 1, nf = D.fs.length;
    var ok = [], bad = [], mx = 0;
    for (var f = 0; f < nf; f++) { ok.push(new Float64Array(nb)); bad.push(new Float64Array(nb)); }
    for (var i = 0; i < N; i++) {
      if (O.e[i] < 0 || O.e[i] < view.t0 || O.e[i] > view.t1) continue;
      var k = Math.floor(O.e[i] / bw) - b0; if (k < 0 || k >= nb) continue;
      (O.t[i] === 1 ? ok : bad)[O.f[i]][k] += 1 / bw;
    }
    for (f = 0; f < nf; f++) for (k = 0; k < nb; k++) mx = Math.max(mx, ok[f][k], bad[f][k]);
    if (!mx) mx = 1;
    var st = niceStep(mx, 4);
    mx = Math.ceil(mx / st) * st;
    g.clearRect(0, 0, w, 220);
    faults(thrc, top, bottom, false);
    g.font = "10px sans-serif"; g.fillStyle = "#5f6b76"; g.strokeStyle = "#e3e6ea";
    for (var v = 0; v <= mx + 1e-9; v += st) {
      var yy = Math.round(bottom - v / mx * (bottom - top)) + 0.5;
      g.beginPath(); g.moveTo(LEFT, yy); g.lineTo(w - RIGHT, yy); g.stroke();
      g.fillText(String(+v.toPrecision(3)) + (D.has_time ? "/s" : ""), 2, yy + 3);
    }
    for (f = 0; f < nf; f++) {
      [[ok[f], []], [bad[f], [4, 3]]].forEach(function (sr) {
        g.strokeStyle = fcol(f); g.setLineDash(sr[1]); g.lineWidth = 1.5; g.beginPath();
        for (var k = 0; k < nb; k++) {
          var x = xOf((b0 + k + 0.5) * bw, w), yv = bottom - sr[0][k] / mx * (bottom - top);
          if (k === 0) g.moveTo(x, yv); else g.lineTo(x, yv);
        }
        g.stroke(); g.setLineDash([]); g.lineWidth = 1;
      });
    }
    xAxis(thrc, bottom + 2);
  }

  function legend(id) {
    var el = document.getElementById(id); el.textContent = "";
    D.fs.forEach(function (f, k) {
      var s = document.createElement("span"), i = document.createElement("i");
      i.style.background = fcol(k); s.appendChild(i); s.appendChild(document.createTextNode(f)); el.appendChild(s);
    });
  }
  legend("lat-legend"); legend("thr-legend");

  function drawAll() { drawTimeline(); drawLatency(); drawThroughput(); }
  function zoom(factor, at) {
    var span = (view.t1 - view.t0) * factor, full = tmax - tmin;
    if (span > full) span = full;
    if (span < 1e-6) span = 1e-6;
    var frac = (at - view.t0) / (view.t1 - view.t0);
    view.t0 = at - frac * span; view.t1 = view.t0 + span;
    if (view.t0 < tmin) { view.t0 = tmin; view.t1 = tmin + span; }
    if (view.t1 > tmax) { view.t1 = tmax; view.t0 = tmax - span; }
    drawAll();
  }
  var queued = false;
  function redraw() { if (!queued) { queued = true; requestAnimationFrame(function () { queued = false; drawAll(); }); } }
  [[tl, function () { return tlc; }], [lat, function () { return latc; }], [thr, function () { return thrc; }]].forEach(function (pc) {
    var cv = pc[0], drag = null;
    cv.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      var r = cv.getBoundingClientRect();
      zoom(ev.deltaY < 0 ? 0.8 : 1.25, tOf(ev.clientX - r.left, pc[1]().w));
    }, { passive: false });
    cv.addEventListener("mousedown", function (ev) { drag = { x: ev.clientX, t0: view.t0, t1: view.t1 }; });
    window.addEventListener("mouseup", function () { drag = null; });
    cv.addEventListener("mouseleave", function () { showTip(null, null); });
    cv.addEventListener("mousemove", function (ev) {
      var c = pc[1](), r = cv.getBoundingClientRect();
      if (drag) {
        var dt = (ev.clientX - drag.x) / (c.w - LEFT - RIGHT) * (drag.t1 - drag.t0);
        var t0 = drag.t0 - dt, t1 = drag.t1 - dt;
        if (t0 < tmin) { t1 += tmin - t0; t0 = tmin; }
        if (t1 > tmax) { t0 -= t1 - tmax; t1 = tmax; }
        view.t0 = t0; view.t1 = t1; redraw(); showTip(null, null); return;
      }
      var x = ev.clientX - r.left, y = ev.clientY - r.top, text = null;
      if (cv === tl) { var i = opAt(x, y); if (i >= 0) text = describe(i); }
      else if (x >= LEFT) {
        var t = tOf(x, c.w), fl = [];
        D.faults.forEach(function (f) { if (f.start <= t && t <= f.end) fl.push(f.kind + " " + f.value); });
        text = fmtT(t) + (fl.length ? "\nfaults: " + fl.join("; ") : "");
      }
      showTip(ev, text);
    });
    cv.addEventListener("dblclick", function (ev) {
      var r = cv.getBoundingClientRect(); zoom(0.5, tOf(ev.clientX - r.left, pc[1]().w));
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("button[data-z]"), function (b) {
    b.addEventListener("click", function () {
      var z = b.getAttribute("data-z"), mid = (view.t0 + view.t1) / 2;
      if (z === "in") zoom(0.5, mid); else if (z === "out") zoom(2, mid);
      else if (z === "cx") {
        var pad = Math.max((cxHi - cxLo) * 2, 1e-3);
        view.t0 = Math.max(tmin, cxLo - pad); view.t1 = Math.min(tmax, cxHi + pad); drawAll();
        document.getElementById("timeline").scrollIntoView();
      }
      else { view.t0 = tmin; view.t1 = tmax; drawAll(); }
    });
  });
  if (cxOps.length) document.getElementById("cx-button").hidden = false;
  window.addEventListener("resize", redraw);
  drawAll();
  // report.html#cx opens zoomed on the counterexample
  if (location.hash === "#cx" && cxOps.length) document.getElementById("cx-button").click();
})();

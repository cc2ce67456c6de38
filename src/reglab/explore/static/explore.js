// reglab explore: the page. It asks the server (/api/...) and draws what the stream (/ws) sends.
// Everything it loads comes from this server; the charts are uPlot (vendored, MIT).
"use strict";

const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
const CLASS_RGB = [[245, 147, 34], [8, 119, 189], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75],
                   [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207]];
const LOG_MIN = -4, LOG_MAX = 3;  // a column's slider: log10 λ; its leftmost position is λ = 0
const MAX_POINTS = 1500;          // points kept per curve (older ones are thinned)
const RESTART_FIELDS = ["data", "file", "target", "noise", "points", "train_ratio", "train_size", "hidden", "activation",
                        "init", "cost", "optimizer", "batch_size", "seed", "momentum", "dropout", "max_norm"];
const CHANGE_FIELDS = ["eta", "reg", "l1_ratio"];

// the page's state; window.explore is read by the tests and the benchmark
const S = {
  options: null, lmbda: [], session: null, playing: false, points: [], events: [], columns: [], latest: null,
  snapshots: 0, drawn: {boundary: 0, tiles: 0, links: 0, curves: 0}, times: [], timing: {}, socket: null,
  lambdaChart: null, errors: 0,
};
window.explore = S;

const $ = (id) => document.getElementById(id);
const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };

// -- numbers and bytes ----------------------------------------------------------------------------
function fmt(x, digits = 3) {
  if (x === null || x === undefined || Number.isNaN(x)) return "—";
  if (x === 0) return "0";
  const a = Math.abs(x);
  return a >= 1e4 || a < 1e-3 ? x.toExponential(digits - 1) : String(Number(x.toPrecision(digits)));
}
const pct = (x) => (x === null || x === undefined ? "—" : (100 * x).toFixed(1) + "%");
function bytes(b64, signed) {
  const s = atob(b64), a = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i);
  return signed ? new Int8Array(a.buffer) : a;
}
const sliderOf = (lmbda) => (lmbda <= 0 ? LOG_MIN : Math.min(LOG_MAX, Math.max(LOG_MIN + 0.05, Math.log10(lmbda))));
const lmbdaOf = (v) => (v <= LOG_MIN ? 0 : Number(Math.pow(10, v).toPrecision(2)));
function signedRGB(v) {  // v in [-1, 1]: blue (negative), white, red (positive)
  const t = Math.min(1, Math.abs(v)), c = v < 0 ? [33, 102, 172] : [178, 24, 43];
  return c.map((ch) => Math.round(255 + (ch - 255) * t));
}

// -- talking to the server -----------------------------------------------------------------------
function showError(message) {
  const box = $("error");
  box.textContent = message; box.hidden = !message;
  if (message) S.errors += 1;
}
async function api(path, body) {
  const init = body === undefined ? {method: "POST"} :
    {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)};
  let response;
  try { response = await fetch(path, init); } catch (e) { showError("the server does not answer: is reglab explore still running?"); return null; }
  const answer = await response.json().catch(() => ({error: `the server answered ${response.status}`}));
  if (!response.ok) { showError(answer.error || `the server answered ${response.status}`); return null; }
  showError("");
  return answer;
}
function connect() {
  const socket = new WebSocket(`ws://${location.host}/ws`);
  socket.onmessage = (e) => receive(JSON.parse(e.data));
  socket.onclose = () => { S.socket = null; setTimeout(connect, 1000); };
  S.socket = socket;
}
function receive(msg) {
  if (msg.type === "session") onSession(msg);
  else if (msg.type === "history") { S.points = msg.points; redrawCurves(); }
  else if (msg.type === "snapshot") onSnapshot(msg);
  else if (msg.type === "state") onState(msg);
}

// -- the form and the URL ------------------------------------------------------------------------
function fill(select, names) { select.replaceChildren(...names.map((n) => { const o = el("option", "", n); o.value = n; return o; })); }
function dataNames(o) {
  const names = [...o.planar, "digits"];
  if (o.mnist) names.push("mnist");
  if (o.files.length) names.push("file");
  return names;
}
function setForm(s) {
  for (const [k, v] of Object.entries(s)) {
    const input = $(k);
    if (!input || k === "lmbda") continue;
    input.value = Array.isArray(v) ? v.join(",") : (v === null ? "" : v);
  }
  S.lmbda = s.lmbda.map(Number);
  $("columns-count").value = S.lmbda.length;
  outputs(); visibility();
}
function parseList(text) { return text.split(/[\s,]+/).filter((t) => t !== "").map(Number); }
function formSettings() {
  const num = (id) => (($(id).value === "") ? null : Number($(id).value));
  const s = {
    data: $("data").value, noise: num("noise"), points: num("points"), train_ratio: num("train_ratio"),
    hidden: parseList($("hidden").value), activation: $("activation").value, init: $("init").value, cost: $("cost").value,
    optimizer: $("optimizer").value, eta: num("eta"), batch_size: num("batch_size"), reg: $("reg").value,
    l1_ratio: num("l1_ratio"), lmbda: S.lmbda.slice(), seed: num("seed"), dropout: num("dropout"),
    max_norm: num("max_norm"),
  };
  if (s.data === "file") { s.file = $("file").value; if (s.file.toLowerCase().endsWith(".csv")) s.target = $("target").value; }
  if (s.data === "mnist" && num("train_size") !== null) s.train_size = num("train_size");
  return s;
}
function writeUrl() {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(formSettings())) if (v !== null && v !== undefined) params.set(k, Array.isArray(v) ? v.join(",") : v);
  history.replaceState(null, "", "?" + params.toString());
}
function readUrl(defaults) {
  const s = {...defaults}, params = new URLSearchParams(location.search);
  for (const [k, v] of params) {
    if (!(k in defaults) && k !== "file" && k !== "target" && k !== "train_size") continue;
    if (k === "lmbda" || k === "hidden") s[k] = parseList(v);
    else if (typeof defaults[k] === "number" || k === "max_norm") s[k] = Number(v);
    else s[k] = v;
  }
  return s;
}
function outputs() {
  for (const id of ["noise", "train_ratio", "l1_ratio"]) $(id + "-out").textContent = Number($(id).value).toFixed(2);
}
function visibility() {
  const data = $("data").value, planar = S.options.planar.includes(data);
  document.querySelectorAll(".planar").forEach((e) => { e.hidden = !planar; });
  document.querySelectorAll(".split").forEach((e) => { e.hidden = !(planar || data === "file"); });
  document.querySelectorAll(".mnist-only").forEach((e) => { e.hidden = data !== "mnist"; });
  $("file-row").hidden = data !== "file";
  $("target-row").hidden = !(data === "file" && $("file").value.toLowerCase().endsWith(".csv"));
  $("l1-row").hidden = $("reg").value !== "elastic";
}

// -- commands ------------------------------------------------------------------------------------------
function clock() {  // from a press of play or reset: the first snapshot drawn, the first with training in it
  S.timing = {asked: performance.now(), from: S.latest && S.session ? S.latest.epoch : -1};
}
async function start(play) {
  clock(); S.timing.from = 0;
  const answer = await api("/api/start", {settings: formSettings(), play});
  return answer !== null;
}
async function onPlay() {
  if (!S.session) { await start(true); return; }
  if (!S.playing) clock();
  await api(S.playing ? "/api/pause" : "/api/play");
}
async function onStep() {
  if (!S.session && !(await start(false))) return;
  await api("/api/step");
}
async function onExport() {
  const answer = await api("/api/export");
  if (!answer) return;
  const box = $("exported");
  const link = el("a", "", "report.html"); link.href = answer.url; link.target = "_blank"; link.id = "report-link";
  box.replaceChildren("exported: ", link, ` · run folder ${answer.run} (reglab train --config ${answer.run}/config.json re-runs it)`);
  box.hidden = false;
}
async function onFieldChange(id) {
  outputs(); visibility(); writeUrl();
  if (!S.session) return;
  if (CHANGE_FIELDS.includes(id)) {
    const change = {}; const s = formSettings();
    change[id] = s[id];
    if (id === "reg" && s.reg === "elastic") change.l1_ratio = s.l1_ratio;
    await api("/api/change", change);
  } else if (RESTART_FIELDS.includes(id)) {
    await start(S.playing);
  }
}
async function onLambda(m, value) {
  S.lmbda[m] = lmbdaOf(value);
  S.columns[m].title.textContent = `λ = ${fmt(S.lmbda[m])}`;
  writeUrl();
  if (S.session && S.session.columns.length === S.lmbda.length) await api("/api/change", {lmbda: S.lmbda.slice()});
}
async function onColumnCount() {
  const k = Math.max(1, Math.min(S.options.limits.models, Math.round(Number($("columns-count").value) || 1)));
  $("columns-count").value = k;
  while (S.lmbda.length < k) S.lmbda.push(S.lmbda.length ? Number((S.lmbda[S.lmbda.length - 1] * 10 || 0.1).toPrecision(2)) : 0);
  S.lmbda.length = k;
  buildColumns(null);
  writeUrl();
  if (S.session) await start(S.playing);
}
async function onFillRange() {
  const lo = Number($("range-lo").value), hi = Number($("range-hi").value), k = S.lmbda.length;
  if (!(lo > 0 && hi > 0)) { showError("the log range needs two λ values > 0"); return; }
  S.lmbda = Array.from({length: k}, (_, i) => Number((lo * Math.pow(hi / lo, k === 1 ? 0 : i / (k - 1))).toPrecision(2)));
  S.columns.forEach((c, m) => { c.slider.value = sliderOf(S.lmbda[m]); c.title.textContent = `λ = ${fmt(S.lmbda[m])}`; });
  writeUrl();
  if (S.session) await api("/api/change", {lmbda: S.lmbda.slice()});
}

// -- the columns --------------------------------------------------------------------------------------
function eventsPlugin() {  // changes made while training: a grey dashed line at their epoch
  return {hooks: {draw: [(u) => {
    const ctx = u.ctx; ctx.save(); ctx.strokeStyle = "#888"; ctx.setLineDash([4, 3]); ctx.lineWidth = 1;
    for (const e of S.events) {
      const x = u.valToPos(e.epoch, "x", true);
      if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
      ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
    }
    ctx.restore();
  }]}};
}
function chart(parent, title, series, scales, axes) {
  const opts = {
    title, width: 240, height: 150, plugins: [eventsPlugin()], legend: {live: false},
    scales: {x: {time: false}, ...scales}, cursor: {show: false},
    series: [{label: "epoch"}, ...series], axes: [{size: 28}, ...axes],
  };
  return new uPlot(opts, [[], ...series.map(() => [])], parent);
}
function buildColumns(session) {
  const box = $("columns");
  box.replaceChildren();
  S.columns = S.lmbda.map((lmbda, m) => {
    const root = el("div", "column"), head = el("h2"), swatch = el("span", "swatch");
    swatch.style.background = COLOURS[m % COLOURS.length];
    const title = el("span", "", `λ = ${fmt(lmbda)}`);
    const label = el("span"); label.append(swatch, title);
    const state = el("span", "state");
    head.append(label, state);
    const slider = el("input", "lmbda"); slider.type = "range"; slider.min = LOG_MIN; slider.max = LOG_MAX; slider.step = 0.05;
    slider.value = sliderOf(lmbda); slider.title = "log λ (leftmost: λ = 0)"; slider.id = `lambda-${m}`;
    slider.addEventListener("input", () => { title.textContent = `λ = ${fmt(lmbdaOf(Number(slider.value)))}`; });
    slider.addEventListener("change", () => onLambda(m, Number(slider.value)));
    root.append(head, slider);
    const col = {root, title, state, slider};
    if (session) {
      col.view = el("canvas", "view"); col.view.width = 240; col.view.height = 240; col.view.id = `view-${m}`;
      col.viewCaption = el("p", "caption");
      col.net = el("canvas", "net"); col.net.width = 240; col.net.height = 150; col.net.hidden = true;
      col.hist = el("canvas", "hist"); col.hist.width = 240; col.hist.height = 46 * (session.sizes.length - 1);
      col.numbers = el("div", "numbers");
      const charts = el("div", "charts");
      root.append(col.view, col.viewCaption, col.net, col.hist, el("p", "caption", "weights per layer (shared bins, ±max|w|)"),
                  col.numbers, charts);
      const L = session.sizes.length - 1;
      col.acc = chart(charts, "accuracy %", [
        {label: "train", stroke: COLOURS[m % 8], dash: [3, 3]}, {label: "test", stroke: COLOURS[m % 8]}], {}, [{size: 36}]);
      col.cost = chart(charts, "data cost C₀ and penalty", [
        {label: "C₀ train", stroke: "#555", dash: [3, 3]}, {label: "C₀ test", stroke: "#222"},
        {label: "penalty", stroke: "#c0392b", width: 2, scale: "p"}], {p: {}},
        [{size: 40}, {scale: "p", side: 1, size: 40, stroke: "#c0392b", grid: {show: false}}]);
      const rmsSeries = [];
      for (let l = 0; l < L; l++) {
        rmsSeries.push({label: `RMS ${l}`, stroke: COLOURS[(l + 4) % 8]});
        rmsSeries.push({label: `1/√${session.sizes[l]}`, stroke: COLOURS[(l + 4) % 8], dash: [5, 4], width: 1});
      }
      col.rms = chart(charts, "per-layer RMS, 1/√n_in", rmsSeries, {y: {distr: 3}},
                      [{size: 44, values: (u, ticks) => ticks.map((t) => fmt(t, 2))}]);
    }
    box.append(root);
    return col;
  });
}

// -- drawing ----------------------------------------------------------------------------------------------
function drawBoundary(col, b, m) {
  const G = b.grid, cls = bytes(b.classes[m]), conf = bytes(b.confidence[m]);
  const img = new ImageData(G, G);
  for (let i = 0; i < G * G; i++) {
    const rgb = CLASS_RGB[cls[i] % CLASS_RGB.length], shade = 0.15 + 0.6 * conf[i] / 255;
    for (let c = 0; c < 3; c++) img.data[4 * i + c] = Math.round(255 - shade * (255 - rgb[c]));
    img.data[4 * i + 3] = 255;
  }
  const off = new OffscreenCanvas(G, G); off.getContext("2d").putImageData(img, 0, 0);
  const ctx = col.view.getContext("2d"), W = col.view.width, H = col.view.height;
  ctx.imageSmoothingEnabled = true; ctx.drawImage(off, 0, 0, W, H);
  const [lo, hi] = b.box, px = (x) => (x - lo) / (hi - lo) * W, py = (y) => (hi - y) / (hi - lo) * H;
  for (const [split, r, edge] of [["train", 2.6, "#fff"], ["test", 2.0, "#000"]]) {
    const pts = S.session.points[split];
    if (!pts) continue;
    for (let i = 0; i < pts.y.length; i++) {
      const rgb = CLASS_RGB[pts.y[i] % CLASS_RGB.length];
      ctx.beginPath(); ctx.arc(px(pts.X[i][0]), py(pts.X[i][1]), r, 0, 2 * Math.PI);
      ctx.fillStyle = `rgb(${rgb})`; ctx.fill(); ctx.strokeStyle = edge; ctx.lineWidth = 0.7; ctx.stroke();
    }
  }
  col.viewCaption.textContent = "decision regions; training points (white edge), test points (black edge)";
  S.drawn.boundary += 1;
}
function drawTiles(col, t, m) {
  const [h, w] = t.shape, U = t.units, q = bytes(t.data[m], true);
  const cols = Math.ceil(Math.sqrt(U)), rows = Math.ceil(U / cols);
  const img = new ImageData(cols * (w + 1), rows * (h + 1));
  img.data.fill(255);
  for (let u = 0; u < U; u++) {
    const ox = (u % cols) * (w + 1), oy = Math.floor(u / cols) * (h + 1);
    for (let i = 0; i < h * w; i++) {
      const rgb = signedRGB(q[u * h * w + i] / 127), p = 4 * ((oy + Math.floor(i / w)) * img.width + ox + (i % w));
      img.data[p] = rgb[0]; img.data[p + 1] = rgb[1]; img.data[p + 2] = rgb[2];
    }
  }
  const off = new OffscreenCanvas(img.width, img.height); off.getContext("2d").putImageData(img, 0, 0);
  const ctx = col.view.getContext("2d"), W = col.view.width;
  const scale = W / img.width;
  col.view.height = Math.max(20, Math.round(img.height * scale));
  ctx.imageSmoothingEnabled = false; ctx.drawImage(off, 0, 0, W, col.view.height);
  col.viewCaption.textContent = `first-layer weights of ${U} of ${t.of} hidden units, ±${fmt(t.scale[m])} (blue −, red +)`;
  S.drawn.tiles += 1;
}
function drawLinks(col, links, m) {
  const ctx = col.net.getContext("2d"), W = col.net.width, H = col.net.height, sizes = links.sizes;
  ctx.clearRect(0, 0, W, H);
  const x = (l) => 12 + l * (W - 24) / (sizes.length - 1), y = (l, j) => H / 2 + (j - (sizes[l] - 1) / 2) * Math.min(16, (H - 16) / sizes[l]);
  for (let l = 0; l < sizes.length - 1; l++) {
    const q = bytes(links.layers[l][m], true), nIn = sizes[l];
    for (let j = 0; j < sizes[l + 1]; j++) for (let i = 0; i < nIn; i++) {
      const v = q[j * nIn + i];
      ctx.beginPath(); ctx.moveTo(x(l), y(l, i)); ctx.lineTo(x(l + 1), y(l + 1, j));
      if (v === 0) { ctx.strokeStyle = "#ccc"; ctx.lineWidth = 0.6; ctx.setLineDash([2, 2]); }
      else { ctx.strokeStyle = `rgb(${signedRGB(Math.sign(v) * (0.35 + 0.65 * Math.abs(v) / 127))})`; ctx.lineWidth = 0.3 + 3.5 * Math.abs(v) / 127; ctx.setLineDash([]); }
      ctx.stroke();
    }
  }
  ctx.setLineDash([]);
  for (let l = 0; l < sizes.length; l++) for (let j = 0; j < sizes[l]; j++) {
    ctx.beginPath(); ctx.arc(x(l), y(l, j), 3.2, 0, 2 * Math.PI); ctx.fillStyle = "#fff"; ctx.fill(); ctx.strokeStyle = "#333"; ctx.lineWidth = 1; ctx.stroke();
  }
  col.net.hidden = false;
  S.drawn.links += 1;
}
function drawHistograms(col, hists, m) {
  const ctx = col.hist.getContext("2d"), W = col.hist.width, rowH = 46;
  ctx.clearRect(0, 0, W, col.hist.height);
  hists.forEach((h, l) => {
    const counts = h.counts[m], top = Math.max(1, ...counts), B = counts.length, y0 = l * rowH + rowH - 12;
    ctx.fillStyle = COLOURS[(l + 4) % 8];
    counts.forEach((c, b) => { const bh = (rowH - 16) * c / top; ctx.fillRect(b * W / B + 0.5, y0 - bh, W / B - 1, bh); });
    ctx.fillStyle = "#333"; ctx.font = "10px system-ui";
    ctx.fillText(`layer ${l}  ±${fmt(h.range)}`, 2, l * rowH + 10);
    ctx.strokeStyle = "#999"; ctx.beginPath(); ctx.moveTo(W / 2, y0); ctx.lineTo(W / 2, y0 + 3); ctx.stroke();
  });
}
function thin(points) {
  if (points.length <= MAX_POINTS) return points;
  const keep = points.length - MAX_POINTS / 2;
  return points.filter((p, i) => i >= keep || i % 2 === 0);
}
function redrawCurves() {
  if (!S.session) return;
  const pts = S.points, x = pts.map((p) => p.epoch), L = S.session.sizes.length - 1;
  S.columns.forEach((col, m) => {
    if (!col.acc) return;
    const v = (key, scale = 1) => pts.map((p) => (p[key] === undefined || p[key][m] === null ? null : scale * p[key][m]));
    col.acc.setData([x, v("train_accuracy", 100), v("test_accuracy", 100)]);
    col.cost.setData([x, v("train_cost"), v("test_cost"), v("penalty")]);
    const rms = [x];
    for (let l = 0; l < L; l++) {
      rms.push(pts.map((p) => (p.rms[l][m] > 0 ? p.rms[l][m] : null)));
      rms.push(x.map(() => 1 / Math.sqrt(S.session.sizes[l])));
    }
    col.rms.setData(rms);
  });
  S.drawn.curves += 1;
}
function drawLambdaCurve(point) {
  const lam = S.session.columns.map((c) => c.lmbda), pos = lam.filter((v) => v > 0);
  const zeroAt = pos.length ? Math.min(...pos) / 10 : 1;
  const order = lam.map((v, i) => [v > 0 ? v : zeroAt, i]).sort((a, b) => a[0] - b[0]);
  const data = [order.map((o) => o[0]), order.map((o) => 100 * point.validation_accuracy[o[1]]),
                order.map((o) => 100 * point.train_accuracy[o[1]])];
  if (!S.lambdaChart) {
    S.lambdaChart = new uPlot({
      title: "the λ-curve now (λ = 0 drawn at the left)", width: 420, height: 200, cursor: {show: false},
      legend: {live: false},
      scales: {x: {time: false, distr: 3}}, axes: [{size: 30}, {size: 36}],
      series: [{label: "λ"}, {label: "validation %", stroke: "#1f77b4", points: {show: true, size: 6}},
               {label: "train % (running)", stroke: "#ff7f0e", dash: [3, 3], points: {show: true, size: 5}}],
    }, data, $("lambda-curve"));
  } else S.lambdaChart.setData(data);
}
function drawNumbers(col, point, m, colInfo) {
  const L = S.session.sizes.length - 1, sizes = S.session.sizes, zeros = [];
  for (let l = 0; l < L; l++) zeros.push(`${point.zeros[l][m].toLocaleString()}/${(sizes[l] * sizes[l + 1]).toLocaleString()}`);
  const line = (label, text) => { const d = el("div"); d.append(el("b", "", label + " "), text); return d; };
  col.numbers.replaceChildren(
    line("accuracy", `train ${pct(point.train_accuracy[m])} · val ${pct(point.validation_accuracy[m])} · test ${pct(point.test_accuracy[m])}`),
    line("C₀", `train ${fmt(point.train_cost[m])} · test ${fmt(point.test_cost[m])} · penalty ${fmt(point.penalty[m])}`),
    line("exact zeros", zeros.join(" · ")),
  );
  const bad = colInfo.diverged !== null ? `diverged (epoch ${fmt(colInfo.diverged, 4)})` : (colInfo.stopped !== null ? "stopped" : "");
  col.state.textContent = bad; col.state.className = bad ? "state status-bad" : "state";
}

// -- the stream's messages ---------------------------------------------------------------------------------
function onSession(msg) {
  S.session = msg; S.points = []; S.events = msg.events; S.latest = null;
  S.lmbda = msg.columns.map((c) => c.lmbda);
  setForm(msg.settings); writeUrl();
  buildColumns(msg);
  if (S.lambdaChart) { S.lambdaChart.destroy(); S.lambdaChart = null; }
  $("legend").textContent = `${msg.data}: ${msg.n.toLocaleString()} training, ${msg.splits.validation.toLocaleString()} validation, ` +
    `${msg.splits.test.toLocaleString()} test examples · network [${msg.sizes}] · ${msg.regularizer} · ${msg.engine}` +
    (msg.note ? ` · ${msg.note}` : "");
}
function onSnapshot(msg) {
  if (!S.session) return;
  S.latest = msg; S.events = msg.events; S.snapshots += 1;
  const now = performance.now();
  S.times.push(now); while (S.times.length && S.times[0] < now - 3000) S.times.shift();
  S.session.columns = msg.columns;
  S.points.push(msg.point); S.points = thin(S.points);
  S.columns.forEach((col, m) => {
    if (!col.numbers) return;
    if (msg.boundary) drawBoundary(col, msg.boundary, m);
    else if (msg.tiles) drawTiles(col, msg.tiles, m);
    else col.view.hidden = true;
    if (msg.links) drawLinks(col, msg.links, m);
    drawHistograms(col, msg.histograms, m);
    drawNumbers(col, msg.point, m, msg.columns[m]);
  });
  redrawCurves();
  drawLambdaCurve(msg.point);
  if (S.timing.asked !== undefined && S.timing.firstDrawn === undefined) S.timing.firstDrawn = performance.now() - S.timing.asked;
  if (S.timing.asked !== undefined && S.timing.firstTrained === undefined && msg.epoch > S.timing.from) S.timing.firstTrained = performance.now() - S.timing.asked;
  onState({playing: msg.playing || S.playing, epoch: msg.epoch});
}
function onState(msg) {
  if (msg.type === "state") S.playing = msg.playing;
  $("play").textContent = S.playing ? "❚❚ pause" : "▶ play";
  const rate = S.times.length > 1 ? (S.times.length - 1) / ((S.times[S.times.length - 1] - S.times[0]) / 1000) : 0;
  const epoch = msg.epoch === null || msg.epoch === undefined ? "—" : msg.epoch.toFixed(2);
  $("status").textContent = `epoch ${epoch} · ${S.playing ? "playing" : "paused"} · ${rate.toFixed(1)} snapshots/s` +
    (msg.notice ? ` · ${msg.notice}` : "");
}

// -- start -------------------------------------------------------------------------------------------------
async function main() {
  const response = await fetch("/api/options");
  S.options = await response.json();
  const o = S.options;
  fill($("data"), dataNames(o)); fill($("file"), o.files);
  for (const k of ["activation", "init", "cost", "optimizer", "reg"]) fill($(k), o.choices[k]);
  setForm(readUrl(o.defaults));
  buildColumns(null);
  for (const input of document.querySelectorAll("#controls input, #controls select")) {
    if (!input.id || input.id.startsWith("range-")) continue;
    if (input.id === "columns-count") { input.addEventListener("change", onColumnCount); continue; }
    if (input.type === "range") input.addEventListener("input", outputs);
    input.addEventListener("change", () => onFieldChange(input.id));
  }
  $("play").addEventListener("click", onPlay);
  $("step").addEventListener("click", onStep);
  $("reset").addEventListener("click", () => start(false));
  $("export").addEventListener("click", onExport);
  $("fill-range").addEventListener("click", onFillRange);
  connect();
}
window.addEventListener("DOMContentLoaded", main);

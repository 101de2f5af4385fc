/* The live page's script: polls this agent's /status once a second, keeps the last ten minutes for
 * the charts (seeded from /ui/recent), and draws. Every value goes into the document as text
 * (textContent) or as an SVG attribute, never as markup: Status carries strings from the network and
 * the receiver. Nothing is fetched from anywhere but this page's own origin. */
/* global document, fetch, setTimeout */
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const WINDOW_S = 600;
const MAX_POINTS = 900;
const COLOURS = { offset: '#1f5fbf', error: '#d0342c' };
/** C/N0 classes of the sky plot, strongest first (CSS .cn-* shows the same colours in the legend). */
const CN0 = [[40, '#0b8a7a'], [30, '#86b300'], [20, '#f08c00'], [-Infinity, '#d6336c']];
const CN0_NONE = '#9a9a9a';
/** The disc of the sky, a colour used nowhere else (a test finds the plot by it). */
const SKY_FILL = '#eaf2fb';

let points = [];
let lastStatus = null;

const $ = (id) => document.getElementById(id);

function h(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}

function s(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}

function clear(e) {
  while (e.firstChild) e.removeChild(e.firstChild);
  return e;
}

function setText(id, v) {
  $(id).textContent = v === null || v === undefined ? '–' : String(v);
}

function ns(v) {
  if (v === null || v === undefined) return '–';
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(3)} s`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(3)} ms`;
  if (a >= 1e3) return `${(v / 1e3).toFixed(2)} µs`;
  return a > 0 && a < 10 ? `${v.toFixed(1)} ns` : `${Math.round(v)} ns`;
}

function num(v, digits) {
  if (v === null || v === undefined) return '–';
  return typeof v === 'number' && digits !== undefined ? v.toFixed(digits) : String(v);
}

function duration(sec) {
  if (sec === null || sec === undefined) return '–';
  const d = Math.floor(sec / 86400), hh = Math.floor((sec % 86400) / 3600), m = Math.floor((sec % 3600) / 60);
  return d > 0 ? `${d} d ${hh} h` : hh > 0 ? `${hh} h ${m} min` : m > 0 ? `${m} min ${Math.floor(sec % 60)} s` : `${Math.floor(sec)} s`;
}

function kv(table, rows) {
  clear(table);
  for (const [k, v] of rows) {
    const tr = h('tr');
    tr.append(h('td', {}, k), h('td', {}, v === null || v === undefined ? '–' : v));
    table.append(tr);
  }
}

function sum(o) {
  return Object.values(o || {}).reduce((a, b) => a + (typeof b === 'number' ? b : 0), 0);
}

function ticks(lo, hi, n) {
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((x) => x >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
  return out;
}

/** A line chart of one series over the last ten minutes; a gap (no value, or a missing second) breaks the
 * line. `log`: a logarithmic scale (for the time error estimate, which falls by decades after a start or
 * a holdover, and whose level now matters more than the peak). */
function chart(svg, key, colour, nowS, log) {
  clear(svg);
  const W = 560, H = 180, L = 64, R = 10, T = 10, B = 24;
  const fromS = nowS - WINDOW_S;
  const shown = points.filter((p) => p.t >= fromS && p[key] !== null && p[key] !== undefined);
  const x = (t) => (L + ((t - fromS) / WINDOW_S) * (W - L - R)).toFixed(1);
  for (let m = 0; m <= 10; m += 2) {
    const t = fromS + m * 60;
    svg.append(s('line', { x1: x(t), x2: x(t), y1: T, y2: H - B, class: 'grid' }));
    svg.append(s('text', { x: x(t), y: H - B + 14, 'text-anchor': 'middle' }, m === 10 ? 'now' : `-${10 - m} min`));
  }
  if (shown.length === 0) {
    svg.append(s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty' }, 'no value yet'));
    return;
  }
  const f = log ? (v) => Math.log10(Math.max(1, v)) : (v) => v;
  let lo = Math.min(...shown.map((p) => f(p[key])));
  let hi = Math.max(...shown.map((p) => f(p[key])));
  if (log) { lo = Math.floor(lo); hi = Math.max(lo + 1, Math.ceil(hi)); }
  if (hi === lo) { hi += Math.max(1, Math.abs(hi) * 0.1); lo -= Math.max(1, Math.abs(lo) * 0.1); }
  const y = (v) => (H - B - ((f(v) - lo) / (hi - lo)) * (H - T - B)).toFixed(1);
  const tickValues = log ? Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i)) : ticks(lo, hi, 4);
  for (const v of tickValues) {
    svg.append(s('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }));
    svg.append(s('text', { x: L - 4, y: Number(y(v)) + 3, 'text-anchor': 'end' }, ns(v).replace(/(\.\d*?)0+ /, '$1 ').replace('. ', ' ')));
  }
  let run = [];
  const flush = () => {
    if (run.length === 1) svg.append(s('rect', { x: Number(run[0][0]) - 1.5, y: Number(run[0][1]) - 1.5, width: 3, height: 3, fill: colour }));
    else if (run.length > 1) svg.append(s('polyline', { points: run.map((p) => p.join(',')).join(' '), fill: 'none', stroke: colour, 'stroke-width': 2, 'shape-rendering': 'crispEdges' }));
    run = [];
  };
  let prev = null;
  for (const p of points.filter((q) => q.t >= fromS)) {
    const v = p[key];
    if (v === null || v === undefined || (prev !== null && p.t - prev > 2.5)) flush();
    if (v !== null && v !== undefined) run.push([x(p.t), y(v)]);
    prev = p.t;
  }
  flush();
}

function cn0Colour(snr) {
  if (snr === null || snr === undefined) return CN0_NONE;
  return CN0.find(([min]) => snr >= min)[1];
}

/** Polar plot: the centre is the zenith, the rim the horizon, north up, east right. */
function sky(svg, sats) {
  clear(svg);
  const C = 160, Rr = 140;
  svg.append(s('circle', { cx: C, cy: C, r: Rr, fill: SKY_FILL }));
  for (const el of [0, 30, 60]) {
    svg.append(s('circle', { cx: C, cy: C, r: (Rr * (90 - el)) / 90, class: 'axis' }));
    if (el > 0) svg.append(s('text', { x: C + 3, y: C - (Rr * (90 - el)) / 90 - 2 }, `${el}°`));
  }
  svg.append(s('line', { x1: C - Rr, x2: C + Rr, y1: C, y2: C, class: 'grid' }));
  svg.append(s('line', { x1: C, x2: C, y1: C - Rr, y2: C + Rr, class: 'grid' }));
  for (const [label, dx, dy] of [['N', 0, -Rr - 6], ['E', Rr + 8, 4], ['S', 0, Rr + 14], ['W', -Rr - 8, 4]]) {
    svg.append(s('text', { x: C + dx, y: C + dy, 'text-anchor': 'middle' }, label));
  }
  let drawn = 0;
  for (const sat of sats) {
    if (sat.elevationDeg === null || sat.azimuthDeg === null || sat.elevationDeg < 0) continue;
    const r = (Rr * (90 - Math.min(90, sat.elevationDeg))) / 90;
    const a = (sat.azimuthDeg * Math.PI) / 180;
    const cx = C + r * Math.sin(a), cy = C - r * Math.cos(a);
    const colour = cn0Colour(sat.snrDbHz);
    const g = s('g', { class: sat.used ? 'sat used' : 'sat', 'data-prn': sat.prn, 'data-snr': sat.snrDbHz === null ? '' : sat.snrDbHz, 'data-fill': colour });
    g.append(s('title', {}, `${sat.constellation} ${sat.prn}: elevation ${sat.elevationDeg}°, azimuth ${sat.azimuthDeg}°, C/N0 ${num(sat.snrDbHz)} dB-Hz${sat.used ? ', used' : ''}`));
    g.append(s('circle', sat.used ? { cx, cy, r: 9, fill: colour } : { cx, cy, r: 8, fill: '#fff', stroke: colour, 'stroke-width': 3 }));
    g.append(s('text', { x: cx, y: cy + 3.5, 'text-anchor': 'middle', class: sat.used ? 'prn on' : 'prn' }, sat.prn));
    svg.append(g);
    drawn++;
  }
  if (drawn === 0) svg.append(s('text', { x: C, y: C + 30, 'text-anchor': 'middle', class: 'empty' }, 'no satellite positions'));
}

function render(st) {
  const d = st.discipline, g = st.gnss;
  document.title = `${st.agent.name}: ${d.state}`;
  const badge = $('state');
  badge.textContent = d.state;
  badge.className = `badge ${/^[A-Z]+$/.test(d.state) ? d.state : 'unknown'}`;
  setText('name', st.agent.name);
  setText('clock', `${st.time} · up ${duration(st.agent.uptimeS)}${st.agent.simulated ? ' · simulated receiver' : ''}`);
  setText('stratum', d.stratum);
  setText('clock-class', d.ptpClockClass);
  setText('synchronized', d.synchronized ? 'yes' : 'no');
  setText('offset', ns(d.offsetNs));
  setText('time-error', ns(d.timeErrorEstimateNs));
  setText('sats-used', g.satellitesUsed);
  setText('sats-view', g.satellitesInView);

  chart($('chart-offset'), 'offsetNs', COLOURS.offset, st.timeUnixS);
  chart($('chart-error'), 'timeErrorEstimateNs', COLOURS.error, st.timeUnixS, true);
  sky($('sky'), g.satellites || []);

  kv($('timing'), [
    ['state since', d.stateSince], ['servo', d.servo], ['frequency', d.frequencyPpb === null ? null : `${num(d.frequencyPpb, 3)} ppb`],
    ['sigma', ns(d.sigmaNs)], ['holdover for', d.holdoverElapsedS === null ? null : duration(d.holdoverElapsedS)],
    ['reference id', d.refId], ['leap indicator', d.leapIndicator], ['root dispersion', `${num(d.rootDispersionS * 1e6, 1)} µs`],
    ['fix', `${g.fixMode === 3 ? '3D' : g.fixMode === 2 ? '2D' : g.fixMode === 1 ? 'no fix' : 'unknown'}${g.pdop === null ? '' : `, PDOP ${g.pdop}`}`],
    ['antenna', g.antenna], ['PPS', `${st.pps.present ? 'present' : 'absent'}${st.pps.jitterNs === null ? '' : `, jitter ${st.pps.jitterNs} ns`}`],
    ['receiver', `${st.receiver.source}${st.receiver.device && st.receiver.device !== st.receiver.source ? ` ${st.receiver.device}` : ''}${st.receiver.connected ? '' : ' (not connected)'}`],
    ['TAI-UTC', d.taiUtcS === null ? null : `${d.taiUtcS} s`], ['next leap second', d.nextLeap],
  ]);

  // The rule's figure now in its units, a yes/no rule in words (never "value 0 vs 0.5").
  const alarmFigure = (a) => {
    if (a.units === 'boolean') return `now ${a.current === null || a.current === undefined ? 'n/a' : a.current >= 0.5 ? 'yes' : 'no'}`;
    const lim = a.severity === 'critical' ? a.critical : a.warning;
    return `now ${a.current === null || a.current === undefined ? 'n/a' : `${num(a.current)} ${a.units}`} (${a.severity} ${a.comparison} ${num(lim)})`;
  };
  const alarms = clear($('alarms'));
  const active = (st.alarms || []).filter((a) => a.severity !== 'none');
  setText('alarm-count', active.length ? `${active.length} active` : '');
  $('alarm-count').className = active.length ? 'count' : 'count muted';
  if (active.length === 0) alarms.append(h('tr', {}).appendChild(h('td', { class: 'muted' }, `none active (${(st.alarms || []).length} rules)`)).parentNode);
  for (const a of active) {
    const tr = h('tr', { class: a.severity === 'critical' ? 'critical' : 'warning' });
    tr.append(h('td', {}, a.severity.toUpperCase()), h('td', {}, a.name), h('td', {}, alarmFigure(a)),
      h('td', {}, a.raisedAgeS === null ? '' : `for ${duration(a.raisedAgeS)}`), h('td', {}, a.description));
    alarms.append(tr);
  }

  const events = clear($('events'));
  const recent = ((st.events && st.events.recent) || []).slice(-12).reverse();
  if (recent.length) {
    const head = h('tr');
    head.append(h('th', {}, 'UTC'), h('th', {}, 'event'), h('th', {}, 'details'));
    events.append(head);
  }
  if (recent.length === 0) events.append(h('tr', {}).appendChild(h('td', { class: 'muted' }, 'none yet')).parentNode);
  for (const e of recent) {
    const rest = Object.fromEntries(Object.entries(e).filter(([k]) => k !== 'type' && k !== 'at'));
    const tr = h('tr');
    tr.append(h('td', { title: String(e.at || '') }, String(e.at || '').slice(11, 19)), h('td', {}, e.type), h('td', {}, JSON.stringify(rest)));
    events.append(tr);
  }

  const n = st.ntp;
  kv($('ntp'), n.enabled ? [
    ['requests received', n.received], ['replies', n.replied], ['kiss-o\'-death', n.kissOfDeath], ['dropped', sum(n.dropped)],
    ['requests per second', n.requestsPerSecond], ['distinct clients', n.distinctClients], ['receive timestamps', n.rxTimestamps],
  ] : [['NTP server', 'off']]);
  const p = st.ptp;
  kv($('ptp'), p.enabled ? [
    ['port state', p.portState], ['interface', p.interface], ['domain', p.domain], ['clockClass', p.clockClass],
    ['messages sent', sum(p.sent)], ['messages received', sum(p.received)], ['foreign masters', p.foreignMasters.length],
    ['better master seen', p.betterMaster ? 'yes' : 'no'], ['send errors', p.sendErrors],
  ] : [['PTP grandmaster', 'off']]);

  partners($('partners'), st.partners || {});
}

function partners(div, all) {
  clear(div);
  const names = Object.keys(all);
  if (names.length === 0) div.append(h('p', { class: 'muted' }, 'no partner sections'));
  for (const name of names) {
    const pt = all[name];
    div.append(h('h3', {}, name));
    if (!pt.enabled) {
      div.append(h('p', { class: 'muted' }, `not watched (partners.${name}.enabled is off)`));
      continue;
    }
    const t = h('table', { class: 'kv' });
    kv(t, [
      ['reachable', pt.reachable ? 'yes' : 'no'], ['last error', pt.lastError], ['reference', pt.reference], ['stratum', pt.stratum],
      ['system offset', ns(pt.systemOffsetNs)], ['RMS offset', ns(pt.rmsOffsetNs)], ['frequency', pt.frequencyPpm === null || pt.frequencyPpm === undefined ? null : `${num(pt.frequencyPpm, 3)} ppm`],
      ['leap status', pt.leapStatus], ['notice', pt.notice],
    ]);
    div.append(t);
    if (Array.isArray(pt.sources) && pt.sources.length) {
      const st = h('table');
      const head = h('tr');
      for (const c of ['', 'source', 'mode', 'stratum', 'reach', 'last rx', 'offset', 'error']) head.append(h('th', {}, c));
      st.append(head);
      for (const src of pt.sources) {
        const tr = h('tr');
        tr.append(h('td', {}, src.state), h('td', {}, src.name), h('td', {}, src.mode), h('td', {}, src.stratum), h('td', {}, src.reach),
          h('td', {}, src.lastRxAgeS === null ? '–' : `${Math.round(src.lastRxAgeS)} s`), h('td', {}, ns(src.offsetNs)), h('td', {}, ns(src.errorNs)));
        st.append(tr);
      }
      div.append(st);
    }
  }
}

function addPoint(st) {
  const t = st.timeUnixS;
  if (points.length && t <= points[points.length - 1].t) return;
  points.push({ t, offsetNs: st.discipline.offsetNs, timeErrorEstimateNs: st.discipline.timeErrorEstimateNs });
  while (points.length > MAX_POINTS || (points.length && points[0].t < t - WINDOW_S)) points.shift();
}

async function getJson(path) {
  const r = await fetch(path, { cache: 'no-store', credentials: 'omit' });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}

async function poll() {
  try {
    const st = await getJson('/status');
    lastStatus = st;
    addPoint(st);
    render(st);
    setText('poll', `updated ${new Date().toISOString().slice(11, 19)} UTC (browser clock)`);
  } catch (e) {
    setText('poll', `the agent does not answer: ${e.message}`);
    if (lastStatus) $('state').className = 'badge stale';
  }
  setTimeout(poll, 1000);
}

async function start() {
  try {
    const recent = await getJson('/ui/recent');
    if (Array.isArray(recent)) points = recent.slice(-MAX_POINTS).map((p) => ({ t: p.t, offsetNs: p.offsetNs, timeErrorEstimateNs: p.timeErrorEstimateNs }));
  } catch {
    points = [];
  }
  await poll();
}

start();

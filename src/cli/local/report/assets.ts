/**
 * The report's inline stylesheet and script. The script only ever puts untrusted text in the
 * page with `textContent` (never `innerHTML`); it reads the data from `#report-data`.
 */

export const REPORT_CSS = String.raw`
:root {
  --bg: #f5f6f8; --panel: #ffffff; --fg: #1b1f24; --muted: #5d6773; --border: #dde1e6; --soft: #eef1f4;
  --accent: #2563eb; --accent-soft: rgba(37, 99, 235, .10);
  --ok: #1a7f37; --ok-bg: #e3f6e8; --bad: #c9252d; --bad-bg: #fdeced; --warn: #9a6700; --warn-bg: #fdf3d0;
  --dest: #6d28d9; --dest-bg: #f1eafd;
  --edge: #98a1ab; --catch: #c98b8f; --node: #ffffff; --node-stroke: #9aa3ad;
  --choice: #fff6e0; --choice-stroke: #d4a43a; --pass: #f3f4f6; --wait: #eef0ff; --box: rgba(120, 130, 145, .06);
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
  --shadow: 0 1px 2px rgba(16, 24, 40, .06), 0 1px 3px rgba(16, 24, 40, .05);
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0e1116; --panel: #161b22; --fg: #e6edf3; --muted: #8d96a0; --border: #2d333b; --soft: #1f252d;
    --accent: #5a9bff; --accent-soft: rgba(90, 155, 255, .14);
    --ok: #3fb950; --ok-bg: rgba(46, 160, 67, .16); --bad: #f6685e; --bad-bg: rgba(248, 81, 73, .16); --warn: #d8a53a; --warn-bg: rgba(187, 128, 9, .18);
    --dest: #b294f7; --dest-bg: rgba(163, 113, 247, .16);
    --edge: #5f6873; --catch: #9a5d61; --node: #1c2230; --node-stroke: #4b5563;
    --choice: #2a2416; --choice-stroke: #a07d2c; --pass: #1e232b; --wait: #1f2240; --box: rgba(140, 150, 165, .06);
    --shadow: none;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; padding: 20px 24px 32px; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1, h2, h3 { margin: 0; font-weight: 600; letter-spacing: -.01em; }
h1 { font-size: 22px; }
h2 { font-size: 14px; }
code, pre { font-family: var(--mono); font-size: 12px; }
a { color: var(--accent); text-underline-offset: 2px; }
button { font: inherit; color: inherit; }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; border-radius: 4px; }

.top { display: flex; flex-wrap: wrap; align-items: flex-end; justify-content: space-between; gap: 12px 24px; margin-bottom: 16px; }
.eyebrow { margin: 0 0 2px; font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .06em; }
.meta { margin: 4px 0 0; color: var(--muted); }
.stats { display: flex; gap: 8px; list-style: none; margin: 0; padding: 0; }
.stat { display: flex; align-items: baseline; gap: 6px; padding: 6px 12px; border-radius: 8px; background: var(--panel); border: 1px solid var(--border); color: var(--muted); box-shadow: var(--shadow); }
.stat .n { font-size: 18px; font-weight: 600; font-variant-numeric: tabular-nums; color: var(--fg); }
.stat.s-succeeded .n { color: var(--ok); } .stat.s-failed .n { color: var(--bad); }

.panel { background: var(--panel); border: 1px solid var(--border); border-radius: 10px; padding: 14px 16px; box-shadow: var(--shadow); min-width: 0; }
.panel-head { display: flex; align-items: baseline; gap: 8px; margin-bottom: 10px; }
.sub { color: var(--muted); font-size: 12px; }
.routes { margin-bottom: 16px; }
.route-counts { list-style: none; margin: 0; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 6px 20px; }
.route-count { display: grid; grid-template-columns: minmax(70px, auto) 1fr auto; align-items: center; gap: 10px; }
.route-name { font-weight: 500; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.route-count .n { font-variant-numeric: tabular-nums; color: var(--muted); min-width: 2ch; text-align: right; }
.bar { display: block; height: 6px; background: var(--soft); border-radius: 3px; overflow: hidden; }
.bar > span { display: block; height: 100%; background: var(--dest); border-radius: 3px; }
.r-bad .bar > span { background: var(--bad); } .r-warn .bar > span { background: var(--warn); } .r-muted .bar > span { background: var(--muted); }

.run { display: grid; grid-template-columns: minmax(210px, 290px) minmax(0, 1.15fr) minmax(320px, 1fr); gap: 16px; align-items: start; margin-bottom: 16px; scroll-margin-top: 12px; }
@media (max-width: 1180px) { .run { grid-template-columns: minmax(210px, 290px) minmax(0, 1fr); } .details { grid-column: 1 / -1; } }
@media (max-width: 760px) { body { padding: 12px; } .run { grid-template-columns: 1fr; } }

.docs { padding: 14px 8px 8px; }
.docs .panel-head { padding: 0 8px; }
.doc-list { list-style: none; margin: 0; padding: 0; max-height: 78vh; overflow: auto; }
.doc { display: grid; grid-template-columns: auto minmax(0, 1fr) auto; align-items: baseline; column-gap: 8px; width: 100%; text-align: left; padding: 5px 8px; border: 1px solid transparent; border-radius: 7px; background: none; cursor: pointer; }
.doc:hover { background: var(--soft); }
.doc[aria-pressed="true"] { background: var(--accent-soft); border-color: var(--accent); }
.doc .dot { align-self: start; margin-top: 5px; }
.doc-name { font-weight: 500; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.doc-route { font-size: 11px; color: var(--muted); white-space: nowrap; max-width: 9em; overflow: hidden; text-overflow: ellipsis; }
.doc-route.r-bad { color: var(--bad); } .doc-route.r-warn { color: var(--warn); }
.dot { width: 9px; height: 9px; border-radius: 50%; background: var(--muted); display: inline-block; }
.dot.s-succeeded { background: var(--ok); } .dot.s-failed { background: var(--bad); } .dot.s-skipped { background: transparent; border: 1.5px solid var(--muted); }

.graph { position: sticky; top: 12px; }
.svg-wrap { overflow: auto; max-height: 82vh; display: flex; justify-content: center; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; list-style: none; margin: 0 0 8px; padding: 0; font-size: 12px; color: var(--muted); }
.legend li { display: flex; align-items: center; gap: 6px; }
.sw { display: inline-block; width: 18px; height: 11px; border: 1.5px solid var(--node-stroke); border-radius: 3px; background: var(--node); }
.sw-choice { background: var(--choice); border-color: var(--choice-stroke); transform: skewX(-18deg); }
.sw-pass { background: var(--pass); border-style: dashed; }
.sw-box { background: var(--box); border-style: dashed; }
.sw-succeed { background: var(--ok-bg); border-color: var(--ok); border-radius: 6px; }
.sw-fail { background: var(--bad-bg); border-color: var(--bad); border-radius: 6px; }
.sw-catch { height: 0; border: 0; border-top: 2px dashed var(--catch); border-radius: 0; background: none; }
.sw-on { height: 0; border: 0; border-top: 3px solid var(--accent); border-radius: 0; background: none; }

svg.sm { max-width: 100%; height: auto; display: block; font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
.sm marker path { fill: var(--edge); }
.sm #ah-c path { fill: var(--catch); } .sm #ah-on path { fill: var(--accent); } .sm #ah-err path { fill: var(--bad); }
.sm .seg { fill: none; stroke: var(--edge); stroke-width: 1.4; transition: opacity .15s; }
.sm .seg.arrow { marker-end: url(#ah); }
.sm .seg.k-catch { stroke: var(--catch); stroke-dasharray: 5 4; }
.sm .seg.k-catch.arrow { marker-end: url(#ah-c); }
.sm .seg.on { stroke: var(--accent); stroke-width: 2.6; }
.sm .seg.on.arrow { marker-end: url(#ah-on); }
.sm .seg.on.k-catch { stroke: var(--bad); stroke-dasharray: 6 4; }
.sm .seg.on.k-catch.arrow { marker-end: url(#ah-err); }
.sm.has-sel .seg:not(.on) { opacity: .35; }
.sm .node { transition: opacity .15s; }
.sm .node .shape { fill: var(--node); stroke: var(--node-stroke); stroke-width: 1.3; }
.sm .node .nm { fill: var(--fg); font-size: 12px; font-weight: 500; }
.sm .node .ty { fill: var(--muted); font-size: 10px; letter-spacing: .02em; }
.sm .t-choice .shape { fill: var(--choice); stroke: var(--choice-stroke); }
.sm .t-pass .shape { fill: var(--pass); stroke-dasharray: 4 3; }
.sm .t-wait .shape { fill: var(--wait); }
.sm .t-succeed .shape { fill: var(--ok-bg); stroke: var(--ok); }
.sm .t-fail .shape { fill: var(--bad-bg); stroke: var(--bad); }
.sm .t-parallel > .shape, .sm .t-map > .shape { fill: var(--box); stroke-dasharray: 6 4; }
.sm .t-map > .stack { fill: none; stroke: var(--node-stroke); stroke-width: 1; opacity: .6; }
.sm .t-parallel > .ty, .sm .t-map > .ty { font-weight: 600; letter-spacing: .06em; }
.sm .branch-sep { stroke: var(--node-stroke); stroke-width: 1; opacity: .35; }
.sm .t-start .shape { fill: var(--muted); stroke: none; }
.sm .t-end .shape { fill: none; stroke: var(--muted); stroke-width: 2; }
.sm .t-end .core { fill: var(--muted); }
.sm.has-sel .node:not(.on) { opacity: .42; }
.sm .node.on > .shape { stroke: var(--accent); stroke-width: 2.4; }
.sm .node.on.t-start > .shape, .sm .node.on.t-end > .core { fill: var(--accent); }
.sm .node.on.t-end > .shape { stroke: var(--accent); }
.sm .node.err > .shape { stroke: var(--bad); fill: var(--bad-bg); stroke-width: 2.4; }
.sm .node.focus > .shape { stroke-width: 4; }
.sm .node.on[data-state] { cursor: pointer; }

.details { min-height: 200px; }
.empty { color: var(--muted); margin: 0; }
.d-title { font-size: 17px; overflow-wrap: anywhere; margin-bottom: 8px; }
.badges { display: flex; flex-wrap: wrap; gap: 6px; margin-bottom: 12px; }
.badge, .route { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 500; background: var(--soft); color: var(--muted); white-space: nowrap; }
.badge.s-succeeded { background: var(--ok-bg); color: var(--ok); }
.badge.s-failed { background: var(--bad-bg); color: var(--bad); }
.badge.s-skipped { background: var(--soft); color: var(--muted); }
.r-dest.route, .r-dest.badge { background: var(--dest-bg); color: var(--dest); }
.r-bad.route, .r-bad.badge { background: var(--bad-bg); color: var(--bad); }
.r-warn.route, .r-warn.badge { background: var(--warn-bg); color: var(--warn); }
.badge.rule { background: none; border: 1px solid var(--border); }
.facts { display: grid; grid-template-columns: auto 1fr; gap: 3px 14px; margin: 0 0 14px; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.section-h { font-size: 12px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 16px 0 6px; font-weight: 600; }
.error { border: 1px solid var(--bad); background: var(--bad-bg); border-radius: 8px; padding: 10px 12px; margin: 0 0 12px; }
.error .e-name { font-weight: 600; color: var(--bad); font-family: var(--mono); font-size: 13px; }
.error .e-msg { margin: 4px 0 0; overflow-wrap: anywhere; }
.error pre { margin: 8px 0 0; white-space: pre-wrap; overflow-wrap: anywhere; color: var(--muted); }
.error details summary { cursor: pointer; color: var(--muted); font-size: 12px; margin-top: 6px; }
.files { list-style: none; margin: 0; padding: 0; display: grid; gap: 3px; }
.files li { display: flex; gap: 8px; align-items: baseline; }
.files .kind { font-size: 11px; color: var(--muted); min-width: 44px; text-transform: uppercase; letter-spacing: .05em; }
.files a { font-family: var(--mono); font-size: 12px; overflow-wrap: anywhere; }
.stages { list-style: none; margin: 0; padding: 0; border: 1px solid var(--border); border-radius: 8px; overflow: hidden; }
.stage { border-top: 1px solid var(--border); }
.stage:first-child { border-top: 0; }
.stage.focus { background: var(--accent-soft); }
.stage-row { display: grid; grid-template-columns: 2.2em minmax(0, 1fr) 84px 64px; align-items: center; gap: 8px; padding: 6px 10px; }
.stage-n { color: var(--muted); font-variant-numeric: tabular-nums; font-size: 12px; }
.stage-name { font-weight: 500; overflow-wrap: anywhere; }
.stage-type { color: var(--muted); font-size: 11px; margin-left: 6px; font-weight: 400; }
.stage-ms { text-align: right; font-variant-numeric: tabular-nums; color: var(--muted); font-size: 12px; }
.stage .bar > span { background: var(--accent); }
.stage.has-err .stage-name { color: var(--bad); }
.stage-err { margin: 0 10px 6px 3.2em; color: var(--bad); font-size: 12px; overflow-wrap: anywhere; }
.out { margin: 0 10px 8px 3.2em; }
.out > summary { cursor: pointer; color: var(--accent); font-size: 12px; width: max-content; border-radius: 4px; }
.json { margin-top: 6px; padding: 8px 10px; background: var(--soft); border-radius: 6px; font-family: var(--mono); font-size: 12px; overflow: auto; max-height: 420px; }
.json pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.note { color: var(--warn); font-family: system-ui, sans-serif; font-size: 12px; margin: 6px 0 0; }
.j-node > summary { cursor: pointer; }
.j-count { color: var(--muted); }
.j-leaf { padding-left: 14px; }
.j-list { list-style: none; margin: 0 0 0 5px; padding-left: 10px; border-left: 1px dotted var(--border); }
.j-key { color: var(--dest); }
.j-string { color: var(--ok); white-space: pre-wrap; overflow-wrap: anywhere; }
.j-number { color: var(--accent); } .j-boolean, .j-null { color: var(--warn); }
.j-more, .j-empty { color: var(--muted); }

.summary { margin-bottom: 12px; }
.table-wrap { overflow: auto; }
.table { border-collapse: collapse; width: 100%; font-size: 13px; }
.table th, .table td { padding: 6px 10px; text-align: left; border-bottom: 1px solid var(--border); vertical-align: top; }
.table thead th { position: sticky; top: 0; background: var(--panel); font-size: 12px; color: var(--muted); font-weight: 600; white-space: nowrap; }
.table tbody th { font-weight: 500; }
.table .num { text-align: right; font-variant-numeric: tabular-nums; }
.table tbody tr:hover { background: var(--soft); }
.table tr.sel { background: var(--accent-soft); }
.table tr.sel > :first-child { box-shadow: inset 3px 0 0 var(--accent); }
.sort { background: none; border: 0; padding: 0; cursor: pointer; font-weight: inherit; color: inherit; }
.sort::after { content: ""; display: inline-block; width: 1em; }
th[aria-sort="ascending"] .sort::after { content: " ▲"; } th[aria-sort="descending"] .sort::after { content: " ▼"; }
.linkish { background: none; border: 0; padding: 0; color: var(--accent); cursor: pointer; text-align: left; overflow-wrap: anywhere; }
.linkish:hover { text-decoration: underline; }
.rule { display: block; font-size: 11px; color: var(--muted); margin-top: 2px; }
.err-name { font-family: var(--mono); font-size: 12px; color: var(--bad); }
.na { color: var(--muted); }
.foot { color: var(--muted); font-size: 12px; text-align: center; }
@media (prefers-reduced-motion: reduce) { * { transition: none !important; scroll-behavior: auto !important; } }
`;

export const REPORT_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var docs = data.documents;
  var svg = document.getElementById('sm');
  var details = document.getElementById('details');
  var listButtons = [].slice.call(document.querySelectorAll('#doc-list button[data-doc]'));
  var tableButtons = [].slice.call(document.querySelectorAll('#summary button[data-doc]'));
  var rows = [].slice.call(document.querySelectorAll('#summary tbody tr'));
  var current = -1;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === undefined || c === null) continue;
      parent.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return parent;
  }
  function ms(v) {
    if (typeof v !== 'number') return '';
    if (v >= 1000) return (v / 1000).toFixed(v >= 10000 ? 0 : 1) + ' s';
    return (v < 10 && v % 1 ? v.toFixed(1) : Math.round(v)) + ' ms';
  }
  function size(n) { return n >= 1024 ? (n / 1024).toFixed(n >= 10240 ? 0 : 1) + ' KB' : n + ' B'; }

  // A JSON value as a tree: objects and arrays are <details> whose summary holds the key.
  function jsonView(v, depth, key) {
    var label = key === undefined ? null : add(document.createDocumentFragment(), el('span', 'j-key', key), ': ');
    if (v === null || typeof v !== 'object') return add(el('div', 'j-leaf'), label, el('span', 'j-' + (v === null ? 'null' : typeof v), JSON.stringify(v)));
    var isArray = Array.isArray(v);
    var keys = isArray ? null : Object.keys(v);
    var n = isArray ? v.length : keys.length;
    if (n === 0) return add(el('div', 'j-leaf'), label, el('span', 'j-empty', isArray ? '[]' : '{}'));
    var d = el('details', 'j-node');
    d.open = depth < 3 && n <= 30;
    add(d, add(el('summary'), label, el('span', 'j-count', isArray ? '[ ' + n + (n === 1 ? ' item ]' : ' items ]') : '{ ' + n + (n === 1 ? ' key }' : ' keys }'))));
    var ul = el('ul', 'j-list');
    var shown = Math.min(n, 200);
    for (var i = 0; i < shown; i++) {
      var k = isArray ? i : keys[i];
      add(ul, add(el('li'), jsonView(v[k], depth + 1, String(k))));
    }
    if (n > shown) add(ul, el('li', 'j-more', '… ' + (n - shown) + ' more'));
    d.appendChild(ul);
    return d;
  }

  function byId(prefix, id) { return svg ? svg.getElementById ? svg.getElementById(prefix + id) : document.getElementById(prefix + id) : null; }
  function highlight(h) {
    if (!svg) return;
    svg.classList.add('has-sel');
    [].slice.call(svg.querySelectorAll('.on, .err, .focus')).forEach(function (e) { e.classList.remove('on', 'err', 'focus'); });
    h.nodes.forEach(function (id) { var n = byId('rn', id); if (n) n.classList.add('on'); });
    h.errors.forEach(function (id) { var n = byId('rn', id); if (n) n.classList.add('err'); });
    h.segments.forEach(function (id) { var s = byId('rs', id); if (s) s.classList.add('on'); });
  }
  function nodeOf(state) {
    if (!svg) return null;
    var all = svg.querySelectorAll('.node[data-state]');
    for (var i = 0; i < all.length; i++) if (all[i].getAttribute('data-state') === state) return all[i];
    return null;
  }
  function focusNode(state, on) { var n = nodeOf(state); if (n) n.classList.toggle('focus', on); }

  function section(title) { return el('h3', 'section-h', title); }
  function link(kind, f) {
    var a = el('a', null, f.label);
    a.setAttribute('href', f.href);
    return add(el('li'), el('span', 'kind', kind), a);
  }

  function render(d) {
    details.textContent = '';
    add(details, el('h2', 'd-title', d.document));
    var badges = el('div', 'badges');
    add(badges, el('span', 'badge s-' + d.status.toLowerCase(), d.status));
    add(badges, el('span', 'badge r-' + d.routeClass, 'route: ' + d.route));
    if (d.rule) add(badges, el('span', 'badge rule', 'rule: ' + d.rule));
    details.appendChild(badges);

    if (d.error) {
      var box = el('div', 'error');
      box.setAttribute('role', 'group');
      box.setAttribute('aria-label', 'Error');
      add(box, el('div', 'e-name', d.error.name));
      if (d.error.message) add(box, el('p', 'e-msg', d.error.message));
      if (d.error.stack.length) {
        add(box, el('pre', null, d.error.stack.slice(0, 3).join('\n')));
        if (d.error.stack.length > 3 || d.error.more) {
          var full = el('details');
          add(full, el('summary', null, 'Full stack'), el('pre', null, d.error.stack.join('\n') + (d.error.more ? '\n… ' + d.error.more + ' more lines' : '')));
          box.appendChild(full);
        }
      }
      details.appendChild(box);
    }

    var facts = el('dl', 'facts');
    function fact(k, v) { add(facts, el('dt', null, k), el('dd', null, v)); }
    fact('Transitions', d.transitions);
    fact('Duration', ms(d.ms));
    d.fields.forEach(function (f) { fact(f[0], f[1] === '' ? '–' : f[1]); });
    details.appendChild(facts);

    if (d.result || d.audit.length || (d.outputs || []).length) {
      details.appendChild(section('Files'));
      var files = el('ul', 'files');
      if (d.result) files.appendChild(link('result', d.result));
      d.audit.forEach(function (f) { files.appendChild(link('audit', f)); });
      (d.outputs || []).forEach(function (f) { files.appendChild(link('output', f)); });
      details.appendChild(files);
    }

    details.appendChild(section('Path · ' + d.path.length + (d.path.length === 1 ? ' state' : ' states')));
    if (!d.path.length) { details.appendChild(el('p', 'empty', 'No state was entered.')); return; }
    var longest = 0;
    d.path.forEach(function (p) { if (typeof p.ms === 'number' && p.ms > longest) longest = p.ms; });
    var ol = el('ol', 'stages');
    d.path.forEach(function (p, i) {
      var li = el('li', 'stage' + (p.error ? ' has-err' : ''));
      li.setAttribute('data-state', p.state);
      var name = el('span', 'stage-name', p.state);
      if (p.type) add(name, el('span', 'stage-type', p.type));
      var bar = el('span', typeof p.ms === 'number' ? 'bar' : null);
      bar.setAttribute('aria-hidden', 'true');
      if (typeof p.ms === 'number') {
        var fill = el('span');
        fill.style.width = (longest > 0 ? Math.max(2, (p.ms / longest) * 100) : 2) + '%';
        bar.appendChild(fill);
      }
      add(li, add(el('div', 'stage-row'), el('span', 'stage-n', i + 1), name, bar, el('span', 'stage-ms', ms(p.ms))));
      if (p.error) add(li, el('div', 'stage-err', p.error));
      if ('output' in p || p.text !== undefined || p.omitted) {
        var out = el('details', 'out');
        var label = 'Output';
        if (p.size) label += ' · ' + size(p.size);
        add(out, el('summary', null, label));
        var box = el('div', 'json');
        if ('output' in p) box.appendChild(jsonView(p.output, 0));
        else if (p.text !== undefined) add(box, el('pre', null, p.text), el('p', 'note', 'Truncated: the first ' + size(p.text.length) + ' of ' + size(p.size) + ' are shown; the result file has it all.'));
        else add(box, el('p', 'note', 'Left out: the report\u2019s output budget is spent; the result file has it.'));
        out.appendChild(box);
        li.appendChild(out);
      }
      li.addEventListener('mouseenter', function () { focusNode(p.state, true); });
      li.addEventListener('mouseleave', function () { focusNode(p.state, false); });
      ol.appendChild(li);
    });
    details.appendChild(ol);
  }

  function select(i, how) {
    if (!(i >= 0 && i < docs.length)) return;
    current = i;
    listButtons.forEach(function (b) {
      var on = Number(b.getAttribute('data-doc')) === i;
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
      b.tabIndex = on ? 0 : -1;
      if (on && how === 'key') b.focus();
      if (on && how !== 'init' && b.scrollIntoView) b.scrollIntoView({ block: 'nearest' });
    });
    rows.forEach(function (r) { r.classList.toggle('sel', Number(r.getAttribute('data-doc')) === i); });
    tableButtons.forEach(function (b) { b.setAttribute('aria-current', Number(b.getAttribute('data-doc')) === i ? 'true' : 'false'); });
    highlight(docs[i].highlight);
    render(docs[i]);
    document.body.setAttribute('data-selected', String(i));
    if (how !== 'init') { try { history.replaceState(null, '', '#doc-' + (i + 1)); } catch (e) { /* file:// in some browsers */ } }
  }

  listButtons.forEach(function (b) {
    b.addEventListener('click', function () { select(Number(b.getAttribute('data-doc')), 'click'); });
    b.addEventListener('keydown', function (e) {
      var k = e.key, n = listButtons.length, at = listButtons.indexOf(b), to = -1;
      if (k === 'ArrowDown') to = Math.min(n - 1, at + 1);
      else if (k === 'ArrowUp') to = Math.max(0, at - 1);
      else if (k === 'Home') to = 0;
      else if (k === 'End') to = n - 1;
      if (to < 0) return;
      e.preventDefault();
      select(Number(listButtons[to].getAttribute('data-doc')), 'key');
    });
  });
  tableButtons.forEach(function (b) {
    b.addEventListener('click', function () {
      select(Number(b.getAttribute('data-doc')), 'click');
      var run = document.getElementById('run');
      if (run && run.scrollIntoView) run.scrollIntoView({ behavior: 'smooth', block: 'start' });
    });
  });
  if (svg) {
    svg.addEventListener('click', function (e) {
      var node = e.target.closest ? e.target.closest('.node.on[data-state]') : null;
      if (!node) return;
      var state = node.getAttribute('data-state');
      var items = details.querySelectorAll('.stage');
      for (var i = 0; i < items.length; i++) {
        if (items[i].getAttribute('data-state') !== state) continue;
        var out = items[i].querySelector('details.out');
        if (out) out.open = true;
        items[i].classList.add('focus');
        setTimeout(function (li) { li.classList.remove('focus'); }.bind(null, items[i]), 1200);
        if (items[i].scrollIntoView) items[i].scrollIntoView({ behavior: 'smooth', block: 'nearest' });
        break;
      }
    });
  }

  // Sortable summary table.
  [].slice.call(document.querySelectorAll('#summary thead .sort')).forEach(function (b) {
    b.addEventListener('click', function () {
      var th = b.parentNode, col = b.getAttribute('data-col');
      var dir = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
      [].slice.call(document.querySelectorAll('#summary thead th')).forEach(function (t) { t.setAttribute('aria-sort', 'none'); });
      th.setAttribute('aria-sort', dir);
      var numeric = th.classList.contains('num');
      var value = function (r) {
        var c = r.querySelector('[data-col="' + col + '"]');
        var v = c ? c.getAttribute('data-v') : '';
        return numeric ? (v === '' || isNaN(Number(v)) ? -Infinity : Number(v)) : (v || '').toLowerCase();
      };
      var tbody = document.querySelector('#summary tbody');
      var sorted = rows.slice().sort(function (a, c) {
        var x = value(a), y = value(c);
        var r = x < y ? -1 : x > y ? 1 : Number(a.getAttribute('data-doc')) - Number(c.getAttribute('data-doc'));
        return dir === 'ascending' ? r : -r;
      });
      sorted.forEach(function (r) { tbody.appendChild(r); });
    });
  });

  var fromHash = /^#doc-(\d+)$/.exec(location.hash || '');
  var first = fromHash ? Number(fromHash[1]) - 1 : 0;
  select(first >= 0 && first < docs.length ? first : 0, 'init');
})();
`;

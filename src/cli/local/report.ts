/**
 * The HTML report of a `cdk-ai-pipeline local` run: one self-contained file (inline CSS, inline
 * script, inline SVG; no fetch of any kind, so it works from file://).
 *
 * - The state machine is drawn from the real definition (see `report/layout.ts`).
 * - Each document's path is highlighted on it when the document is selected; its stages'
 *   outputs, durations, route, rule, error and files are shown beside it.
 * - A table of all documents (with the fields the routing rules read) and the route counts.
 *
 * Everything that comes from a document (names, outputs, errors, paths) is untrusted: it is
 * escaped in the HTML, embedded as JSON with `<` escaped, and put in the page by the script with
 * `textContent` only. A Content-Security-Policy allows only this page's own script (by hash) and
 * no network access at all.
 */
import { createHash } from 'crypto';
import { REPORT_CSS, REPORT_SCRIPT } from './report/assets';
import { highlightPath, layoutStateMachine, PathHighlight } from './report/layout';
import { escapeHtml, renderSvg } from './report/svg';

export interface ReportDocument {
  /** File name of the input document (untrusted). */
  readonly document: string;
  readonly status: 'SUCCEEDED' | 'FAILED' | 'SKIPPED';
  /** The destination's name, or failed / quarantine / review. */
  readonly route: string;
  /** The routing rule that matched. */
  readonly rule?: string;
  readonly error?: { readonly name: string; readonly message?: string; readonly stack?: string[] };
  /** The values the routing rules read, by column name (e.g. `Score.fraudScore`). */
  readonly fields: { readonly [column: string]: unknown };
  /** States entered, in order (states nested in Parallel and Map included, by name). */
  readonly path: ReadonlyArray<{ readonly state: string; readonly ms?: number; readonly output?: unknown; readonly error?: string }>;
  readonly transitions: number;
  readonly ms: number;
  /** Audit record files, relative to the report's folder. */
  readonly audit: readonly string[];
  /** The result file, relative to the report's folder. */
  readonly result?: string;
  /** What the pipeline's output steps wrote (output id → file, relative to the report's folder). */
  readonly outputs?: { readonly [output: string]: string };
}

export interface ReportInput {
  readonly pipeline: string;
  /** The state machine definition (ASL) the documents ran through. */
  readonly definition: { StartAt: string; States: { [name: string]: any } };
  readonly documents: readonly ReportDocument[];
  /** Shown in the header as given (e.g. an ISO timestamp); nothing is shown when absent. */
  readonly generatedAt?: string;
}

/** A state's output longer than this (pretty-printed) is cut, with a note. */
export const OUTPUT_LIMIT = 8_000;
/** Outputs beyond this many characters in the whole report are left out, with a note. */
export const OUTPUT_BUDGET = 3_000_000;
const MESSAGE_LIMIT = 2_000;
const STACK_LINES = 12;

/** Renders the report: one HTML document. */
export function renderReport(input: ReportInput): string {
  const layout = layoutStateMachine(input.definition);
  const columns = fieldColumns(input.documents);
  const budget = { left: OUTPUT_BUDGET };
  const docs = input.documents.map((d) => documentData(d, columns, highlightPath(layout, d.path, d.status === 'SUCCEEDED'), layout.stateTypes, budget));
  const data = { pipeline: input.pipeline, columns, documents: docs };

  const stateCount = layout.stateIds.size;
  const svg = renderSvg(layout, `State machine of ${input.pipeline}: ${stateCount} states`);
  const json = embedJson(data);
  const hash = createHash('sha256').update(REPORT_SCRIPT).digest('base64');
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${hash}'; img-src data:; base-uri 'none'; form-action 'none'`;
  const title = `${input.pipeline} · local run report`;

  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${REPORT_CSS}</style>`,
    '</head>',
    '<body>',
    header(input, docs.length),
    routes(input.documents),
    '<main class="run" id="run">',
    documentList(input.documents),
    '<section class="panel graph" aria-labelledby="graph-h">',
    `<div class="panel-head"><h2 id="graph-h">State machine</h2><span class="sub">${stateCount} states</span></div>`,
    legend(),
    `<div class="svg-wrap">${svg}</div>`,
    '</section>',
    '<section class="panel details" id="details" aria-live="polite" aria-label="Selected document">',
    input.documents.length === 0
      ? '<p class="empty">No documents were run.</p>'
      : '<noscript><p class="empty">Turn on JavaScript to see each document\'s path, outputs and files. The table below lists every document.</p></noscript>',
    '</section>',
    '</main>',
    summaryTable(input.documents, columns),
    '<footer class="foot">Written by <code>cdk-ai-pipeline local</code>. The state machine is the pipeline\'s synthesized definition; each document ran through it locally.</footer>',
    `<script type="application/json" id="report-data">${json}</script>`,
    `<script>${REPORT_SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** JSON that is safe inside a `<script>` element: no `<` (so no `</script>` or `<!--`), no line separators. */
export function embedJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

// ---------------------------------------------------------------------------------------------
// Data for the script
// ---------------------------------------------------------------------------------------------

/** The union of the documents' field names, in order of first appearance. */
function fieldColumns(documents: readonly ReportDocument[]): string[] {
  const columns: string[] = [];
  for (const d of documents) for (const k of Object.keys(d.fields ?? {})) if (!columns.includes(k)) columns.push(k);
  return columns;
}

/** A field's value as shown in a cell. */
export function formatField(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(4)));
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean' || value === null) return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? text.slice(0, 79) + '…' : text;
}

/** A link target for a path relative to the report: each segment percent-encoded (so no scheme can sneak in). */
export function relativeHref(file: string): string {
  return file.replace(/\\/g, '/').split('/').map((s) => encodeURIComponent(s)).join('/');
}

/** How a route is coloured: failed and quarantine are bad, review is a warning. */
function routeClass(route: string, status: ReportDocument['status']): string {
  if (route === 'failed' || route === 'quarantine') return 'bad';
  if (route === 'review') return 'warn';
  if (status === 'SKIPPED' || route === 'none' || route === '') return 'muted';
  return 'dest';
}

interface OutputData {
  readonly output?: unknown;
  readonly text?: string;
  readonly size?: number;
  readonly omitted?: boolean;
}

/** A state's output: as a value when small, cut pretty-printed text when large, or left out once the budget is spent. */
function outputData(value: unknown, budget: { left: number }): OutputData {
  if (value === undefined) return {};
  let text: string | undefined;
  try {
    text = JSON.stringify(value, null, 2);
  } catch {
    text = String(value);
  }
  if (text === undefined) return {};
  const cost = Math.min(text.length, OUTPUT_LIMIT);
  if (cost > budget.left) return { omitted: true, size: text.length };
  budget.left -= cost;
  if (text.length <= OUTPUT_LIMIT) return { output: JSON.parse(text) };
  return { text: text.slice(0, OUTPUT_LIMIT), size: text.length };
}

function documentData(d: ReportDocument, columns: string[], hl: PathHighlight, types: ReadonlyMap<string, string>, budget: { left: number }) {
  return {
    document: String(d.document),
    status: d.status,
    route: String(d.route ?? ''),
    routeClass: routeClass(String(d.route ?? ''), d.status),
    rule: d.rule,
    error: d.error
      ? {
        name: String(d.error.name),
        message: d.error.message === undefined ? undefined : cut(String(d.error.message), MESSAGE_LIMIT),
        stack: (d.error.stack ?? []).slice(0, STACK_LINES).map((l) => cut(String(l), 400)),
        more: Math.max(0, (d.error.stack ?? []).length - STACK_LINES),
      }
      : undefined,
    fields: columns.filter((c) => c in (d.fields ?? {})).map((c) => [c, formatField(d.fields[c])]),
    path: d.path.map((p) => ({
      state: String(p.state),
      type: types.get(p.state) ?? '',
      ms: typeof p.ms === 'number' ? p.ms : undefined,
      error: p.error === undefined ? undefined : cut(String(p.error), MESSAGE_LIMIT),
      ...outputData(p.output, budget),
    })),
    transitions: d.transitions,
    ms: d.ms,
    audit: d.audit.map((a) => ({ href: relativeHref(a), label: a })),
    result: d.result === undefined ? undefined : { href: relativeHref(d.result), label: d.result },
    outputs: Object.entries(d.outputs ?? {}).map(([id, f]) => ({ href: relativeHref(f), label: `${id}: ${f}` })),
    highlight: { nodes: hl.nodes, errors: hl.errors, segments: hl.segments },
  };
}

function cut(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}… (${text.length - limit} more characters)`;
}

// ---------------------------------------------------------------------------------------------
// Static HTML (all text escaped)
// ---------------------------------------------------------------------------------------------

function header(input: ReportInput, total: number): string {
  const count = (s: ReportDocument['status']) => input.documents.filter((d) => d.status === s).length;
  const stat = (n: number, label: string, cls: string) => `<li class="stat ${cls}"><span class="n">${n}</span> ${label}</li>`;
  const meta = [`${total} document${total === 1 ? '' : 's'}`];
  if (input.generatedAt) meta.push(`generated ${escapeHtml(input.generatedAt)}`);
  return [
    '<header class="top">',
    '<div>',
    '<p class="eyebrow">cdk-ai-pipeline local · run report</p>',
    `<h1>${escapeHtml(input.pipeline)}</h1>`,
    `<p class="meta">${meta.join(' · ')}</p>`,
    '</div>',
    '<ul class="stats" aria-label="Outcomes">',
    stat(count('SUCCEEDED'), 'succeeded', 's-succeeded'),
    stat(count('FAILED'), 'failed', 's-failed'),
    stat(count('SKIPPED'), 'skipped', 's-skipped'),
    '</ul>',
    '</header>',
  ].join('');
}

function routes(documents: readonly ReportDocument[]): string {
  const counts = new Map<string, { n: number; cls: string }>();
  for (const d of documents) {
    const c = counts.get(d.route) ?? { n: 0, cls: routeClass(d.route, d.status) };
    c.n++;
    counts.set(d.route, c);
  }
  const total = Math.max(1, documents.length);
  const items = [...counts.entries()].sort((a, b) => b[1].n - a[1].n || a[0].localeCompare(b[0])).map(([route, c]) =>
    `<li class="route-count r-${c.cls}"><span class="route-name">${escapeHtml(route)}</span><span class="bar" aria-hidden="true"><span style="width:${((c.n / total) * 100).toFixed(1)}%"></span></span><span class="n">${c.n}</span></li>`);
  return [
    '<section class="panel routes" aria-labelledby="routes-h">',
    '<div class="panel-head"><h2 id="routes-h">Routes</h2><span class="sub">documents per destination</span></div>',
    `<ul class="route-counts">${items.join('')}</ul>`,
    '</section>',
  ].join('');
}

function documentList(documents: readonly ReportDocument[]): string {
  const items = documents.map((d, i) => [
    '<li>',
    `<button type="button" class="doc" data-doc="${i}" aria-pressed="false" title="${escapeHtml(String(d.document))}">`,
    `<span class="dot s-${d.status.toLowerCase()}" aria-hidden="true"></span>`,
    `<span class="doc-name">${escapeHtml(String(d.document))}</span>`,
    `<span class="doc-route r-${routeClass(d.route, d.status)}">${escapeHtml(String(d.route))}</span>`,
    '</button>',
    '</li>',
  ].join(''));
  return [
    '<nav class="panel docs" aria-labelledby="docs-h">',
    `<div class="panel-head"><h2 id="docs-h">Documents</h2><span class="sub">${documents.length}</span></div>`,
    `<ul class="doc-list" id="doc-list">${items.join('')}</ul>`,
    '</nav>',
  ].join('');
}

function summaryTable(documents: readonly ReportDocument[], columns: string[]): string {
  const numeric = columns.map((c) => documents.some((d) => typeof d.fields?.[c] === 'number'));
  const th = (label: string, key: string, isNumber = false) =>
    `<th scope="col"${isNumber ? ' class="num"' : ''} aria-sort="none"><button type="button" class="sort" data-col="${escapeHtml(key)}">${escapeHtml(label)}</button></th>`;
  const head = [
    '<th scope="col" class="num">#</th>',
    th('Document', 'document'),
    ...columns.map((c, i) => th(c, `f${i}`, numeric[i])),
    th('Route', 'route'),
    th('Outcome', 'outcome'),
    th('Transitions', 'transitions', true),
    th('ms', 'ms', true),
  ].join('');
  const rows = documents.map((d, i) => {
    const cells = [
      `<td class="num">${i + 1}</td>`,
      `<th scope="row" data-col="document" data-v="${escapeHtml(String(d.document))}"><button type="button" class="linkish" data-doc="${i}">${escapeHtml(String(d.document))}</button></th>`,
      ...columns.map((c, k) => {
        const v = d.fields?.[c];
        const sortValue = typeof v === 'number' ? String(v) : formatField(v);
        return `<td data-col="f${k}" data-v="${escapeHtml(sortValue)}"${numeric[k] ? ' class="num"' : ''}>${v === undefined ? '<span class="na">–</span>' : escapeHtml(formatField(v))}</td>`;
      }),
      `<td data-col="route" data-v="${escapeHtml(String(d.route))}"><span class="route r-${routeClass(d.route, d.status)}">${escapeHtml(String(d.route))}</span>${d.rule ? `<span class="rule">${escapeHtml(d.rule)}</span>` : ''}</td>`,
      `<td data-col="outcome" data-v="${d.status}"><span class="badge s-${d.status.toLowerCase()}">${d.status}</span>${d.error ? ` <span class="err-name">${escapeHtml(String(d.error.name))}</span>` : ''}</td>`,
      `<td class="num" data-col="transitions" data-v="${d.transitions}">${d.transitions}</td>`,
      `<td class="num" data-col="ms" data-v="${d.ms}">${d.ms}</td>`,
    ];
    return `<tr data-doc="${i}" class="row s-${d.status.toLowerCase()}">${cells.join('')}</tr>`;
  });
  return [
    '<section class="panel summary" aria-labelledby="summary-h">',
    '<div class="panel-head"><h2 id="summary-h">All documents</h2><span class="sub">select a row to see its path</span></div>',
    '<div class="table-wrap"><table class="table" id="summary">',
    `<thead><tr>${head}</tr></thead>`,
    `<tbody>${rows.join('')}</tbody>`,
    '</table></div>',
    '</section>',
  ].join('');
}

function legend(): string {
  const item = (cls: string, label: string) => `<li><span class="sw ${cls}" aria-hidden="true"></span>${label}</li>`;
  return [
    '<ul class="legend" aria-label="Legend">',
    item('sw-task', 'Task'),
    item('sw-choice', 'Choice'),
    item('sw-pass', 'Pass'),
    item('sw-box', 'Parallel / Map'),
    item('sw-succeed', 'Succeed'),
    item('sw-fail', 'Fail'),
    item('sw-catch', 'Catch'),
    item('sw-on', 'Path taken'),
    '</ul>',
  ].join('');
}

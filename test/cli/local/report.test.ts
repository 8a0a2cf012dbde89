/**
 * The run report: its HTML and embedded data (over the flagship's real synthesized definition and
 * a handwritten one with a Parallel and a Map), the layout's geometry, and the page as a real
 * browser renders it after its script ran (headless Chromium, when installed).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { flagshipDocuments, NESTED_DEFINITION, quarantinedRun, routedRun, skippedRun, XSS_NAME } from './report-fixture';
import { OUTPUT_LIMIT, relativeHref, renderReport, ReportDocument, ReportInput } from '../../../src/cli/local/report';
import { GraphLayout, highlightPath, layoutStateMachine, LayoutNode, placeInOrder } from '../../../src/cli/local/report/layout';
import { allStates, Definition, definitionFromTemplate } from '../../helpers/local-sfn';
import { buildPipelineStack, templateOf } from '../../helpers/pipeline-fixture';

let flagship: Definition;
beforeAll(() => {
  flagship = definitionFromTemplate(templateOf(buildPipelineStack()));
});

/** The JSON the page's script reads. */
function embedded(html: string): any {
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error('no report data in the page');
  return JSON.parse(m[1]);
}

/** Node id → state name, read from the SVG (the start and end markers have no name). */
function nodeNames(html: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const m of html.matchAll(/<g class="node t-(\w+)" id="rn(\d+)"(?: data-state="([^"]*)")?>/g)) {
    names.set(Number(m[2]), m[3] ?? `(${m[1]})`);
  }
  return names;
}

const unescape = (s: string) => s.replace(/&#(\d+);/g, (_, c) => String.fromCharCode(Number(c)));

function flagshipReport(documents: readonly ReportDocument[] = flagshipDocuments()): string {
  return renderReport({ pipeline: 'Contracts', definition: flagship, documents, generatedAt: '2026-05-01T10:00:00Z' });
}

describe('over the flagship definition', () => {
  test('every state of the definition is a node of the SVG, with its type', () => {
    const html = flagshipReport();
    const drawn = [...nodeNames(html).values()].filter((n) => !n.startsWith('(')).map(unescape).sort();
    expect(drawn).toEqual(allStates(flagship).map(([name]) => name).sort());
    expect(html).toMatch(/<g class="node t-choice" id="rn\d+" data-state="Route">/);
    expect(html).toMatch(/<g class="node t-fail" id="rn\d+" data-state="Failed">/);
    expect(html).toMatch(/<g class="node t-pass" id="rn\d+" data-state="Route-low-risk-nda">/);
  });

  test('every transition of the definition is an edge; Catch edges are drawn dashed (their own class)', () => {
    const layout = layoutStateMachine(flagship);
    const name = (id: number) => [...layout.stateIds].find(([, v]) => v === id)?.[0] ?? (id === layout.startId ? '^' : '$');
    const drawn = layout.edges.map((e) => `${name(e.from)} -${e.kind}-> ${name(e.to)}`).sort();
    const expected: string[] = [`^ -start-> ${flagship.StartAt}`];
    for (const [state, s] of Object.entries<any>(flagship.States)) {
      if (s.Next) expected.push(`${state} -next-> ${s.Next}`);
      if (s.Default) expected.push(`${state} -default-> ${s.Default}`);
      for (const c of s.Choices ?? []) expected.push(`${state} -choice-> ${c.Next}`);
      for (const c of s.Catch ?? []) expected.push(`${state} -catch-> ${c.Next}`);
      if (s.End) expected.push(`${state} -end-> $`);
    }
    expect(drawn).toEqual(expected.sort());
    // Seven Catch edges (six stages' into the failure path, the run record's into its own outage path):
    // each has a drawn segment, all of the catch kind.
    const catches = layout.edges.filter((e) => e.kind === 'catch');
    expect(catches).toHaveLength(Object.values<any>(flagship.States).reduce((n, s) => n + (s.Catch?.length ?? 0), 0));
    expect(catches).toHaveLength(7);
    const html = flagshipReport();
    for (const e of catches) {
      for (const s of e.segments) expect(html).toMatch(new RegExp(`<path id="rs${s}" class="seg k-catch( arrow)?" d="M`));
    }
  });

  test('no two states overlap, and the main chain runs top to bottom', () => {
    const layout = layoutStateMachine(flagship);
    const nodes = layout.root.nodes;
    for (const a of nodes) {
      for (const b of nodes) {
        if (a === b) continue;
        const apart = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
        expect({ a: a.name || a.type, b: b.name || b.type, apart }).toEqual({ a: a.name || a.type, b: b.name || b.type, apart: true });
      }
    }
    const y = (name: string) => nodes.find((n) => n.name === name)!.y;
    const chain = ['Extract', 'Classify', 'Summarize', 'Route', 'Route-default', 'RecordRun', 'RecordFailure', 'Failed'];
    for (let i = 1; i < chain.length; i++) expect(y(chain[i])).toBeGreaterThan(y(chain[i - 1]));
    for (const n of nodes) {
      expect(n.x).toBeGreaterThanOrEqual(0);
      expect(n.x + n.w).toBeLessThanOrEqual(layout.root.width);
      expect(n.y + n.h).toBeLessThanOrEqual(layout.root.height);
    }
  });

  test('each document, its route and its rule appear; the route counts are right', () => {
    const html = flagshipReport();
    const docs = flagshipDocuments();
    for (const d of docs) {
      expect(html).toContain(`<span class="doc-name">${d.document.replace(/</g, '&#60;').replace(/>/g, '&#62;')}</span>`);
      expect(html).toContain(`data-col="route" data-v="${d.route}"`);
    }
    expect(html).toContain('<span class="rule">high-risk</span>');
    const counts = [...html.matchAll(/<li class="route-count r-(\w+)"><span class="route-name">([^<]+)<\/span>.*?<span class="n">(\d+)<\/span><\/li>/g)]
      .map((m) => [m[2], Number(m[3]), m[1]]);
    expect(counts).toEqual([
      ['auto-approve', 2, 'dest'], ['quarantine', 2, 'bad'], ['review', 2, 'warn'], ['legal', 1, 'dest'], ['none', 1, 'muted'],
    ]);
    // The fields the rules read are columns of the summary table, numbers right-aligned.
    expect(html).toContain('data-col="f0">Classify.documentType</button>');
    expect(html).toContain('<th scope="col" class="num" aria-sort="none"><button type="button" class="sort" data-col="f1">Summarize.riskScore</button>');
    expect(html).toContain('<td data-col="f1" data-v="0.86" class="num">0.86</td>');
  });

  test('a routed document highlights its states and the edges it took, start to end', () => {
    const html = flagshipReport();
    const names = nodeNames(html);
    const data = embedded(html);
    const legal = data.documents[0];
    expect(legal.document).toBe('msa-high-risk.pdf');
    expect(legal.highlight.nodes.map((id: number) => names.get(id)).sort())
      .toEqual(['(start)', 'Extract', 'Classify', 'Summarize', 'Route', 'Route-high-risk', 'RecordRun', '(end)'].sort());
    expect(legal.highlight.errors).toEqual([]);

    const layout = layoutStateMachine(flagship);
    const h = highlightPath(layout, flagshipDocuments()[0].path, true);
    expect(h.segments).toEqual(legal.highlight.segments);
    const taken = layout.edges.filter((e) => h.edges.includes(e.id)).map((e) => `${names.get(e.from)} -${e.kind}-> ${names.get(e.to)}`);
    expect(taken.sort()).toEqual([
      '(start) -start-> Extract',
      'Extract -next-> Classify',
      'Classify -next-> Summarize',
      'Summarize -next-> Route',
      'Route -choice-> Route-high-risk',
      'Route-high-risk -next-> RecordRun',
      'RecordRun -end-> (end)',
    ].sort());
    // The Catch trunk is not lit: no segment of a Catch edge is on the path.
    for (const e of layout.edges.filter((x) => x.kind === 'catch')) {
      for (const s of e.segments) expect(h.segments).not.toContain(s);
    }
  });

  test('a caught failure highlights the Catch edge, marks the failing state, and never reaches the end', () => {
    const html = flagshipReport();
    const names = nodeNames(html);
    const corrupt = embedded(html).documents.find((d: any) => d.document === 'corrupt.pdf');
    expect(corrupt.highlight.nodes.map((id: number) => names.get(id)).sort()).toEqual(['(start)', 'Extract', 'Extract-failed', 'RecordFailure', 'Failed'].sort());
    expect(corrupt.highlight.errors.map((id: number) => names.get(id))).toEqual(['Extract']);
    const layout = layoutStateMachine(flagship);
    const h = highlightPath(layout, quarantinedRun('corrupt.pdf', 'Document.Corrupt').path, false);
    const taken = layout.edges.filter((e) => h.edges.includes(e.id)).map((e) => `${names.get(e.from)} -${e.kind}-> ${names.get(e.to)}`);
    expect(taken.sort()).toEqual(['(start) -start-> Extract', 'Extract -catch-> Extract-failed', 'Extract-failed -next-> RecordFailure', 'RecordFailure -next-> Failed'].sort());
    expect(corrupt.error).toEqual(expect.objectContaining({ name: 'Document.Corrupt', more: 0 }));
    expect(corrupt.error.stack[1]).toContain('readPdf');
  });

  test('a skipped document has an empty path and nothing highlighted', () => {
    const data = embedded(flagshipReport([skippedRun('notes.txt')]));
    expect(data.documents[0]).toEqual(expect.objectContaining({ status: 'SKIPPED', route: 'none', path: [], highlight: { nodes: [], errors: [], segments: [] } }));
  });
});

describe('escaping', () => {
  test('a hostile document name is text everywhere: escaped in the HTML, escaped in the embedded JSON', () => {
    const scriptName = '</script><script>alert(2)</script>.pdf';
    const docs = [...flagshipDocuments(), routedRun({ name: scriptName, documentType: 'NDA', riskScore: 0.1, route: 'auto-approve' })];
    const html = flagshipReport(docs);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('alert(2)</script>');
    // Only the page's own two script elements.
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html).toContain('&#60;img src=x onerror=alert(1)&#62;.pdf');
    const json = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1];
    expect(json).not.toMatch(/[<>&]/);
    const names = embedded(html).documents.map((d: any) => d.document);
    expect(names).toContain(XSS_NAME);
    expect(names).toContain(scriptName);
    // Outputs carry the names too (document.key): still no raw markup in the page.
    expect(embedded(html).documents[4].path[0].output.document.key).toBe(`incoming/${XSS_NAME}`);
  });

  test('the page allows only its own script (by hash) and no network access', () => {
    const html = flagshipReport();
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1];
    expect(csp).toMatch(/^default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-[A-Za-z0-9+/]+=*'; /);
    expect(csp).not.toContain("script-src 'unsafe-inline'");
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toContain('@import');
    expect(html).not.toMatch(/url\((?!#)/);
  });

  test('links to audit records and results are relative paths, each segment encoded', () => {
    expect(relativeHref('buckets/audit/runs/a b#1.json')).toBe('buckets/audit/runs/a%20b%231.json');
    expect(relativeHref('javascript:alert(1)')).toBe('javascript%3Aalert(1)');
    expect(relativeHref('results\\x.json')).toBe('results/x.json');
    const d = { ...routedRun({ name: 'a b.pdf', documentType: 'NDA', riskScore: 0.1, route: 'auto-approve' }), audit: ['javascript:alert(1)'] };
    const data = embedded(flagshipReport([d])).documents[0];
    expect(data.audit).toEqual([{ href: 'javascript%3Aalert(1)', label: 'javascript:alert(1)' }]);
    expect(data.result).toEqual({ href: 'results/a%20b.pdf.json', label: 'results/a b.pdf.json' });
  });
});

describe('size', () => {
  test('a huge output is cut to the limit, with its full size noted; small ones stay values', () => {
    const big = { text: 'x'.repeat(1_000_000) };
    const d = routedRun({ name: 'big.pdf', documentType: 'MSA', riskScore: 0.9, route: 'legal' });
    const doc: ReportDocument = { ...d, path: d.path.map((p, i) => (i === 0 ? { ...p, output: big } : p)) };
    const html = flagshipReport([doc]);
    const steps = embedded(html).documents[0].path;
    expect(steps[0].text).toHaveLength(OUTPUT_LIMIT);
    expect(steps[0].size).toBe(JSON.stringify(big, null, 2).length);
    expect(steps[0].output).toBeUndefined();
    expect(steps[1].output).toEqual(d.path[1].output);
    expect(html.length).toBeLessThan(80_000);
  });

  test('50 documents without outputs stay under 200 KB', () => {
    const docs: ReportDocument[] = [];
    for (let i = 0; i < 50; i++) {
      const d = i % 5 === 4 ? quarantinedRun(`contract-${i}.pdf`, 'Document.Corrupt') : routedRun({ name: `contract-${i}.pdf`, documentType: 'MSA', riskScore: i / 50, route: 'review' });
      docs.push({ ...d, path: d.path.map(({ state, ms, error }) => ({ state, ms, error })) });
    }
    const html = flagshipReport(docs);
    expect(embedded(html).documents).toHaveLength(50);
    expect(html.length).toBeLessThan(200_000);
  });
});

describe('Parallel and Map', () => {
  const nested = NESTED_DEFINITION as unknown as ReportInput['definition'];

  /** Every node of a graph, with its box in the top-level coordinates. */
  type Placed = { node: LayoutNode; x: number; y: number; parent?: string };
  function flatten(graph: GraphLayout, dx = 0, dy = 0, out: Placed[] = [], parent?: string): Placed[] {
    for (const n of graph.nodes) {
      out.push({ node: n, x: n.x + dx, y: n.y + dy, parent });
      for (const c of n.children) flatten(c.graph, n.x + dx + c.dx, n.y + dy + c.dy, out, n.name);
    }
    return out;
  }

  test('branches and the item processor are drawn inside their state, branches side by side', () => {
    const layout = layoutStateMachine(nested);
    const all = flatten(layout.root);
    const box = (name: string) => all.find((a) => a.node.name === name)!;
    for (const [parent, children] of [['Fan', ['OCR', 'Clean', 'Meta']], ['Pages', ['Score', 'Enough', 'Flag', 'Keep']]] as const) {
      const p = box(parent);
      expect(p.node.type).toBe(parent === 'Fan' ? 'Parallel' : 'Map');
      for (const c of children) {
        const b = box(c);
        expect(b.parent).toBe(parent);
        expect(b.x).toBeGreaterThanOrEqual(p.x);
        expect(b.y).toBeGreaterThan(p.y);
        expect(b.x + b.node.w).toBeLessThanOrEqual(p.x + p.node.w);
        expect(b.y + b.node.h).toBeLessThanOrEqual(p.y + p.node.h);
      }
    }
    // The two branches do not overlap: Meta is beside OCR and Clean.
    expect(box('Meta').x).toBeGreaterThanOrEqual(Math.max(box('OCR').x + box('OCR').node.w, box('Clean').x + box('Clean').node.w));
    const html = renderReport({ pipeline: 'Nested', definition: nested, documents: [] });
    expect(html).toMatch(/<g class="node t-parallel" id="rn\d+" data-state="Fan">/);
    expect(html).toMatch(/<g class="node t-map" id="rn\d+" data-state="Pages">/);
    expect(html).toContain('<p class="empty">No documents were run.</p>');
  });

  test('a path through them lights the edges inside each branch, and each Map iteration', () => {
    const layout = layoutStateMachine(nested);
    const steps = ['Split', 'Fan', 'OCR', 'Meta', 'Clean', 'Pages', 'Score', 'Enough', 'Flag', 'Score', 'Enough', 'Keep', 'Done'].map((state) => ({ state }));
    const h = highlightPath(layout, steps, true);
    const name = (id: number) => [...layout.stateIds].find(([, v]) => v === id)?.[0] ?? (id === layout.startId ? '^' : '$');
    const taken = layout.edges.filter((e) => h.edges.includes(e.id)).map((e) => `${name(e.from)}>${name(e.to)}`).sort();
    expect(taken).toEqual(['^>Split', 'Split>Fan', 'Fan>Pages', 'Pages>Done', 'OCR>Clean', 'Score>Enough', 'Enough>Flag', 'Enough>Keep'].sort());
    // Done is a Succeed state: there is no End marker to reach.
    expect(layout.endId).toBeUndefined();
  });

  test('nesting deeper than the limit is summarized with its state count', () => {
    let inner: any = { StartAt: 'Leaf', States: { Leaf: { Type: 'Pass', End: true } } };
    for (let i = 5; i >= 1; i--) inner = { StartAt: `P${i}`, States: { [`P${i}`]: { Type: 'Parallel', Branches: [inner], End: true } } };
    const html = renderReport({ pipeline: 'Deep', definition: inner, documents: [] });
    // Four levels are drawn; the fourth holds P5 and its Leaf, counted, not drawn.
    expect(html).toContain('data-state="P4"');
    expect(html).not.toContain('data-state="P5"');
    expect(html).not.toContain('data-state="Leaf"');
    expect(html).toContain('>2 states inside</text>');
  });
});

describe('layout', () => {
  test('a loop (poll and wait) is drawn with its back edge, and the states stay in order', () => {
    const loop = {
      StartAt: 'Start job',
      States: {
        'Start job': { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Next: 'Wait' },
        'Wait': { Type: 'Wait', Seconds: 5, Next: 'Poll' },
        'Poll': { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Next: 'Done?' },
        'Done?': { Type: 'Choice', Choices: [{ Variable: '$.done', BooleanEquals: true, Next: 'Finished' }], Default: 'Wait' },
        'Finished': { Type: 'Succeed' },
      },
    };
    const layout = layoutStateMachine(loop);
    const y = (n: string) => layout.root.nodes.find((x) => x.name === n)!.y;
    expect(y('Wait')).toBeLessThan(y('Poll'));
    expect(y('Poll')).toBeLessThan(y('Done?'));
    const backEdge = layout.edges.find((e) => e.from === layout.stateIds.get('Done?') && e.to === layout.stateIds.get('Wait'))!;
    expect(backEdge.kind).toBe('default');
    expect(backEdge.segments.length).toBeGreaterThan(0);
    const arrows = layout.root.segments.filter((s) => backEdge.segments.includes(s.id) && s.arrow);
    expect(arrows).toHaveLength(1);
    const h = highlightPath(layout, ['Start job', 'Wait', 'Poll', 'Done?', 'Wait', 'Poll', 'Done?', 'Finished'].map((state) => ({ state })), true);
    expect(h.edges).toContain(backEdge.id);
  });

  test('placeInOrder keeps the order and the gaps, and otherwise the desired places', () => {
    expect(placeInOrder([0, 100, 200], [0, 10, 10])).toEqual([0, 100, 200]);
    expect(placeInOrder([0, 0, 0], [0, 10, 10])).toEqual([-10, 0, 10]);
    // Equal weights share the move; a heavy position barely moves.
    expect(placeInOrder([0, 0], [0, 20])).toEqual([-10, 10]);
    const [a, b] = placeInOrder([0, 0], [0, 18], [1, 8]);
    expect(b - a).toBeCloseTo(18);
    expect(b).toBeCloseTo(2);
  });
});

// ---------------------------------------------------------------------------------------------
// In a real browser
// ---------------------------------------------------------------------------------------------

function findChromium(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'chromium');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

const chromium = findChromium();
if (!chromium) {
  console.warn('report.test.ts: the headless browser tests are SKIPPED because chromium is not installed (apt-get install chromium).');
}

(chromium ? describe : describe.skip)('in headless Chromium', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'report-browser-'));
    fs.writeFileSync(path.join(dir, 'report.html'), flagshipReport());
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The DOM after the page's script ran. */
  function dumpDom(hash = ''): string {
    return execFileSync(chromium!, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run',
      `--user-data-dir=${path.join(dir, 'profile')}`, '--dump-dom', `file://${path.join(dir, 'report.html')}${hash}`,
    ], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'ignore'] });
  }

  test('the script ran: the first document is selected, its path lit, its details shown', () => {
    const dom = dumpDom();
    expect(dom).toContain('<body data-selected="0">');
    for (const d of flagshipDocuments()) {
      expect(dom).toContain(d.document.replace(/</g, '&lt;').replace(/>/g, '&gt;'));
      expect(dom).toContain(`>${d.route}<`);
    }
    // The hostile name stayed text: no element was made of it.
    expect(dom).not.toMatch(/<img/i);
    const lit = [...dom.matchAll(/<g class="node t-\w+ on" id="rn\d+"(?: data-state="([^"]*)")?>/g)].map((m) => m[1] ?? '·');
    expect(lit.sort()).toEqual(['·', 'Extract', 'Classify', 'Summarize', 'Route', 'Route-high-risk', 'RecordRun', '·'].sort());
    expect(dom).toMatch(/<svg class="sm has-sel"/);
    expect(dom).toContain('<h2 class="d-title">msa-high-risk.pdf</h2>');
    expect(dom).toContain('<span class="badge rule">rule: high-risk</span>');
    expect(dom).toContain('href="results/msa-high-risk.pdf.json"');
    expect(dom).toContain('<li class="stage" data-state="Route-high-risk">');
    expect(dom).toMatch(/<button type="button" class="doc" data-doc="0" aria-pressed="true"/);
    expect(dom).toContain('<tr data-doc="0" class="row s-succeeded sel">');
  });

  test('a document chosen by the URL: a caught failure is lit in red', () => {
    const dom = dumpDom('#doc-6');
    expect(dom).toContain('<body data-selected="5">');
    expect(dom).toContain('<h2 class="d-title">corrupt.pdf</h2>');
    expect(dom).toMatch(/<g class="node t-task on err" id="rn\d+" data-state="Extract">/);
    expect(dom).toMatch(/<g class="node t-fail on" id="rn\d+" data-state="Failed">/);
    expect(dom).toMatch(/<path id="rs\d+" class="seg k-catch arrow on"/);
    expect(dom).toContain('<div class="e-name">Document.Corrupt</div>');
  });
});

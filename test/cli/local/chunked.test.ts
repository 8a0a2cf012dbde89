/**
 * A 40-page contract through a pipeline with a chunked step, run by the local runner on the REAL
 * synthesized definition (the inline Map included): the text is cut into chunks of 5 pages, the
 * summary stage runs once per chunk (a local model records every chunk it is given), and the reduced
 * result lands at results.Summarize.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { ChunkBy } from '../../../src';
import { DirectoryReader, findTrailFolder } from '../../../src/cli/audit/readers';
import { verifyAudit } from '../../../src/cli/audit/verify';
import { runLocalCommand } from '../../../src/cli/local/command';
import { DocumentOutcome } from '../../../src/cli/local/runner';
import { chunkedStack } from '../../helpers/chunked-app';

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));
const PAGES = 40;
const RISKY_PAGE = 23;

async function longContract(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let n = 1; n <= PAGES; n++) {
    const page = doc.addPage([612, 792]);
    const lines = [`Master services agreement, page marker P${n}.`, `Clause ${n}: the supplier delivers the services of schedule ${n}.`];
    if (n === RISKY_PAGE) lines.push('The supplier accepts unlimited liability for any loss.');
    lines.forEach((line, i) => page.drawText(line, { x: 56, y: 740 - i * 16, size: 11, font }));
  }
  return doc.save();
}

// The local model: answers from the chunk it is given and records which pages it saw.
const MODEL = `
const fs = require('fs');
exports.handler = async (input) => {
  const prompt = input.messages.map((m) => m.content.map((c) => c.text || '').join('')).join('\\n');
  const pages = [...prompt.matchAll(/page marker P(\\d+)\\./g)].map((m) => Number(m[1]));
  fs.appendFileSync(process.env.CHUNK_LOG, JSON.stringify(pages) + '\\n');
  const risky = /unlimited liability/i.test(prompt);
  return {
    summary: 'pages ' + pages[0] + '-' + pages[pages.length - 1],
    riskScore: risky ? 0.9 : 0.1,
    riskClauses: risky ? ['UNLIMITED_LIABILITY', 'SERVICES'] : ['SERVICES'],
  };
};
`;

describe('a chunked step through the local runner', () => {
  let outcome: DocumentOutcome;
  let seen: number[][];
  let out: string;
  beforeAll(async () => {
    const outdir = tmp('chunked-cdkout-');
    const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
    chunkedStack(app);
    app.synth();
    const docs = tmp('chunked-docs-');
    fs.writeFileSync(path.join(docs, 'long.pdf'), await longContract());
    const model = path.join(docs, 'model.js');
    fs.writeFileSync(model, MODEL);
    const log = path.join(tmp('chunked-log-'), 'chunks.jsonl');
    process.env.CHUNK_LOG = log;
    out = tmp('chunked-out-');
    try {
      const list = await runLocalCommand({ documents: [path.join(docs, 'long.pdf')], out, assembly: outdir, quiet: true, cwd: docs, models: { Summarize: model } }, () => undefined);
      outcome = list[0];
    } finally {
      delete process.env.CHUNK_LOG;
    }
    seen = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  }, 180_000);

  test('every page reaches the stage exactly once, in chunks of 5 pages', () => {
    expect(outcome.status).toBe('SUCCEEDED');
    expect(seen).toHaveLength(PAGES / 5);
    for (const chunk of seen) expect(chunk.length).toBe(5);
    expect(seen.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: PAGES }, (_, i) => i + 1));
  });

  test('the states run: split, inline Map with the stage and keep per chunk, reduce', () => {
    const states = outcome.path.map((s) => s.state);
    expect(states.slice(0, 4)).toEqual(['Extract', 'SummarizeChunks', 'SummarizeChunks-size', 'SummarizeChunks-chunks']);
    expect(states.filter((s) => s === 'Summarize')).toHaveLength(PAGES / 5);
    expect(states.filter((s) => s === 'SummarizeChunks-keep')).toHaveLength(PAGES / 5);
    expect(states).toContain('SummarizeChunks-reduce');
    expect(states).not.toContain('SummarizeChunks-chunks-distributed');
  });

  test('the reduced result lands at results.Summarize: summaries in page order, the maximum risk, the union of clauses', () => {
    const result = outcome.results.Summarize as any;
    expect(result.summary).toBe(Array.from({ length: PAGES / 5 }, (_, i) => `pages ${i * 5 + 1}-${i * 5 + 5}`).join('\n\n'));
    expect(result.riskScore).toBe(0.9);
    expect(result.riskClauses).toEqual(['SERVICES', 'UNLIMITED_LIABILITY']);
    // The stage's own fields are reduced too: the screening of every chunk, the usage summed.
    expect(typeof result.screening.promptInjection).toBe('boolean');
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    // The chunk's pointer never leaks into the run's results.
    expect(Object.keys(outcome.results).sort()).toEqual(['Extract', 'Summarize']);
  });

  test('the routing reads the reduced score: the risky page 23 sends the whole document to legal', () => {
    expect(outcome.route).toBe('legal');
    expect(outcome.rule).toBe('high-risk');
  });

  test('one audit record per chunk (the chunks run at once: none overwrites another), all in the run\'s chain', async () => {
    const trail = findTrailFolder(out)!;
    const runId = path.basename(outcome.audit.find((p) => p.includes('runs/'))!, '.json');
    const chunkDir = path.join(trail, 'stages', 'Summarize', runId, 'chunks');
    const records = fs.readdirSync(chunkDir).filter((f) => /^\d{5}\.json$/.test(f)).sort();
    expect(records).toHaveLength(PAGES / 5);
    records.forEach((f, i) => {
      const record = JSON.parse(fs.readFileSync(path.join(chunkDir, f), 'utf8'));
      expect(record).toMatchObject({ kind: 'stage', stage: 'Summarize', chunk: { step: 'SummarizeChunks', index: i, count: PAGES / 5 }, outcome: 'SUCCEEDED' });
      // its kept content sits beside it, under the chunk's own folder
      expect(record.content.input.key).toBe(`stages/Summarize/${runId}/chunks/${f.slice(0, 5)}/input.json`);
    });
    expect(fs.existsSync(path.join(trail, 'stages', 'Summarize', `${runId}.json`))).toBe(false);
    const run = JSON.parse(fs.readFileSync(path.join(trail, 'runs', `${runId}.json`), 'utf8'));
    expect(run.chain.map((l: any) => l.key)).toEqual([
      `stages/Extract/${runId}.json`,
      `stages/SummarizeChunks/${runId}.json`,
      ...records.map((f) => `stages/Summarize/${runId}/chunks/${f}`),
    ]);
    const [verdict] = await verifyAudit(new DirectoryReader(trail), { runId });
    expect(verdict).toMatchObject({ ok: true, notes: [], records: 2 + PAGES / 5 });
  });
});

describe('a chunked step through the local runner: the distributed path', () => {
  test('more chunks than distributedAbove: a clear runner error (the local runner runs only the inline Map)', async () => {
    const outdir = tmp('chunked-dist-cdkout-');
    const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
    chunkedStack(app, { step: { chunkBy: ChunkBy.pages(1), distributedAbove: 10 } });
    app.synth();
    const docs = tmp('chunked-dist-docs-');
    fs.writeFileSync(path.join(docs, 'long.pdf'), await longContract());
    const run = runLocalCommand({ documents: [path.join(docs, 'long.pdf')], out: tmp('chunked-dist-out-'), assembly: outdir, quiet: true, cwd: docs }, () => undefined);
    await expect(run).rejects.toThrow(/step SummarizeChunks: the document makes 40 chunks, more than distributedAbove \(10\): the real definition runs them in a Distributed Map, which the local runner cannot run/);
  }, 180_000);
});

describe('a chunked step through the local runner: a Lambda reducer', () => {
  test('the user\'s function (--function) gets every chunk\'s result in order; its reply is the stage\'s result', async () => {
    const outdir = tmp('chunked-fn-cdkout-');
    const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
    chunkedStack(app, { lambdaReducer: true });
    app.synth();
    const docs = tmp('chunked-fn-docs-');
    fs.writeFileSync(path.join(docs, 'long.pdf'), await longContract());
    fs.writeFileSync(path.join(docs, 'model.js'), MODEL);
    const reducer = path.join(docs, 'reducer.js');
    fs.writeFileSync(reducer, `exports.handler = async (e) => ({
      summary: e.stage + ': ' + e.chunks.map((c) => c.summary).join(' | '),
      riskScore: Math.max(...e.chunks.map((c) => c.riskScore)),
      riskClauses: [String(e.chunks.length) + ' chunks'],
    });`);
    process.env.CHUNK_LOG = path.join(tmp('chunked-fn-log-'), 'chunks.jsonl');
    try {
      const [o] = await runLocalCommand({
        documents: [path.join(docs, 'long.pdf')],
        out: tmp('chunked-fn-out-'),
        assembly: outdir,
        quiet: true,
        cwd: docs,
        models: { Summarize: path.join(docs, 'model.js') },
        functions: { Reducer: reducer },
      }, () => undefined);
      expect({ status: o.status, error: o.errorDetail }).toEqual({ status: 'SUCCEEDED', error: undefined });
      const result = o.results.Summarize as any;
      expect(result).toMatchObject({
        summary: `Summarize: ${Array.from({ length: PAGES / 5 }, (_, i) => `pages ${i * 5 + 1}-${i * 5 + 5}`).join(' | ')}`,
        riskScore: 0.9,
        riskClauses: ['8 chunks'],
      });
      // the fields the Bedrock stage adds itself are still reduced by the step (the function cannot clear a flag)
      expect(Object.keys(result.screening).sort()).toEqual(['injectionSuspected', 'layers', 'patterns', 'promptInjection']);
      expect(result.usage.inputTokens).toBeGreaterThan(0);
    } finally {
      delete process.env.CHUNK_LOG;
    }
  }, 180_000);
});

/**
 * `npm run bench`: prints the library's figures on this machine. A benchmark, not a test: it
 * measures and prints, and fails only when something cannot be measured.
 *
 *   synth     synth time of the legal-contracts example (CloudFormation validation off), median of N
 *   runs      local runner: documents/s on the samples; transitions and Step Functions cost per path
 *   coldstart each handler: gzip size, cold start (load + first invocation against a fake AWS endpoint)
 *             beside a floor bundling the same SDK clients and making the same calls, median of N
 *   injection the prompt-injection layers: detection and false positives per layer on the labelled corpus
 *   pdf       the local PDF reader's word recall against poppler's pdftotext on real producers' PDFs
 *   preflight the Textract preflight's PDF reading (its own reader) beside pdf-lib, same verdicts checked
 *   throughput  the local runner on 1,000 generated one-page PDFs with contract stand-ins
 *   simulation  a simulated day of 100,000 documents: bounded retries vs the capacity control (ServiceQuota)
 *   express   Step Functions cost per document, Standard beside Express, for the fraud-screening example
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { benchColdStart } from './bench-coldstart';
import { printExpressBench } from './bench-express';
import { benchInjection, printInjectionBench } from './bench-injection';
import { printPdfBench } from './bench-pdf';
import { printPreflightBench } from './bench-preflight';
import { printSimulation } from './bench-simulation';
import { median } from './bench-stats';

const ROOT = path.join(__dirname, '..');
const N = Number(process.env.BENCH_RUNS ?? 5);

function row(cells: Array<string | number>, widths: number[]) {
  return cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
}

function printTable(title: string, header: string[], rows: Array<Array<string | number>>) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  console.log(`\n${title}`);
  console.log(row(header, widths));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(row(r, widths));
}

/** Each handler's cold start (load + first invocation against a fake AWS endpoint) beside its floor. */
async function printColdStartBench() {
  const rows = await benchColdStart(N, process.argv.slice(3));
  printTable(`Cold starts (require + first invocation in a fresh process, calls to a local fake AWS; median of ${N}, handler and floor interleaved; goal ratio <= 1.2)`,
    ['handler', 'gzip KiB', 'cold start ms', 'floor ms', 'ratio'],
    rows.map((r) => [r.handler, r.gzipKiB.toFixed(1), r.coldStartMs.toFixed(1), r.floorMs.toFixed(1), r.callsDiffer ? `${r.ratio.toFixed(2)} (not comparable)` : r.ratio.toFixed(2)]));
  for (const r of rows) {
    // A floor that makes other calls than its handler measures something else: its ratio is marked, not quoted.
    if (r.callsDiffer) console.log(`  note: ${r.handler} and its floor made different calls (${r.callsDiffer})`);
  }
}

/** Synth time of the example app, in process, CloudFormation validation off. */
function benchSynth() {
  const script = `
    process.env.CDK_VALIDATION = 'false';
    const { App } = require('aws-cdk-lib');
    const { LegalContractsStack } = require('./examples/legal-contracts/lib/legal-contracts-stack');
    const t = process.hrtime.bigint();
    const app = new App({ outdir: require('fs').mkdtempSync(require('path').join(require('os').tmpdir(), 'bench-synth-')) });
    new LegalContractsStack(app, 'LegalContractIntake', { env: { account: '111111111111', region: 'us-east-1' } });
    app.synth();
    process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));`;
  const times: number[] = [];
  for (let i = 0; i < N; i++) {
    times.push(Number(execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
      cwd: ROOT,
      env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, 'examples/legal-contracts/tsconfig.json') },
    }).toString()));
  }
  printTable(`Synth of the legal-contracts example (in process, CloudFormation validation off, median of ${N})`, ['what', 'ms'], [
    ['first synth in a fresh process', median(times).toFixed(0)],
  ]);
}

/** The local runner on the samples: throughput and transitions. */
function benchRunner() {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-run-'));
  const wall: number[] = [];
  let summary: any[] = [];
  for (let i = 0; i < Math.max(1, Math.min(N, 3)); i++) {
    const t = Date.now();
    execFileSync(process.execPath, [path.join(ROOT, 'bin/cdk-ai-pipeline'), 'local', '--documents', 'samples', '--scenario', 'scenarios/demo.json', '--out', out, '--quiet'], {
      cwd: path.join(ROOT, 'examples/legal-contracts'),
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    wall.push(Date.now() - t);
    summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  }
  const docs = summary.length;
  const runMs = summary.reduce((s, o) => s + o.ms, 0);
  printTable('Local runner on the samples, with the demo\'s review decisions (synth included in wall time)', ['what', 'value'], [
    ['documents', docs],
    ['wall time, median (ms)', median(wall).toFixed(0)],
    ['documents/s, runs only', (docs / (runMs / 1000)).toFixed(1)],
  ]);
  printPathCosts(summary);
}

/**
 * Step Functions list price, Standard workflows: $0.025 per 1,000 state transitions (us-east-1; the
 * first 4,000 a month are free, ignored here). Source: https://aws.amazon.com/step-functions/pricing/
 */
const STANDARD_PER_TRANSITION = 0.025 / 1000;

/** Transitions and the Step Functions cost per document for each path the flagship's samples take. */
function printPathCosts(summary: any[]) {
  const paths: Array<[string, string]> = [
    ['auto-approved NDA (the happy path)', 'nda-short.pdf'],
    ['to reviewers by the routing policy', 'sow.pdf'],
    ['translated first (conditional), then reviewers', 'nda-german.pdf'],
    ['stopped by the language gate before any model', 'nda-finnish.pdf'],
    ['legal review, signed off (demo decision)', 'msa-high-risk.pdf'],
    ['304 pages in 3 + 16 chunks, legal review times out, escalates', 'msa-long.pdf'],
    ['quarantined by the preflight (bad file)', 'corrupt.pdf'],
  ];
  printTable('Transitions and Step Functions cost per document, by path (Standard: $0.025 per 1,000 transitions, us-east-1 list price, aws.amazon.com/step-functions/pricing)',
    ['path', 'sample', 'route', 'transitions', 'USD per document', 'USD per 1M documents'],
    paths.map(([what, doc]) => {
      const o = summary.find((x) => x.document === doc);
      if (!o) throw new Error(`bench: the sample ${doc} was not run`);
      const usd = o.transitions * STANDARD_PER_TRANSITION;
      return [what, doc, o.route, o.transitions, usd.toFixed(6), usd * 1e6 >= 100 ? (usd * 1e6).toFixed(0) : (usd * 1e6).toFixed(2)];
    }));
  console.log('  Step Functions only: the models, Textract, Lambda, S3 and KMS are billed on top (see the capacity plan).');
}

/** 1,000 generated one-page documents through the legal example with contract stand-ins (no local models). */
async function benchThroughput() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PDFDocument, StandardFonts } = require('pdf-lib');
  const count = Number(process.env.BENCH_DOCUMENTS ?? 1000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-docs-'));
  const words = 'agreement party services confidential term payment notice liability law delivery invoice schedule'.split(' ');
  for (let i = 0; i < count; i++) {
    const doc = await PDFDocument.create({ updateMetadata: false });
    const font = await doc.embedFont(StandardFonts.Helvetica);
    const page = doc.addPage([612, 792]);
    page.drawText(`Document ${i}`, { x: 56, y: 740, size: 13, font });
    for (let l = 0; l < 30; l++) {
      const line = Array.from({ length: 12 }, (_, w) => words[(i * 7 + l * 3 + w) % words.length]).join(' ');
      page.drawText(line, { x: 56, y: 716 - l * 16, size: 11, font });
    }
    fs.writeFileSync(path.join(dir, `doc-${String(i).padStart(4, '0')}.pdf`), await doc.save());
  }
  const noModels = path.join(dir, '..', `bench-no-models-${process.pid}.json`);
  fs.writeFileSync(noModels, '{}\n');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-throughput-'));
  const t = Date.now();
  const stdout = execFileSync(process.execPath, [path.join(ROOT, 'bin/cdk-ai-pipeline'), 'local', '--documents', dir, '--out', out, '--quiet', '--config', noModels], {
    cwd: path.join(ROOT, 'examples/legal-contracts'),
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  }).toString();
  const wall = Date.now() - t;
  const m = /(\d+) documents in (\d+) ms \(([\d.]+) documents\/s\)/.exec(stdout);
  const summary: any[] = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  const routes = new Map<string, number>();
  for (const o of summary) routes.set(o.route, (routes.get(o.route) ?? 0) + 1);
  printTable(`Local runner throughput: ${count} generated one-page PDFs, contract stand-ins (goal >= 200 documents/s)`, ['what', 'value'], [
    ['documents', summary.length],
    ['run time (ms, synth excluded)', m ? m[2] : '?'],
    ['documents/s', m ? m[3] : '?'],
    ['wall time incl. synth (ms)', wall],
    ['routes', [...routes].map(([r, n]) => `${r} ${n}`).join(', ')],
  ]);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(out, { recursive: true, force: true });
  fs.rmSync(noModels, { force: true });
}

const only = process.argv[2];
console.log(`cdk-ai-pipeline benchmark — node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model?.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`);
if (!only || only === 'synth') benchSynth();
if (!only || only === 'runner') benchRunner();
async function main() {
  if (!only || only === 'coldstart' || only === 'bundles') await printColdStartBench();
  if (!only || only === 'pdf') await printPdfBench();
  if (!only || only === 'preflight') await printPreflightBench(printTable);
  if (!only || only === 'injection') printInjectionBench(benchInjection());
  if (!only || only === 'throughput') await benchThroughput();
  if (!only || only === 'simulation') printSimulation();
  if (!only || only === 'express') await printExpressBench(Math.max(1, Math.min(N, 5)), printTable);
}
main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

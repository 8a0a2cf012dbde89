/**
 * The corpus through a real PDF producer: prints corpus documents (as HTML, the line in a table
 * cell, small or white text as placed) with headless Chromium, reads the text back with
 * `pdftotext`, and screens it with the local layers. Needs `chromium` and `poppler-utils`.
 *
 *   ts-node --transpile-only projenrc/injection-print-check.ts [outDir]
 *
 * Screens the holdout split and every tenth tune entry; prints one line per document that the
 * policy got wrong, and the totals per label and split.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadCorpus } from './bench-injection';
import { documentHtml } from './injection-corpus';
import { screenDeterministic } from '../src/stages/bedrock/handler/screening';

const CONTEXT = { delimiterTags: ['contract'], outputFields: ['riskScore', 'riskClauses', 'summary'] };
const out = process.argv[2] ?? path.join(os.tmpdir(), 'injection-print-check');
fs.mkdirSync(out, { recursive: true });
const totals: { [k: string]: { n: number; flagged: number } } = {};
for (const e of loadCorpus().filter((x) => x.split === 'holdout' || x.id.endsWith('0'))) {
  const html = path.join(out, `${e.id}.html`);
  const pdf = path.join(out, `${e.id}.pdf`);
  fs.writeFileSync(html, documentHtml(e));
  if (!fs.existsSync(pdf)) {
    execFileSync('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--no-pdf-header-footer', `--print-to-pdf=${pdf}`, `file://${html}`], { stdio: 'ignore' });
  }
  const f = screenDeterministic([execFileSync('pdftotext', ['-layout', pdf, '-']).toString()], CONTEXT);
  const hit = f.normalization.length + f.phrases.length + f.structure.length > 0;
  const t = (totals[`${e.label}/${e.split}`] = totals[`${e.label}/${e.split}`] ?? { n: 0, flagged: 0 });
  t.n++;
  if (hit) t.flagged++;
  if (hit !== (e.label === 'injection')) console.log(`${hit ? 'false positive' : 'missed'}: ${e.id} ${e.technique} ${e.placement}`);
}
for (const [k, t] of Object.entries(totals)) console.log(`${k}: ${t.flagged}/${t.n} flagged`);

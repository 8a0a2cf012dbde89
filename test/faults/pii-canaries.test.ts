/**
 * PII canaries: documents carrying a fake SSN, email address, card number and name run through the
 * legal example's REAL definition and handler cores, with the handlers logging through their real
 * logger at its most verbose level, a model that echoes the document back (in its JSON, and as prose
 * that is not JSON), and every write to stdout, stderr and the console captured. No canary may appear in any
 * log line, audit record, audit event, result file or destination message; they may appear only in
 * the working bucket (the extracted text, the model's reply and summary), where they are meant to be.
 */
import * as fs from 'fs';
import * as path from 'path';
import { textPdf } from './bad-documents';
import { synthLegal, tmp } from './fault-kit';
import { loadPipelines } from '../../src/cli/local/cloud-assembly';
import { runDocuments } from '../../src/cli/local/runner';
import { createLogger } from '../../src/runtime/logger';

const CANARIES = {
  ssn: '536-90-4417',
  email: 'zq.canary.7731@example.org',
  card: '4111 1111 1111 1111',
  name: 'Zebulon Quixfeather',
};
/** How a canary may be rewritten on its way (spaces dropped, case changed). */
const forms = (canary: string) => [canary, canary.replace(/\s+/g, ''), canary.toLowerCase(), canary.toUpperCase()];
const found = (text: string) => Object.entries(CANARIES).filter(([, c]) => forms(c).some((f) => text.includes(f))).map(([k]) => k);

const BODY = [
  'MUTUAL NON-DISCLOSURE AGREEMENT',
  `Employee: ${CANARIES.name}, SSN ${CANARIES.ssn}, e-mail ${CANARIES.email}.`,
  `Expenses are charged to card ${CANARIES.card}.`,
  'Each party shall keep the other party\'s information confidential for two years.',
];

/** The text of a Converse request's messages (what the model is shown). */
const promptOf = (input: any) => (input?.messages ?? []).flatMap((m: any) => m.content ?? []).map((b: any) => b.text ?? '').join('\n');

let lines: string[];
let out: string;
let documents: string[];
beforeAll(async () => {
  const dir = tmp('pii-docs-');
  documents = [];
  for (const name of ['canary-echo.pdf', 'canary-prose.pdf', 'canary-two-pages.pdf']) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, await textPdf(BODY, name.includes('two-pages') ? 2 : 1));
    documents.push(file);
  }
  const [pipeline] = loadPipelines(synthLegal());
  out = tmp('pii-out-');

  // Everything anything writes while the documents run.
  lines = [];
  const capture = (stream: string) => (chunk: any, ...rest: any[]) => {
    lines.push(...`${stream}: ${String(chunk)}`.split('\n'));
    const cb = rest.find((r) => typeof r === 'function');
    if (cb) cb();
    return true;
  };
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation(capture('stdout') as any),
    jest.spyOn(process.stderr, 'write').mockImplementation(capture('stderr') as any),
    ...(['log', 'info', 'warn', 'error', 'debug'] as const).map((level) =>
      jest.spyOn(console, level).mockImplementation((...args: any[]) => { lines.push(`console.${level}: ${args.map(String).join(' ')}`); })),
  ];
  const level = process.env.POWERTOOLS_LOG_LEVEL;
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  try {
    await runDocuments({
      pipeline,
      documents,
      outDir: out,
      handlerLogger: createLogger('pii-canaries'),
      models: {
        // The classifier sees the text too; its reply stays within its contract.
        Classify: { file: 'classifier.js', fn: () => ({ documentType: 'NDA', confidence: 0.93 }) },
        // The summarizer echoes the document: in its JSON summary, or as prose that is not JSON at all.
        Summarize: {
          file: 'summarizer.js',
          fn: (input: any, meta: any) => (meta.document === 'canary-prose.pdf'
            ? `I cannot answer in JSON. The contract says: ${promptOf(input).replace(/[{}]/g, '')}`
            : { riskScore: 0.2, riskClauses: [], summary: `An NDA. ${promptOf(input)}` }),
        },
      },
    });
  } finally {
    if (level === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
    else process.env.POWERTOOLS_LOG_LEVEL = level;
    spies.forEach((s) => s.mockRestore());
  }
}, 300_000);

/** Every file under a folder, with its text. */
function files(dir: string): Array<{ file: string; text: string }> {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true } as any)
    .filter((e: any) => e.isFile())
    .map((e: any) => path.join(e.parentPath ?? e.path, e.name))
    .map((file) => ({ file: path.relative(out, file), text: fs.readFileSync(file, 'latin1') }));
}

const tally = { canaries: Object.keys(CANARIES).length, documents: 0, lines: 0, leaks: 0, checked: 0 };
afterAll(() => {
  // eslint-disable-next-line no-console
  console.log(`pii canaries: ${tally.canaries} canaries in ${tally.documents} documents, ${tally.lines} log lines captured, `
    + `${tally.checked} audit/result/event files checked, ${tally.leaks} leaks`);
});

test('the runs took the paths meant: the echoing model succeeds, the prose one fails as Model.InvalidOutput', () => {
  const results = Object.fromEntries(documents.map((d) => {
    const r = JSON.parse(fs.readFileSync(path.join(out, 'results', `${path.basename(d)}.json`), 'utf8'));
    return [path.basename(d), { status: r.status, error: r.error?.name }];
  }));
  expect(results).toEqual({
    'canary-echo.pdf': { status: 'SUCCEEDED', error: undefined },
    'canary-prose.pdf': { status: 'FAILED', error: 'Model.InvalidOutput' },
    'canary-two-pages.pdf': { status: 'SUCCEEDED', error: undefined },
  });
  tally.documents = documents.length;
});

test('the capture works: the handlers\' log lines are in it', () => {
  const logLines = lines.filter((l) => /"service":"pii-canaries"/.test(l));
  expect(logLines.some((l) => l.includes('stage succeeded'))).toBe(true);
  expect(logLines.some((l) => l.includes('stage failed'))).toBe(true);
  expect(logLines.some((l) => l.includes('run recorded'))).toBe(true);
  tally.lines = lines.filter((l) => l.trim().length > 0).length;
});

test('no canary in any log line', () => {
  const leaks = lines.filter((l) => found(l).length > 0);
  tally.leaks += leaks.length;
  expect(leaks).toEqual([]);
});

test('the canaries did flow: they are in the working bucket (extracted text, model reply, summary)', () => {
  const work = files(path.join(out, 'buckets')).filter((f) => /stages\/(Extract|Summarize)\//.test(f.file) && !/buckets\/[^/]*audit/i.test(f.file));
  const withCanaries = work.filter((f) => found(f.text).length === Object.keys(CANARIES).length);
  expect(withCanaries.map((f) => path.basename(f.file)).sort()).toEqual(expect.arrayContaining(['text.json']));
  expect(withCanaries.some((f) => /Summarize/.test(f.file))).toBe(true);
});

test('no canary in audit records, audit events, results or destination messages', () => {
  const audit = files(path.join(out, 'buckets')).filter((f) => {
    const bucket = f.file.split(path.sep)[1] ?? '';
    return /audit/i.test(bucket) || (f.file.includes(`${path.sep}.versions${path.sep}`) && /audit/i.test(f.file.split(path.sep)[2] ?? ''));
  });
  expect(audit.some((f) => f.file.includes(`runs${path.sep}`))).toBe(true);
  // The audit records themselves: runs/<run>.json and stages/<stage>/<run>.json. The evidence kept
  // beside them under stages/<stage>/<run>/ (the prompt and reply a model saw) holds document text by design.
  const records = audit.filter((f) => /(runs|stages[\\/][^\\/]+)[\\/][0-9a-f]{64}\.json$/.test(f.file));
  expect(records.length).toBeGreaterThan(0);
  const checked = [
    ...records,
    ...files(path.join(out, 'results')),
    ...files(path.join(out, 'destinations')),
    { file: 'events.json', text: fs.readFileSync(path.join(out, 'events.json'), 'utf8') },
  ];
  tally.checked = checked.length;
  const leaks = checked.filter((f) => found(f.text).length > 0).map((f) => `${f.file}: ${found(f.text).join(', ')}`);
  tally.leaks += leaks.length;
  expect(leaks).toEqual([]);
});

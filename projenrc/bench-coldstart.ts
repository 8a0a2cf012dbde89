/**
 * `npm run bench coldstart`: each handler's cold start beside a floor.
 *
 * Cold start = in a fresh Node process, the time from the start of `require` of the bundle to the
 * end of the first invocation's promise. The handler runs in a folder like its synthesized asset
 * (its bundle from `assets/`, `stage-config.json` and `validators.js` of a real synthesized stage),
 * on one realistic event, and its SDK calls go over HTTP to a fake AWS endpoint in this process
 * (`bench-fake-aws.ts`): the bundle carries its own SDK copy, which no in-process mock can reach.
 *
 * Floor = a minimal handler (`bench-floors/`) bundled by esbuild with the same options and the same
 * pinned SDK clients, making the same calls with no validation, logging or screening. Handler and
 * floor runs alternate (median of N each); ratio = handler median / floor median of the same run.
 */
import { spawn, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gzipSync } from 'zlib';
import { FakeAws, startFakeAws } from './bench-fake-aws';
import { median } from './bench-stats';

const ROOT = path.join(__dirname, '..');

/** One handler and what it is benchmarked with. */
interface ColdStartCase {
  readonly name: string;
  /** Bundle folder under `assets/`. */
  readonly bundle: string;
  /** Floor source under `bench-floors/`. */
  readonly floor: string;
  /** Id of the synthesized stage whose asset folder provides `stage-config.json` and `validators.js`. */
  readonly stage?: string;
  readonly env: { [name: string]: string };
  readonly event: unknown;
}

const WORK = 'contracts-work';
const AUDIT = 'contracts-audit';
const UPLOADS = 'contracts-uploads';
const DOCUMENT = { bucket: UPLOADS, key: 'incoming/nda-short.pdf', size: 4521, etag: 'bench' };
const TEXT_POINTER = { bucket: WORK, key: 'stages/Extract/run-1/text.json' };
const PIPELINE_ENV = { PIPELINE_NAME: 'Contracts', WORK_BUCKET: WORK, AUDIT_BUCKET: AUDIT, AUDIT_BUS: 'contracts-audit-bus' };
const EXTRACTED = { text: TEXT_POINTER, pages: 1, mode: 'sync' };
const CLASSIFIED = { documentType: 'NDA', confidence: 0.93 };
const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:111111111111:stateMachine:Contracts';

const CASES: ColdStartCase[] = [
  {
    name: 'textract',
    bundle: 'stages/textract/handler/textract.entry',
    floor: 'textract.floor.ts',
    stage: 'Extract',
    env: {
      ...PIPELINE_ENV,
      STAGE_NAME: 'Extract',
      TEXTRACT_TOPIC_ARN: 'arn:aws:sns:us-east-1:111111111111:ExtractJobCompletion',
      TEXTRACT_ROLE_ARN: 'arn:aws:iam::111111111111:role/ExtractTextractPublishRole',
    },
    event: { runId: 'run-1', taskToken: 'token-1', state: { document: DOCUMENT, results: {} } },
  },
  {
    name: 'sagemaker',
    bundle: 'stages/sagemaker/handler/sagemaker.entry',
    floor: 'sagemaker.floor.ts',
    stage: 'Classify',
    env: { ...PIPELINE_ENV, STAGE_NAME: 'Classify', ENDPOINT_NAME: 'contract-classifier' },
    event: { runId: 'run-1', state: { document: DOCUMENT, results: { Extract: EXTRACTED } } },
  },
  {
    name: 'bedrock',
    bundle: 'stages/bedrock/handler/bedrock.entry',
    floor: 'bedrock.floor.ts',
    stage: 'Summarize',
    env: { ...PIPELINE_ENV, STAGE_NAME: 'Summarize', PROMPT_ATTACK_GUARDRAIL_ID: 'guardrail1', PROMPT_ATTACK_GUARDRAIL_VERSION: 'DRAFT' },
    event: { runId: 'run-1', state: { document: DOCUMENT, results: { Extract: EXTRACTED, Classify: CLASSIFIED } } },
  },
  {
    name: 'lambda-proxy',
    bundle: 'stages/lambda/handler/lambda-proxy.entry',
    floor: 'lambda-proxy.floor.ts',
    stage: 'Enrich',
    env: { ...PIPELINE_ENV, STAGE_NAME: 'Enrich', TARGET_FUNCTION: 'arn:aws:lambda:us-east-1:111111111111:function:enrich' },
    event: { runId: 'run-1', state: { document: DOCUMENT, results: {} } },
  },
  {
    name: 'trigger starter',
    bundle: 'trigger/handler/starter.entry',
    floor: 'starter.floor.ts',
    env: { STATE_MACHINE_ARN },
    event: {
      Records: [{
        messageId: 'm-1',
        receiptHandle: 'r',
        body: JSON.stringify({
          'detail-type': 'Object Created',
          'source': 'aws.s3',
          'detail': { bucket: { name: UPLOADS }, object: { 'key': DOCUMENT.key, 'size': DOCUMENT.size, 'etag': 'bench', 'version-id': 'v1' } },
        }),
        attributes: {},
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:111111111111:q',
        awsRegion: 'us-east-1',
      }],
    },
  },
  {
    name: 'audit recorder',
    bundle: 'audit/handler/recorder.entry',
    floor: 'recorder.floor.ts',
    env: { PIPELINE_NAME: 'Contracts', AUDIT_BUCKET: AUDIT, AUDIT_BUS: 'contracts-audit-bus', STAGE_ORDER: 'Extract,Classify,Summarize' },
    event: {
      action: 'run',
      runId: 'run-1',
      startedAt: '2026-01-01T00:00:00.000Z',
      state: {
        document: DOCUMENT,
        results: { Extract: EXTRACTED, Classify: CLASSIFIED, Summarize: { riskScore: 0.2 } },
        route: { rule: 'low-risk-nda', destination: 'auto-approve' },
      },
    },
  },
];

/** The child: loads the bundle, runs one invocation, prints the time from the require to its end. */
const CHILD = `
const [file, eventJson] = process.argv.slice(1);
const event = JSON.parse(eventJson);
const t = process.hrtime.bigint();
let invocation;
try { invocation = require(file).handler(event); } catch (err) { invocation = Promise.reject(err); }
Promise.resolve(invocation).then(() => {
  process.stdout.write('\\nCOLD_START_MS ' + Number(process.hrtime.bigint() - t) / 1e6 + '\\n', () => process.exit(0));
}, (err) => { console.error(err); process.exit(1); });`;

/** `BENCH_CPU_PROF=<dir>`: the untimed first run of each handler and floor writes a V8 CPU profile there. */
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF;

function run(file: string, event: unknown, env: { [name: string]: string }, profileName?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const profile = CPU_PROF_DIR && profileName
      ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(CPU_PROF_DIR)}`, `--cpu-prof-name=${profileName}.cpuprofile`, '--cpu-prof-interval=250']
      : [];
    const child = spawn(process.execPath, [...profile, '-e', CHILD, file, JSON.stringify(event)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const m = /COLD_START_MS ([\d.]+)/.exec(out);
      if (code === 0 && m) resolve(Number(m[1]));
      else reject(new Error(`${file} failed (exit ${code}):\n${err || out}`));
    });
  });
}

/** Synthesizes the bench app and returns the asset folder of each stage, by stage id. */
function synthStageAssets(outdir: string): Map<string, string> {
  execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'bench-coldstart-app.ts'), outdir], {
    cwd: ROOT,
    env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, 'examples/legal-contracts/tsconfig.json') },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const assets = new Map<string, string>();
  for (const entry of fs.readdirSync(outdir)) {
    const config = path.join(outdir, entry, 'stage-config.json');
    if (!fs.existsSync(config)) continue;
    // A chunked step's split and reduce functions carry the stage's id too, without a kind: only the
    // stage's own handler asset counts (which of them came last depended on the assets' hashes).
    const { stage, kind } = JSON.parse(fs.readFileSync(config, 'utf8'));
    if (kind) assets.set(stage, path.join(outdir, entry));
  }
  return assets;
}

/** Bundles a floor with the handlers' esbuild options (see HANDLERS in .projenrc.ts). */
function bundleFloor(source: string, outfile: string) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild');
  esbuild.buildSync({
    entryPoints: [path.join(__dirname, 'bench-floors', source)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    mainFields: ['module', 'main'],
    logLevel: 'error',
  });
}

/** The calls a run made, as a sorted multiset (`service operation`), to compare a handler with its floor. */
function callSet(fake: FakeAws, from: number): string {
  return fake.calls.slice(from).sort().join(', ');
}

export interface ColdStartRow {
  readonly handler: string;
  readonly gzipKiB: number;
  readonly coldStartMs: number;
  readonly floorMs: number;
  readonly ratio: number;
  /** Set when the handler's calls differ from its floor's (the comparison would be unfair). */
  readonly callsDiffer?: string;
}

/** `handlers`: names of the handlers to measure (all when empty), e.g. `npm run bench coldstart textract`. */
export async function benchColdStart(runs: number, handlers: readonly string[] = []): Promise<ColdStartRow[]> {
  const cases = CASES.filter((c) => handlers.length === 0 || handlers.includes(c.name));
  if (cases.length === 0) throw new Error(`no handler named ${handlers.join(', ')}: choose among ${CASES.map((c) => c.name).join(', ')}`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-coldstart-'));
  try {
    const stageAssets = synthStageAssets(path.join(work, 'cdk.out'));
    const fake = await startFakeAws({
      converseText: JSON.stringify({ riskScore: 0.2, riskClauses: [], summary: 'A mutual NDA of two years under the laws of Delaware.', injectionSuspected: false }),
      endpointBody: CLASSIFIED,
      functionPayload: { parties: 2, jurisdiction: 'Delaware' },
      textractLines: ['MUTUAL NON-DISCLOSURE AGREEMENT', 'This Agreement is entered into by the parties below.'],
    });
    try {
      fake.objects.set(`${UPLOADS}/${DOCUMENT.key}`, fs.readFileSync(path.join(ROOT, 'examples/legal-contracts/samples/nda-short.pdf')));
      fake.objects.set(`${WORK}/${TEXT_POINTER.key}`, Buffer.from(JSON.stringify({
        pages: [{ page: 1, text: 'MUTUAL NON-DISCLOSURE AGREEMENT\nThis Agreement is entered into by the parties below. '.repeat(40) }],
      })));
      const prepared = cases.map((c) => {
        const bundle = path.join(ROOT, 'assets', c.bundle, 'index.js');
        if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing: run npx projen bundle first`);
        const dir = path.join(work, c.name.replace(/\W/g, '-'));
        fs.mkdirSync(path.join(dir, 'floor'), { recursive: true });
        if (c.stage) {
          const asset = stageAssets.get(c.stage);
          if (!asset) throw new Error(`the bench app synthesized no stage ${c.stage}`);
          for (const f of fs.readdirSync(asset)) if (f !== 'index.js') fs.copyFileSync(path.join(asset, f), path.join(dir, f));
        }
        fs.copyFileSync(bundle, path.join(dir, 'index.js'));
        bundleFloor(c.floor, path.join(dir, 'floor', 'index.js'));
        const env = {
          PATH: process.env.PATH ?? '',
          AWS_ENDPOINT_URL: fake.url,
          AWS_ENDPOINT_URL_BEDROCK_RUNTIME: fake.http2Url,
          AWS_ACCESS_KEY_ID: 'AKIDBENCH',
          AWS_SECRET_ACCESS_KEY: 'bench',
          AWS_SESSION_TOKEN: 'bench',
          AWS_REGION: 'us-east-1',
          AWS_EC2_METADATA_DISABLED: 'true',
          ...c.env,
        };
        return { c, env, handler: path.join(dir, 'index.js'), floor: path.join(dir, 'floor', 'index.js'), gzip: gzipSync(fs.readFileSync(bundle)).length / 1024 };
      });

      // One untimed run of each (disk cache), which also checks that handler and floor make the same calls.
      const differ = new Map<string, string>();
      for (const p of prepared) {
        let from = fake.calls.length;
        const slug = p.c.name.replace(/\W/g, '-');
        await run(p.handler, p.c.event, p.env, slug);
        const handlerCalls = callSet(fake, from);
        from = fake.calls.length;
        await run(p.floor, p.c.event, p.env, `${slug}-floor`);
        const floorCalls = callSet(fake, from);
        if (handlerCalls !== floorCalls) differ.set(p.c.name, `handler: ${handlerCalls}; floor: ${floorCalls}`);
      }
      const times = new Map(prepared.map((p) => [p.c.name, { handler: [] as number[], floor: [] as number[] }]));
      for (let i = 0; i < runs; i++) {
        for (const p of prepared) {
          const t = times.get(p.c.name)!;
          // Alternate which goes first, so neither always runs right after the other's disk and CPU state.
          if (i % 2 === 0) {
            t.handler.push(await run(p.handler, p.c.event, p.env));
            t.floor.push(await run(p.floor, p.c.event, p.env));
          } else {
            t.floor.push(await run(p.floor, p.c.event, p.env));
            t.handler.push(await run(p.handler, p.c.event, p.env));
          }
        }
      }
      return prepared.map((p) => {
        const t = times.get(p.c.name)!;
        const coldStartMs = median(t.handler);
        const floorMs = median(t.floor);
        return { handler: p.c.name, gzipKiB: p.gzip, coldStartMs, floorMs, ratio: coldStartMs / floorMs, callsDiffer: differ.get(p.c.name) };
      });
    } finally {
      await fake.close();
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

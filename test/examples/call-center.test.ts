/**
 * The call-center example end to end, without AWS: the example app is synthesized (the real
 * template), then every sample recording runs through the real definition in the local interpreter,
 * with the real handler cores behind local stand-ins (Transcribe reads each WAV's INFO/ICMT chunk),
 * the example's local reply drafter for the Bedrock stage, and the agents' decisions of
 * `scenarios/demo.json`. Each call must take its expected route, and only approved replies are queued.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { CallCenterStack } from '../../examples/call-center/lib/call-center-stack';
import { runLocalCommand } from '../../src/cli/local/command';
import { DocumentOutcome } from '../../src/cli/local/runner';

const EXAMPLE = path.join(__dirname, '..', '..', 'examples', 'call-center');
const SAMPLES = path.join(EXAMPLE, 'samples');
const expected: { [file: string]: { route: string; error?: string; replyQueued: boolean; corrected?: boolean } } = JSON.parse(
  fs.readFileSync(path.join(EXAMPLE, 'expected-outcomes.json'), 'utf8'));

describe('call-center samples through the local runner', () => {
  let outcomes: DocumentOutcome[];
  let out: string;
  let messages: any[];

  beforeAll(async () => {
    const assembly = fs.mkdtempSync(path.join(os.tmpdir(), 'calls-cdkout-'));
    const app = new App({ outdir: assembly, context: { 'aws:cdk:enable-asset-metadata': true } });
    new CallCenterStack(app, 'CallCenter', { env: { account: '111111111111', region: 'us-east-1' } });
    app.synth();
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'calls-out-'));
    outcomes = await runLocalCommand({
      documents: [SAMPLES], out, assembly, quiet: true, cwd: EXAMPLE, scenario: path.join(EXAMPLE, 'scenarios', 'demo.json'),
    }, () => undefined);
    const queueFile = path.join(out, 'queues', 'Replies.jsonl');
    messages = fs.existsSync(queueFile) ? fs.readFileSync(queueFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : [];
  }, 120_000);

  test('every sample recording was run', () => {
    expect(outcomes.map((o) => o.document).sort()).toEqual(Object.keys(expected).sort());
  });

  test.each(Object.entries(expected))('%s takes the route %j', (file, want) => {
    const o = outcomes.find((x) => x.document === file)!;
    expect({ route: o.route, error: o.error }).toEqual({ route: want.route, error: want.error });
    expect(o.status).toBe(want.error ? 'FAILED' : 'SUCCEEDED');
  });

  test('only the replies an agent approved are queued; a correction replaces the draft', () => {
    const queued = Object.entries(expected).filter(([, w]) => w.replyQueued).map(([f]) => f).sort();
    expect(messages.map((m) => m.body.document.key.replace(/^calls\//, '')).sort()).toEqual(queued);
    for (const m of messages) {
      const file = m.body.document.key.replace(/^calls\//, '');
      expect(m.body).toEqual(expect.objectContaining({ pipeline: 'Calls', field: 'Draft.reply', value: expect.any(String) }));
      expect(m.body.approval).toEqual(expect.objectContaining({ review: 'AgentReview', corrected: expected[file].corrected ?? false }));
    }
    const corrected = messages.find((m) => m.body.approval.corrected);
    expect(corrected.body.value).toMatch(/12 Harbour Street, Bristol/);
    expect(corrected.body.approval.decision).toBe('correct');
    const approved = messages.find((m) => !m.body.approval.corrected);
    // The drafted reply itself, as the Draft stage wrote it.
    const result = outcomes.find((o) => o.document === 'billing-question.wav')!.results as any;
    expect(approved.body.value).toBe(result.Draft.reply);
    expect(result.Draft.intent).toBe('BILLING');
  });

  test('an answered call takes 10 transitions, each accounted for', () => {
    const billing = outcomes.find((o) => o.document === 'billing-question.wav')!;
    expect(billing.path.map((p) => p.state)).toEqual([
      'Transcribe', 'Analyse', 'Sentiment', 'Entities', 'Escalate', 'Draft', 'AgentReview', 'AgentReview-decision', 'Replies', 'RecordRun',
    ]);
    expect(billing.transitions).toBe(10);
  });

  test('the angry caller stops at the gate: no reply is drafted', () => {
    const angry = outcomes.find((o) => o.document === 'angry-outage.wav')!;
    const states = angry.path.map((p) => p.state);
    expect(states).toContain('Escalate-angry-caller');
    expect(states).not.toContain('Draft');
    expect((angry.results as any).Sentiment.sentiment).toBe('NEGATIVE');
  });

  test('the transcript is a sha256-checked text pointer the later stages read', () => {
    const o = outcomes.find((x) => x.document === 'billing-question.wav')!;
    const transcribe = (o.results as any).Transcribe;
    expect(transcribe).toEqual(expect.objectContaining({ languageCode: 'en-US', mediaFormat: 'wav' }));
    const file = path.join(out, 'buckets', transcribe.text.bucket, transcribe.text.key);
    const bytes = fs.readFileSync(file);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(transcribe.text.sha256);
    expect(JSON.parse(bytes.toString('utf8')).pages[0].text).toMatch(/question about my invoice for March/);
  });

  test('the run report links the on-disk queue of the approved runs', () => {
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('queues/Replies.jsonl');
    const approved = outcomes.find((o) => o.document === 'billing-question.wav')!;
    expect(approved.outputs).toEqual({ Replies: path.join('queues', 'Replies.jsonl') });
  });
});

describe('call-center faults at the Transcribe stage (the real definition\'s Retry and Catch)', () => {
  let outcomes: DocumentOutcome[];

  beforeAll(async () => {
    const assembly = fs.mkdtempSync(path.join(os.tmpdir(), 'calls-cdkout-'));
    const app = new App({ outdir: assembly, context: { 'aws:cdk:enable-asset-metadata': true } });
    new CallCenterStack(app, 'CallCenter', { env: { account: '111111111111', region: 'us-east-1' } });
    app.synth();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calls-faults-'));
    const scenario = path.join(dir, 'faults.json');
    fs.writeFileSync(scenario, JSON.stringify({
      rules: [
        { documents: 'billing-question.wav', stage: 'Transcribe', fault: { throttle: 2 } },
        { documents: 'billing-question.wav', review: 'AgentReview', decision: { decision: 'approve', reviewer: 'agent-sam' } },
        { documents: 'address-change.wav', stage: 'Transcribe', fault: 'timeout' },
      ],
    }));
    const documents = ['billing-question.wav', 'address-change.wav'].map((f) => path.join(SAMPLES, f));
    outcomes = await runLocalCommand({ documents, out: path.join(dir, 'out'), assembly, quiet: true, cwd: EXAMPLE, scenario }, () => undefined);
  }, 120_000);

  test('Transcribe throttling (LimitExceededException) is retried and clears: the reply is still queued', () => {
    const o = outcomes.find((x) => x.document === 'billing-question.wav')!;
    expect(o.status).toBe('SUCCEEDED');
    expect(o.path.find((p) => p.state === 'Transcribe')!.retries).toBe(2);
    expect(o.outputs).toEqual({ Replies: path.join('queues', 'Replies.jsonl') });
  });

  test('a job that never ends times the task out: the failure path, audited', () => {
    const o = outcomes.find((x) => x.document === 'address-change.wav')!;
    expect({ status: o.status, error: o.error }).toEqual({ status: 'FAILED', error: 'States.Timeout' });
    expect(o.path.map((p) => p.state)).toEqual(['Transcribe', 'Transcribe-failed', 'RecordFailure', 'Failed']);
  });
});

/**
 * Human review through the local runner on the REAL synthesized definition: the review task waits on
 * its token; decisions from the scenario (or a prompt) go through the decision API's real core
 * (validation, decision record) and resume the run; a missed deadline escalates through the
 * definition's own catch. Each run's audit trail holds who decided what, and when.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { AuditSink } from '../../../src/audit/audit-sink';
import { RunnerError } from '../../../src/cli/local/cloud-assembly';
import { runLocalCommand } from '../../../src/cli/local/command';
import { promptDecider } from '../../../src/cli/local/review';
import { DocumentOutcome } from '../../../src/cli/local/runner';
import { parseScenario } from '../../../src/cli/local/scenario';
import { generateValidators } from '../../../src/private/validator-codegen';
import { describeErrors, loadValidatorsSource, Validator } from '../../../src/runtime/contracts';
import { reviewStack } from '../../helpers/review-app';

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));
const ALICE = 'arn:aws:iam::000000000000:user/alice';

async function pdf(lines: string[]): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const page = doc.addPage([612, 792]);
  lines.forEach((line, i) => page.drawText(line, { x: 56, y: 740 - i * 16, size: 11, font }));
  return doc.save();
}

const NAMES = ['approve', 'reject', 'correct', 'timeout', 'undecided'];
let assembly: string;
let docs: string;

beforeAll(async () => {
  assembly = tmp('review-cdkout-');
  const app = new App({ outdir: assembly, context: { 'aws:cdk:enable-asset-metadata': true } });
  reviewStack(app);
  app.synth();
  docs = tmp('review-docs-');
  for (const name of NAMES) {
    fs.writeFileSync(path.join(docs, `${name}.pdf`), await pdf([`Services agreement ${name}`, 'The supplier delivers the services monthly.']));
  }
}, 120_000);

const BASE_RULES = [
  { documents: '*', stage: 'Summarize', fields: { riskScore: 0.5 } },
  { documents: 'approve.pdf', review: 'LegalReview', decision: { decision: 'approve', reviewer: 'alice', comment: 'checked the clauses' } },
  { documents: 'reject.pdf', review: 'LegalReview', decision: { decision: 'reject', reviewer: 'bob' } },
  { documents: 'correct.pdf', review: 'LegalReview', decision: { decision: 'correct', reviewer: 'alice', corrections: { riskScore: 0.9 } } },
  { documents: 'timeout.pdf', review: 'LegalReview', decision: 'timeout' },
];

async function run(rules: object[], documents: string[], extra: { decide?: any } = {}) {
  const dir = tmp('review-run-');
  const scenario = path.join(dir, 'scenario.json');
  fs.writeFileSync(scenario, JSON.stringify({ rules }));
  const out = path.join(dir, 'out');
  const lines: string[] = [];
  const outcomes = await runLocalCommand({ documents, out, assembly, quiet: true, cwd: dir, scenario, ...extra }, (l) => lines.push(l));
  return { outcomes: new Map(outcomes.map((o) => [o.document.replace(/\.pdf$/, ''), o])), out, log: lines.join('\n') };
}

const read = (out: string, rel: string) => JSON.parse(fs.readFileSync(path.join(out, rel), 'utf8'));
/** The run record, checked against the published audit record schema. */
const runRecord = (out: string, o: DocumentOutcome) => {
  const record = o.audit.map((a) => read(out, a)).find((r) => r.kind === 'run');
  const validate: Validator = (loadValidatorsSource(generateValidators({ record: JSON.parse(fs.readFileSync(AuditSink.RECORD_SCHEMA_FILE, 'utf8')) })) as any).record;
  if (!validate(record)) throw new Error(`the run record fails the audit record schema: ${describeErrors(validate)}`);
  return record;
};
const decisionRecord = (out: string, o: DocumentOutcome) => o.audit.filter((a) => a.includes('/decisions/')).map((a) => read(out, a))[0];
const states = (o: DocumentOutcome) => o.path.map((p) => p.state);

describe('reviews through the real definition', () => {
  let result: Awaited<ReturnType<typeof run>>;
  beforeAll(async () => {
    result = await run(BASE_RULES, NAMES.map((n) => path.join(docs, `${n}.pdf`)));
  }, 180_000);

  test('approve: the run goes on to the routing policy; the run record names the reviewer, the decision and the time', () => {
    const o = result.outcomes.get('approve')!;
    expect(o).toMatchObject({ status: 'SUCCEEDED', route: 'review', rule: 'default' });
    expect(states(o)).toEqual(expect.arrayContaining(['Summarize', 'LegalReview', 'LegalReview-decision', 'Route', 'Route-default', 'RecordRun']));
    expect(o.reviews).toEqual({ LegalReview: expect.objectContaining({ decision: 'approve', reviewer: ALICE, source: 'scenario' }) });
    expect(o.results).toMatchObject({ LegalReview: { decision: 'approve', reviewer: ALICE, comment: 'checked the clauses' } });
    const record = runRecord(result.out, o);
    expect(record.reviews).toEqual([{
      name: 'LegalReview',
      decision: 'approve',
      reviewer: ALICE,
      decidedAt: expect.any(String),
      taskTokenSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      record: { bucket: expect.any(String), key: expect.stringContaining('stages/LegalReview/decisions/') },
    }]);
    expect(decisionRecord(result.out, o)).toMatchObject({ kind: 'review-decision', decision: 'approve', reviewer: ALICE, accepted: true, comment: 'checked the clauses' });
  });

  test('reject: the run ends at the rejected destination', () => {
    const o = result.outcomes.get('reject')!;
    expect(o).toMatchObject({ status: 'SUCCEEDED', route: 'rejected', rule: 'LegalReview-rejected' });
    expect(states(o)).not.toContain('Route');
    expect(runRecord(result.out, o)).toMatchObject({ route: { rule: 'LegalReview-rejected', destination: 'rejected' }, reviews: [{ decision: 'reject', reviewer: 'arn:aws:iam::000000000000:user/bob' }] });
    const delivered = fs.readFileSync(path.join(result.out, 'destinations', 'rejected.jsonl'), 'utf8');
    expect(delivered).toContain('reject.pdf');
  });

  test('correct: corrections land at results.LegalReview, never in the model\'s result, and the routing rule reads them', () => {
    const o = result.outcomes.get('correct')!;
    expect(o).toMatchObject({ status: 'SUCCEEDED', route: 'legal', rule: 'corrected-high-risk' });
    expect(o.results).toMatchObject({ Summarize: { riskScore: 0.5 }, LegalReview: { decision: 'correct', corrections: { riskScore: 0.9 } } });
    expect(decisionRecord(result.out, o)).toMatchObject({ decision: 'correct', corrections: { riskScore: 0.9 }, accepted: true });
  });

  test('a missed deadline escalates through the definition\'s catch to the named destination, audited', () => {
    const o = result.outcomes.get('timeout')!;
    expect(o).toMatchObject({ status: 'SUCCEEDED', route: 'escalated', rule: 'LegalReview-escalated' });
    expect(states(o).slice(-4)).toEqual(['LegalReview', 'LegalReview-timed-out', 'LegalReview-escalated', 'RecordRun']);
    expect(o.results).toMatchObject({ LegalReview: { decision: 'timeout', error: 'States.Timeout', deadlineSeconds: 14400 } });
    expect(runRecord(result.out, o)).toMatchObject({ outcome: 'SUCCEEDED', route: { destination: 'escalated' }, reviews: [{ name: 'LegalReview', decision: 'timeout' }] });
    expect(decisionRecord(result.out, o)).toBeUndefined();
    expect(fs.readFileSync(path.join(result.out, 'destinations', 'escalated.jsonl'), 'utf8')).toContain('timeout.pdf');
  });

  test('with no decision given, the default is a timeout, and the run output says so', () => {
    const o = result.outcomes.get('undecided')!;
    expect(o).toMatchObject({ route: 'escalated', reviews: { LegalReview: { decision: 'timeout', source: 'default' } } });
    expect(result.log).toContain('Review LegalReview: no decision given for undecided.pdf (no scenario rule, no --interactive): by default nobody decides, so the deadline passed and the runs escalated.');
    // Every review was notified with its task token and the reviewed results.
    const notes = fs.readFileSync(path.join(result.out, 'destinations', 'LegalReview.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(notes).toHaveLength(5);
    expect(notes[0].message).toMatchObject({ review: 'LegalReview', reviewedStage: 'Summarize', taskToken: expect.any(String), results: { Summarize: { riskScore: 0.5 } } });
  });
});

describe('decisions are checked by the decision API\'s core', () => {
  test('a correction that breaks the reviewed stage\'s contract is a runner error naming the field', async () => {
    const rules = [{ documents: '*', review: 'LegalReview', decision: { decision: 'correct', reviewer: 'alice', corrections: { riskScore: 'high' } } }];
    await expect(run(rules, [path.join(docs, 'approve.pdf')])).rejects.toThrow(
      /--scenario: the decision for review LegalReview of approve\.pdf was refused by the decision API \(400\): 'corrections\.riskScore' must be number/);
  });

  test('a decision carrying its own task token is refused before the run', async () => {
    const rules = [{ documents: '*', review: 'LegalReview', decision: { decision: 'approve', reviewer: 'alice', taskToken: 'forged' } }];
    await expect(run(rules, [path.join(docs, 'approve.pdf')])).rejects.toThrow(/rules\[0\]: "decision.taskToken" is not yours to give/);
  });

  test('a scenario naming a review the pipeline does not have, or no reviewer', () => {
    expect(() => parseScenario({ rules: [{ review: 'Nope', decision: 'timeout' }] }, 's.json', ['Summarize'], ['LegalReview']))
      .toThrow(/rules\[0\] names review 'Nope', which the pipeline does not have; its reviews are LegalReview/);
    expect(() => parseScenario({ rules: [{ review: 'LegalReview', decision: { decision: 'approve' } }] }, 's.json', [], ['LegalReview']))
      .toThrow(/"decision.reviewer" must name the reviewer/);
    expect(() => parseScenario({ rules: [{ review: 'LegalReview', decision: 'timeout', stage: 'Summarize' }] }, 's.json', ['Summarize'], ['LegalReview']))
      .toThrow(/unknown key 'stage' \(a review rule has documents, review, decision\)/);
  });

  test('interactive: a decision typed at the prompt goes through the same core', async () => {
    const answers = ['maybe', 'correct', 'carol', 'raised', '{"riskScore": 0.95}'];
    const printed: string[] = [];
    const decide = promptDecider(async () => answers.shift()!, (l) => printed.push(l));
    const { outcomes, out } = await run([{ documents: '*', stage: 'Summarize', fields: { riskScore: 0.2 } }], [path.join(docs, 'approve.pdf')], { decide });
    const o = outcomes.get('approve')!;
    expect(answers).toEqual([]);
    expect(printed.join('\n')).toContain('Review LegalReview of approve.pdf (reviewed stage Summarize)');
    expect(o).toMatchObject({ route: 'legal', reviews: { LegalReview: { decision: 'correct', reviewer: 'arn:aws:iam::000000000000:user/carol', source: 'prompt' } } });
    expect(decisionRecord(out, o)).toMatchObject({ comment: 'raised', corrections: { riskScore: 0.95 } });
  });
});

test('RunnerError is what a refused decision raises', async () => {
  const rules = [{ documents: '*', review: 'LegalReview', decision: { decision: 'correct', reviewer: 'alice' } }];
  await expect(run(rules, [path.join(docs, 'approve.pdf')])).rejects.toBeInstanceOf(RunnerError);
});

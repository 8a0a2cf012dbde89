import 'aws-sdk-client-mock-jest';
import {
  ComprehendClient, DetectDominantLanguageCommand, DetectEntitiesCommand, DetectPiiEntitiesCommand, DetectSentimentCommand,
} from '@aws-sdk/client-comprehend';
import { mockClient } from 'aws-sdk-client-mock';
import { ComprehendStageConfig, ErrorNames, S3Pointer, StageInvocation } from '../../../../src/shared';
import {
  chunks, COMPREHEND_LIMITS, ComprehendStageDeps, cutBytes, redact, runComprehendStage,
} from '../../../../src/stages/comprehend/handler/comprehend-stage';
import { awsError, invocation, makeValidators, runState } from '../../../helpers/handler-test-kit';
import { auditRecords, caught, mockText, REGION, stageContext, WORK_BUCKET, workObject } from '../../bedrock/handler/bedrock-test-kit';

const TEXT: S3Pointer = { bucket: WORK_BUCKET, key: 'stages/Extract/run-0001/text.json', versionId: 'tv1' };
const PAGES = ['Ticket from jane.doe@example.com: the checkout is down.', 'Call me at 555-123-4567. SSN 123-45-6789.'];
const JOINED = PAGES.join('\n\n');

const CONFIG: ComprehendStageConfig = { stage: 'Analyze', kind: 'comprehend', features: ['language'], redactPii: false, piiTypes: [], minScore: 0.5 };

function setup(config: Partial<ComprehendStageConfig> = {}, pages = PAGES) {
  const fx = stageContext('Analyze', 'comprehend', makeValidators({}));
  const comprehend = new ComprehendClient(REGION);
  const comprehendMock = mockClient(comprehend);
  mockText(fx.s3Mock, TEXT, pages);
  const deps: ComprehendStageDeps = { ctx: fx.ctx, comprehend, config: { ...CONFIG, ...config } };
  return { ...fx, comprehendMock, deps };
}

function event(results: { [stage: string]: unknown } = { Extract: { text: TEXT, pages: 2 } }): StageInvocation {
  return invocation({ state: runState({ results }) });
}

/** The PII findings Comprehend would give for JOINED. */
function piiOf(text: string): any[] {
  const at = (s: string, type: string, score = 0.99) =>
    ({ Type: type, Score: score, BeginOffset: text.indexOf(s), EndOffset: text.indexOf(s) + s.length });
  return [at('jane.doe@example.com', 'EMAIL'), at('555-123-4567', 'PHONE'), at('123-45-6789', 'SSN'), at('checkout', 'NAME', 0.2)];
}

describe('Comprehend stage', () => {
  test('dominant language: the best-scored language of the text', async () => {
    const { deps, comprehendMock } = setup();
    comprehendMock.on(DetectDominantLanguageCommand).resolves({ Languages: [{ LanguageCode: 'de', Score: 0.2 }, { LanguageCode: 'en', Score: 0.97 }] });
    expect(await runComprehendStage(deps, event())).toEqual({ language: 'en', languageScore: 0.97 });
    expect(comprehendMock).toHaveReceivedCommandWith(DetectDominantLanguageCommand, { Text: JOINED });
  });

  test('sentiment reads the first 5 KB in the detected language', async () => {
    const long = ['x'.repeat(4000), 'y'.repeat(4000)];
    const { deps, comprehendMock } = setup({ features: ['sentiment'] }, long);
    comprehendMock.on(DetectDominantLanguageCommand).resolves({ Languages: [{ LanguageCode: 'fr', Score: 0.9 }] });
    comprehendMock.on(DetectSentimentCommand).resolves({ Sentiment: 'NEGATIVE', SentimentScore: { Positive: 0.01, Negative: 0.9, Neutral: 0.08, Mixed: 0.01 } });
    expect(await runComprehendStage(deps, event())).toEqual({
      sentiment: 'NEGATIVE', sentimentScores: { positive: 0.01, negative: 0.9, neutral: 0.08, mixed: 0.01 },
    });
    const sent = comprehendMock.commandCalls(DetectSentimentCommand)[0].args[0].input;
    expect(sent.LanguageCode).toBe('fr');
    expect(Buffer.byteLength(sent.Text!)).toBe(COMPREHEND_LIMITS.sentiment);
  });

  test('PII: types and counts inline, findings (no text) by pointer, redacted text as the new text pointer', async () => {
    const { deps, comprehendMock, s3Mock } = setup({ features: ['pii'], languageCode: 'en', redactPii: true });
    comprehendMock.on(DetectPiiEntitiesCommand).resolves({ Entities: piiOf(JOINED) });
    const out: any = await runComprehendStage(deps, event());
    expect(out).toMatchObject({ piiTypes: ['EMAIL', 'PHONE', 'SSN'], piiCount: 3 });
    expect(out.text.key).toBe('stages/Analyze/run-0001/redacted.json');
    const redacted = (workObject(s3Mock, out.text.key) as any).pages[0].text;
    expect(redacted).toBe('Ticket from [EMAIL]: the checkout is down.\n\nCall me at [PHONE]. SSN [SSN].');
    const findings = JSON.stringify(workObject(s3Mock, out.findings.key));
    for (const secret of ['jane.doe', '555-123', '123-45']) expect(findings).not.toContain(secret);
    // The low-confidence finding does not count; no language detection when the language is given.
    expect(comprehendMock).toHaveReceivedCommandTimes(DetectDominantLanguageCommand, 0);
  });

  test('piiEntityTypes narrows what counts and what is redacted', async () => {
    const { deps, comprehendMock, s3Mock } = setup({ features: ['pii'], languageCode: 'en', redactPii: true, piiTypes: ['SSN'] });
    comprehendMock.on(DetectPiiEntitiesCommand).resolves({ Entities: piiOf(JOINED) });
    const out: any = await runComprehendStage(deps, event());
    expect(out).toMatchObject({ piiTypes: ['SSN'], piiCount: 1 });
    expect((workObject(s3Mock, out.text.key) as any).pages[0].text).toContain('jane.doe@example.com');
  });

  test('PII detection in a language Comprehend cannot screen is Contract.InputViolation naming the language', async () => {
    const { deps, comprehendMock } = setup({ features: ['pii'] });
    comprehendMock.on(DetectDominantLanguageCommand).resolves({ Languages: [{ LanguageCode: 'de', Score: 0.99 }] });
    const err = await caught(() => runComprehendStage(deps, event()));
    expect(err.name).toBe(ErrorNames.CONTRACT_INPUT_VIOLATION);
    expect(err.message).toContain("the text is 'de'");
    expect(comprehendMock).toHaveReceivedCommandTimes(DetectPiiEntitiesCommand, 0);
  });

  test('entities over a text above 100 KB: one call per piece, offsets shifted into the whole text', async () => {
    const page = ('word '.repeat(15_000) + 'Acme Corp ').repeat(2);
    const { deps, comprehendMock } = setup({ features: ['entities'], languageCode: 'en' }, [page]);
    comprehendMock.on(DetectEntitiesCommand).callsFake((input: any) => {
      const i = input.Text.indexOf('Acme Corp');
      return { Entities: i < 0 ? [] : [{ Type: 'ORGANIZATION', Score: 0.9, BeginOffset: i, EndOffset: i + 9 }] };
    });
    const out: any = await runComprehendStage(deps, event());
    const calls = comprehendMock.commandCalls(DetectEntitiesCommand);
    expect(calls.length).toBeGreaterThan(1);
    for (const c of calls) expect(Buffer.byteLength(c.args[0].input.Text!)).toBeLessThanOrEqual(COMPREHEND_LIMITS.entities);
    expect(out).toMatchObject({ entityTypes: ['ORGANIZATION'] });
    expect(out.entityCount).toBeGreaterThanOrEqual(1);
  });

  test('a Comprehend throttle is re-thrown with its name for the state machine to retry, and audited', async () => {
    const { deps, comprehendMock, s3Mock } = setup();
    comprehendMock.on(DetectDominantLanguageCommand).rejects(awsError('ThrottlingException', 400));
    expect((await caught(() => runComprehendStage(deps, event()))).name).toBe('ThrottlingException');
    expect(auditRecords(s3Mock)).toEqual([expect.objectContaining({ stage: 'Analyze', outcome: 'FAILED', errorName: 'ThrottlingException' })]);
  });

  test('no text pointer before the stage is Contract.InputViolation', async () => {
    const { deps } = setup();
    expect((await caught(() => runComprehendStage(deps, event({})))).name).toBe(ErrorNames.CONTRACT_INPUT_VIOLATION);
  });
});

describe('text pieces', () => {
  test('cutBytes never splits a character and stays within the byte limit', () => {
    const text = 'ä'.repeat(10) + '😀'.repeat(10);
    for (const n of [1, 5, 21, 22, 23, 40]) {
      const cut = cutBytes(text, n);
      expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(n);
      expect(text.startsWith(cut)).toBe(true);
      expect(cut).not.toMatch(/[\uD800-\uDBFF]$/);
    }
  });

  test('chunks cover the text exactly, cut at whitespace', () => {
    const text = 'alpha beta gamma delta epsilon zeta eta theta';
    const pieces = chunks(text, 12);
    expect(pieces.map((p) => p.chunk).join('')).toBe(text);
    for (const p of pieces) expect(text.slice(p.start, p.start + p.chunk.length)).toBe(p.chunk);
    expect(pieces.slice(0, -1).every((p) => /\s$/.test(p.chunk))).toBe(true);
  });

  test('redact merges overlapping spans', () => {
    expect(redact('call 555-1234 now', [{ type: 'PHONE', score: 1, begin: 5, end: 13 }, { type: 'NUM', score: 1, begin: 9, end: 13 }])).toBe('call [PHONE] now');
  });
});

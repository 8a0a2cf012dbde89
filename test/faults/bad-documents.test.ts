/**
 * Bad input: documents no pipeline should trust, through the local runner with the legal example's
 * REAL definition (the Textract stage's preflight runs in its real handler core), and two that only
 * exist as S3 keys (a directory marker, an object over the size limit) through the Textract core
 * itself. Each ends in a defined state: the failure path with a named error (quarantine or review),
 * or processed safely (active content reported, never run); the document kept, its audit records written.
 */
import * as fs from 'fs';
import * as path from 'path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { TextractClient } from '@aws-sdk/client-textract';
import { mockClient } from 'aws-sdk-client-mock';
import { BAD_DOCUMENT_FILES, BadDocument, badDocuments } from './bad-documents';
import { CheckedRun, LEGAL_EXAMPLE, runChecked, synthLegal, tmp } from './fault-kit';
import { DOCUMENT_INPUT_SCHEMA, TEXTRACT_OUTPUT_SCHEMA } from '../../src/contracts/schemas';
import { Keys, TextractStageConfig } from '../../src/shared';
import { inspectDocument } from '../../src/stages/textract/handler/preflight';
import { handleTextractEvent } from '../../src/stages/textract/handler/textract';
import { docRef, invocation, makeValidators, RecordingLogger } from '../helpers/handler-test-kit';

let documents: BadDocument[];
let missing: string[];
const runs = new Map<string, CheckedRun>();
const tally = { documents: 0, defined: 0, kept: 0, audited: 0, quarantined: 0, review: 0, processed: 0 };

// pdf-lib reports what it cannot parse on console.warn; the suite's own summary goes to console.log.
let warn: jest.SpyInstance;
beforeAll(async () => {
  warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
  const dir = tmp('bad-documents-');
  ({ documents, missing } = await badDocuments(dir));
  const files = documents.map((d) => {
    const file = path.join(dir, d.file);
    fs.writeFileSync(file, d.bytes);
    return file;
  });
  const results = await runChecked(synthLegal(), files, [], LEGAL_EXAMPLE);
  results.forEach((r) => runs.set(r.outcome.document, r));
}, 300_000);

afterAll(() => {
  warn.mockRestore();
  for (const reason of missing) {
    // eslint-disable-next-line no-console
    console.log(`bad documents: one document not made: ${reason}`);
  }
  // eslint-disable-next-line no-console
  console.log(`bad documents: ${tally.documents} documents, ${tally.defined} defined end states (${tally.quarantined} quarantined, `
    + `${tally.review} to review, ${tally.processed} processed safely), ${tally.kept} documents kept, ${tally.audited} with their audit records`);
});

test('at least 16 bad documents', () => {
  expect(documents.length + 2).toBeGreaterThanOrEqual(16);
  expect(missing).toEqual(missing.filter((m) => /ghostscript/.test(m)));
});

describe('through the local runner (the legal example\'s real definition)', () => {
  test('the documents made are the ones listed', () => {
    expect(documents.map((d) => d.file)).toEqual(BAD_DOCUMENT_FILES.slice(0, documents.length));
  });

  test.each(BAD_DOCUMENT_FILES)('%s', (file) => {
    const doc = documents.find((d) => d.file === file);
    if (!doc) return; // the ghostscript document, when gs is missing (reported in the summary)
    const run = runs.get(doc.file)!;
    const o = run.outcome;
    tally.documents++;
    const states = o.path.map((p) => p.state);
    if (doc.expect.status === 'FAILED') {
      expect({ document: doc.file, status: o.status, error: o.error, route: o.route }).toEqual({ document: doc.file, ...doc.expect });
      // Stopped at the first stage, before any model saw it.
      expect(states).toEqual(['Extract', 'Extract-failed', 'RecordFailure', 'Failed']);
      // The error's message names sizes and rules, never the document's bytes.
      expect(o.errorDetail?.message ?? '').not.toMatch(/Acme|NON-DISCLOSURE|alert|MZ/);
      if (doc.expect.route === 'quarantine') tally.quarantined++;
      else tally.review++;
    } else {
      expect({ document: doc.file, status: o.status }).toEqual({ document: doc.file, status: 'SUCCEEDED' });
      expect((o.results as any).Extract.activeContent).toEqual(doc.expect.activeContent);
      // Active content never auto-approves: the same NDA text without it does; with it, the default route (a person).
      if (doc.expect.route) expect({ document: doc.file, route: o.route }).toEqual({ document: doc.file, route: doc.expect.route });
      if (doc.expect.activeContent) expect(o.route).not.toBe('auto-approve');
      if (doc.file.includes('two-pages')) expect((o.results as any).Extract.mode).toBe('async');
      tally.processed++;
    }
    tally.defined++;

    expect(run.documentKept).toBe(true);
    expect(run.otherDocumentObjects).toEqual([]);
    tally.kept++;

    // The Extract stage's record and exactly one run record.
    expect(o.audit.some((a) => a.includes(`stages${path.sep}Extract${path.sep}`))).toBe(true);
    expect({ versions: run.runRecordVersions, events: run.runEvents }).toEqual({ versions: 1, events: 1 });
    expect(run.runRecord.outcome).toBe(doc.expect.status);
    tally.audited++;
  });
});

describe('through the Textract core: keys the local runner cannot hold', () => {
  const s3 = mockClient(S3Client);
  const sfn = mockClient(SFNClient);
  const events = mockClient(EventBridgeClient);
  const CONFIG: TextractStageConfig = { stage: 'Extract', kind: 'textract', maxDocumentBytes: 500 * 1024 * 1024, maxPages: 3000 };
  const deps = (logger: RecordingLogger) => ({
    s3: new S3Client({}),
    textract: new TextractClient({}),
    sfn: new SFNClient({}),
    events: new EventBridgeClient({}),
    validators: makeValidators({ input: DOCUMENT_INPUT_SCHEMA, output: TEXTRACT_OUTPUT_SCHEMA }),
    config: CONFIG,
    env: { pipeline: 'Contracts', workBucket: 'work-bucket', auditBucket: 'audit-bucket', auditBus: 'audit-bus', topicArn: 'arn:aws:sns:us-east-1:111111111111:t', roleArn: 'arn:aws:iam::111111111111:role/r' },
    logger,
  });

  beforeEach(() => {
    s3.reset();
    sfn.reset();
    events.reset();
    s3.on(PutObjectCommand).resolves({ VersionId: 'a1' });
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
    sfn.on(SendTaskSuccessCommand).resolves({});
    sfn.on(SendTaskFailureCommand).resolves({});
  });

  test.each([
    ['a directory marker key (0 bytes, key ends in /)', 'incoming/2026/', 0, 'Document.Empty'],
    ['an object over the 500 MiB limit', 'incoming/scan.pdf', 600 * 1024 * 1024, 'Document.TooLarge'],
  ])('%s', async (_what, key, size, error) => {
    s3.on(HeadObjectCommand).resolves({ ContentLength: size, ContentType: 'application/pdf' });
    const logger = new RecordingLogger();
    const ref = docRef({ key, size });
    await expect(handleTextractEvent(deps(logger), invocation({ state: { document: ref, results: {} }, taskToken: 't' }))).rejects.toMatchObject({ name: error });
    // Decided from HeadObject: the object is never read, never copied, moved or deleted.
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(s3.commandCalls(CopyObjectCommand)).toHaveLength(0);
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(0);
    const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(new Set(puts.map((p) => p.Bucket))).toEqual(new Set(['audit-bucket']));
    const stageRecord = puts.find((p) => p.Key === Keys.stageAudit('Extract', 'run-0001'));
    expect(JSON.parse(stageRecord!.Body as string)).toMatchObject({ kind: 'stage', stage: 'Extract', outcome: 'FAILED', errorName: error, document: { key } });
    tally.documents++;
    tally.defined++;
    tally.quarantined++;
    tally.kept++;
    tally.audited++;
  });

  test('the preflight reports active content it finds, and nothing in a plain PDF', async () => {
    const byName = new Map(documents.map((d) => [d.file, d.bytes]));
    const limits = { maxDocumentBytes: 500 * 1024 * 1024, maxPages: 3000 };
    await expect(inspectDocument(byName.get('javascript.pdf')!, limits)).resolves.toMatchObject({ activeContent: ['JavaScript'] });
    await expect(inspectDocument(byName.get('embedded-file.pdf')!, limits)).resolves.toMatchObject({ activeContent: ['EmbeddedFiles'] });
    await expect(inspectDocument(byName.get('non-utf8.pdf')!, limits)).resolves.toMatchObject({ activeContent: [] });
  });
});

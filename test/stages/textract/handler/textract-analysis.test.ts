/**
 * The Textract stage handler with an analysis config (TextractAnalysisStage): AnalyzeDocument for one
 * page, StartDocumentAnalysis + completion + GetDocumentAnalysis paging for more, and the blocks
 * (KEY_VALUE_SET, TABLE/CELL, QUERY/QUERY_RESULT, SIGNATURE) turned into the stage's output.
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import {
  AnalyzeDocumentCommand,
  Block,
  DetectDocumentTextCommand,
  GetDocumentAnalysisCommand,
  GetDocumentTextDetectionCommand,
  StartDocumentAnalysisCommand,
  StartDocumentTextDetectionCommand,
} from '@aws-sdk/client-textract';
import type { SNSEvent } from 'aws-lambda';
import 'aws-sdk-client-mock-jest';
import { s3, sfn, textract, textractDeps, textractEnv, TOKEN, useTextractMocks } from './textract-kit';
import { textractAnalysisOutputSchema } from '../../../../src/contracts/schemas';
import { sha256 } from '../../../../src/runtime/s3';
import { TextractStageConfig } from '../../../../src/shared';
import { analyzeBlocks, queriesFor } from '../../../../src/stages/textract/handler/analysis';
import { analysisRequest, handleTextractEvent, TextractHandlerDeps, TextractJobRecord } from '../../../../src/stages/textract/handler/textract';
import {
  awsError, docRef, invocation, makePdf, makeValidators, RecordingLogger, s3Body, STAGE_VIEW_SCHEMA,
} from '../../../helpers/handler-test-kit';


const QUERIES = [
  { text: 'What is the invoice total?', alias: 'total' },
  { text: 'Who is the supplier?', alias: 'supplier', pages: ['*'] },
  { text: 'What is the IBAN?', alias: 'iban', pages: ['3-*'] },
];
const CONFIG: TextractStageConfig = {
  stage: 'Analyze',
  kind: 'textract',
  maxDocumentBytes: 20 * 1024 * 1024,
  maxPages: 50,
  analysis: { features: ['FORMS', 'TABLES', 'QUERIES', 'SIGNATURES'], queries: QUERIES },
};
const VALIDATORS = makeValidators({ input: STAGE_VIEW_SCHEMA, output: textractAnalysisOutputSchema(QUERIES.map((q) => q.alias), true) });
const ENV = textractEnv('Invoices');
const ANALYSIS_KEY = 'stages/Analyze/run-0001/analysis.json';
const TEXT_KEY = 'stages/Analyze/run-0001/text.json';

const currentLogger = useTextractMocks();
let logger: RecordingLogger;
beforeEach(() => { logger = currentLogger(); });

function deps(overrides: Partial<TextractHandlerDeps> = {}): TextractHandlerDeps {
  return textractDeps(CONFIG, VALIDATORS, ENV, logger, overrides);
}

function givenDocument(bytes: Uint8Array) {
  s3.on(HeadObjectCommand).resolves({ ContentLength: bytes.length });
  s3.on(GetObjectCommand, { Bucket: 'docs-bucket' }).callsFake((input) => {
    const m = input.Range ? /^bytes=(\d+)-(\d+)$/.exec(input.Range) : null;
    return { Body: s3Body(m ? bytes.slice(Number(m[1]), Number(m[2]) + 1) : bytes) };
  });
}

function putBody(key: string): any {
  const call = s3.commandCalls(PutObjectCommand).find((c) => c.args[0].input.Key === key);
  if (!call) throw new Error(`no PutObject to ${key}`);
  return JSON.parse(call.args[0].input.Body as string);
}

// ---------------------------------------------------------------------------------------------
// A realistic page of AnalyzeDocument blocks: an invoice with two form fields (one a check box),
// a 3x2 table with a header row, two query answers (one with two candidates) and a signature.
// ---------------------------------------------------------------------------------------------
const word = (id: string, text: string, page = 1): Block => ({ BlockType: 'WORD', Id: id, Text: text, Confidence: 99.5, Page: page, TextType: 'PRINTED' });
const lineBlock = (id: string, text: string, words: string[], page = 1): Block => ({
  BlockType: 'LINE', Id: id, Text: text, Confidence: 99.1, Page: page, Relationships: [{ Type: 'CHILD', Ids: words }],
});

function invoicePage(page = 1): Block[] {
  const p = (id: string) => `${id}-p${page}`;
  return [
    { BlockType: 'PAGE', Id: p('page'), Page: page, Relationships: [{ Type: 'CHILD', Ids: [p('l1'), p('l2'), p('l3'), p('l4')] }] },
    lineBlock(p('l1'), 'Invoice number: INV-0042', [p('w1'), p('w2'), p('w3')], page),
    word(p('w1'), 'Invoice', page), word(p('w2'), 'number:', page), word(p('w3'), 'INV-0042', page),
    lineBlock(p('l2'), 'Paid', [p('w4')], page),
    word(p('w4'), 'Paid', page),
    { BlockType: 'SELECTION_ELEMENT', Id: p('sel'), SelectionStatus: 'SELECTED', Confidence: 88.0, Page: page },
    lineBlock(p('l3'), 'Item Amount', [p('w5'), p('w6')], page),
    word(p('w5'), 'Item', page), word(p('w6'), 'Amount', page),
    lineBlock(p('l4'), 'Consulting 1,250.00', [p('w7'), p('w8')], page),
    word(p('w7'), 'Consulting', page), word(p('w8'), '1,250.00', page),
    // FORMS: KEY -> VALUE -> words; the check box's value is a selection element.
    {
      BlockType: 'KEY_VALUE_SET',
      Id: p('k1'),
      EntityTypes: ['KEY'],
      Confidence: 95.25,
      Page: page,
      Relationships: [
        { Type: 'VALUE', Ids: [p('v1')] }, { Type: 'CHILD', Ids: [p('w1'), p('w2')] },
      ],
    },
    { BlockType: 'KEY_VALUE_SET', Id: p('v1'), EntityTypes: ['VALUE'], Confidence: 93.5, Page: page, Relationships: [{ Type: 'CHILD', Ids: [p('w3')] }] },
    {
      BlockType: 'KEY_VALUE_SET',
      Id: p('k2'),
      EntityTypes: ['KEY'],
      Confidence: 90,
      Page: page,
      Relationships: [
        { Type: 'CHILD', Ids: [p('w4')] }, { Type: 'VALUE', Ids: [p('v2')] },
      ],
    },
    { BlockType: 'KEY_VALUE_SET', Id: p('v2'), EntityTypes: ['VALUE'], Confidence: 88, Page: page, Relationships: [{ Type: 'CHILD', Ids: [p('sel')] }] },
    // TABLES: 3 rows x 2 columns, the last row's first cell spans both columns.
    {
      BlockType: 'TABLE',
      Id: p('t1'),
      Confidence: 97,
      Page: page,
      Relationships: [
        { Type: 'CHILD', Ids: [p('c11'), p('c12'), p('c21'), p('c22'), p('c31')] }, { Type: 'MERGED_CELL', Ids: [] },
      ],
    },
    { BlockType: 'CELL', Id: p('c11'), RowIndex: 1, ColumnIndex: 1, Page: page, EntityTypes: ['COLUMN_HEADER'], Relationships: [{ Type: 'CHILD', Ids: [p('w5')] }] },
    { BlockType: 'CELL', Id: p('c12'), RowIndex: 1, ColumnIndex: 2, Page: page, Relationships: [{ Type: 'CHILD', Ids: [p('w6')] }] },
    { BlockType: 'CELL', Id: p('c21'), RowIndex: 2, ColumnIndex: 1, Page: page, Relationships: [{ Type: 'CHILD', Ids: [p('w7')] }] },
    { BlockType: 'CELL', Id: p('c22'), RowIndex: 2, ColumnIndex: 2, Page: page, Relationships: [{ Type: 'CHILD', Ids: [p('w8')] }] },
    { BlockType: 'CELL', Id: p('c31'), RowIndex: 3, ColumnIndex: 1, ColumnSpan: 2, Page: page },
    // QUERIES: the best of two answers wins; a query without an ANSWER relationship stays empty.
    { BlockType: 'QUERY', Id: p('q1'), Page: page, Query: { Text: 'What is the invoice total?', Alias: 'total' }, Relationships: [{ Type: 'ANSWER', Ids: [p('a1'), p('a2')] }] },
    { BlockType: 'QUERY_RESULT', Id: p('a1'), Text: '1,250.00', Confidence: 91.4, Page: page },
    { BlockType: 'QUERY_RESULT', Id: p('a2'), Text: '1,000.00', Confidence: 40, Page: page },
    { BlockType: 'QUERY', Id: p('q2'), Page: page, Query: { Text: 'Who is the supplier?', Alias: 'supplier', Pages: ['*'] } },
    { BlockType: 'SIGNATURE', Id: p('s1'), Confidence: 72.26, Page: page },
  ];
}

const EXPECTED_ANALYSIS = {
  keyValues: [
    { key: 'Invoice number', value: 'INV-0042', confidence: 0.935, page: 1 },
    { key: 'Paid', value: 'SELECTED', confidence: 0.88, page: 1 },
  ],
  tables: [{ page: 1, rows: [['Item', 'Amount'], ['Consulting', '1,250.00'], ['', '']] }],
  queryAnswers: {
    total: { text: '1,250.00', confidence: 0.914, page: 1 },
    supplier: { text: '', confidence: 0 },
    iban: { text: '', confidence: 0 },
  },
  signatures: [{ page: 1, confidence: 0.723 }],
};

describe('blocks to analysis', () => {
  test('key-value pairs, tables, the best answer per alias, signatures', () => {
    expect(analyzeBlocks(invoicePage(), QUERIES)).toEqual(EXPECTED_ANALYSIS);
  });

  test('a relationship to a block that is not there is skipped, not fatal', () => {
    const blocks: Block[] = [
      { BlockType: 'KEY_VALUE_SET', Id: 'k', EntityTypes: ['KEY'], Confidence: 80, Relationships: [{ Type: 'VALUE', Ids: ['gone'] }, { Type: 'CHILD', Ids: ['w'] }] },
      { BlockType: 'WORD', Id: 'w', Text: 'Date:' },
    ];
    expect(analyzeBlocks(blocks).keyValues).toEqual([{ key: 'Date', value: '', confidence: 0.8, page: 1 }]);
  });

  test('query page selectors are cut to the document and dropped past its end', () => {
    expect(queriesFor(QUERIES, 1)).toEqual([
      { Text: 'What is the invoice total?', Alias: 'total' },
      { Text: 'Who is the supplier?', Alias: 'supplier', Pages: ['*'] },
    ]);
    expect(queriesFor([{ text: 'q', alias: 'a', pages: ['2-9', '4'] }], 3)).toEqual([{ Text: 'q', Alias: 'a', Pages: ['2-*'] }]);
    expect(queriesFor(QUERIES)).toHaveLength(3);
  });

  test('a request with no query left asks for the layout (one feature is required)', () => {
    const onlyLater = { features: ['QUERIES' as const], queries: [{ text: 'q', alias: 'a', pages: ['2'] }] };
    expect(analysisRequest(onlyLater, 1)).toEqual({ FeatureTypes: ['LAYOUT'] });
    expect(analysisRequest(onlyLater, 2)).toEqual({ FeatureTypes: ['QUERIES'], QueriesConfig: { Queries: [{ Text: 'q', Alias: 'a', Pages: ['2'] }] } });
  });
});

describe('synchronous analysis (one page)', () => {
  test('AnalyzeDocument with the features and the queries of page 1; text and analysis by pointer, routing fields inline', async () => {
    givenDocument(await makePdf(1));
    textract.on(AnalyzeDocumentCommand).resolves({ DocumentMetadata: { Pages: 1 }, Blocks: invoicePage() });

    const out = await handleTextractEvent(deps(), invocation({ taskToken: TOKEN }));

    expect(textract.commandCalls(AnalyzeDocumentCommand)[0].args[0].input).toEqual({
      Document: { S3Object: { Bucket: 'docs-bucket', Name: 'incoming/contract.pdf', Version: 'v1' } },
      FeatureTypes: ['FORMS', 'TABLES', 'QUERIES', 'SIGNATURES'],
      // The IBAN query (pages 3-*) is not sent for a one-page document: Textract would reject it.
      QueriesConfig: { Queries: [{ Text: 'What is the invoice total?', Alias: 'total' }, { Text: 'Who is the supplier?', Alias: 'supplier', Pages: ['*'] }] },
    });
    expect(textract).not.toHaveReceivedCommand(DetectDocumentTextCommand);
    expect(putBody(ANALYSIS_KEY)).toEqual(EXPECTED_ANALYSIS);
    const text = { pages: [{ page: 1, text: 'Invoice number: INV-0042\nPaid\nItem Amount\nConsulting 1,250.00' }] };
    expect(putBody(TEXT_KEY)).toEqual(text);
    const expected = {
      text: { bucket: 'work-bucket', key: TEXT_KEY, versionId: 'wv', sha256: sha256(JSON.stringify(text)) },
      pages: 1,
      mode: 'sync',
      analysis: { bucket: 'work-bucket', key: ANALYSIS_KEY, versionId: 'wv', sha256: sha256(JSON.stringify(EXPECTED_ANALYSIS)) },
      keyValues: EXPECTED_ANALYSIS.keyValues,
      keyValueCount: 2,
      tableCount: 1,
      queryAnswers: EXPECTED_ANALYSIS.queryAnswers,
      signatureCount: 1,
    };
    expect(out).toEqual(expected);
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: TOKEN, output: JSON.stringify(expected) });
    // Counts in the logs, never the document's words.
    expect(JSON.stringify(logger.entries)).not.toMatch(/INV-0042|Consulting|1,250/);
  });

  test('inline key-value pairs are bounded: 50 pairs, keys cut to 100 and values to 300 characters; all are in analysis.json', async () => {
    givenDocument(await makePdf(1));
    const blocks: Block[] = [{ BlockType: 'LINE', Id: 'l', Text: 'form', Page: 1 }];
    for (let i = 0; i < 60; i++) {
      blocks.push(
        { BlockType: 'KEY_VALUE_SET', Id: `k${i}`, EntityTypes: ['KEY'], Confidence: 90, Relationships: [{ Type: 'CHILD', Ids: [`kw${i}`] }, { Type: 'VALUE', Ids: [`v${i}`] }] },
        { BlockType: 'WORD', Id: `kw${i}`, Text: `K${i}${'k'.repeat(150)}` },
        { BlockType: 'KEY_VALUE_SET', Id: `v${i}`, EntityTypes: ['VALUE'], Confidence: 90, Relationships: [{ Type: 'CHILD', Ids: [`vw${i}`] }] },
        { BlockType: 'WORD', Id: `vw${i}`, Text: 'v'.repeat(400) },
      );
    }
    textract.on(AnalyzeDocumentCommand).resolves({ Blocks: blocks });

    const out: any = await handleTextractEvent(deps(), invocation({ taskToken: TOKEN }));

    expect(out.keyValues).toHaveLength(50);
    expect(out.keyValueCount).toBe(60);
    expect(out.keyValues[0].key).toHaveLength(100);
    expect(out.keyValues[0].value).toHaveLength(300);
    expect(putBody(ANALYSIS_KEY).keyValues).toHaveLength(60);
    expect(putBody(ANALYSIS_KEY).keyValues[59].value).toHaveLength(400);
    expect(JSON.stringify(out).length).toBeLessThan(32 * 1024);
  });

  test.each([
    ['ThrottlingException', 400],
    ['ProvisionedThroughputExceededException', 400],
    ['InternalServerError', 500],
  ])('%s is re-thrown by name for the task to retry, nothing answered', async (name, status) => {
    givenDocument(await makePdf(1));
    textract.on(AnalyzeDocumentCommand).rejects(awsError(name, status));
    await expect(handleTextractEvent(deps(), invocation({ taskToken: TOKEN }))).rejects.toMatchObject({ name });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  test.each([
    ['BadDocumentException', 'Document.Corrupt'],
    ['UnsupportedDocumentException', 'Document.UnsupportedType'],
  ])('Textract\'s %s is %s (quarantined)', async (sdkName, name) => {
    givenDocument(await makePdf(1));
    textract.on(AnalyzeDocumentCommand).rejects(awsError(sdkName));
    await expect(handleTextractEvent(deps(), invocation({ taskToken: TOKEN }))).rejects.toMatchObject({ name });
  });
});

describe('asynchronous analysis (multi-page)', () => {
  const JOB: TextractJobRecord = {
    taskToken: TOKEN, runId: 'run-0001', document: docRef(), startedAt: '2024-12-31T23:59:00.000Z', inputSha256: 'f'.repeat(64), pages: 3,
  };

  function notification(status = 'SUCCEEDED'): SNSEvent {
    const message = { JobId: 'job-9', Status: status, API: 'StartDocumentAnalysis', JobTag: 'Analyze', Timestamp: 1735689600000 };
    return { Records: [{ EventSource: 'aws:sns', EventVersion: '1.0', EventSubscriptionArn: 'sub', Sns: { Type: 'Notification', MessageId: 'm', TopicArn: ENV.topicArn, Subject: '', Message: JSON.stringify(message), Timestamp: '', SignatureVersion: '1', Signature: '', SigningCertUrl: '', UnsubscribeUrl: '', MessageAttributes: {} } }] };
  }

  test('a 3-page PDF: StartDocumentAnalysis with the notification channel and the queries; the job record; the task waits', async () => {
    givenDocument(await makePdf(3));
    textract.on(StartDocumentAnalysisCommand).resolves({ JobId: 'job-9' });

    const out = await handleTextractEvent(deps(), invocation({ taskToken: TOKEN }));

    expect(out).toEqual({ status: 'STARTED', jobId: 'job-9' });
    expect(textract.commandCalls(StartDocumentAnalysisCommand)[0].args[0].input).toEqual({
      DocumentLocation: { S3Object: { Bucket: 'docs-bucket', Name: 'incoming/contract.pdf', Version: 'v1' } },
      ClientRequestToken: sha256(`run-0001/Analyze/${TOKEN}`),
      JobTag: 'Analyze',
      NotificationChannel: { SNSTopicArn: ENV.topicArn, RoleArn: ENV.roleArn },
      FeatureTypes: ['FORMS', 'TABLES', 'QUERIES', 'SIGNATURES'],
      QueriesConfig: {
        Queries: [
          { Text: 'What is the invoice total?', Alias: 'total' },
          { Text: 'Who is the supplier?', Alias: 'supplier', Pages: ['*'] },
          { Text: 'What is the IBAN?', Alias: 'iban', Pages: ['3-*'] },
        ],
      },
    });
    expect(textract).not.toHaveReceivedCommand(StartDocumentTextDetectionCommand);
    expect(putBody('stages/Analyze/jobs/job-9.json')).toMatchObject({ taskToken: TOKEN, runId: 'run-0001', pages: 3 });
    expect(sfn.calls()).toHaveLength(0);
  });

  test('completion: GetDocumentAnalysis pages through NextToken; the answers of every page; task success', async () => {
    s3.on(GetObjectCommand, { Bucket: 'work-bucket', Key: 'stages/Analyze/jobs/job-9.json' }).resolves({ Body: s3Body(JOB) });
    const iban: Block[] = [
      lineBlock('l-p3', 'IBAN: DE89 3704', ['w-p3'], 3), word('w-p3', 'IBAN:', 3),
      { BlockType: 'QUERY', Id: 'q3', Page: 3, Query: { Text: 'What is the IBAN?', Alias: 'iban' }, Relationships: [{ Type: 'ANSWER', Ids: ['a3'] }] },
      { BlockType: 'QUERY_RESULT', Id: 'a3', Text: 'DE89 3704', Confidence: 85, Page: 3 },
    ];
    const pages = [invoicePage(1), invoicePage(2), iban];
    textract.on(GetDocumentAnalysisCommand).callsFake((input) => {
      const i = input.NextToken ? Number(input.NextToken) : 0;
      return { JobStatus: 'SUCCEEDED', DocumentMetadata: { Pages: 3 }, Blocks: pages[i], ...(i + 1 < pages.length ? { NextToken: String(i + 1) } : {}) };
    });

    await expect(handleTextractEvent(deps(), notification())).resolves.toBeUndefined();

    expect(textract.commandCalls(GetDocumentAnalysisCommand).map((c) => c.args[0].input.NextToken)).toEqual([undefined, '1', '2']);
    expect(textract).not.toHaveReceivedCommand(GetDocumentTextDetectionCommand);
    const analysis = putBody(ANALYSIS_KEY);
    expect(analysis.keyValues.map((kv: any) => kv.page)).toEqual([1, 1, 2, 2]);
    expect(analysis.tables.map((t: any) => t.page)).toEqual([1, 2]);
    const output = JSON.parse(sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input.output!);
    expect(output).toMatchObject({
      pages: 3,
      mode: 'async',
      keyValueCount: 4,
      tableCount: 2,
      signatureCount: 2,
      queryAnswers: { total: { text: '1,250.00', confidence: 0.914, page: 1 }, supplier: { text: '', confidence: 0 }, iban: { text: 'DE89 3704', confidence: 0.85, page: 3 } },
    });
  });

  test('a job that ends FAILED is Textract.JobFailed through the task failure', async () => {
    s3.on(GetObjectCommand, { Bucket: 'work-bucket', Key: 'stages/Analyze/jobs/job-9.json' }).resolves({ Body: s3Body(JOB) });
    await handleTextractEvent(deps(), notification('FAILED'));
    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, { taskToken: TOKEN, error: 'Textract.JobFailed' });
    expect(textract).not.toHaveReceivedCommand(GetDocumentAnalysisCommand);
  });
});

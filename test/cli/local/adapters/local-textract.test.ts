import {
  AnalyzeDocumentCommand,
  Block,
  DetectDocumentTextCommand,
  GetDocumentAnalysisCommand,
  StartDocumentAnalysisCommand,
  GetDocumentTextDetectionCommand,
  StartDocumentTextDetectionCommand,
} from '@aws-sdk/client-textract';
import { makeScannedPdf, makeTextPdf, tempDir } from './fixtures';
import { fixturePdf } from './pdf-recall';
import { findRiskClauses, summarizeContract } from '../../../../examples/legal-contracts/local-models/summarizer';
import { LocalS3 } from '../../../../src/cli/local/adapters/local-s3';
import { LocalTextract, toSnsEvent } from '../../../../src/cli/local/adapters/local-textract';
import { ErrorNames } from '../../../../src/shared';
import { analyzeBlocks } from '../../../../src/stages/textract/handler/analysis';
import { blocksToText } from '../../../../src/stages/textract/handler/text';
import { isSnsEvent } from '../../../../src/stages/textract/handler/textract';
import { ImageFixtures, makeCorruptPdf } from '../../../helpers/handler-test-kit';

let cleanup: () => void;
let s3: LocalS3;
let textract: LocalTextract;
beforeEach(() => {
  const t = tempDir();
  cleanup = t.cleanup;
  s3 = new LocalS3(t.dir);
  textract = new LocalTextract(s3);
});
afterEach(() => cleanup());

const TOPIC = 'arn:aws:sns:us-east-1:111111111111:textract-done';
const ROLE = 'arn:aws:iam::111111111111:role/textract-publish';

async function put(key: string, bytes: Uint8Array): Promise<void> {
  await s3.putObject('docs', key, bytes);
}

function start(key: string, token = 'token-1') {
  return textract.send(new StartDocumentTextDetectionCommand({
    DocumentLocation: { S3Object: { Bucket: 'docs', Name: key } },
    ClientRequestToken: token,
    JobTag: 'Extract',
    NotificationChannel: { SNSTopicArn: TOPIC, RoleArn: ROLE },
  }));
}

async function allBlocks(jobId: string, maxResults?: number): Promise<{ blocks: Block[]; calls: number; pages: number }> {
  const blocks: Block[] = [];
  let calls = 0;
  let pages = 0;
  let NextToken: string | undefined;
  do {
    const out = await textract.send(new GetDocumentTextDetectionCommand({ JobId: jobId, MaxResults: maxResults, NextToken }));
    expect(out.JobStatus).toBe('SUCCEEDED');
    pages = out.DocumentMetadata.Pages;
    blocks.push(...out.Blocks);
    NextToken = out.NextToken;
    calls++;
  } while (NextToken);
  return { blocks, calls, pages };
}

describe('DetectDocumentText', () => {
  test('returns Textract-shaped PAGE, LINE and WORD blocks for a one-page PDF', async () => {
    const lines = ['NON-DISCLOSURE AGREEMENT', 'between Acme and Beta'];
    await put('one.pdf', await makeTextPdf([lines]));
    const out = await textract.send(new DetectDocumentTextCommand({ Document: { S3Object: { Bucket: 'docs', Name: 'one.pdf', Version: 'v1' } } }));
    expect(out.DocumentMetadata).toEqual({ Pages: 1 });
    const blocks: Block[] = out.Blocks;
    const page = blocks[0];
    expect(page).toMatchObject({ BlockType: 'PAGE', Page: 1 });
    const lineBlocks = blocks.filter((b) => b.BlockType === 'LINE');
    expect(lineBlocks.map((b) => b.Text)).toEqual(lines);
    expect(lineBlocks.every((b) => b.Page === 1 && b.Confidence === 99 && /^[0-9a-f-]{36}$/.test(b.Id!))).toBe(true);
    expect(page.Relationships).toEqual([{ Type: 'CHILD', Ids: lineBlocks.map((b) => b.Id) }]);
    const words = blocks.filter((b) => b.BlockType === 'WORD');
    expect(words.map((w) => w.Text)).toEqual(['NON-DISCLOSURE', 'AGREEMENT', 'between', 'Acme', 'and', 'Beta']);
    expect(lineBlocks[0].Relationships![0].Ids).toEqual(words.slice(0, 2).map((w) => w.Id));
    // The real core turns them into the text.
    expect(blocksToText(blocks, out.DocumentMetadata.Pages)).toEqual({ pages: [{ page: 1, text: lines.join('\n') }] });
    // Deterministic ids.
    const again = await textract.send(new DetectDocumentTextCommand({ Document: { S3Object: { Bucket: 'docs', Name: 'one.pdf' } } }));
    expect(again.Blocks).toEqual(blocks);
  });

  test('a scanned page has a PAGE block and no LINE: the core raises Document.NoText', async () => {
    await put('scan.pdf', await makeScannedPdf(1));
    const out = await textract.send(new DetectDocumentTextCommand({ Document: { S3Object: { Bucket: 'docs', Name: 'scan.pdf' } } }));
    expect(out.Blocks.map((b: Block) => b.BlockType)).toEqual(['PAGE']);
    expect(() => blocksToText(out.Blocks, 1)).toThrow(expect.objectContaining({ name: ErrorNames.DOCUMENT_NO_TEXT }));
  });

  test.each([['png', ImageFixtures.png()], ['jpeg', ImageFixtures.jpeg()]])('a %s image has one page without text', async (_t, bytes) => {
    await put('img', bytes);
    const out = await textract.send(new DetectDocumentTextCommand({ Document: { S3Object: { Bucket: 'docs', Name: 'img' } } }));
    expect(out.DocumentMetadata).toEqual({ Pages: 1 });
    expect(out.Blocks.map((b: Block) => b.BlockType)).toEqual(['PAGE']);
  });

  test('Textract\'s errors: multi-page (sync), unsupported, bad document, missing object', async () => {
    await put('three.pdf', await makeTextPdf([['a'], ['b'], ['c']]));
    await put('text.txt', ImageFixtures.text());
    await put('bad.pdf', makeCorruptPdf());
    await put('locked.pdf', fixturePdf('encrypted-owner-password'));
    const detect = (Name: string) => textract.send(new DetectDocumentTextCommand({ Document: { S3Object: { Bucket: 'docs', Name } } }));
    await expect(detect('three.pdf')).rejects.toMatchObject({ name: 'UnsupportedDocumentException', $metadata: { httpStatusCode: 400 } });
    await expect(detect('text.txt')).rejects.toMatchObject({ name: 'UnsupportedDocumentException' });
    await expect(detect('locked.pdf')).rejects.toMatchObject({ name: 'UnsupportedDocumentException', message: expect.stringMatching(/the PDF is encrypted$/) });
    await expect(detect('bad.pdf')).rejects.toMatchObject({ name: 'BadDocumentException' });
    await expect(detect('missing.pdf')).rejects.toMatchObject({ name: 'InvalidS3ObjectException' });
  });
});

describe('asynchronous jobs', () => {
  test('start → notification → paginated results that the core turns into the text of every page', async () => {
    const pages = [['Page one', 'line two'], [], ['Page three']];
    await put('three.pdf', await makeTextPdf(pages));
    const { JobId } = await start('three.pdf');
    expect(JobId).toMatch(/^[0-9a-f]{64}$/);

    const notifications = textract.takeNotifications();
    expect(notifications).toEqual([{
      topicArn: TOPIC,
      roleArn: ROLE,
      message: {
        JobId,
        Status: 'SUCCEEDED',
        API: 'StartDocumentTextDetection',
        JobTag: 'Extract',
        Timestamp: expect.any(Number),
        DocumentLocation: { S3ObjectName: 'three.pdf', S3Bucket: 'docs' },
      },
    }]);
    expect(textract.takeNotifications()).toEqual([]);

    const { blocks, calls, pages: count } = await allBlocks(JobId, 3);
    expect(count).toBe(3);
    expect(calls).toBeGreaterThan(2);
    expect(blocks.filter((b) => b.BlockType === 'PAGE').map((b) => b.Page)).toEqual([1, 2, 3]);
    expect(blocksToText(blocks, count)).toEqual({
      pages: [{ page: 1, text: 'Page one\nline two' }, { page: 2, text: '' }, { page: 3, text: 'Page three' }],
    });
    // One page of 1000 holds it all.
    expect((await allBlocks(JobId)).calls).toBe(1);
  });

  test('a 250-page document pages its results in 1000-block pages', async () => {
    const pages = Array.from({ length: 250 }, (_v, i) => [`Section ${i + 1}`, `Text of section ${i + 1} with a few words`]);
    await put('big.pdf', await makeTextPdf(pages));
    const { JobId } = await start('big.pdf');
    const { blocks, calls, pages: count } = await allBlocks(JobId);
    expect(count).toBe(250);
    expect(blocks.length).toBeGreaterThan(2000);
    expect(calls).toBe(Math.ceil(blocks.length / 1000));
    const text = blocksToText(blocks, count);
    expect(text.pages).toHaveLength(250);
    expect(text.pages[249]).toEqual({ page: 250, text: 'Section 250\nText of section 250 with a few words' });
  });

  test('a contract printed by Chromium, whose only high-risk clause is set with the ﬁ ligature, keeps that clause', async () => {
    // Chromium's font draws "indemnification" with a ﬁ glyph that its ToUnicode maps to U+FB01.
    await put('msa.pdf', fixturePdf('chromium'));
    const { JobId } = await start('msa.pdf');
    const { blocks, pages } = await allBlocks(JobId);
    expect(pages).toBe(2);
    expect(blocks.some((b) => /[\uFB00-\uFB06]/.test(b.Text ?? ''))).toBe(false);
    const words = blocks.filter((b) => b.BlockType === 'WORD').map((b) => b.Text);
    expect(words).toEqual(expect.arrayContaining(['Indemnification', 'indemnification', 'confidential', 'office', 'Affiliate']));
    // The local model finds the clause in the text the real core builds, so the contract goes to legal review.
    const text = blocksToText(blocks, pages).pages.map((p) => p.text).join('\n');
    expect(findRiskClauses(text)).toEqual([{ type: 'INDEMNIFICATION', severity: 'HIGH' }]);
    expect(summarizeContract(text).riskScore).toBeGreaterThanOrEqual(0.7);
  });

  test('the same ClientRequestToken returns the same job and publishes nothing new', async () => {
    await put('a.pdf', await makeTextPdf([['a'], ['b']]));
    const first = await start('a.pdf', 'tok');
    const second = await start('a.pdf', 'tok');
    const other = await start('a.pdf', 'tok-2');
    expect(second.JobId).toBe(first.JobId);
    expect(other.JobId).not.toBe(first.JobId);
    expect(textract.takeNotifications().map((n) => n.message.JobId)).toEqual([first.JobId, other.JobId]);
    expect(textract.jobIds()).toEqual([first.JobId, other.JobId]);
  });

  test('an unreadable document makes a FAILED job; a missing one fails the start call', async () => {
    await put('bad.pdf', makeCorruptPdf());
    const { JobId } = await start('bad.pdf');
    expect(textract.takeNotifications()[0].message.Status).toBe('FAILED');
    expect(await textract.send(new GetDocumentTextDetectionCommand({ JobId }))).toMatchObject({ JobStatus: 'FAILED', Blocks: [] });
    await expect(start('missing.pdf', 'other')).rejects.toMatchObject({ name: 'InvalidS3ObjectException' });
  });

  test('unknown jobs and bad tokens', async () => {
    await expect(textract.send(new GetDocumentTextDetectionCommand({ JobId: 'nope' })))
      .rejects.toMatchObject({ name: 'InvalidJobIdException', $metadata: { httpStatusCode: 400 } });
    await put('a.pdf', await makeTextPdf([['a'], ['b']]));
    const { JobId } = await start('a.pdf');
    await expect(textract.send(new GetDocumentTextDetectionCommand({ JobId, NextToken: 'garbage' })))
      .rejects.toMatchObject({ name: 'InvalidParameterException' });
  });

  test('toSnsEvent builds the Lambda SNS event the Textract handler recognizes', async () => {
    await put('a.pdf', await makeTextPdf([['a'], ['b']]));
    await start('a.pdf');
    const [n] = textract.takeNotifications();
    const event = toSnsEvent(n);
    expect(isSnsEvent(event)).toBe(true);
    expect(event.Records).toHaveLength(1);
    expect(event.Records[0]).toMatchObject({
      EventSource: 'aws:sns',
      EventVersion: '1.0',
      Sns: { Type: 'Notification', TopicArn: TOPIC, MessageAttributes: {} },
    });
    expect(JSON.parse(event.Records[0].Sns.Message)).toEqual(n.message);
    expect(toSnsEvent([n, n]).Records).toHaveLength(2);
    expect(toSnsEvent(n)).toEqual(event);
  });

  test('an unknown command names itself', async () => {
    class AnalyzeExpenseCommand { public readonly input = {}; }
    await expect(textract.send(new AnalyzeExpenseCommand())).rejects.toThrow(/LocalTextract does not implement AnalyzeExpenseCommand/);
  });
});

describe('document analysis', () => {
  const LINES = ['Invoice number: INV-0042', 'Item | Qty', 'Paper | 10', 'Due date: 2025-02-01'];
  const QUERY = { Text: 'When is the due date?', Alias: 'due' };

  test('AnalyzeDocument: forms from Key: value lines, a table from | lines, the answer from the best-matching key', async () => {
    await put('invoice.pdf', await makeTextPdf([LINES]));
    const out = await textract.send(new AnalyzeDocumentCommand({
      Document: { S3Object: { Bucket: 'docs', Name: 'invoice.pdf' } },
      FeatureTypes: ['FORMS', 'TABLES', 'QUERIES'],
      QueriesConfig: { Queries: [QUERY, { Text: 'What is the IBAN?', Alias: 'iban' }] },
    }));
    // Read back by the stage's own parser: the blocks have Textract's shape.
    expect(analyzeBlocks(out.Blocks!, [{ text: QUERY.Text, alias: 'due' }, { text: 'What is the IBAN?', alias: 'iban' }])).toEqual({
      keyValues: [
        { key: 'Invoice number', value: 'INV-0042', confidence: 0.99, page: 1 },
        { key: 'Due date', value: '2025-02-01', confidence: 0.99, page: 1 },
      ],
      tables: [{ page: 1, rows: [['Item', 'Qty'], ['Paper', '10']] }],
      queryAnswers: { due: { text: '2025-02-01', confidence: 0.99, page: 1 }, iban: { text: '', confidence: 0 } },
      signatures: [],
    });
    expect(blocksToText(out.Blocks!).pages[0].text).toBe(LINES.join('\n'));
  });

  test('only the features asked for', async () => {
    await put('invoice.pdf', await makeTextPdf([LINES]));
    const out = await textract.send(new AnalyzeDocumentCommand({ Document: { S3Object: { Bucket: 'docs', Name: 'invoice.pdf' } }, FeatureTypes: ['TABLES'] }));
    expect(new Set(out.Blocks!.map((b: Block) => b.BlockType))).toEqual(new Set(['PAGE', 'LINE', 'WORD', 'TABLE', 'CELL']));
  });

  test('QUERIES without queries, or queries without QUERIES, is InvalidParameterException', async () => {
    await put('invoice.pdf', await makeTextPdf([LINES]));
    const doc = { S3Object: { Bucket: 'docs', Name: 'invoice.pdf' } };
    await expect(textract.send(new AnalyzeDocumentCommand({ Document: doc, FeatureTypes: ['QUERIES'] }))).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(textract.send(new AnalyzeDocumentCommand({ Document: doc, FeatureTypes: ['FORMS'], QueriesConfig: { Queries: [QUERY] } })))
      .rejects.toMatchObject({ name: 'InvalidParameterException' });
  });

  test('StartDocumentAnalysis: the notification names the API; the job is read by GetDocumentAnalysis only; a query on page 2 is answered from page 2', async () => {
    await put('two.pdf', await makeTextPdf([['Invoice number: INV-1'], ['Due date: 2025-03-01']]));
    const { JobId } = await textract.send(new StartDocumentAnalysisCommand({
      DocumentLocation: { S3Object: { Bucket: 'docs', Name: 'two.pdf' } },
      ClientRequestToken: 'token-a',
      JobTag: 'Analyze',
      NotificationChannel: { SNSTopicArn: TOPIC, RoleArn: ROLE },
      FeatureTypes: ['QUERIES'],
      QueriesConfig: { Queries: [{ ...QUERY, Pages: ['2'] }, { Text: 'What is the due date?', Alias: 'due1' }] },
    }));
    expect(textract.takeNotifications().map((n) => n.message.API)).toEqual(['StartDocumentAnalysis']);
    await expect(textract.send(new GetDocumentTextDetectionCommand({ JobId }))).rejects.toMatchObject({ name: 'InvalidJobIdException' });
    const out = await textract.send(new GetDocumentAnalysisCommand({ JobId }));
    expect(out.DocumentMetadata!.Pages).toBe(2);
    // page 1 only by default: the due date on page 2 does not answer the second query
    expect(analyzeBlocks(out.Blocks!, [{ text: 'q', alias: 'due' }, { text: 'q', alias: 'due1' }]).queryAnswers).toEqual({
      due: { text: '2025-03-01', confidence: 0.99, page: 2 },
      due1: { text: '', confidence: 0 },
    });
  });
});

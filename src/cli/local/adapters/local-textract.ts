/**
 * Textract for the local runner: the PDF's text layer stands in for OCR. Returns the blocks real
 * Textract returns (PAGE, LINE and WORD, with CHILD relationships), so the real Textract stage
 * core turns them into text unchanged.
 *
 * - `DetectDocumentText` (synchronous): single-page documents only, as in Textract.
 * - `StartDocumentTextDetection` extracts at once and keeps the job; the JobId is derived from the
 *   ClientRequestToken (same token, same job, as Textract's idempotency); the completion message
 *   is queued: the runner takes it with `takeNotifications()` and delivers `toSnsEvent(n)` to the
 *   Textract stage's handler, as the SNS subscription would.
 * - `GetDocumentTextDetection` pages the blocks (MaxResults, at most 1000, NextToken).
 * - `AnalyzeDocument`, `StartDocumentAnalysis`, `GetDocumentAnalysis`: the same, plus the analysis
 *   blocks read from the text layer (see `analysisBlocks`): `Key: value` lines as forms, runs of
 *   lines with the same number of `|`-separated cells as tables, query answers from the form values.
 *
 * Images (PNG, JPEG, TIFF) have no text layer here: their pages have no LINE block.
 */
import { createHash } from 'crypto';
import type { SNSEvent } from 'aws-lambda';
import { commandName, serviceError, unsupportedCommand } from './errors';
import { LocalS3 } from './local-s3';
import { extractPdfPages, PdfTextExtractor } from './pdf-text';
import type { TextractNotification } from '../../../stages/textract/handler/textract';

/** The fields of a Textract block the adapter produces (a subset of the SDK's `Block`). */
export interface LocalBlock {
  readonly BlockType: 'PAGE' | 'LINE' | 'WORD' | 'KEY_VALUE_SET' | 'TABLE' | 'CELL' | 'QUERY' | 'QUERY_RESULT';
  readonly Id: string;
  readonly Page: number;
  readonly Text?: string;
  readonly Confidence?: number;
  readonly TextType?: 'PRINTED';
  readonly EntityTypes?: Array<'KEY' | 'VALUE'>;
  readonly RowIndex?: number;
  readonly ColumnIndex?: number;
  readonly Query?: { readonly Text: string; readonly Alias?: string; readonly Pages?: string[] };
  readonly Relationships?: Array<{ readonly Type: 'CHILD' | 'VALUE' | 'ANSWER'; readonly Ids: string[] }>;
}

/** What an analysis asks for (AnalyzeDocument's FeatureTypes and QueriesConfig). */
export interface LocalAnalysisRequest {
  readonly FeatureTypes?: string[];
  readonly QueriesConfig?: { readonly Queries?: Array<{ readonly Text?: string; readonly Alias?: string; readonly Pages?: string[] }> };
}

/** A completion message and where Textract would publish it. */
export interface LocalTextractNotification {
  /** The `NotificationChannel.SNSTopicArn` of the job. */
  readonly topicArn: string;
  /** The `NotificationChannel.RoleArn` Textract would publish with. */
  readonly roleArn?: string;
  /** The message body Textract publishes (JSON-encoded in the SNS message). */
  readonly message: TextractNotification & { readonly DocumentLocation: { readonly S3ObjectName: string; readonly S3Bucket: string } };
}

export interface LocalTextractOptions {
  /** Epoch milliseconds for notification timestamps. Default: a fixed instant plus one second per job (deterministic). */
  readonly now?: () => number;
  /** Also emit WORD blocks (as Textract does). Default: true. */
  readonly words?: boolean;
}

interface Job {
  readonly jobId: string;
  readonly api: 'StartDocumentTextDetection' | 'StartDocumentAnalysis';
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly statusMessage?: string;
  readonly pages: number;
  readonly blocks: LocalBlock[];
}

interface S3ObjectInput { readonly Bucket?: string; readonly Name?: string; readonly Version?: string }

const SUPPORTED = [
  'DetectDocumentTextCommand', 'StartDocumentTextDetectionCommand', 'GetDocumentTextDetectionCommand',
  'AnalyzeDocumentCommand', 'StartDocumentAnalysisCommand', 'GetDocumentAnalysisCommand',
];
/** Textract's limits (synchronous documents, and results per page of GetDocumentTextDetection). */
const SYNC_MAX_BYTES = 10 * 1024 * 1024;
const MAX_RESULTS = 1000;
/** 2025-01-01T00:00:00Z: the default clock's start. */
const LOCAL_EPOCH_MS = 1735689600000;
const LINE_CONFIDENCE = 99;

type DocKind = 'pdf' | 'image' | undefined;

function kindOf(bytes: Uint8Array): DocKind {
  const starts = (sig: number[]) => bytes.length >= sig.length && sig.every((b, i) => bytes[i] === b);
  if (starts([0x25, 0x50, 0x44, 0x46, 0x2d])) return 'pdf';
  if (starts([0x89, 0x50, 0x4e, 0x47]) || starts([0xff, 0xd8, 0xff]) || starts([0x49, 0x49, 0x2a, 0x00]) || starts([0x4d, 0x4d, 0x00, 0x2a])) {
    return 'image';
  }
  return undefined;
}

/** A deterministic UUID-shaped id from a seed (Textract block and job ids are UUIDs). */
export function uuidFrom(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Textract blocks for the given lines of each page: a PAGE block per page, then its LINE blocks
 * (and their WORD blocks), page after page, with deterministic ids derived from `seed`.
 */
export function pagesToBlocks(pages: readonly (readonly string[])[], seed: string, words = true): LocalBlock[] {
  const blocks: LocalBlock[] = [];
  pages.forEach((lines, p) => {
    const page = p + 1;
    const pageId = uuidFrom(`${seed}/page/${page}`);
    const lineBlocks: LocalBlock[] = [];
    const wordBlocks: LocalBlock[] = [];
    lines.forEach((text, l) => {
      const lineId = uuidFrom(`${seed}/page/${page}/line/${l}`);
      const wordIds: string[] = [];
      if (words) {
        text.split(/\s+/).filter((w) => w.length > 0).forEach((word, w) => {
          const id = uuidFrom(`${seed}/page/${page}/line/${l}/word/${w}`);
          wordIds.push(id);
          wordBlocks.push({ BlockType: 'WORD', Id: id, Page: page, Text: word, Confidence: LINE_CONFIDENCE, TextType: 'PRINTED' });
        });
      }
      lineBlocks.push({
        BlockType: 'LINE',
        Id: lineId,
        Page: page,
        Text: text,
        Confidence: LINE_CONFIDENCE,
        ...(wordIds.length > 0 ? { Relationships: [{ Type: 'CHILD' as const, Ids: wordIds }] } : {}),
      });
    });
    blocks.push({
      BlockType: 'PAGE',
      Id: pageId,
      Page: page,
      ...(lineBlocks.length > 0 ? { Relationships: [{ Type: 'CHILD' as const, Ids: lineBlocks.map((b) => b.Id) }] } : {}),
    });
    // Per page: the PAGE block, its LINE blocks, then their WORD blocks.
    blocks.push(...lineBlocks, ...wordBlocks);
  });
  return blocks;
}

/** AnalyzeDocument's own checks: at least one feature; QUERIES with at least one query, and queries only with QUERIES. */
function checkAnalysis(input: LocalAnalysisRequest): LocalAnalysisRequest {
  const features = input.FeatureTypes ?? [];
  const queries = input.QueriesConfig?.Queries ?? [];
  if (features.length === 0 || features.includes('QUERIES') !== queries.length > 0) {
    throw serviceError('InvalidParameterException', 400, 'Request has invalid parameters');
  }
  return input;
}

/** Words of a text, lower case, without punctuation, and without the words every question has. */
const QUESTION_WORDS = new Set(['what', 'which', 'who', 'when', 'where', 'how', 'is', 'are', 'the', 'a', 'an', 'of', 'for', 'in', 'on', 'to', 'this', 'that', 'does', 'do']);
function contentWords(text: string): string[] {
  return text.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length > 0 && !QUESTION_WORDS.has(w));
}

/** True when a Textract page selector (`n`, `n-m`, `n-*`, `*`) covers the page. */
function selects(selector: string, page: number): boolean {
  if (selector === '*') return true;
  const [from, to] = selector.split('-');
  if (to === undefined) return Number(from) === page;
  return page >= Number(from) && (to === '*' || page <= Number(to));
}

/**
 * The analysis blocks Textract would add for these lines, deterministically, reusing the WORD ids of
 * `pagesToBlocks(pages, seed, true)`:
 * - FORMS: a line `Key: value` (key of 1 to 60 characters) is a KEY block (its words up to the colon)
 *   with a VALUE block (the words after it);
 * - TABLES: two or more consecutive lines with the same number (2 or more) of `|`-separated cells are
 *   a TABLE of CELL blocks (a cell's words are the line's words between the bars);
 * - QUERIES: the answer is the value of the form field whose key shares most of the question's words,
 *   at least half of them (else no answer), on the query's pages (default page 1).
 */
export function analysisBlocks(pages: readonly (readonly string[])[], seed: string, request: LocalAnalysisRequest): LocalBlock[] {
  const features = request.FeatureTypes ?? [];
  const blocks: LocalBlock[] = [];
  const fields: Array<{ page: number; key: string; valueText: string }> = [];
  pages.forEach((lines, p) => {
    const page = p + 1;
    const wordsOf = (l: number) => lines[l].split(/\s+/).filter((w) => w.length > 0)
      .map((text, w) => ({ text, id: uuidFrom(`${seed}/page/${page}/line/${l}/word/${w}`) }));
    lines.forEach((line, l) => {
      const m = /^([^:|]{1,60}):\s+(\S.*)$/.exec(line);
      if (!m) return;
      const words = wordsOf(l);
      const keyCount = m[1].split(/\s+/).filter((w) => w.length > 0).length;
      fields.push({ page, key: m[1], valueText: m[2] });
      if (!features.includes('FORMS')) return;
      const keyId = uuidFrom(`${seed}/page/${page}/line/${l}/key`);
      const valueId = uuidFrom(`${seed}/page/${page}/line/${l}/value`);
      blocks.push(
        {
          BlockType: 'KEY_VALUE_SET',
          Id: keyId,
          Page: page,
          Confidence: LINE_CONFIDENCE,
          EntityTypes: ['KEY'],
          Relationships: [
            { Type: 'VALUE', Ids: [valueId] }, { Type: 'CHILD', Ids: words.slice(0, keyCount).map((w) => w.id) },
          ],
        },
        {
          BlockType: 'KEY_VALUE_SET',
          Id: valueId,
          Page: page,
          Confidence: LINE_CONFIDENCE,
          EntityTypes: ['VALUE'],
          Relationships: [
            { Type: 'CHILD', Ids: words.slice(keyCount).map((w) => w.id) },
          ],
        },
      );
    });
    if (features.includes('TABLES')) {
      const cellsOf = (l: number) => (lines[l].includes('|') ? lines[l].split('|').map((c) => c.trim()) : []);
      for (let l = 0; l < lines.length;) {
        const width = cellsOf(l).length;
        let end = l + 1;
        while (width >= 2 && end < lines.length && cellsOf(end).length === width) end++;
        if (width >= 2 && end - l >= 2) {
          const tableId = uuidFrom(`${seed}/page/${page}/table/${l}`);
          const cells: LocalBlock[] = [];
          for (let r = l; r < end; r++) {
            // The line's words between its bars, in order (a bar may stand alone or touch a word).
            let w = 0;
            const words = wordsOf(r);
            cellsOf(r).forEach((cell, c) => {
              const count = cell.split(/\s+/).filter((x) => x.length > 0).length;
              while (w < words.length && words[w].text === '|') w++;
              cells.push({
                BlockType: 'CELL',
                Id: uuidFrom(`${tableId}/cell/${r - l}/${c}`),
                Page: page,
                Confidence: LINE_CONFIDENCE,
                RowIndex: r - l + 1,
                ColumnIndex: c + 1,
                ...(count > 0 ? { Relationships: [{ Type: 'CHILD' as const, Ids: words.slice(w, w + count).map((x) => x.id) }] } : {}),
              });
              w += count;
            });
          }
          blocks.push({ BlockType: 'TABLE', Id: tableId, Page: page, Confidence: LINE_CONFIDENCE, Relationships: [{ Type: 'CHILD', Ids: cells.map((c) => c.Id) }] }, ...cells);
        }
        l = Math.max(end, l + 1);
      }
    }
  });
  if (features.includes('QUERIES')) {
    (request.QueriesConfig?.Queries ?? []).forEach((q, i) => {
      const wanted = contentWords(q.Text ?? '');
      const selectors = q.Pages ?? ['1'];
      let best: { page: number; valueText: string; score: number } | undefined;
      for (const f of fields) {
        if (!selectors.some((s) => selects(s, f.page))) continue;
        const keyWords = new Set(contentWords(f.key));
        const score = wanted.filter((w) => keyWords.has(w)).length;
        // At least half of the question's words: "purchase order number" is not answered by "Invoice number".
        if (score > 0 && score * 2 >= wanted.length && (!best || score > best.score)) best = { page: f.page, valueText: f.valueText, score };
      }
      const queryId = uuidFrom(`${seed}/query/${i}`);
      const first = Number((selectors[0] ?? '1').split('-')[0]);
      const resultId = uuidFrom(`${seed}/query/${i}/answer`);
      blocks.push({
        BlockType: 'QUERY',
        Id: queryId,
        Page: best?.page ?? (first > 0 ? first : 1),
        Query: { Text: q.Text ?? '', ...(q.Alias !== undefined ? { Alias: q.Alias } : {}), ...(q.Pages ? { Pages: [...q.Pages] } : {}) },
        ...(best ? { Relationships: [{ Type: 'ANSWER' as const, Ids: [resultId] }] } : {}),
      });
      if (best) blocks.push({ BlockType: 'QUERY_RESULT', Id: resultId, Page: best.page, Text: best.valueText, Confidence: LINE_CONFIDENCE });
    });
  }
  return blocks;
}

export class LocalTextract {
  private readonly jobs = new Map<string, Job>();
  private readonly pending: LocalTextractNotification[] = [];
  private readonly now: () => number;
  private readonly words: boolean;
  private started = 0;

  /**
   * @param s3 where documents are read from
   * @param extract PDF text extraction (lines per page); replace it to use another library
   */
  constructor(private readonly s3: LocalS3, private readonly extract: PdfTextExtractor = extractPdfPages, options: LocalTextractOptions = {}) {
    this.now = options.now ?? (() => LOCAL_EPOCH_MS + this.started * 1000);
    this.words = options.words ?? true;
  }

  public async send(command: any): Promise<any> {
    const input = command?.input ?? {};
    switch (commandName(command)) {
      case 'DetectDocumentTextCommand': return this.detect(input);
      case 'StartDocumentTextDetectionCommand': return this.start(input);
      case 'GetDocumentTextDetectionCommand': return this.getResults(input, 'StartDocumentTextDetection');
      case 'AnalyzeDocumentCommand': return this.detect(input, checkAnalysis(input));
      case 'StartDocumentAnalysisCommand': return this.start(input, checkAnalysis(input));
      case 'GetDocumentAnalysisCommand': return this.getResults(input, 'StartDocumentAnalysis');
      default: throw unsupportedCommand('LocalTextract', command, SUPPORTED);
    }
  }

  /** Returns the completion messages of the jobs started since the last call, and forgets them. */
  public takeNotifications(): LocalTextractNotification[] {
    return this.pending.splice(0, this.pending.length);
  }

  /** The ids of the jobs started so far. */
  public jobIds(): string[] {
    return [...this.jobs.keys()];
  }

  private async detect(input: { Document?: { S3Object?: S3ObjectInput; Bytes?: Uint8Array } }, analysis?: LocalAnalysisRequest) {
    const source = input.Document?.S3Object;
    const bytes = input.Document?.Bytes ?? this.readObject(source);
    if (bytes.length > SYNC_MAX_BYTES) {
      throw serviceError('DocumentTooLargeException', 400, 'S3 object size is more than the maximum limit for synchronous operations');
    }
    const pages = await this.linesOf(bytes);
    if (pages.length > 1) {
      throw serviceError('UnsupportedDocumentException', 400, 'Request has unsupported document format: synchronous operations accept single-page documents only');
    }
    const seed = `detect/${source?.Bucket}/${source?.Name}/${createHash('sha256').update(bytes).digest('hex')}`;
    return {
      $metadata: { httpStatusCode: 200 },
      DocumentMetadata: { Pages: pages.length },
      Blocks: analysis ? [...pagesToBlocks(pages, seed, true), ...analysisBlocks(pages, seed, analysis)] : pagesToBlocks(pages, seed, this.words),
      ...(analysis ? { AnalyzeDocumentModelVersion: '1.0' } : { DetectDocumentTextModelVersion: '1.0' }),
    };
  }

  private async start(input: {
    DocumentLocation?: { S3Object?: S3ObjectInput };
    ClientRequestToken?: string;
    JobTag?: string;
    NotificationChannel?: { SNSTopicArn?: string; RoleArn?: string };
  }, analysis?: LocalAnalysisRequest) {
    const api = analysis ? 'StartDocumentAnalysis' : 'StartDocumentTextDetection';
    const source = input.DocumentLocation?.S3Object;
    const seed = input.ClientRequestToken !== undefined
      ? `token/${input.ClientRequestToken}`
      : `job/${this.started}/${source?.Bucket}/${source?.Name}`;
    const jobId = createHash('sha256').update(seed).digest('hex');
    if (this.jobs.has(jobId)) {
      // Idempotent: the same ClientRequestToken returns the same job and publishes nothing new.
      return { $metadata: { httpStatusCode: 200 }, JobId: jobId };
    }
    const bytes = this.readObject(source);
    let job: Job;
    try {
      const pages = await this.linesOf(bytes);
      const blocks = analysis
        ? [...pagesToBlocks(pages, jobId, true), ...analysisBlocks(pages, jobId, analysis)]
        : pagesToBlocks(pages, jobId, this.words);
      job = { jobId, api, status: 'SUCCEEDED', pages: pages.length, blocks };
    } catch (err: any) {
      // Textract reports a document it cannot read as a failed job, not as an error of the start call.
      job = { jobId, api, status: 'FAILED', statusMessage: err?.message ?? 'unreadable document', pages: 0, blocks: [] };
    }
    this.jobs.set(jobId, job);
    this.started++;
    if (input.NotificationChannel?.SNSTopicArn) {
      this.pending.push({
        topicArn: input.NotificationChannel.SNSTopicArn,
        ...(input.NotificationChannel.RoleArn ? { roleArn: input.NotificationChannel.RoleArn } : {}),
        message: {
          JobId: jobId,
          Status: job.status,
          API: api,
          ...(input.JobTag !== undefined ? { JobTag: input.JobTag } : {}),
          Timestamp: this.now(),
          DocumentLocation: { S3ObjectName: source?.Name ?? '', S3Bucket: source?.Bucket ?? '' },
        },
      });
    }
    return { $metadata: { httpStatusCode: 200 }, JobId: jobId };
  }

  private getResults(input: { JobId?: string; MaxResults?: number; NextToken?: string }, api: Job['api']) {
    const job = input.JobId !== undefined ? this.jobs.get(input.JobId) : undefined;
    // A job is read by the Get of its own Start, as in Textract.
    if (!job || job.api !== api) throw serviceError('InvalidJobIdException', 400, 'An invalid job identifier was passed');
    if (job.status === 'FAILED') {
      return {
        $metadata: { httpStatusCode: 200 },
        JobStatus: 'FAILED',
        StatusMessage: job.statusMessage,
        DocumentMetadata: { Pages: job.pages },
        Blocks: [],
      };
    }
    const max = Math.max(1, Math.min(input.MaxResults ?? MAX_RESULTS, MAX_RESULTS));
    let offset = 0;
    if (input.NextToken !== undefined) {
      const m = /^([0-9a-f]+):(\d+)$/.exec(Buffer.from(input.NextToken, 'base64').toString('utf8'));
      if (!m || m[1] !== job.jobId || Number(m[2]) > job.blocks.length) {
        throw serviceError('InvalidParameterException', 400, 'The NextToken is not valid for this job');
      }
      offset = Number(m[2]);
    }
    const blocks = job.blocks.slice(offset, offset + max);
    const next = offset + blocks.length;
    return {
      $metadata: { httpStatusCode: 200 },
      JobStatus: 'SUCCEEDED',
      DocumentMetadata: { Pages: job.pages },
      Blocks: blocks,
      ...(api === 'StartDocumentAnalysis' ? { AnalyzeDocumentModelVersion: '1.0' } : { DetectDocumentTextModelVersion: '1.0' }),
      ...(next < job.blocks.length ? { NextToken: Buffer.from(`${job.jobId}:${next}`, 'utf8').toString('base64') } : {}),
    };
  }

  private readObject(source: S3ObjectInput | undefined): Uint8Array {
    if (!source?.Bucket || !source.Name) {
      throw serviceError('InvalidParameterException', 400, 'Document S3Object needs Bucket and Name');
    }
    try {
      return this.s3.getBytes(source.Bucket, source.Name);
    } catch (err: any) {
      if (err?.$metadata?.httpStatusCode === 404 || err?.$metadata?.httpStatusCode === 400) {
        throw serviceError('InvalidS3ObjectException', 400, 'Unable to get object metadata from S3. Check object key, region and/or access permissions.');
      }
      throw err;
    }
  }

  /** Lines per page of a document; images have one page without text. */
  private async linesOf(bytes: Uint8Array): Promise<string[][]> {
    const kind = kindOf(bytes);
    if (kind === 'image') return [[]];
    if (kind !== 'pdf') {
      throw serviceError('UnsupportedDocumentException', 400, 'Request has unsupported document format');
    }
    try {
      return await this.extract(bytes);
    } catch (err: any) {
      if (err?.name === 'Document.Encrypted') {
        throw serviceError('UnsupportedDocumentException', 400, 'Request has unsupported document format: the PDF is encrypted');
      }
      throw serviceError('BadDocumentException', 400, 'Textract could not read the document');
    }
  }
}

/**
 * The Lambda event SNS delivers to a subscribed function for one or more Textract completion
 * messages: what the Textract stage's handler receives. Deterministic (ids derived from the message).
 */
export function toSnsEvent(notifications: LocalTextractNotification | readonly LocalTextractNotification[]): SNSEvent {
  const list = Array.isArray(notifications) ? notifications : [notifications as LocalTextractNotification];
  return {
    Records: list.map((n) => {
      const message = JSON.stringify(n.message);
      const messageId = uuidFrom(`sns/${n.topicArn}/${message}`);
      const timestamp = new Date(typeof n.message.Timestamp === 'number' ? n.message.Timestamp : LOCAL_EPOCH_MS).toISOString();
      const region = n.topicArn.split(':')[3] || 'us-east-1';
      return {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: `${n.topicArn}:${uuidFrom(`subscription/${n.topicArn}`)}`,
        Sns: {
          Type: 'Notification',
          MessageId: messageId,
          TopicArn: n.topicArn,
          Message: message,
          Timestamp: timestamp,
          SignatureVersion: '1',
          Signature: 'LOCAL',
          SigningCertUrl: `https://sns.${region}.amazonaws.com/SimpleNotificationService-local.pem`,
          UnsubscribeUrl: `https://sns.${region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${n.topicArn}`,
          MessageAttributes: {},
        },
      };
    }),
  };
}

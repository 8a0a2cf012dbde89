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
  readonly BlockType: 'PAGE' | 'LINE' | 'WORD';
  readonly Id: string;
  readonly Page: number;
  readonly Text?: string;
  readonly Confidence?: number;
  readonly TextType?: 'PRINTED';
  readonly Relationships?: Array<{ readonly Type: 'CHILD'; readonly Ids: string[] }>;
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
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly statusMessage?: string;
  readonly pages: number;
  readonly blocks: LocalBlock[];
}

interface S3ObjectInput { readonly Bucket?: string; readonly Name?: string; readonly Version?: string }

const SUPPORTED = ['DetectDocumentTextCommand', 'StartDocumentTextDetectionCommand', 'GetDocumentTextDetectionCommand'];
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
      case 'GetDocumentTextDetectionCommand': return this.getResults(input);
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

  private async detect(input: { Document?: { S3Object?: S3ObjectInput; Bytes?: Uint8Array } }) {
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
      Blocks: pagesToBlocks(pages, seed, this.words),
      DetectDocumentTextModelVersion: '1.0',
    };
  }

  private async start(input: {
    DocumentLocation?: { S3Object?: S3ObjectInput };
    ClientRequestToken?: string;
    JobTag?: string;
    NotificationChannel?: { SNSTopicArn?: string; RoleArn?: string };
  }) {
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
      job = { jobId, status: 'SUCCEEDED', pages: pages.length, blocks: pagesToBlocks(pages, jobId, this.words) };
    } catch (err: any) {
      // Textract reports a document it cannot read as a failed job, not as an error of the start call.
      job = { jobId, status: 'FAILED', statusMessage: err?.message ?? 'unreadable document', pages: 0, blocks: [] };
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
          API: 'StartDocumentTextDetection',
          ...(input.JobTag !== undefined ? { JobTag: input.JobTag } : {}),
          Timestamp: this.now(),
          DocumentLocation: { S3ObjectName: source?.Name ?? '', S3Bucket: source?.Bucket ?? '' },
        },
      });
    }
    return { $metadata: { httpStatusCode: 200 }, JobId: jobId };
  }

  private getResults(input: { JobId?: string; MaxResults?: number; NextToken?: string }) {
    const job = input.JobId !== undefined ? this.jobs.get(input.JobId) : undefined;
    if (!job) throw serviceError('InvalidJobIdException', 400, 'An invalid job identifier was passed');
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
      DetectDocumentTextModelVersion: '1.0',
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

/**
 * Amazon Transcribe for the local runner, without a speech engine: a WAV recording carries its own
 * transcript in its RIFF `LIST`/`INFO` chunk, field `ICMT` (comment), and the stand-in "hears"
 * exactly that text (ADR-0022). Deterministic: the same recording always gives the same transcript.
 *
 * - `StartTranscriptionJob` reads the media from the local buckets, writes a result file shaped like
 *   Transcribe's (`results.transcripts[].transcript`) to `OutputBucketName`/`OutputKey`, keeps the job
 *   and queues its `Transcribe Job State Change` event: the runner takes it with `takeEvents()` and
 *   delivers it to the stage's handler, as the EventBridge rule would. A job name used twice is a
 *   `ConflictException`, as in Transcribe.
 * - `GetTranscriptionJob` answers the job's status, language and result location.
 *
 * A WAV without an `ICMT` field is silence (an empty transcript: the stage fails `Document.NoText`);
 * any other container ends its job FAILED, naming what the stand-in reads.
 */
import * as fs from 'fs';
import type { TranscribeJobEvent } from '../../../stages/transcribe/handler/transcribe-stage';
import { commandName, serviceError, unsupportedCommand } from '../adapters/errors';
import { LocalS3 } from '../adapters/local-s3';

interface Job {
  readonly name: string;
  readonly status: 'COMPLETED' | 'FAILED';
  readonly languageCode: string;
  readonly failureReason?: string;
  readonly resultUri?: string;
}

const SUPPORTED = ['StartTranscriptionJobCommand', 'GetTranscriptionJobCommand'];

/** The text of a WAV file's `LIST`/`INFO`/`ICMT` field; undefined when the file is not a WAV; '' when it has none. */
export function wavComment(bytes: Uint8Array): string | undefined {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') return undefined;
  let at = 12;
  while (at + 8 <= buf.length) {
    const id = buf.toString('latin1', at, at + 4);
    const size = buf.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'LIST' && buf.toString('latin1', body, body + 4) === 'INFO') {
      let sub = body + 4;
      while (sub + 8 <= Math.min(body + size, buf.length)) {
        const subId = buf.toString('latin1', sub, sub + 4);
        const subSize = buf.readUInt32LE(sub + 4);
        if (subId === 'ICMT') return buf.toString('utf8', sub + 8, sub + 8 + subSize).replace(/\0+$/, '');
        sub += 8 + subSize + (subSize % 2);
      }
    }
    at = body + size + (size % 2);
  }
  return '';
}

export class LocalTranscribe {
  private readonly jobs = new Map<string, Job>();
  private readonly pending: TranscribeJobEvent[] = [];

  constructor(private readonly s3: LocalS3) {}

  public async send(command: any): Promise<any> {
    const name = commandName(command);
    const input = command?.input ?? {};
    if (name === 'StartTranscriptionJobCommand') return this.start(input);
    if (name === 'GetTranscriptionJobCommand') {
      const job = this.jobs.get(input.TranscriptionJobName);
      if (!job) throw serviceError('BadRequestException', 400, "The requested job couldn't be found. Check the job name and try your request again.");
      return {
        TranscriptionJob: {
          TranscriptionJobName: job.name,
          TranscriptionJobStatus: job.status,
          LanguageCode: job.languageCode,
          ...(job.failureReason ? { FailureReason: job.failureReason } : {}),
          ...(job.resultUri ? { Transcript: { TranscriptFileUri: job.resultUri } } : {}),
        },
      };
    }
    throw unsupportedCommand('LocalTranscribe', command, SUPPORTED);
  }

  /** The job events not yet delivered, in the order the jobs ended. */
  public takeEvents(): TranscribeJobEvent[] {
    return this.pending.splice(0, this.pending.length);
  }

  private async start(input: any): Promise<any> {
    const jobName: string = input.TranscriptionJobName;
    if (this.jobs.has(jobName)) {
      throw serviceError('ConflictException', 409, 'The requested job name already exists. Use a different job name.');
    }
    const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(input.Media?.MediaFileUri ?? '');
    if (!match) throw serviceError('BadRequestException', 400, 'The S3 URI of the media file is not valid.');
    const [, bucket, key] = match;
    const file = this.s3.localPath(bucket, key);
    if (!fs.existsSync(file)) throw serviceError('BadRequestException', 400, "The URI that you provided doesn't point to an S3 object. Make sure that the object exists and try your request again.");
    const comment = wavComment(fs.readFileSync(file));
    let job: Job;
    if (comment === undefined) {
      job = {
        name: jobName,
        status: 'FAILED',
        languageCode: input.LanguageCode,
        failureReason: 'The local Transcribe stand-in reads only WAV recordings whose LIST/INFO chunk holds the transcript (ICMT).',
      };
    } else {
      const result = {
        jobName,
        accountId: '000000000000',
        status: 'COMPLETED',
        results: { transcripts: [{ transcript: comment }], items: [] },
      };
      await this.s3.putObject(input.OutputBucketName, input.OutputKey, JSON.stringify(result), 'application/json');
      job = { name: jobName, status: 'COMPLETED', languageCode: input.LanguageCode, resultUri: `s3://${input.OutputBucketName}/${input.OutputKey}` };
    }
    this.jobs.set(jobName, job);
    this.pending.push({
      'source': 'aws.transcribe',
      'detail-type': 'Transcribe Job State Change',
      'detail': {
        TranscriptionJobName: jobName,
        TranscriptionJobStatus: job.status,
        ...(job.failureReason ? { FailureReason: job.failureReason } : {}),
      },
    });
    return { TranscriptionJob: { TranscriptionJobName: jobName, TranscriptionJobStatus: 'IN_PROGRESS', LanguageCode: input.LanguageCode } };
  }
}

/**
 * The pipeline's output steps, run locally by their real core: the S3 output writes into the local
 * buckets under the run's out folder; the OpenSearch output writes an on-disk index
 * (`<out>/index/<index>.jsonl`, one document per line, and `<index>.mapping.json`, the index body
 * derived from the contracts); an embedding is a deterministic unit vector of the text's hash, of the
 * model's dimension (no model is called); the SQS output appends each message to an on-disk queue
 * (`<out>/queues/<output id>.jsonl`, one `{ messageId, runId, body }` per line).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { LocalPipeline, RunnerError } from './cloud-assembly';
import { IndexPort, OutputConfig, OutputEnv, QueuePort, runOutput } from '../../outputs/handler/output';
import { SILENT_LOGGER } from '../../runtime/logger';

/** An index kept as files: what the run report links to. */
export class LocalIndex implements IndexPort {
  constructor(private readonly dir: string) {}

  /** The file holding an index's documents. */
  public file(index: string): string {
    return path.join(this.dir, `${index}.jsonl`);
  }

  public async ensureIndex(index: string, body: object): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true });
    fs.writeFileSync(path.join(this.dir, `${index}.mapping.json`), JSON.stringify(body, null, 2) + '\n');
  }

  public async put(index: string, id: string | undefined, doc: object): Promise<{ id: string }> {
    const file = this.file(index);
    const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0) : [];
    const docId = id ?? `local-${lines.length + 1}`;
    // Like PUT /_doc/<id>: a document under the same id replaces the earlier one.
    const kept = lines.filter((l) => JSON.parse(l)._id !== docId);
    kept.push(JSON.stringify({ _id: docId, _source: doc }));
    fs.writeFileSync(file, kept.join('\n') + '\n');
    return { id: docId };
  }
}

/** A queue kept as a file of JSON lines: what the run report links to. */
export class LocalQueue implements QueuePort {
  constructor(public readonly file: string) {}

  public async send(body: string, fifo?: { readonly groupId: string; readonly deduplicationId: string }): Promise<{ messageId: string }> {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const lines = fs.existsSync(this.file) ? fs.readFileSync(this.file, 'utf8').split('\n').filter((l) => l.length > 0) : [];
    // Like a FIFO queue within its deduplication window: the same deduplication id is sent once.
    const previous = fifo ? lines.map((l) => JSON.parse(l)).find((m) => m.deduplicationId === fifo.deduplicationId) : undefined;
    if (previous) return { messageId: previous.messageId };
    const messageId = createHash('sha256').update(`${lines.length}:${body}`).digest('hex').slice(0, 32);
    const message = { messageId, ...(fifo ? { groupId: fifo.groupId, deduplicationId: fifo.deduplicationId } : {}), body: JSON.parse(body) };
    fs.appendFileSync(this.file, JSON.stringify(message) + '\n');
    return { messageId };
  }
}

/** A deterministic unit vector standing in for a text embedding. */
export function localEmbedding(text: string, dimension: number): number[] {
  const values: number[] = [];
  for (let block = 0; values.length < dimension; block++) {
    const digest = createHash('sha256').update(`${block}:${text}`).digest();
    for (let i = 0; i + 1 < digest.length && values.length < dimension; i += 2) values.push(digest.readUInt16BE(i) / 32768 - 1);
  }
  const norm = Math.sqrt(values.reduce((s, v) => s + v * v, 0)) || 1;
  return values.map((v) => v / norm);
}

/** What one output wrote, relative to the out folder. */
export interface OutputFiles {
  /** Output id → file (the result document, or the index file). */
  readonly [output: string]: string;
}

export interface LocalOutputs {
  readonly handlers: { [state: string]: (input: any) => Promise<any> };
  readonly files: (runId: string) => OutputFiles;
}

/** Task handlers for the pipeline's outputs, by state name, and the files each writes. */
export function localOutputs(pipeline: LocalPipeline, s3: any, outDir: string): LocalOutputs {
  const handlers: { [state: string]: (input: any) => Promise<any> } = {};
  const fileOf: Array<(runId: string) => [string, string]> = [];
  const index = new LocalIndex(path.join(outDir, 'index'));
  for (const o of pipeline.meta.outputs ?? []) {
    const fn = pipeline.functions[o.handler];
    const raw = fn?.env[OutputEnv.CONFIG];
    if (!raw) throw new RunnerError(`output ${o.state}: its function has no ${OutputEnv.CONFIG}; upgrade cdk-ai-pipeline so the CLI matches the library that synthesized the app`);
    const config: OutputConfig = JSON.parse(raw);
    const queueFile = path.join('queues', `${config.output}.jsonl`);
    const deps = {
      s3,
      config,
      resultsBucket: fn.env[OutputEnv.RESULTS_BUCKET],
      auditBucket: fn.env[OutputEnv.AUDIT_BUCKET],
      index,
      embed: config.embedding ? async (text: string) => localEmbedding(text, config.embedding!.dimension) : undefined,
      queue: config.kind === 'sqs' ? new LocalQueue(path.join(outDir, queueFile)) : undefined,
      logger: SILENT_LOGGER,
    };
    handlers[o.state] = (input) => runOutput(deps, input);
    fileOf.push((runId) => config.kind === 's3'
      ? [o.state, path.join('buckets', deps.resultsBucket ?? '', `${config.prefix ?? ''}${config.pipeline}`, `${runId}.json`)]
      : config.kind === 'sqs' ? [o.state, queueFile] : [o.state, path.join('index', `${config.index}.jsonl`)]);
  }
  return { handlers, files: (runId) => Object.fromEntries(fileOf.map((f) => f(runId))) };
}

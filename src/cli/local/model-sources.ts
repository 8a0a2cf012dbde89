/**
 * Where a stage's model replies come from in a local run, as SDK-client stand-ins (`send(command)`):
 * a module of the user's (`--model`), recorded replies (`--replay`), the real service (`--live`) or
 * the contract stand-ins. Wrappers add what a scenario asks for (pinned fields, faults) and record
 * request/reply pairs (`--record`).
 */
import * as fs from 'fs';
import * as path from 'path';
import { commandName, serviceError } from './adapters/errors';
import { RunnerError } from './cloud-assembly';
import { applyFields, Fault, StagePlan } from './scenario';

/** Any SDK v3 client, or a stand-in for one. */
export interface Client {
  send(command: any): Promise<any>;
}

export type ModelKind = 'bedrock' | 'sagemaker';

/** The document being run, as the stage clients see it. */
export interface RunContext {
  /** File name of the document. */
  readonly document: string;
  /** sha256 of the document's bytes (hex): the stand-ins' seed. */
  readonly sha256: string;
  /** What the scenario says for a stage of this document. */
  plan(stage: string): StagePlan;
  /** Counts the model calls of a stage for this document: 1, 2, ... */
  nextCall(stage: string): number;
}

const decode = (body: unknown): string => (typeof body === 'string' ? body
  : body instanceof Uint8Array ? new TextDecoder().decode(body) : '');

/** The text of a Converse output's first text blocks. */
function converseText(output: any): string {
  const content: any[] = output?.output?.message?.content ?? [];
  return content.map((b) => (typeof b?.text === 'string' ? b.text : '')).join('');
}

/** A Converse output with the given text: usage estimated from the input (4 characters a token). */
export function converseReply(input: any, text: string): any {
  const chars = (Array.isArray(input?.messages) ? input.messages : [])
    .flatMap((m: any) => (Array.isArray(m?.content) ? m.content : []))
    .concat(Array.isArray(input?.system) ? input.system : [])
    .reduce((n: number, b: any) => n + (typeof b?.text === 'string' ? b.text.length : 0), 0);
  let reply = text;
  let stopReason = 'end_turn';
  const inputTokens = Math.ceil(chars / 4);
  let outputTokens = Math.ceil(reply.length / 4);
  const maxTokens = input?.inferenceConfig?.maxTokens;
  if (typeof maxTokens === 'number' && maxTokens > 0 && outputTokens > maxTokens) {
    reply = reply.slice(0, maxTokens * 4);
    outputTokens = maxTokens;
    stopReason = 'max_tokens';
  }
  return {
    $metadata: { httpStatusCode: 200 },
    output: { message: { role: 'assistant', content: [{ text: reply }] } },
    stopReason,
    usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
    metrics: { latencyMs: 0 },
  };
}

function sageMakerReply(body: string): any {
  return {
    $metadata: { httpStatusCode: 200 },
    ContentType: 'application/json',
    InvokedProductionVariant: 'AllTraffic',
    Body: new TextEncoder().encode(body),
  };
}

const COMMANDS: { readonly [kind in ModelKind]: string } = { bedrock: 'ConverseCommand', sagemaker: 'InvokeEndpointCommand' };

function expectCommand(kind: ModelKind, stage: string, command: any) {
  const name = commandName(command);
  if (name !== COMMANDS[kind]) {
    const err = new Error(`stage ${stage}: the local ${kind} model answers ${COMMANDS[kind]}, not ${name}`);
    err.name = 'LocalAdapter.UnsupportedCommand';
    throw err;
  }
}

/** The user's module answers: it gets the stage's real request and returns the reply. */
export function userModelClient(kind: ModelKind, stage: string, file: string, fn: (...args: any[]) => unknown, current: () => RunContext): Client {
  return {
    async send(command: any) {
      expectCommand(kind, stage, command);
      const input = command.input ?? {};
      const { document } = current();
      let reply: unknown;
      try {
        if (kind === 'bedrock') {
          reply = await fn(input, { stage, document, kind, modelId: input.modelId });
        } else {
          const text = decode(input.Body);
          let request: unknown = text;
          try {
            request = JSON.parse(text);
          } catch {
            // a body that is not JSON goes as text
          }
          reply = await fn(request, { stage, document, kind, endpointName: input.EndpointName });
        }
      } catch (err: any) {
        throw new RunnerError(`--model ${stage}: ${path.basename(file)} threw ${err?.name ?? 'Error'}: ${err?.message ?? err} (document ${document}); fix the module`);
      }
      if (reply === undefined || reply === null) {
        throw new RunnerError(`--model ${stage}: ${path.basename(file)} returned ${reply} for document ${document}; return the reply (${kind === 'bedrock' ? 'its text, or an object sent as JSON' : 'the response body as an object'})`);
      }
      if (kind === 'bedrock') {
        if (typeof reply === 'object' && (reply as any).output?.message) return reply;
        return converseReply(input, typeof reply === 'string' ? reply : JSON.stringify(reply));
      }
      return sageMakerReply(typeof reply === 'string' ? reply : JSON.stringify(reply));
    },
  };
}

/** A recorded request/reply pair (`--record`, `--replay`). */
interface Recording {
  readonly stage: string;
  readonly kind: ModelKind;
  readonly document: string;
  readonly call: number;
  readonly request: unknown;
  readonly reply: unknown;
}

function recordingFile(dir: string, stage: string, ctx: RunContext, call: number): string {
  return path.join(dir, stage, `${ctx.document}.${ctx.sha256.slice(0, 12)}.${call}.json`);
}

/** Plain JSON of a request or reply: binary bodies as text. */
function toRecord(kind: ModelKind, value: any, field: 'Body' | 'none'): unknown {
  if (kind !== 'sagemaker' || field === 'none' || !value) return value;
  const { $metadata, ...rest } = value;
  void $metadata;
  return { ...rest, Body: decode(value.Body) };
}

/** Saves every request/reply pair of a stage under `<dir>/<stage>/<document>.<sha>.<call>.json`. */
export function recordingClient(inner: Client, kind: ModelKind, stage: string, dir: string, current: () => RunContext): Client {
  return {
    async send(command: any) {
      const ctx = current();
      const call = ctx.nextCall(stage);
      const reply = await inner.send(command);
      const recording: Recording = {
        stage,
        kind,
        document: ctx.document,
        call,
        request: toRecord(kind, command.input, 'Body'),
        reply: toRecord(kind, reply, 'Body'),
      };
      const file = recordingFile(dir, stage, ctx, call);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify(recording, null, 2) + '\n');
      return reply;
    },
  };
}

/** Answers from the pairs `--record` saved: the same document (by content) and the same call number. */
export function replayClient(kind: ModelKind, stage: string, dir: string, current: () => RunContext): Client {
  return {
    async send(command: any) {
      expectCommand(kind, stage, command);
      const ctx = current();
      const call = ctx.nextCall(stage);
      const file = recordingFile(dir, stage, ctx, call);
      if (!fs.existsSync(file)) {
        throw new RunnerError(`--replay ${dir}: no recorded reply for stage ${stage}, document ${ctx.document} (call ${call}): expected ${path.relative(dir, file)}; record it with --record ${dir} (with --live ${stage} or a --model)`);
      }
      const recording: Recording = JSON.parse(fs.readFileSync(file, 'utf8'));
      const reply: any = recording.reply;
      if (kind === 'sagemaker') return { ...reply, $metadata: { httpStatusCode: 200 }, Body: new TextEncoder().encode(reply.Body ?? '') };
      return { ...reply, $metadata: { httpStatusCode: 200 } };
    },
  };
}

/** Sets the scenario's pinned fields in the model's JSON reply (a reply that is not JSON is left alone). */
export function pinnedClient(inner: Client, kind: ModelKind, stage: string, current: () => RunContext): Client {
  return {
    async send(command: any) {
      const reply = await inner.send(command);
      const fields = current().plan(stage).fields;
      if (!fields) return reply;
      if (kind === 'bedrock') {
        const text = converseText(reply);
        const pinned = pinJson(text, fields);
        if (pinned === undefined) return reply;
        return { ...reply, output: { message: { role: 'assistant', content: [{ text: pinned }] } } };
      }
      const pinned = pinJson(decode(reply.Body), fields);
      return pinned === undefined ? reply : { ...reply, Body: new TextEncoder().encode(pinned) };
    },
  };
}

function pinJson(text: string, fields: { readonly [path: string]: unknown }): string | undefined {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end < start) return undefined;
  try {
    const value = JSON.parse(text.slice(start, end + 1));
    return JSON.stringify(applyFields(value, fields));
  } catch {
    return undefined;
  }
}

/** A service's throttling error, by the kind of client. */
const THROTTLING: { readonly [kind: string]: [string, number] } = {
  bedrock: ['ThrottlingException', 429],
  sagemaker: ['ThrottlingException', 429],
  lambda: ['TooManyRequestsException', 429],
  textract: ['ProvisionedThroughputExceededException', 400],
  transcribe: ['LimitExceededException', 400],
};

/** Largest payload a state may pass on (256 KiB). */
export const STATE_PAYLOAD_LIMIT = 256 * 1024;

/**
 * Injects the scenario's service faults into a stage's client: throttling N times then the real
 * answer, an error that never clears, a reply that is not JSON, a reply too large for a state.
 * (`timeout`, `delete-source`, `deny-source`, `audit-unavailable` and `recorder-fails` act on the
 * task, S3 or the recorder: see the runner.)
 */
export function faultyClient(inner: Client, kind: string, stage: string, current: () => RunContext): Client {
  const throttled = new Map<string, number>();
  const failed = new Map<string, number>();
  return {
    async send(command: any) {
      const ctx = current();
      const fault: Fault | undefined = ctx.plan(stage).fault;
      if (fault === undefined || typeof fault === 'string' && !['invalid-json', 'truncated-json', 'oversized'].includes(fault)) return inner.send(command);
      if (typeof fault === 'object' && 'throttle' in fault) {
        const key = `${ctx.document}\u0000${ctx.sha256}`;
        const n = throttled.get(key) ?? 0;
        if (n < fault.throttle) {
          throttled.set(key, n + 1);
          const [name, status] = THROTTLING[kind] ?? ['ThrottlingException', 429];
          throw serviceError(name, status, `Rate exceeded (scenario: throttled ${n + 1} of ${fault.throttle})`);
        }
        return inner.send(command);
      }
      if (typeof fault === 'object' && 'error' in fault) {
        if (fault.times === undefined) {
          throw serviceError(fault.error, 503, `${fault.error} (scenario: a service error that never clears)`);
        }
        const key = `${ctx.document}\u0000${ctx.sha256}`;
        const n = failed.get(key) ?? 0;
        if (n < fault.times) {
          failed.set(key, n + 1);
          throw serviceError(fault.error, 503, `${fault.error} (scenario: failed ${n + 1} of ${fault.times})`);
        }
        return inner.send(command);
      }
      const reply = await inner.send(command);
      const bad = fault === 'invalid-json'
        ? 'I am sorry, but I cannot produce that output right now.'
        : fault === 'truncated-json' ? truncated(kind, reply) : oversized(kind, reply);
      if (kind === 'bedrock') return converseReply(command.input, bad);
      if (kind === 'sagemaker') return sageMakerReply(bad);
      if (kind === 'lambda') return { ...reply, FunctionError: undefined, Payload: new TextEncoder().encode(bad) };
      return reply;
    },
  };
}

/** The reply's JSON cut off in the middle (at least its closing brace goes): what a reply stopped mid-stream looks like. */
function truncated(kind: string, reply: any): string {
  const text = replyText(kind, reply);
  const json = text.trim().length > 2 ? text.trim() : '{"result": "a reply that stopped"}';
  return json.slice(0, Math.max(1, Math.floor(json.length / 2)));
}

function replyText(kind: string, reply: any): string {
  return kind === 'bedrock' ? converseText(reply) : kind === 'sagemaker' ? decode(reply?.Body) : decode(reply?.Payload);
}

/** The reply's JSON with one more field that takes it past a state's payload limit. */
function oversized(kind: string, reply: any): string {
  const text = replyText(kind, reply);
  let value: any = {};
  try {
    value = JSON.parse(text);
  } catch {
    value = {};
  }
  return JSON.stringify({ ...(value && typeof value === 'object' ? value : {}), padding: 'x'.repeat(STATE_PAYLOAD_LIMIT + 1024) });
}

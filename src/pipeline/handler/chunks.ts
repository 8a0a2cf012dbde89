import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { readObject, writeJson } from '../../runtime/s3';
import { runStage, StageContext } from '../../runtime/stage-runner';
import { ErrorNames, ExtractedText, Keys, MAX_INLINE_OUTPUT_BYTES, PipelineError, RunState, S3Pointer } from '../../shared';
import { ChunkActions, ChunkItem, ChunkKeys, ChunkRef, ChunksConfig, ReducerName, SplitOutput } from '../../shared/chunks-config';
import { isPointer } from '../../shared/paths';

/** What the chunk core needs: the common context (its `stage` is the step's name), its config and the run's names. */
export interface ChunksDeps {
  readonly ctx: StageContext;
  readonly config: ChunksConfig;
  /** The stage whose `text` pointer is split. */
  readonly sourceStage: string;
  /** The user's reducer function and a client to call it, when a Lambda reduces. */
  readonly reducer?: { readonly lambda: LambdaClient; readonly functionName: string };
}

/** The events of the three tasks of a ChunkedStage. */
export type ChunksEvent =
  | { readonly action: 'split'; readonly state: RunState; readonly runId: string }
  | { readonly action: 'keep'; readonly chunk: ChunkRef; readonly result: unknown }
  | { readonly action: 'reduce'; readonly state: RunState; readonly chunking: SplitOutput; readonly runId: string; readonly executionArn?: string };

/** At most this many S3 calls at once. */
const PARALLEL_IO = 16;

/** Dispatches one event to its action. */
export async function handleChunks(deps: ChunksDeps, event: ChunksEvent): Promise<unknown> {
  switch (event.action) {
    case ChunkActions.SPLIT: return split(deps, event.state, event.runId);
    case ChunkActions.KEEP: return keep(deps, event.chunk, event.result);
    case ChunkActions.REDUCE: return reduce(deps, event);
    default: throw new Error(`chunk function: unknown action '${(event as any)?.action}'`);
  }
}

/** One page of text, possibly a part of a page. */
interface Page { readonly page: number; readonly text: string }

/** Cuts the pages into chunks: `n` pages each, or as many whole pages as fit a character budget (a longer page is cut at whitespace). */
export function chunkPages(pages: readonly Page[], unit: 'pages' | 'tokens', size: number, charsPerToken: number): Page[][] {
  const kept = pages.filter((p) => p.text.trim().length > 0);
  if (unit === 'pages') {
    const out: Page[][] = [];
    for (let i = 0; i < kept.length; i += size) out.push(kept.slice(i, i + size));
    return out;
  }
  const budget = Math.max(1, Math.floor(size * charsPerToken));
  const out: Page[][] = [];
  let current: Page[] = [];
  let used = 0;
  const flush = () => {
    if (current.length > 0) out.push(current);
    current = [];
    used = 0;
  };
  for (const page of kept) {
    for (const part of cutText(page.text, budget)) {
      if (used + part.length > budget) flush();
      current.push({ page: page.page, text: part });
      used += part.length;
    }
  }
  flush();
  return out;
}

/** Cuts a text into parts of at most `budget` characters, at the last whitespace before the limit when there is one. */
function cutText(text: string, budget: number): string[] {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > budget) {
    let at = rest.lastIndexOf(' ', budget);
    const nl = rest.lastIndexOf('\n', budget);
    at = Math.max(at, nl);
    if (at < budget / 2) at = budget;
    // never leave half a surrogate pair behind
    const code = rest.charCodeAt(at - 1);
    if (code >= 0xd800 && code <= 0xdbff) at -= 1;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at).replace(/^\s+/, '');
  }
  if (rest.length > 0) parts.push(rest);
  return parts;
}

async function inBatches<T, R>(items: readonly T[], fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += PARALLEL_IO) {
    out.push(...await Promise.all(items.slice(i, i + PARALLEL_IO).map((item, j) => fn(item, i + j))));
  }
  return out;
}

/** Reads the source text, cuts it, writes each chunk as a text pointer under the step's prefix. */
async function split(deps: ChunksDeps, state: RunState, runId: string): Promise<SplitOutput> {
  const { ctx, config } = deps;
  const source = state.results?.[deps.sourceStage]?.text;
  if (!isPointer(source)) {
    throw new PipelineError(ErrorNames.CONTRACT_INPUT_VIOLATION, `step ${config.step}: results.${deps.sourceStage}.text is not a text pointer`);
  }
  const raw = Buffer.from(await readObject(ctx.s3, source)).toString('utf8');
  let pages: Page[];
  try {
    const parsed = JSON.parse(raw) as ExtractedText;
    pages = Array.isArray(parsed?.pages) ? parsed.pages.map((p) => ({ page: p.page, text: String(p.text ?? '') })) : [{ page: 1, text: raw }];
  } catch {
    pages = [{ page: 1, text: raw }];
  }
  const chunks = chunkPages(pages, config.unit, config.size, config.charsPerToken);
  if (chunks.length === 0) {
    throw new PipelineError(ErrorNames.DOCUMENT_NO_TEXT, `step ${config.step}: the text of ${deps.sourceStage} is empty: nothing to cut into chunks`);
  }
  if (chunks.length > config.maxChunks) {
    throw new PipelineError(ErrorNames.DOCUMENT_TOO_LARGE, `step ${config.step}: the text makes ${chunks.length} chunks, over the limit of ${config.maxChunks} (maxChunks)`);
  }
  const work = (name: string) => Keys.stageWork(config.step, runId, name);
  const count = chunks.length;
  const items: ChunkItem[] = await inBatches(chunks, async (chunk, index) => {
    const text = await writeJson(ctx.s3, ctx.workBucket, work(ChunkKeys.text(index)), { pages: chunk } satisfies ExtractedText);
    const span = { first: chunk[0].page, last: chunk[chunk.length - 1].page };
    const ref: ChunkRef = { text, index, count, pages: span, resultKey: work(ChunkKeys.result(index)) };
    return { [config.step]: ref };
  });
  ctx.logger.info('text cut into chunks', { runId, step: config.step, chunks: count, pages: pages.length });
  if (config.inlineMax > 0 && count > config.inlineMax) {
    const manifest = await writeJson(ctx.s3, ctx.workBucket, work(ChunkKeys.manifest), items);
    return { count, manifest: { bucket: manifest.bucket, key: manifest.key } };
  }
  return { count, items };
}

/** Stores one chunk's result under the step's prefix, so the Map's own output stays empty. */
async function keep(deps: ChunksDeps, chunk: ChunkRef, result: unknown): Promise<{ index: number }> {
  const { ctx, config } = deps;
  const prefix = Keys.stagePrefix(config.step);
  if (typeof chunk?.resultKey !== 'string' || !chunk.resultKey.startsWith(prefix)) {
    throw new PipelineError(ErrorNames.CONTRACT_INPUT_VIOLATION, `step ${config.step}: a chunk's result key must be under '${prefix}'`);
  }
  await writeJson(ctx.s3, ctx.workBucket, chunk.resultKey, result ?? null);
  return { index: chunk.index };
}

/** Reads every chunk's result, reduces them, validates the reduced result against the stage's output contract. */
async function reduce(deps: ChunksDeps, event: Extract<ChunksEvent, { action: 'reduce' }>): Promise<RunState> {
  const { ctx, config } = deps;
  const { state, runId } = event;
  const count = event.chunking?.count ?? 0;
  const keys = Array.from({ length: count }, (_, i) => Keys.stageWork(config.step, runId, ChunkKeys.result(i)));
  const output = await runStage(ctx, { state, runId, executionArn: event.executionArn }, async () => {
    const results = await inBatches(keys, async (key) => JSON.parse(Buffer.from(await readObject(ctx.s3, { bucket: ctx.workBucket, key })).toString('utf8')));
    // With a function, the fields the stage kind adds itself (a Bedrock stage's screening) are still
    // reduced here and win: a function cannot clear a chunk's injection flag.
    const reduced = {
      ...(deps.reducer ? await reduceWithFunction(deps, state, runId, results) : {}),
      ...await reduceFields(deps, runId, results),
    };
    const size = Buffer.byteLength(JSON.stringify(reduced));
    if (size > MAX_INLINE_OUTPUT_BYTES) {
      const biggest = Object.entries(reduced).map(([k, v]) => [k, Buffer.byteLength(JSON.stringify(v))] as const).sort((a, b) => b[1] - a[1])[0];
      throw new PipelineError(ErrorNames.CONTRACT_OUTPUT_VIOLATION,
        `step ${config.step}: the reduced result of ${config.stage} is ${size} bytes inline, over the ${MAX_INLINE_OUTPUT_BYTES}-byte limit (largest field: '${biggest?.[0]}'); have the stage offload that field to S3 (offloadFields) so it is concatenated as a pointer`);
    }
    return { output: reduced };
  });
  return { document: state.document, results: { ...(state.results ?? {}), [config.stage]: output } };
}

async function reduceWithFunction(deps: ChunksDeps, state: RunState, runId: string, chunks: unknown[]): Promise<{ [key: string]: unknown }> {
  const { reducer, config } = deps;
  const payload = { document: state.document, results: state.results ?? {}, stage: config.stage, chunks, runId };
  const out = await reducer!.lambda.send(new InvokeCommand({ FunctionName: reducer!.functionName, Payload: JSON.stringify(payload) }));
  const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
  if (out.FunctionError) {
    let name = 'Lambda.Unknown';
    try {
      const e = JSON.parse(text);
      if (typeof e?.errorType === 'string' && e.errorType.trim()) name = e.errorType.trim().slice(0, 128);
    } catch {
      // not the runtime's error shape
    }
    throw new PipelineError(name, `step ${config.step}: the reducer function failed with ${name}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new PipelineError(ErrorNames.CONTRACT_OUTPUT_VIOLATION, `step ${config.step}: the reducer function's reply is not a JSON object`);
  }
  return value as { [key: string]: unknown };
}

async function reduceFields(deps: ChunksDeps, runId: string, chunks: unknown[]): Promise<{ [key: string]: unknown }> {
  const out: { [key: string]: unknown } = {};
  for (const [field, reducer] of Object.entries(deps.config.reducers)) {
    const values = chunks.map((c) => (c !== null && typeof c === 'object' ? (c as any)[field] : undefined)).filter((v) => v !== undefined);
    if (values.length === 0) continue;
    const value = await reduceValues(deps, runId, field, reducer, values);
    if (value !== undefined) out[field] = value;
  }
  return out;
}

/** Reduces one field's values (in chunk order). Pointers are read, combined and written back as one pointer. */
export async function reduceValues(deps: ChunksDeps, runId: string, field: string, reducer: ReducerName, values: unknown[]): Promise<unknown> {
  const { ctx, config } = deps;
  const wrong = (what: string) => new PipelineError(ErrorNames.CONTRACT_OUTPUT_VIOLATION, `step ${config.step}: '${field}' (${reducer}) needs ${what} in every chunk's result`);
  switch (reducer) {
    case 'max':
    case 'min':
    case 'sum': {
      if (!values.every((v) => typeof v === 'number')) throw wrong('a number');
      const nums = values as number[];
      return reducer === 'max' ? Math.max(...nums) : reducer === 'min' ? Math.min(...nums) : nums.reduce((a, b) => a + b, 0);
    }
    case 'any':
    case 'all':
      if (!values.every((v) => typeof v === 'boolean')) throw wrong('a boolean');
      return reducer === 'any' ? values.some(Boolean) : values.every(Boolean);
    case 'first':
      return values[0];
    case 'union': {
      if (!values.every(Array.isArray)) throw wrong('an array');
      const seen = new Set<string>();
      const out: unknown[] = [];
      for (const item of (values as unknown[][]).flat()) {
        const k = JSON.stringify(item);
        if (!seen.has(k)) {
          seen.add(k);
          out.push(item);
        }
      }
      return out;
    }
    case 'concatenate': {
      if (values.every((v) => typeof v === 'string')) return (values as string[]).join(config.separator);
      if (values.every(Array.isArray)) return (values as unknown[][]).flat();
      if (values.every(isPointer)) {
        const parts = await Promise.all((values as S3Pointer[]).map(async (p) => {
          const text = Buffer.from(await readObject(ctx.s3, p)).toString('utf8');
          try {
            return JSON.parse(text);
          } catch {
            return text;
          }
        }));
        const joined = parts.every((p) => typeof p === 'string') ? parts.join(config.separator) : parts.flat();
        return writeJson(ctx.s3, ctx.workBucket, Keys.stageWork(config.step, runId, ChunkKeys.reduced(field)), joined);
      }
      throw wrong('a string, an array or an S3 pointer');
    }
    case 'merge': {
      if (values.every(isPointer)) return reduceValues(deps, runId, field, 'concatenate', values);
      if (!values.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v))) throw wrong('an object');
      const keys = [...new Set(values.flatMap((v) => Object.keys(v as object)))];
      const out: { [key: string]: unknown } = {};
      for (const key of keys) {
        const inner = values.map((v) => (v as any)[key]).filter((v) => v !== undefined);
        const sample = inner[0];
        const kind: ReducerName = typeof sample === 'boolean' ? 'any'
          : typeof sample === 'number' ? 'sum'
            : Array.isArray(sample) ? 'union'
              : sample !== null && typeof sample === 'object' ? 'merge'
                : 'first';
        out[key] = await reduceValues(deps, runId, `${field}.${key}`, kind, inner);
      }
      return out;
    }
    default:
      throw new Error(`step ${config.step}: unknown reducer '${reducer}'`);
  }
}

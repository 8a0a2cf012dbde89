/**
 * Checks the audit trail of runs (ADR-0017): each run record's chain of stage records, the sha256 of
 * each record and of each content object it names, and the run record's own sha256. Pure over a
 * reader, so the same check runs on a local runner's output folder and on an S3 bucket.
 */
import { createHash } from 'crypto';
import { runRecordSha256 } from '../../audit/handler/recorder';
import { AuditRecord, ChainLink, Keys } from '../../shared';

/** Reads an audit trail laid out as the audit bucket is (`runs/`, `stages/`). Keys are relative to that layout. */
export interface AuditReader {
  /** Where the trail is, for messages (`/tmp/out/buckets/audit`, `s3://bucket/prefix/`). */
  readonly location: string;
  /** Every key under a prefix. */
  list(prefix: string): Promise<string[]>;
  /** An object's bytes, or undefined when there is no such object. */
  read(key: string): Promise<Uint8Array | undefined>;
}

/** The verdict on one run. */
export interface RunVerdict {
  readonly runId: string;
  readonly ok: boolean;
  /** The first broken link: what is wrong, naming the record and the object. */
  readonly problem?: string;
  /** Stage records checked. */
  readonly records: number;
  /** Content objects checked. */
  readonly objects: number;
  /** Findings that do not break the chain (a stage record written after the run was recorded). */
  readonly notes: string[];
}

export interface VerifyOptions {
  /** Check only this run. */
  readonly runId?: string;
}

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');
const RUN_KEY = /^runs\/([^/]+)\.json$/;
const STAGE_KEY = /^stages\/([^/]+)\/([^/]+)\.json$/;
/** A per-chunk stage record: `stages/<stage>/<runId>/chunks/<index>.json`. */
const CHUNK_KEY = /^stages\/([^/]+)\/([^/]+)\/chunks\/\d{5}\.json$/;

/** True when `key` is a record of `stage` in `runId`: its one record, or one of its per-chunk records. */
function isRecordOf(key: string, stage: string, runId: string): boolean {
  if (key === Keys.stageAudit(stage, runId)) return true;
  const m = CHUNK_KEY.exec(key);
  return m !== null && m[1] === stage && m[2] === runId;
}

/** Checks every run of the trail (or one); runs in key order. */
export async function verifyAudit(reader: AuditReader, options: VerifyOptions = {}): Promise<RunVerdict[]> {
  const runs = new Set<string>();
  for (const key of await reader.list(Keys.runsPrefix)) {
    const m = RUN_KEY.exec(key);
    if (m) runs.add(m[1]);
  }
  // Stage records by run: a run with stage records and no run record is reported too.
  const stageRecords = new Map<string, string[]>();
  for (const key of await reader.list('stages/')) {
    const m = STAGE_KEY.exec(key) ?? CHUNK_KEY.exec(key);
    if (!m) continue;
    stageRecords.set(m[2], [...(stageRecords.get(m[2]) ?? []), key]);
  }
  const ids = [...new Set([...runs, ...stageRecords.keys()])].filter((id) => !options.runId || id === options.runId).sort();
  const verdicts: RunVerdict[] = [];
  for (const runId of ids) {
    verdicts.push(runs.has(runId)
      ? await verifyRun(reader, runId, stageRecords.get(runId) ?? [])
      : broken(runId, `${Keys.runAudit(runId)} is missing, yet the run has stage records (${(stageRecords.get(runId) ?? []).join(', ')}): the run record was removed, or the run has not finished`, 0, 0, []));
  }
  return verdicts;
}

function broken(runId: string, problem: string, records: number, objects: number, notes: string[]): RunVerdict {
  return { runId, ok: false, problem, records, objects, notes };
}

function parse(bytes: Uint8Array): any {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Checks one run; stops at the first broken link. */
export async function verifyRun(reader: AuditReader, runId: string, listedStageRecords: readonly string[]): Promise<RunVerdict> {
  const runKey = Keys.runAudit(runId);
  let records = 0;
  let objects = 0;
  const notes: string[] = [];
  const fail = (problem: string) => broken(runId, problem, records, objects, notes);

  const runBytes = await reader.read(runKey);
  if (runBytes === undefined) return fail(`run record ${runKey} is missing`);
  const run: AuditRecord | undefined = parse(runBytes);
  if (!run || typeof run !== 'object') return fail(`run record ${runKey} is not JSON`);
  if (run.kind !== 'run' || run.runId !== runId) return fail(`run record ${runKey} is not the run record of ${runId} (kind ${run.kind}, runId ${run.runId})`);
  if (!Array.isArray(run.chain)) return fail(`run record ${runKey} has no chain: it was written before audit chains, or the chain was removed`);
  const chain: readonly ChainLink[] = run.chain;

  // The links: each names its stage's record and the sha256 of the link before it.
  for (let i = 0; i < chain.length; i++) {
    const link = chain[i];
    const expected = i > 0 ? chain[i - 1].sha256 : undefined;
    if (link?.previous !== expected) {
      return fail(`run record ${runKey}: link ${i} (${link?.key}) does not follow ${i > 0 ? `link ${i - 1} (${chain[i - 1].key})` : 'the start of the chain'}: links were removed or reordered`);
    }
    if (!isRecordOf(link.key, link.stage, runId)) {
      return fail(`run record ${runKey}: link ${i} names ${link.key}, not the record of stage ${link.stage} (${Keys.stageAudit(link.stage, runId)})`);
    }
  }
  const last = chain.length > 0 ? chain[chain.length - 1].sha256 : undefined;
  if (run.previous !== last) {
    return fail(`run record ${runKey}: its previous (${run.previous ?? 'none'}) is not the sha256 of the chain's last record (${last ?? 'none'}): links were removed or added`);
  }
  if (typeof run.recordSha256 !== 'string' || runRecordSha256(run) !== run.recordSha256) {
    return fail(`run record ${runKey} changed: the sha256 of its content is ${runRecordSha256(run)}, not the ${run.recordSha256 ?? '(none)'} it carries`);
  }

  // The records and the objects they name.
  for (const link of chain) {
    const bytes = await reader.read(link.key);
    if (bytes === undefined) return fail(`stage record ${link.key} (stage ${link.stage}) is missing; ${runKey} chains it with sha256 ${link.sha256}`);
    const actual = sha256(bytes);
    if (actual !== link.sha256) return fail(`stage record ${link.key} changed: sha256 ${actual}, ${runKey} chains ${link.sha256}`);
    records++;
    const record: AuditRecord | undefined = parse(bytes);
    if (!record || record.kind !== 'stage' || record.runId !== runId || record.stage !== link.stage) {
      return fail(`stage record ${link.key} is not the record of stage ${link.stage} in run ${runId}`);
    }
    for (const [part, ref] of Object.entries(record.content ?? {})) {
      if (!ref) continue;
      const content = await reader.read(ref.key);
      if (content === undefined) return fail(`${part} object ${ref.key} of stage record ${link.key} is missing`);
      const got = sha256(content);
      if (got !== ref.sha256) return fail(`${part} object ${ref.key} of stage record ${link.key} changed: sha256 ${got}, the record says ${ref.sha256}`);
      objects++;
    }
  }

  // A stage record the chain does not hold: written after the run was recorded (a parallel branch's
  // task still running when another branch failed), or added later. Reported, not a broken link.
  const chained = new Set(chain.map((l) => l.key));
  for (const key of listedStageRecords) {
    if (!chained.has(key)) notes.push(`stage record ${key} is not in the chain of ${runKey} (written after the run was recorded, or added later)`);
  }
  return { runId, ok: true, records, objects, notes };
}

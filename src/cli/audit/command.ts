/** The `verify-audit` subcommand: checks the audit chains of a folder or an S3 location. */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs as parseArgv } from 'util';
import { S3Client } from '@aws-sdk/client-s3';
import { DirectoryReader, findTrailFolder, parseS3Location, S3Reader } from './readers';
import { AuditReader, RunVerdict, verifyAudit } from './verify';
import { RunnerError } from '../local/cloud-assembly';

export const VERIFY_USAGE = `Usage: cdk-ai-pipeline verify-audit <dir | s3://bucket[/prefix]> [--run <id>]

Checks each run's audit chain: the run record's own sha256, the link from each stage record to the
one before it, the sha256 of every stage record and of every object it keeps (input view, output,
prompt, raw replies). Prints OK or the first broken link of each run, naming the record and the object.

  <dir>                 a local runner's --out folder, or a folder laid out as the audit bucket
  s3://bucket[/prefix]  the audit bucket (your default AWS credentials; read and list only)
  --run <id>            check this run only

Exit status: 0 when every run checked is intact, 1 when one is broken, 2 for a usage error.`;

export interface VerifyCommandOptions {
  readonly location: string;
  readonly runId?: string;
}

/** Parses `verify-audit ...` arguments. */
export function parseVerifyArgs(argv: string[]): VerifyCommandOptions {
  if (argv[0] !== 'verify-audit') throw new RunnerError(`unknown command '${argv[0] ?? ''}'.\n${VERIFY_USAGE}`);
  let parsed;
  try {
    parsed = parseArgv({ args: argv.slice(1), options: { run: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err: any) {
    throw new RunnerError(`${err?.message ?? err}.\n${VERIFY_USAGE}`);
  }
  if (parsed.values.help) throw new RunnerError(VERIFY_USAGE);
  if (parsed.positionals.length !== 1) throw new RunnerError(`verify-audit takes one location, got ${parsed.positionals.length}.\n${VERIFY_USAGE}`);
  return { location: parsed.positionals[0], runId: parsed.values.run };
}

/** The reader for a location: S3 for `s3://`, else a folder. */
export function readerFor(location: string, cwd: string, s3: () => S3Client = () => new S3Client({})): AuditReader {
  const s3Location = parseS3Location(location);
  if (s3Location) return new S3Reader(s3(), s3Location.bucket, s3Location.prefix);
  const dir = path.resolve(cwd, location);
  if (!fs.existsSync(dir)) throw new RunnerError(`verify-audit: ${dir} does not exist`);
  const trail = findTrailFolder(dir);
  if (!trail) throw new RunnerError(`verify-audit: ${dir} holds no audit trail (no runs/ folder, nor one bucket folder with runs/ under buckets/)`);
  return new DirectoryReader(trail);
}

/** One line per run; notes indented below it. */
export function formatVerdict(v: RunVerdict): string[] {
  const head = v.ok
    ? `OK      ${v.runId}  (${v.records} stage records, ${v.objects} objects)`
    : `BROKEN  ${v.runId}  ${v.problem}`;
  return [head, ...v.notes.map((n) => `        note: ${n}`)];
}

/** Runs `verify-audit`; returns the exit status (0 intact, 1 broken). Throws RunnerError for usage errors. */
export async function runVerifyCommand(
  options: VerifyCommandOptions,
  log: (line: string) => void = (l) => process.stdout.write(l + '\n'),
  reader: AuditReader = readerFor(options.location, process.cwd()),
): Promise<number> {
  const verdicts = await verifyAudit(reader, { runId: options.runId });
  if (verdicts.length === 0) {
    throw new RunnerError(`verify-audit: ${reader.location} holds no run${options.runId ? ` ${options.runId}` : ''}`);
  }
  for (const v of verdicts) formatVerdict(v).forEach((l) => log(l));
  const bad = verdicts.filter((v) => !v.ok).length;
  log(`\n${verdicts.length} runs in ${reader.location}: ${verdicts.length - bad} intact, ${bad} broken`);
  return bad > 0 ? 1 : 0;
}

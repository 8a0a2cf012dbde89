/** Where `verify-audit` reads a trail from: a folder (the local runner's output, or a copy) or S3. */
import * as fs from 'fs';
import * as path from 'path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { AuditReader } from './verify';
import { Keys } from '../../shared';

/** A trail on disk; keys are paths under `root` with `/` separators. */
export class DirectoryReader implements AuditReader {
  constructor(public readonly location: string) {}

  public async list(prefix: string): Promise<string[]> {
    const start = path.join(this.location, ...prefix.split('/').filter((s) => s.length > 0));
    const out: string[] = [];
    const walk = (dir: string) => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile()) out.push(path.relative(this.location, p).split(path.sep).join('/'));
      }
    };
    walk(start);
    return out.sort();
  }

  public async read(key: string): Promise<Uint8Array | undefined> {
    // Keys come from the records themselves: never read outside the trail's folder.
    const file = path.resolve(this.location, ...key.split('/'));
    if (!file.startsWith(path.resolve(this.location) + path.sep)) return undefined;
    try {
      return fs.readFileSync(file);
    } catch (err: any) {
      if (err?.code === 'ENOENT' || err?.code === 'EISDIR') return undefined;
      throw err;
    }
  }
}

/**
 * The trail folder for a path: the path itself when it holds `runs/` or `stages/`, or the one bucket
 * folder of a local runner's output (`<out>/buckets/<bucket>/runs`). Undefined when there is none.
 */
export function findTrailFolder(dir: string): string | undefined {
  const holds = (d: string) => fs.existsSync(path.join(d, Keys.runsPrefix)) || fs.existsSync(path.join(d, 'stages'));
  if (holds(dir) && fs.existsSync(path.join(dir, Keys.runsPrefix))) return dir;
  const buckets = path.join(dir, 'buckets');
  if (fs.existsSync(buckets)) {
    const found = fs.readdirSync(buckets).filter((b) => !b.startsWith('.')).map((b) => path.join(buckets, b))
      .filter((b) => fs.existsSync(path.join(b, Keys.runsPrefix)));
    if (found.length === 1) return found[0];
  }
  return holds(dir) ? dir : undefined;
}

/** A trail in S3: the audit bucket (or a copy of it under a prefix). Keys are relative to the prefix. */
export class S3Reader implements AuditReader {
  public readonly location: string;
  private readonly prefix: string;

  constructor(private readonly s3: S3Client, private readonly bucket: string, prefix = '') {
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.location = `s3://${bucket}/${this.prefix}`;
  }

  public async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const out = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken: token }));
      for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key.slice(this.prefix.length));
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  public async read(key: string): Promise<Uint8Array | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
    } catch (err: any) {
      if (err?.name === 'NoSuchKey' || err?.name === 'NotFound' || err?.$metadata?.httpStatusCode === 404) return undefined;
      throw err;
    }
  }
}

/** `s3://bucket[/prefix]` split, or undefined for anything else. */
export function parseS3Location(location: string): { bucket: string; prefix: string } | undefined {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(location);
  return m ? { bucket: m[1], prefix: m[2] } : undefined;
}

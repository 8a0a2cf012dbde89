/**
 * S3 on the local file system, behind the `S3Client.send(command)` interface the cores use.
 * Bucket `b`, key `k` is the file `<root>/<b>/<k>`. Versions are not kept (one object per key);
 * the VersionId of a PutObject is derived from the content, so it is deterministic.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { commandName, serviceError, unsupportedCommand } from './errors';

/** A GetObject body, with the two methods the cores call. */
export interface LocalBody {
  transformToByteArray(): Promise<Uint8Array>;
  transformToString(encoding?: string): Promise<string>;
}

const CONTENT_TYPES: { [ext: string]: string } = {
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.json': 'application/json',
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.html': 'text/html',
  '.csv': 'text/csv',
};

const SUPPORTED = ['PutObjectCommand', 'GetObjectCommand', 'HeadObjectCommand', 'ListObjectsV2Command'];

/** The content type S3 would report for a key with no explicit type (by its extension). */
export function contentTypeOf(key: string): string {
  return CONTENT_TYPES[path.extname(key).toLowerCase()] ?? 'application/octet-stream';
}

/** The VersionId the local S3 gives an object: the first 32 hex characters of its sha256. */
export function localVersionId(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 32);
}

/** The ETag S3 gives a single-part upload: the quoted MD5 of its bytes. */
export function localETag(bytes: Uint8Array): string {
  return `"${createHash('md5').update(bytes).digest('hex')}"`;
}

function toBytes(body: unknown): Uint8Array {
  if (body === undefined || body === null) return new Uint8Array();
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  throw new Error('LocalS3 accepts a string, a Buffer or a Uint8Array as PutObject Body (not a stream)');
}

/** Wraps bytes as a GetObject Body. */
export function localBody(bytes: Uint8Array): LocalBody {
  const copy = () => new Uint8Array(bytes);
  return {
    transformToByteArray: async () => copy(),
    transformToString: async (encoding?: string) => Buffer.from(bytes).toString((encoding ?? 'utf8') as BufferEncoding),
  };
}

export class LocalS3 {
  /** Content types given to PutObject, by `bucket/key` (others are guessed from the extension). */
  private readonly contentTypes = new Map<string, string>();

  /** @param rootDir the folder that holds one sub-folder per bucket. */
  constructor(public readonly rootDir: string) {}

  /** The file that holds `s3://bucket/key`. Rejects keys that would leave the bucket's folder. */
  public localPath(bucket: string, key: string): string {
    return path.join(this.bucketPath(bucket), ...this.keySegments(key));
  }

  /** Creates a bucket's folder (buckets otherwise appear on their first PutObject). */
  public ensureBucket(bucket: string): void {
    fs.mkdirSync(this.bucketPath(bucket), { recursive: true });
  }

  /** Convenience for runners and tests: writes an object and returns what PutObject returns. */
  public async putObject(bucket: string, key: string, body: string | Uint8Array, contentType?: string) {
    return this.put({ Bucket: bucket, Key: key, Body: body, ContentType: contentType });
  }

  /** Convenience for runners and tests: an object's bytes (throws NoSuchKey when missing). */
  public getBytes(bucket: string, key: string): Uint8Array {
    return this.read(bucket, key, 'NoSuchKey');
  }

  /** Convenience: an object's content parsed as JSON. */
  public getJson(bucket: string, key: string): any {
    return JSON.parse(Buffer.from(this.getBytes(bucket, key)).toString('utf8'));
  }

  /** True when the object exists. */
  public exists(bucket: string, key: string): boolean {
    try {
      return fs.statSync(this.localPath(bucket, key)).isFile();
    } catch {
      return false;
    }
  }

  public async send(command: any): Promise<any> {
    const input = command?.input ?? {};
    switch (commandName(command)) {
      case 'PutObjectCommand': return this.put(input);
      case 'GetObjectCommand': return this.get(input);
      case 'HeadObjectCommand': return this.head(input);
      case 'ListObjectsV2Command': return this.list(input);
      default: throw unsupportedCommand('LocalS3', command, SUPPORTED);
    }
  }

  private put(input: { Bucket?: string; Key?: string; Body?: unknown; ContentType?: string }) {
    const { bucket, key } = this.requireLocation(input);
    const bytes = toBytes(input.Body);
    const file = this.localPath(bucket, key);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, bytes);
    if (input.ContentType) this.contentTypes.set(`${bucket}/${key}`, input.ContentType);
    else this.contentTypes.delete(`${bucket}/${key}`);
    return { $metadata: { httpStatusCode: 200 }, VersionId: localVersionId(bytes), ETag: localETag(bytes) };
  }

  private get(input: { Bucket?: string; Key?: string; Range?: string }) {
    const { bucket, key } = this.requireLocation(input);
    const bytes = this.read(bucket, key, 'NoSuchKey');
    const common = {
      ContentType: this.contentType(bucket, key),
      ETag: localETag(bytes),
      VersionId: localVersionId(bytes),
      AcceptRanges: 'bytes',
    };
    if (input.Range) {
      const [start, end] = parseRange(input.Range, bytes.length);
      const part = bytes.slice(start, end + 1);
      return {
        $metadata: { httpStatusCode: 206 },
        ...common,
        Body: localBody(part),
        ContentLength: part.length,
        ContentRange: `bytes ${start}-${end}/${bytes.length}`,
      };
    }
    return { $metadata: { httpStatusCode: 200 }, ...common, Body: localBody(bytes), ContentLength: bytes.length };
  }

  private head(input: { Bucket?: string; Key?: string }) {
    const { bucket, key } = this.requireLocation(input);
    const bytes = this.read(bucket, key, 'NotFound');
    return {
      $metadata: { httpStatusCode: 200 },
      ContentLength: bytes.length,
      ContentType: this.contentType(bucket, key),
      ETag: localETag(bytes),
      VersionId: localVersionId(bytes),
      AcceptRanges: 'bytes',
    };
  }

  private list(input: { Bucket?: string; Prefix?: string; MaxKeys?: number; ContinuationToken?: string; StartAfter?: string }) {
    const bucket = input.Bucket ?? '';
    const dir = this.bucketPath(bucket);
    if (!isDirectory(dir)) throw serviceError('NoSuchBucket', 404, `The specified bucket does not exist: ${bucket}`);
    const prefix = input.Prefix ?? '';
    const keys = walk(dir).filter((k) => k.startsWith(prefix)).sort(compareKeys);
    const after = input.ContinuationToken !== undefined ? decodeToken(input.ContinuationToken) : input.StartAfter;
    const from = after === undefined ? keys : keys.filter((k) => compareKeys(k, after) > 0);
    const max = Math.max(0, Math.min(input.MaxKeys ?? 1000, 1000));
    const page = from.slice(0, max);
    const truncated = from.length > page.length;
    return {
      $metadata: { httpStatusCode: 200 },
      Name: bucket,
      Prefix: prefix,
      MaxKeys: max,
      KeyCount: page.length,
      IsTruncated: truncated,
      ...(input.ContinuationToken !== undefined ? { ContinuationToken: input.ContinuationToken } : {}),
      ...(truncated && page.length > 0 ? { NextContinuationToken: encodeToken(page[page.length - 1]) } : {}),
      Contents: page.map((Key) => {
        const bytes = fs.readFileSync(this.localPath(bucket, Key));
        return { Key, Size: bytes.length, ETag: localETag(bytes), StorageClass: 'STANDARD' };
      }),
    };
  }

  private read(bucket: string, key: string, missing: 'NoSuchKey' | 'NotFound'): Uint8Array {
    const file = this.localPath(bucket, key);
    try {
      return new Uint8Array(fs.readFileSync(file));
    } catch (err: any) {
      if (err?.code === 'ENOENT' || err?.code === 'EISDIR' || err?.code === 'ENOTDIR') {
        if (missing === 'NoSuchKey' && !isDirectory(this.bucketPath(bucket))) {
          throw serviceError('NoSuchBucket', 404, `The specified bucket does not exist: ${bucket}`);
        }
        throw missing === 'NotFound'
          ? serviceError('NotFound', 404, 'Not Found')
          : serviceError('NoSuchKey', 404, `The specified key does not exist: ${key}`);
      }
      throw err;
    }
  }

  private contentType(bucket: string, key: string): string {
    return this.contentTypes.get(`${bucket}/${key}`) ?? contentTypeOf(key);
  }

  private requireLocation(input: { Bucket?: string; Key?: string }): { bucket: string; key: string } {
    if (!input.Bucket || !input.Key) {
      throw serviceError('InvalidRequest', 400, 'Bucket and Key are required');
    }
    return { bucket: input.Bucket, key: input.Key };
  }

  private bucketPath(bucket: string): string {
    if (!bucket || bucket === '.' || bucket === '..' || /[\\/]/.test(bucket)) {
      throw serviceError('InvalidBucketName', 400, `The specified bucket is not valid: ${JSON.stringify(bucket)}`);
    }
    return path.join(this.rootDir, bucket);
  }

  private keySegments(key: string): string[] {
    const segments = key.split('/');
    if (key.length === 0 || segments.some((s) => s === '..' || s === '.') || key.includes('\\') || key.includes('\0')
      || segments[segments.length - 1] === '') {
      throw serviceError('InvalidArgument', 400, `LocalS3 cannot store the key ${JSON.stringify(key)} as a file`);
    }
    return segments.filter((s) => s.length > 0);
  }
}

/** Parses `bytes=a-b`, `bytes=a-` and `bytes=-n` into inclusive offsets (InvalidRange 416 when unsatisfiable). */
export function parseRange(range: string, size: number): [number, number] {
  const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  const invalid = () => serviceError('InvalidRange', 416, 'The requested range is not satisfiable');
  if (!m || (m[1] === '' && m[2] === '')) throw invalid();
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) throw invalid();
    return [Math.max(0, size - n), size - 1];
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) throw invalid();
  return [start, end];
}

function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** Every file under `dir`, as keys with '/' separators. */
function walk(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...walk(path.join(dir, entry.name), rel));
    else if (entry.isFile()) out.push(rel);
  }
  return out;
}

/** S3 lists keys in UTF-8 binary order. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function encodeToken(lastKey: string): string {
  return Buffer.from(lastKey, 'utf8').toString('base64');
}

function decodeToken(token: string): string {
  return Buffer.from(token, 'base64').toString('utf8');
}

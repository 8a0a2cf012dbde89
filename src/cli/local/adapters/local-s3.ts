/**
 * S3 on the local file system, behind the `S3Client.send(command)` interface the cores use.
 * Bucket `b`, key `k` is the file `<root>/<b>/<k>`. Buckets behave as versioned: the VersionId of
 * an object is derived from its content (so it is deterministic), and the version an overwrite or
 * a delete supersedes is kept under `<root>/.versions/` and can still be read by its VersionId.
 * Content types and user metadata given to PutObject live in memory (others are guessed from the
 * key's extension).
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

const SUPPORTED = [
  'PutObjectCommand', 'GetObjectCommand', 'HeadObjectCommand', 'DeleteObjectCommand', 'CopyObjectCommand',
  'ListObjectsV2Command', 'HeadBucketCommand', 'CreateBucketCommand',
];

/** The folder (beside the buckets) that keeps superseded versions; no bucket name starts with a dot. */
const VERSIONS_DIR = '.versions';

/** What PutObject was told about an object besides its bytes. */
interface ObjectAttributes {
  readonly contentType?: string;
  readonly metadata?: { readonly [name: string]: string };
}

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
  /** Content types and metadata given to PutObject, by `bucket/key` and by `bucket/key@versionId`. */
  private readonly attributes = new Map<string, ObjectAttributes>();

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

  /** True when the bucket's folder exists. */
  public bucketExists(bucket: string): boolean {
    return isDirectory(this.bucketPath(bucket));
  }

  /** The buckets there are (their folders), in name order. */
  public listBuckets(): string[] {
    if (!isDirectory(this.rootDir)) return [];
    return fs.readdirSync(this.rootDir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort(compareKeys);
  }

  public async send(command: any): Promise<any> {
    const input = command?.input ?? {};
    switch (commandName(command)) {
      case 'PutObjectCommand': return this.put(input);
      case 'GetObjectCommand': return this.get(input);
      case 'HeadObjectCommand': return this.head(input);
      case 'DeleteObjectCommand': return this.delete(input);
      case 'CopyObjectCommand': return this.copy(input);
      case 'ListObjectsV2Command': return this.list(input);
      case 'HeadBucketCommand': return this.headBucket(input);
      case 'CreateBucketCommand': return this.createBucket(input);
      default: throw unsupportedCommand('LocalS3', command, SUPPORTED);
    }
  }

  private put(input: { Bucket?: string; Key?: string; Body?: unknown; ContentType?: string; Metadata?: { [name: string]: string } }) {
    const { bucket, key } = this.requireLocation(input);
    return this.write(bucket, key, toBytes(input.Body), { contentType: input.ContentType, metadata: input.Metadata });
  }

  private write(bucket: string, key: string, bytes: Uint8Array, attributes: ObjectAttributes) {
    const file = this.localPath(bucket, key);
    const versionId = localVersionId(bytes);
    this.keepSuperseded(bucket, key, versionId);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, bytes);
    const kept: ObjectAttributes = {
      ...(attributes.contentType ? { contentType: attributes.contentType } : {}),
      ...(attributes.metadata && Object.keys(attributes.metadata).length > 0 ? { metadata: { ...attributes.metadata } } : {}),
    };
    this.attributes.set(`${bucket}/${key}`, kept);
    this.attributes.set(`${bucket}/${key}@${versionId}`, kept);
    return { $metadata: { httpStatusCode: 200 }, VersionId: versionId, ETag: localETag(bytes) };
  }

  private get(input: { Bucket?: string; Key?: string; Range?: string; VersionId?: string }) {
    const { bucket, key } = this.requireLocation(input);
    const { bytes, versionId, modified } = this.readVersion(bucket, key, input.VersionId, 'NoSuchKey');
    const common = {
      ...this.described(bucket, key, versionId, input.VersionId !== undefined),
      ETag: localETag(bytes),
      VersionId: versionId,
      AcceptRanges: 'bytes',
      LastModified: modified,
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

  private head(input: { Bucket?: string; Key?: string; VersionId?: string }) {
    const { bucket, key } = this.requireLocation(input);
    const { bytes, versionId, modified } = this.readVersion(bucket, key, input.VersionId, 'NotFound');
    return {
      $metadata: { httpStatusCode: 200 },
      ContentLength: bytes.length,
      ...this.described(bucket, key, versionId, input.VersionId !== undefined),
      ETag: localETag(bytes),
      VersionId: versionId,
      AcceptRanges: 'bytes',
      LastModified: modified,
    };
  }

  /**
   * Without a VersionId, the object goes (its version is kept, as a versioned bucket keeps it
   * behind a delete marker); with one, that version goes. Deleting what is not there succeeds.
   */
  private delete(input: { Bucket?: string; Key?: string; VersionId?: string }) {
    const { bucket, key } = this.requireLocation(input);
    if (!this.bucketExists(bucket)) throw noSuchBucket(bucket);
    const file = this.localPath(bucket, key);
    const current = readIfFile(file);
    if (input.VersionId === undefined) {
      if (current) {
        this.keepSuperseded(bucket, key, undefined);
        this.attributes.delete(`${bucket}/${key}`);
        removeEmptyFolders(path.dirname(file), this.bucketPath(bucket));
      }
      return { $metadata: { httpStatusCode: 204 } };
    }
    if (current && localVersionId(current) === input.VersionId) {
      fs.rmSync(file);
      this.attributes.delete(`${bucket}/${key}`);
      removeEmptyFolders(path.dirname(file), this.bucketPath(bucket));
    } else {
      const kept = this.versionPath(bucket, key, input.VersionId);
      if (kept) fs.rmSync(kept, { force: true });
    }
    this.attributes.delete(`${bucket}/${key}@${input.VersionId}`);
    return { $metadata: { httpStatusCode: 204 }, VersionId: input.VersionId };
  }

  /** `CopySource` is `bucket/key` (URL-encoded, optionally `?versionId=`), as S3 takes it. */
  private copy(input: {
    Bucket?: string;
    Key?: string;
    CopySource?: string;
    MetadataDirective?: string;
    ContentType?: string;
    Metadata?: { [name: string]: string };
  }) {
    const { bucket, key } = this.requireLocation(input);
    const source = parseCopySource(input.CopySource ?? '');
    const from = this.readVersion(source.bucket, source.key, source.versionId, 'NoSuchKey');
    const attributes: ObjectAttributes = input.MetadataDirective === 'REPLACE'
      ? { contentType: input.ContentType, metadata: input.Metadata }
      : this.attributesOf(source.bucket, source.key, from.versionId, source.versionId !== undefined);
    if (!this.bucketExists(bucket)) throw noSuchBucket(bucket);
    const out = this.write(bucket, key, from.bytes, attributes);
    return {
      $metadata: { httpStatusCode: 200 },
      VersionId: out.VersionId,
      CopySourceVersionId: from.versionId,
      CopyObjectResult: { ETag: out.ETag, LastModified: fs.statSync(this.localPath(bucket, key)).mtime },
    };
  }

  private headBucket(input: { Bucket?: string }) {
    if (!this.bucketExists(input.Bucket ?? '')) throw serviceError('NotFound', 404, `The specified bucket does not exist: ${input.Bucket}`);
    return { $metadata: { httpStatusCode: 200 } };
  }

  private createBucket(input: { Bucket?: string }) {
    this.ensureBucket(input.Bucket ?? '');
    return { $metadata: { httpStatusCode: 200 }, Location: `/${input.Bucket}` };
  }

  private list(input: {
    Bucket?: string; Prefix?: string; Delimiter?: string; MaxKeys?: number; ContinuationToken?: string; StartAfter?: string;
  }) {
    const bucket = input.Bucket ?? '';
    const dir = this.bucketPath(bucket);
    if (!isDirectory(dir)) throw noSuchBucket(bucket);
    const prefix = input.Prefix ?? '';
    const delimiter = input.Delimiter ?? '';
    // With a delimiter, the keys that have it after the prefix roll up into one common prefix each;
    // the page counts keys and common prefixes alike, in one order.
    const items: Array<{ key: string; common: boolean }> = [];
    for (const k of walk(dir).filter((x) => x.startsWith(prefix)).sort(compareKeys)) {
      const at = delimiter ? k.indexOf(delimiter, prefix.length) : -1;
      if (at < 0) {
        items.push({ key: k, common: false });
      } else {
        const common = k.slice(0, at + delimiter.length);
        const last = items[items.length - 1];
        if (!last || !last.common || last.key !== common) items.push({ key: common, common: true });
      }
    }
    const after = input.ContinuationToken !== undefined ? decodeToken(input.ContinuationToken) : input.StartAfter;
    const from = after === undefined ? items : items.filter((i) => compareKeys(i.key, after) > 0);
    const max = Math.max(0, Math.min(input.MaxKeys ?? 1000, 1000));
    const page = from.slice(0, max);
    const truncated = from.length > page.length;
    return {
      $metadata: { httpStatusCode: 200 },
      Name: bucket,
      Prefix: prefix,
      ...(delimiter ? { Delimiter: delimiter } : {}),
      ...(input.StartAfter !== undefined ? { StartAfter: input.StartAfter } : {}),
      MaxKeys: max,
      KeyCount: page.length,
      IsTruncated: truncated,
      ...(input.ContinuationToken !== undefined ? { ContinuationToken: input.ContinuationToken } : {}),
      ...(truncated && page.length > 0 ? { NextContinuationToken: encodeToken(page[page.length - 1].key) } : {}),
      Contents: page.filter((i) => !i.common).map(({ key: Key }) => {
        const file = this.localPath(bucket, Key);
        const bytes = fs.readFileSync(file);
        return { Key, Size: bytes.length, ETag: localETag(bytes), StorageClass: 'STANDARD', LastModified: fs.statSync(file).mtime };
      }),
      ...(delimiter ? { CommonPrefixes: page.filter((i) => i.common).map((i) => ({ Prefix: i.key })) } : {}),
    };
  }

  /** The current object, or the version named (NoSuchVersion when it was never kept). */
  private readVersion(bucket: string, key: string, versionId: string | undefined, missing: 'NoSuchKey' | 'NotFound') {
    if (versionId !== undefined) {
      const current = readIfFile(this.localPath(bucket, key));
      if (current && localVersionId(current) === versionId) {
        return { bytes: current, versionId, modified: fs.statSync(this.localPath(bucket, key)).mtime };
      }
      const kept = this.versionPath(bucket, key, versionId);
      const bytes = kept ? readIfFile(kept) : undefined;
      if (kept && bytes && localVersionId(bytes) === versionId) return { bytes, versionId, modified: fs.statSync(kept).mtime };
      if (!this.bucketExists(bucket)) throw noSuchBucket(bucket);
      throw missing === 'NotFound'
        ? serviceError('NotFound', 404, 'Not Found')
        : serviceError('NoSuchVersion', 404, `The specified version does not exist: ${key} ${versionId}`);
    }
    const bytes = this.read(bucket, key, missing);
    return { bytes, versionId: localVersionId(bytes), modified: fs.statSync(this.localPath(bucket, key)).mtime };
  }

  /** Moves the current object (if its version differs from the one about to replace it) to the kept versions. */
  private keepSuperseded(bucket: string, key: string, nextVersionId: string | undefined) {
    const file = this.localPath(bucket, key);
    const current = readIfFile(file);
    if (!current) return;
    const versionId = localVersionId(current);
    if (versionId === nextVersionId) return;
    const kept = this.versionPath(bucket, key, versionId)!;
    fs.mkdirSync(path.dirname(kept), { recursive: true });
    fs.renameSync(file, kept);
    const attributes = this.attributes.get(`${bucket}/${key}`);
    if (attributes) this.attributes.set(`${bucket}/${key}@${versionId}`, attributes);
  }

  /**
   * `<root>/.versions/<bucket>/<sha256(key)>/<versionId>`: a flat name per key, so no key can clash;
   * undefined for a string that is not a local VersionId.
   */
  private versionPath(bucket: string, key: string, versionId: string): string | undefined {
    if (!/^[0-9a-f]{32}$/.test(versionId)) return undefined;
    const keyHash = createHash('sha256').update(key, 'utf8').digest('hex');
    return path.join(this.rootDir, VERSIONS_DIR, this.bucketName(bucket), keyHash, versionId);
  }

  private attributesOf(bucket: string, key: string, versionId: string, byVersion: boolean): ObjectAttributes {
    return (byVersion ? this.attributes.get(`${bucket}/${key}@${versionId}`) : this.attributes.get(`${bucket}/${key}`)) ?? {};
  }

  /** ContentType (as put, or by the key's extension) and Metadata (when any was put). */
  private described(bucket: string, key: string, versionId: string, byVersion: boolean) {
    const attributes = this.attributesOf(bucket, key, versionId, byVersion);
    return {
      ContentType: attributes.contentType ?? contentTypeOf(key),
      ...(attributes.metadata ? { Metadata: { ...attributes.metadata } } : {}),
    };
  }

  private read(bucket: string, key: string, missing: 'NoSuchKey' | 'NotFound'): Uint8Array {
    const file = this.localPath(bucket, key);
    try {
      return new Uint8Array(fs.readFileSync(file));
    } catch (err: any) {
      if (err?.code === 'ENOENT' || err?.code === 'EISDIR' || err?.code === 'ENOTDIR') {
        if (missing === 'NoSuchKey' && !isDirectory(this.bucketPath(bucket))) throw noSuchBucket(bucket);
        throw missing === 'NotFound'
          ? serviceError('NotFound', 404, 'Not Found')
          : serviceError('NoSuchKey', 404, `The specified key does not exist: ${key}`);
      }
      throw err;
    }
  }

  private requireLocation(input: { Bucket?: string; Key?: string }): { bucket: string; key: string } {
    if (!input.Bucket || !input.Key) {
      throw serviceError('InvalidRequest', 400, 'Bucket and Key are required');
    }
    return { bucket: input.Bucket, key: input.Key };
  }

  private bucketPath(bucket: string): string {
    return path.join(this.rootDir, this.bucketName(bucket));
  }

  /** A bucket name that is one folder name; no S3 bucket name starts with a dot (`.versions` is ours). */
  private bucketName(bucket: string): string {
    if (!bucket || bucket.startsWith('.') || /[\\/\0]/.test(bucket)) {
      throw serviceError('InvalidBucketName', 400, `The specified bucket is not valid: ${JSON.stringify(bucket)}`);
    }
    return bucket;
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

function noSuchBucket(bucket: string) {
  return serviceError('NoSuchBucket', 404, `The specified bucket does not exist: ${bucket}`);
}

/** `bucket/key` or `/bucket/key`, URL-encoded, optionally with `?versionId=`. */
export function parseCopySource(source: string): { bucket: string; key: string; versionId?: string } {
  const [location, query] = source.split('?', 2);
  const decoded = decodeURIComponent(location.replace(/^\//, ''));
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) {
    throw serviceError('InvalidArgument', 400, `Copy Source must mention the source bucket and key: sourcebucket/sourcekey, got ${JSON.stringify(source)}`);
  }
  const versionId = query ? new URLSearchParams(query).get('versionId') ?? undefined : undefined;
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1), ...(versionId !== undefined ? { versionId } : {}) };
}

/** A file's bytes, or undefined when there is no file there. */
function readIfFile(file: string): Uint8Array | undefined {
  try {
    return new Uint8Array(fs.readFileSync(file));
  } catch (err: any) {
    if (err?.code === 'ENOENT' || err?.code === 'EISDIR' || err?.code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** Removes `dir` and its parents while they are empty, up to (not including) `stop`. */
function removeEmptyFolders(dir: string, stop: string) {
  for (let d = dir; d.startsWith(stop + path.sep); d = path.dirname(d)) {
    try {
      fs.rmdirSync(d);
    } catch {
      return;
    }
  }
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

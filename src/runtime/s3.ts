import { createHash } from 'crypto';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DocumentRef, ExtractedText, S3Pointer } from '../shared';
import { ErrorNames, PipelineError } from '../shared/errors';

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Maps S3's "not there" and "not allowed" answers on the source document to the named errors. */
export function sourceError(err: any, what: string): Error {
  const status = err?.$metadata?.httpStatusCode;
  const name = err?.name ?? '';
  if (name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchVersion' || name === 'NoSuchBucket' || status === 404) {
    return new PipelineError(ErrorNames.SOURCE_GONE, `${what} no longer exists`);
  }
  if (name === 'AccessDenied' || name === 'Forbidden' || status === 403) {
    return new PipelineError(ErrorNames.SOURCE_ACCESS_DENIED, `${what} cannot be read: access denied`);
  }
  return err;
}

/** Size and type of an object, from HeadObject. */
export async function headObject(s3: S3Client, ref: DocumentRef): Promise<{ size: number; contentType?: string }> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }));
    return { size: head.ContentLength ?? 0, contentType: head.ContentType };
  } catch (err) {
    throw sourceError(err, 'the document');
  }
}

/** Reads an object's bytes (optionally a byte range). */
export async function readObject(s3: S3Client, ref: S3Pointer | DocumentRef, range?: string): Promise<Uint8Array> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId, Range: range }));
    if (!out.Body) return new Uint8Array();
    return await out.Body.transformToByteArray();
  } catch (err) {
    throw sourceError(err, `s3://${ref.bucket}/${ref.key}`);
  }
}

/** Writes a JSON object and returns a pointer with its version and sha256. */
export async function writeJson(s3: S3Client, bucket: string, key: string, body: unknown): Promise<S3Pointer> {
  const text = JSON.stringify(body);
  const out = await s3.send(new PutObjectCommand({
    Bucket: bucket,
    Key: key,
    Body: text,
    ContentType: 'application/json',
  }));
  return { bucket, key, ...(out.VersionId ? { versionId: out.VersionId } : {}), sha256: sha256(text) };
}

/**
 * Reads the object a pointer names and checks it against the sha256 the pointer carries:
 * `Text.IntegrityViolation` when the bytes changed since the pointer was written. The message names
 * the object and both hashes, never its content.
 */
export async function readPointer(s3: S3Client, pointer: S3Pointer): Promise<Uint8Array> {
  const bytes = await readObject(s3, pointer);
  if (typeof pointer.sha256 === 'string') {
    const actual = sha256(bytes);
    if (actual !== pointer.sha256.toLowerCase()) {
      throw new PipelineError(ErrorNames.TEXT_INTEGRITY_VIOLATION,
        `s3://${pointer.bucket}/${pointer.key}${pointer.versionId ? ` (version ${pointer.versionId})` : ''} has sha256 ${actual}, not the ${pointer.sha256} its pointer carries: it changed after it was written`);
    }
  }
  return bytes;
}

/**
 * Resolves a value for a prompt or a request: a pointer to extracted text becomes the text itself
 * (pages joined), another pointer becomes the object's content, anything else stays as it is.
 * A pointer carrying a sha256 is checked against it (`Text.IntegrityViolation`).
 */
export async function dereference(s3: S3Client, value: unknown): Promise<unknown> {
  if (typeof value !== 'object' || value === null) return value;
  const v = value as any;
  if (typeof v.bucket !== 'string' || typeof v.key !== 'string') return value;
  const bytes = await readPointer(s3, v);
  const text = Buffer.from(bytes).toString('utf8');
  try {
    const parsed = JSON.parse(text);
    if (parsed && Array.isArray((parsed as ExtractedText).pages)) {
      return (parsed as ExtractedText).pages.map((p) => p.text).join('\n\n');
    }
    return parsed;
  } catch {
    return text;
  }
}

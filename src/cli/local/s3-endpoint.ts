/**
 * HTTP endpoints on 127.0.0.1 for the code the local runner does not write itself (a user's own
 * Lambda function, run by the function host):
 *
 * - `startS3Endpoint(s3)` speaks enough of the S3 REST API for the real `@aws-sdk/client-s3` v3
 *   pointed at it (`endpoint: url` or `AWS_ENDPOINT_URL_S3=url`). Every operation goes through
 *   `LocalS3.send`, so there is one storage implementation. For an IP endpoint the SDK addresses
 *   buckets path-style (`/bucket/key`) without `forcePathStyle`; virtual-hosted requests
 *   (`Host: bucket.localhost:port`) are understood too.
 * - `startUnservedEndpoint()` is the catch-all for `AWS_ENDPOINT_URL`: any request answers an
 *   error, in the protocol of the client that sent it, whose message names the service and the
 *   operation the runner does not serve.
 *
 * Signatures are not checked (the function gets dummy credentials), but a request must carry a
 * SigV4 Authorization header or presigned query, as S3 requires.
 */
import { randomUUID } from 'crypto';
import * as http from 'http';
import { AddressInfo } from 'net';
import {
  CopyObjectCommand, CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadBucketCommand,
  HeadObjectCommand, ListObjectsV2Command, PutObjectCommand,
} from '@aws-sdk/client-s3';
import { LocalS3 } from './adapters/local-s3';

/** A running endpoint. */
export interface LocalEndpoint {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

export interface S3EndpointOptions {
  /**
   * Host names under which `<bucket>.<host>` is taken as a virtual-hosted-style request.
   * @default ['localhost', '127.0.0.1']
   */
  readonly virtualHostSuffixes?: readonly string[];
}

/** What the unserved endpoint was asked for. */
export interface UnservedCall {
  readonly service: string;
  readonly operation: string;
}

export interface UnservedEndpointOptions {
  /**
   * What the error message tells the user to do.
   * @default 'run this stage with --live, or pass a module with --function'
   */
  readonly advice?: string;
  /** Called for each request, e.g. to report the unserved calls at the end of a run. */
  readonly onCall?: (call: UnservedCall) => void;
}

/** The error code (the SDK exception's `name`) of every unserved call. */
export const UNSERVED_ERROR = 'LocalRunner.Unserved';

const DEFAULT_ADVICE = 'run this stage with --live, or pass a module with --function';
const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** Starts the S3 endpoint over `s3` on 127.0.0.1 (a free port). */
export async function startS3Endpoint(s3: LocalS3, options: S3EndpointOptions = {}): Promise<LocalEndpoint> {
  const suffixes = options.virtualHostSuffixes ?? ['localhost', '127.0.0.1'];
  let requests = 0;
  return listen(async (req, res) => {
    const requestId = `local-${++requests}`;
    res.setHeader('x-amz-request-id', requestId);
    const url = new URL(req.url ?? '/', 'http://local');
    const { bucket, key } = addressOf(url, req.headers.host ?? '', suffixes);
    try {
      if (!isSigV4(req, url)) {
        throw s3Error('AccessDenied', 403, 'the local S3 endpoint takes SigV4-signed requests only (any credentials; signatures are not checked)');
      }
      const body = await readBody(req);
      await serveS3(s3, req, res, url, bucket, key, body);
    } catch (err) {
      sendS3Error(req, res, err, requestId, bucket, key);
    }
  });
}

/** Starts the catch-all endpoint for the services the runner does not serve. */
export async function startUnservedEndpoint(options: UnservedEndpointOptions = {}): Promise<LocalEndpoint> {
  const advice = options.advice ?? DEFAULT_ADVICE;
  return listen(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    const body = (await readBody(req)).toString('utf8');
    const call = describeCall(req, url, body);
    options.onCall?.(call);
    const message = `the local runner does not serve ${call.service} (${call.operation}): ${advice}`;
    sendProtocolError(req, res, call.service, message);
  });
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

async function listen(handler: Handler): Promise<LocalEndpoint> {
  const server = http.createServer((req, res) => {
    handler(req, res).catch((err) => {
      if (!res.headersSent) res.statusCode = 500;
      res.end(String(err?.message ?? err));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// S3

/** Bucket and key of a path-style (`/bucket/key`) or virtual-hosted (`bucket.localhost`) request. */
function addressOf(url: URL, host: string, suffixes: readonly string[]): { bucket?: string; key?: string } {
  const hostname = host.replace(/:\d+$/, '').toLowerCase();
  const suffix = suffixes.find((s) => hostname.endsWith(`.${s}`));
  const segments = url.pathname.slice(1);
  if (suffix) {
    const bucket = hostname.slice(0, hostname.length - suffix.length - 1);
    return { bucket, key: segments ? decodeURIComponent(segments) : undefined };
  }
  if (!segments) return {};
  const slash = segments.indexOf('/');
  if (slash < 0) return { bucket: decodeURIComponent(segments) };
  const key = decodeURIComponent(segments.slice(slash + 1));
  return { bucket: decodeURIComponent(segments.slice(0, slash)), key: key || undefined };
}

function isSigV4(req: http.IncomingMessage, url: URL): boolean {
  const auth = req.headers.authorization;
  if (auth) return /^AWS4-HMAC-SHA256 Credential=[^/\s]+\/\d{8}\/[^/]+\/[^/]+\/aws4_request, ?SignedHeaders=[^,]+, ?Signature=[0-9a-f]+$/.test(auth);
  const q = url.searchParams;
  return q.get('X-Amz-Algorithm') === 'AWS4-HMAC-SHA256' && !!q.get('X-Amz-Credential') && !!q.get('X-Amz-Signature');
}

async function serveS3(
  s3: LocalS3, req: http.IncomingMessage, res: http.ServerResponse, url: URL,
  bucket: string | undefined, key: string | undefined, body: Buffer,
): Promise<void> {
  const q = url.searchParams;
  const method = req.method ?? 'GET';
  const unsupported = (operation: string) =>
    s3Error('NotImplemented', 501, `the local S3 endpoint does not implement ${operation}`);

  if (bucket === undefined) {
    if (method !== 'GET') throw unsupported(`${method} /`);
    const buckets = s3.listBuckets().map((name) => `<Bucket><Name>${xml(name)}</Name></Bucket>`).join('');
    return sendXml(res, 200, `<ListAllMyBucketsResult xmlns="${S3_NS}"><Buckets>${buckets}</Buckets></ListAllMyBucketsResult>`);
  }

  if (key === undefined) {
    const sub = ['uploads', 'delete', 'versions', 'location', 'policy', 'acl', 'tagging', 'versioning', 'cors', 'lifecycle']
      .find((s) => q.has(s));
    if (sub) throw unsupported(`the bucket subresource ?${sub}`);
    switch (method) {
      case 'HEAD':
        await s3.send(new HeadBucketCommand({ Bucket: bucket }));
        return send(res, 200, {});
      case 'PUT':
        await s3.send(new CreateBucketCommand({ Bucket: bucket }));
        return send(res, 200, { location: `/${bucket}` });
      case 'GET':
        return listObjects(s3, res, bucket, q);
      default:
        throw unsupported(`${method} on a bucket`);
    }
  }

  const sub = ['uploads', 'uploadId', 'tagging', 'acl', 'attributes', 'retention', 'legal-hold', 'restore', 'select', 'torrent']
    .find((s) => q.has(s));
  if (sub) {
    throw unsupported(sub === 'uploads' || sub === 'uploadId' ? 'multipart uploads (put the object in one PutObject)' : `the object subresource ?${sub}`);
  }
  const versionId = q.get('versionId') ?? undefined;
  switch (method) {
    case 'GET':
    case 'HEAD': {
      const range = typeof req.headers.range === 'string' ? req.headers.range : undefined;
      const out = method === 'GET'
        ? await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId, Range: range }))
        : await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
      const headers: http.OutgoingHttpHeaders = {
        'content-type': out.ContentType,
        'content-length': out.ContentLength,
        'etag': out.ETag,
        'x-amz-version-id': out.VersionId,
        'accept-ranges': out.AcceptRanges,
        ...(out.ContentRange ? { 'content-range': out.ContentRange } : {}),
        ...(out.LastModified ? { 'last-modified': (out.LastModified as Date).toUTCString() } : {}),
        ...metadataHeaders(out.Metadata),
      };
      if (method === 'HEAD') return send(res, 200, headers);
      return send(res, out.$metadata?.httpStatusCode ?? 200, headers, Buffer.from(await out.Body.transformToByteArray()));
    }
    case 'PUT': {
      const copySource = req.headers['x-amz-copy-source'];
      if (typeof copySource === 'string') {
        const out = await s3.send(new CopyObjectCommand({
          Bucket: bucket,
          Key: key,
          CopySource: copySource,
          MetadataDirective: header(req, 'x-amz-metadata-directive') as any,
          ContentType: header(req, 'content-type'),
          Metadata: metadataOf(req),
        }));
        res.setHeader('x-amz-version-id', out.VersionId);
        res.setHeader('x-amz-copy-source-version-id', out.CopySourceVersionId);
        const r = out.CopyObjectResult;
        return sendXml(res, 200, `<CopyObjectResult xmlns="${S3_NS}"><ETag>${xml(r.ETag)}</ETag>`
          + `<LastModified>${(r.LastModified as Date).toISOString()}</LastModified></CopyObjectResult>`);
      }
      const out = await s3.send(new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: isAwsChunked(req) ? decodeAwsChunked(body) : body,
        ContentType: header(req, 'content-type'),
        Metadata: metadataOf(req),
      }));
      return send(res, 200, { 'etag': out.ETag, 'x-amz-version-id': out.VersionId });
    }
    case 'DELETE': {
      const out = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
      return send(res, 204, out.VersionId ? { 'x-amz-version-id': out.VersionId } : {});
    }
    default:
      throw unsupported(`${method} on an object`);
  }
}

/** ListObjectsV2 (`list-type=2`), and the original ListObjects (`marker`) on the same listing. */
async function listObjects(s3: LocalS3, res: http.ServerResponse, bucket: string, q: URLSearchParams): Promise<void> {
  const v2 = q.get('list-type') === '2';
  const maxKeys = q.has('max-keys') ? Number(q.get('max-keys')) : undefined;
  if (maxKeys !== undefined && !(Number.isInteger(maxKeys) && maxKeys >= 0)) {
    throw s3Error('InvalidArgument', 400, `max-keys must be a non-negative integer, got ${q.get('max-keys')}`);
  }
  const out = await s3.send(new ListObjectsV2Command({
    Bucket: bucket,
    Prefix: q.get('prefix') ?? undefined,
    Delimiter: q.get('delimiter') || undefined,
    MaxKeys: maxKeys,
    ContinuationToken: v2 ? q.get('continuation-token') ?? undefined : undefined,
    StartAfter: (v2 ? q.get('start-after') : q.get('marker')) || undefined,
  }));
  const encode = q.get('encoding-type') === 'url';
  const text = (s: string) => xml(encode ? encodeURIComponent(s).replace(/%2F/g, '/') : s);
  const el = (name: string, value: unknown) => `<${name}>${value}</${name}>`;
  const parts = [el('Name', xml(bucket)), el('Prefix', text(out.Prefix ?? ''))];
  if (out.Delimiter) parts.push(el('Delimiter', text(out.Delimiter)));
  parts.push(el('MaxKeys', out.MaxKeys));
  if (encode) parts.push(el('EncodingType', 'url'));
  parts.push(el('IsTruncated', out.IsTruncated));
  const items: Array<{ key: string }> = [
    ...out.Contents.map((c: any) => ({ key: c.Key })),
    ...(out.CommonPrefixes ?? []).map((p: any) => ({ key: p.Prefix })),
  ];
  if (v2) {
    parts.push(el('KeyCount', out.KeyCount));
    if (out.ContinuationToken !== undefined) parts.push(el('ContinuationToken', xml(out.ContinuationToken)));
    if (out.NextContinuationToken) parts.push(el('NextContinuationToken', xml(out.NextContinuationToken)));
    if (out.StartAfter !== undefined) parts.push(el('StartAfter', text(out.StartAfter)));
  } else {
    parts.push(el('Marker', text(q.get('marker') ?? '')));
    if (out.IsTruncated && out.Delimiter && items.length > 0) {
      const last = items.map((i) => i.key).sort().pop()!;
      parts.push(el('NextMarker', text(last)));
    }
  }
  for (const c of out.Contents) {
    parts.push(el('Contents', el('Key', text(c.Key)) + el('LastModified', (c.LastModified as Date).toISOString())
      + el('ETag', xml(c.ETag)) + el('Size', c.Size) + el('StorageClass', c.StorageClass)));
  }
  for (const p of out.CommonPrefixes ?? []) parts.push(el('CommonPrefixes', el('Prefix', text(p.Prefix))));
  return sendXml(res, 200, `<ListBucketResult xmlns="${S3_NS}">${parts.join('')}</ListBucketResult>`);
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** `x-amz-meta-*` request headers as S3 keeps them (names lower case). */
function metadataOf(req: http.IncomingMessage): { [name: string]: string } | undefined {
  const out: { [name: string]: string } = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith('x-amz-meta-') && typeof value === 'string') out[name.slice('x-amz-meta-'.length)] = value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function metadataHeaders(metadata: { [name: string]: string } | undefined): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(metadata ?? {})) out[`x-amz-meta-${name}`] = value;
  return out;
}

function isAwsChunked(req: http.IncomingMessage): boolean {
  const encoding = header(req, 'content-encoding') ?? '';
  const sha = header(req, 'x-amz-content-sha256') ?? '';
  return encoding.split(',').map((s) => s.trim()).includes('aws-chunked') || sha.startsWith('STREAMING-');
}

/**
 * The payload of an `aws-chunked` body: `<hex size>[;chunk-signature=..]\r\n<bytes>\r\n` ... up to
 * a zero-size chunk (then optional trailers, such as the checksum the SDK sends, which are not checked).
 */
export function decodeAwsChunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    if (eol < 0) throw s3Error('IncompleteBody', 400, 'the aws-chunked body ends before its last chunk');
    const size = parseInt(body.subarray(at, eol).toString('latin1').split(';')[0], 16);
    if (!Number.isFinite(size) || size < 0) throw s3Error('InvalidRequest', 400, 'the aws-chunked body has a malformed chunk header');
    if (size === 0) return Buffer.concat(parts);
    const start = eol + 2;
    if (start + size > body.length) throw s3Error('IncompleteBody', 400, 'the aws-chunked body ends inside a chunk');
    parts.push(body.subarray(start, start + size));
    at = start + size + 2;
  }
}

interface S3Failure extends Error {
  readonly $metadata?: { readonly httpStatusCode?: number };
}

function s3Error(code: string, status: number, message: string): S3Failure {
  const err = new Error(message) as Error & { $metadata: { httpStatusCode: number } };
  err.name = code;
  err.$metadata = { httpStatusCode: status };
  return err;
}

/** An S3 error document (no body for HEAD, as S3 answers; the SDK then names it by status, e.g. NotFound). */
function sendS3Error(req: http.IncomingMessage, res: http.ServerResponse, err: unknown, requestId: string, bucket?: string, key?: string) {
  const failure = err as S3Failure;
  const status = failure?.$metadata?.httpStatusCode;
  // Errors that are not S3's (a bug, a full disk) are S3's InternalError, with their message.
  const known = typeof status === 'number' && typeof failure?.name === 'string';
  const code = known ? failure.name : 'InternalError';
  const httpStatus = known ? status : 500;
  const message = String(failure?.message ?? err);
  if (req.method === 'HEAD') return send(res, httpStatus, {});
  const extra = (key !== undefined ? `<Key>${xml(key)}</Key>` : '') + (bucket !== undefined ? `<BucketName>${xml(bucket)}</BucketName>` : '');
  return sendXml(res, httpStatus,
    `<Error><Code>${xml(code)}</Code><Message>${xml(message)}</Message>${extra}<RequestId>${requestId}</RequestId></Error>`);
}

// ---------------------------------------------------------------------------------------------
// Unserved services

/**
 * The service (from the SigV4 credential scope, else the X-Amz-Target prefix, else the host) and
 * the operation (X-Amz-Target, the query protocol's Action, else method and path).
 */
export function describeCall(req: http.IncomingMessage, url: URL, body: string): UnservedCall {
  const credential = /Credential=[^/\s,]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(req.headers.authorization ?? '')?.[1]
    ?? url.searchParams.get('X-Amz-Credential')?.split('/')[3];
  const target = header(req, 'x-amz-target');
  const host = (req.headers.host ?? '').replace(/:\d+$/, '');
  const service = credential ?? target?.split('.')[0] ?? (/^[a-z]/.test(host) ? host.split('.')[0] : 'an AWS service');
  let operation = target;
  if (!operation && /x-www-form-urlencoded/.test(header(req, 'content-type') ?? '')) {
    const action = new URLSearchParams(body).get('Action');
    if (action) operation = action;
  }
  if (!operation) {
    // The smithy RPC v2 protocol names the operation in the path.
    const rpc = /\/service\/[^/]+\/operation\/([^/?]+)$/.exec(url.pathname)?.[1];
    operation = rpc ?? `${req.method} ${url.pathname}`;
  }
  return { service, operation };
}

/** REST services whose errors are XML; the other REST services (Lambda, ...) answer JSON. */
const REST_XML_SERVICES = new Set(['s3', 's3-object-lambda', 's3-outposts', 's3express', 'cloudfront', 'route53']);

/** The error, in the protocol the request was made in, so the SDK raises it with the message. */
function sendProtocolError(req: http.IncomingMessage, res: http.ServerResponse, service: string, message: string) {
  const requestId = randomUUID();
  const contentType = header(req, 'content-type') ?? '';
  res.setHeader('x-amzn-requestid', requestId);
  res.setHeader('x-amz-request-id', requestId);
  if (header(req, 'smithy-protocol') === 'rpc-v2-cbor') {
    return send(res, 400, { 'content-type': 'application/cbor', 'smithy-protocol': 'rpc-v2-cbor' },
      cborTextMap({ __type: UNSERVED_ERROR, message }));
  }
  if (/application\/x-amz-json-1\.[01]/.test(contentType)) {
    return send(res, 400, { 'content-type': contentType.split(';')[0], 'x-amzn-errortype': UNSERVED_ERROR },
      Buffer.from(JSON.stringify({ __type: UNSERVED_ERROR, message })));
  }
  if (service === 'ec2') {
    return sendXml(res, 400, `<Response><Errors><Error><Code>${UNSERVED_ERROR}</Code><Message>${xml(message)}</Message></Error></Errors>`
      + `<RequestID>${requestId}</RequestID></Response>`);
  }
  if (/x-www-form-urlencoded/.test(contentType) || service.startsWith('s3') || REST_XML_SERVICES.has(service)) {
    if (req.method === 'HEAD') return send(res, 400, {});
    return sendXml(res, 400, `<ErrorResponse><Error><Type>Sender</Type><Code>${UNSERVED_ERROR}</Code><Message>${xml(message)}</Message></Error>`
      + `<RequestId>${requestId}</RequestId></ErrorResponse>`);
  }
  return send(res, 400, { 'content-type': 'application/json', 'x-amzn-errortype': UNSERVED_ERROR },
    Buffer.from(JSON.stringify({ message })));
}

/** A CBOR map of text keys to text values (all the RPC v2 error body needs). */
function cborTextMap(entries: { [key: string]: string }): Buffer {
  // Each item starts with its major type (top 3 bits) and its length: inline below 24, else in 1, 2 or 4 bytes.
  const head = (major: number, n: number): Buffer => {
    const type = major * 32;
    if (n < 24) return Buffer.from([type + n]);
    if (n < 0x100) return Buffer.from([type + 24, n]);
    const wide = n < 0x10000;
    const b = Buffer.alloc(wide ? 3 : 5);
    b[0] = type + (wide ? 25 : 26);
    if (wide) b.writeUInt16BE(n, 1);
    else b.writeUInt32BE(n, 1);
    return b;
  };
  const text = (s: string) => {
    const bytes = Buffer.from(s, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  };
  const pairs = Object.entries(entries);
  return Buffer.concat([head(5, pairs.length), ...pairs.flatMap(([k, v]) => [text(k), text(v)])]);
}

// ---------------------------------------------------------------------------------------------

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function send(res: http.ServerResponse, status: number, headers: http.OutgoingHttpHeaders, body?: Buffer) {
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) res.setHeader(name, value);
  if (body !== undefined && !headers['content-length']) res.setHeader('content-length', body.length);
  res.end(body);
}

function sendXml(res: http.ServerResponse, status: number, document: string) {
  send(res, status, { 'content-type': 'application/xml' }, Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${document}`, 'utf8'));
}

function xml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' }[c]!));
}

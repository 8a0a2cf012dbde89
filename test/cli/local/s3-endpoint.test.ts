/**
 * The local S3 endpoint, driven by the real S3 client of the AWS SDK v3, over a LocalS3 on a
 * temporary folder; and the catch-all endpoint, driven by real clients of four protocols.
 */
import * as http from 'http';
import { Readable } from 'stream';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command,
  paginateListObjectsV2, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { tempDir } from './adapters/fixtures';
import { LocalS3, localVersionId } from '../../../src/cli/local/adapters/local-s3';
import { decodeAwsChunked, LocalEndpoint, startS3Endpoint, startUnservedEndpoint, UNSERVED_ERROR, UnservedCall } from '../../../src/cli/local/s3-endpoint';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

let dir: string;
let cleanup: () => void;
let s3: LocalS3;
let endpoint: LocalEndpoint;
let client: S3Client;
beforeEach(async () => {
  ({ dir, cleanup } = tempDir());
  s3 = new LocalS3(dir);
  s3.ensureBucket('work');
  endpoint = await startS3Endpoint(s3);
  // No forcePathStyle: for an IP endpoint the SDK addresses buckets by path on its own.
  client = new S3Client({ endpoint: endpoint.url, region: 'us-east-1', credentials });
});
afterEach(async () => {
  client.destroy();
  await endpoint.close();
  cleanup();
});

/** A raw HTTP request to an endpoint (for what the SDK would not send). */
function raw(url: string, options: { method?: string; path: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer }) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({ host: u.hostname, port: u.port, method: options.method ?? 'GET', path: options.path, headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const SIGV4 = 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00ff';

describe('the S3 endpoint, with the SDK\'s S3Client', () => {
  test('put, get, head and delete an object, on the LocalS3 behind it', async () => {
    const put = await client.send(new PutObjectCommand({
      Bucket: 'work', Key: 'stages/Extract/run 1/text+1.json', Body: '{"text":"héllo"}', ContentType: 'application/json', Metadata: { Source: 'ocr' },
    }));
    expect(put.VersionId).toBe(localVersionId(Buffer.from('{"text":"héllo"}')));
    expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    // The same storage: LocalS3 sees what the client put.
    expect(s3.getJson('work', 'stages/Extract/run 1/text+1.json')).toEqual({ text: 'héllo' });

    const got = await client.send(new GetObjectCommand({ Bucket: 'work', Key: 'stages/Extract/run 1/text+1.json' }));
    expect(await got.Body!.transformToString()).toBe('{"text":"héllo"}');
    expect(got).toMatchObject({ ContentType: 'application/json', ContentLength: 17, VersionId: put.VersionId, ETag: put.ETag, Metadata: { source: 'ocr' } });
    expect(got.LastModified).toBeInstanceOf(Date);

    const head = await client.send(new HeadObjectCommand({ Bucket: 'work', Key: 'stages/Extract/run 1/text+1.json' }));
    expect(head).toMatchObject({ ContentLength: 17, ContentType: 'application/json', VersionId: put.VersionId });

    const deleted = await client.send(new DeleteObjectCommand({ Bucket: 'work', Key: 'stages/Extract/run 1/text+1.json' }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    expect(s3.exists('work', 'stages/Extract/run 1/text+1.json')).toBe(false);
    await expect(client.send(new GetObjectCommand({ Bucket: 'work', Key: 'stages/Extract/run 1/text+1.json' })))
      .rejects.toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
  });

  test('a streamed body (aws-chunked with a trailing checksum) is stored as its payload', async () => {
    const body = Buffer.from('x'.repeat(70_000) + 'end');
    await client.send(new PutObjectCommand({ Bucket: 'work', Key: 'big.txt', Body: Readable.from([body.subarray(0, 1000), body.subarray(1000)]), ContentLength: body.length }));
    expect(Buffer.from(s3.getBytes('work', 'big.txt')).equals(body)).toBe(true);
  });

  test('Range reads answer 206 with the part; an unsatisfiable range is InvalidRange', async () => {
    await s3.putObject('work', 'doc.pdf', Uint8Array.from([0x25, 0x50, 0x44, 0x46, 0x2d, 1, 2, 3, 4, 5]));
    const part = await client.send(new GetObjectCommand({ Bucket: 'work', Key: 'doc.pdf', Range: 'bytes=0-4' }));
    expect(part.$metadata.httpStatusCode).toBe(206);
    expect(await part.Body!.transformToString()).toBe('%PDF-');
    expect(part).toMatchObject({ ContentRange: 'bytes 0-4/10', ContentLength: 5, ContentType: 'application/pdf' });
    const tail = await client.send(new GetObjectCommand({ Bucket: 'work', Key: 'doc.pdf', Range: 'bytes=-2' }));
    expect(await tail.Body!.transformToByteArray()).toEqual(Uint8Array.from([4, 5]));
    await expect(client.send(new GetObjectCommand({ Bucket: 'work', Key: 'doc.pdf', Range: 'bytes=10-' })))
      .rejects.toMatchObject({ name: 'InvalidRange', $metadata: { httpStatusCode: 416 } });
  });

  test('a VersionId reads that version, also after the key is overwritten; an unknown one is NoSuchVersion', async () => {
    const v1 = (await client.send(new PutObjectCommand({ Bucket: 'work', Key: 'text.json', Body: 'first' }))).VersionId!;
    const v2 = (await client.send(new PutObjectCommand({ Bucket: 'work', Key: 'text.json', Body: 'second' }))).VersionId!;
    expect(v2).not.toBe(v1);
    const read = async (VersionId?: string) =>
      (await client.send(new GetObjectCommand({ Bucket: 'work', Key: 'text.json', VersionId }))).Body!.transformToString();
    expect(await read()).toBe('second');
    expect(await read(v1)).toBe('first');
    expect(await read(v2)).toBe('second');
    expect((await client.send(new HeadObjectCommand({ Bucket: 'work', Key: 'text.json', VersionId: v1 }))).ContentLength).toBe(5);
    await expect(read('0'.repeat(32))).rejects.toMatchObject({ name: 'NoSuchVersion', $metadata: { httpStatusCode: 404 } });
    // The old version is not listed: only the current objects are.
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'work' }));
    expect(listed.Contents!.map((c) => c.Key)).toEqual(['text.json']);
  });

  test('missing things: NoSuchKey, NotFound on HEAD, NoSuchBucket, HeadBucket', async () => {
    await expect(client.send(new GetObjectCommand({ Bucket: 'work', Key: 'nope.json' })))
      .rejects.toMatchObject({ name: 'NoSuchKey', message: 'The specified key does not exist: nope.json', Key: 'nope.json' });
    await expect(client.send(new HeadObjectCommand({ Bucket: 'work', Key: 'nope.json' })))
      .rejects.toMatchObject({ name: 'NotFound', $metadata: { httpStatusCode: 404 } });
    await expect(client.send(new GetObjectCommand({ Bucket: 'nobucket', Key: 'a' })))
      .rejects.toMatchObject({ name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } });
    await expect(client.send(new ListObjectsV2Command({ Bucket: 'nobucket' }))).rejects.toMatchObject({ name: 'NoSuchBucket' });
    expect((await client.send(new HeadBucketCommand({ Bucket: 'work' }))).$metadata.httpStatusCode).toBe(200);
    await expect(client.send(new HeadBucketCommand({ Bucket: 'nobucket' }))).rejects.toMatchObject({ name: 'NotFound' });
  });

  test('ListObjectsV2: prefix, delimiter (common prefixes) and pagination through the SDK\'s paginator', async () => {
    for (const key of ['runs/b.json', 'runs/a.json', 'runs/sub/c.json', 'runs/sub/d.json', 'runs/z/e.json', 'stages/X/1.json']) {
      await s3.putObject('work', key, key);
    }
    const top = await client.send(new ListObjectsV2Command({ Bucket: 'work', Prefix: 'runs/', Delimiter: '/' }));
    expect(top.Contents!.map((c) => c.Key)).toEqual(['runs/a.json', 'runs/b.json']);
    expect(top.CommonPrefixes!.map((p) => p.Prefix)).toEqual(['runs/sub/', 'runs/z/']);
    expect(top).toMatchObject({ KeyCount: 4, IsTruncated: false, Prefix: 'runs/', Delimiter: '/' });
    expect(top.Contents![0]).toMatchObject({ Size: 'runs/a.json'.length, StorageClass: 'STANDARD', ETag: expect.stringMatching(/^"[0-9a-f]{32}"$/) });

    const pages: string[][] = [];
    for await (const page of paginateListObjectsV2({ client, pageSize: 2 }, { Bucket: 'work' })) {
      pages.push((page.Contents ?? []).map((c) => c.Key!));
    }
    expect(pages).toEqual([
      ['runs/a.json', 'runs/b.json'],
      ['runs/sub/c.json', 'runs/sub/d.json'],
      ['runs/z/e.json', 'stages/X/1.json'],
    ]);
  });

  test('CopyObject copies bytes and content type (an encoded source key, a source version)', async () => {
    const v1 = (await client.send(new PutObjectCommand({ Bucket: 'work', Key: 'in/a b.json', Body: '{"v":1}', ContentType: 'application/json' }))).VersionId!;
    await client.send(new PutObjectCommand({ Bucket: 'work', Key: 'in/a b.json', Body: '{"v":2}', ContentType: 'application/json' }));
    const out = await client.send(new CopyObjectCommand({ Bucket: 'work', Key: 'out/copy.json', CopySource: `work/${encodeURIComponent('in/a b.json')}?versionId=${v1}` }));
    expect(out).toMatchObject({ CopySourceVersionId: v1, CopyObjectResult: { ETag: expect.stringMatching(/^"/) } });
    expect(s3.getJson('work', 'out/copy.json')).toEqual({ v: 1 });
    expect((await client.send(new HeadObjectCommand({ Bucket: 'work', Key: 'out/copy.json' }))).ContentType).toBe('application/json');
    await expect(client.send(new CopyObjectCommand({ Bucket: 'work', Key: 'x', CopySource: 'work/none' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
  });

  test('virtual-hosted requests (Host: <bucket>.localhost) address the same bucket', async () => {
    await s3.putObject('work', 'a/b.txt', 'virtual');
    const port = new URL(endpoint.url).port;
    const res = await raw(endpoint.url, { path: '/a/b.txt', headers: { host: `work.localhost:${port}`, authorization: SIGV4 } });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('virtual');
  });

  test('unsigned requests are AccessDenied; a presigned-looking query is accepted', async () => {
    await s3.putObject('work', 'a.txt', 'signed');
    const unsigned = await raw(endpoint.url, { path: '/work/a.txt' });
    expect(unsigned.status).toBe(403);
    expect(unsigned.body.toString()).toContain('<Code>AccessDenied</Code>');
    const basic = await raw(endpoint.url, { path: '/work/a.txt', headers: { authorization: 'Basic dXNlcjpwdw==' } });
    expect(basic.status).toBe(403);
    const query = 'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=local%2F20260101%2Fus-east-1%2Fs3%2Faws4_request'
      + '&X-Amz-Date=20260101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00ff';
    const presigned = await raw(endpoint.url, { path: `/work/a.txt?${query}` });
    expect(presigned.status).toBe(200);
    expect(presigned.body.toString()).toBe('signed');
  });

  test('what it does not implement answers NotImplemented, naming it', async () => {
    const res = await raw(endpoint.url, { method: 'POST', path: '/work/big.bin?uploads', headers: { authorization: SIGV4 } });
    expect(res.status).toBe(501);
    expect(res.body.toString()).toContain('<Code>NotImplemented</Code>');
    expect(res.body.toString()).toContain('multipart uploads');
  });

  test('decodeAwsChunked reads signed and unsigned chunk headers and stops at the last chunk', () => {
    const body = Buffer.from('3;chunk-signature=ab\r\nabc\r\n2\r\nde\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n');
    expect(decodeAwsChunked(body).toString()).toBe('abcde');
    expect(() => decodeAwsChunked(Buffer.from('5\r\nab'))).toThrow(/ends inside a chunk/);
  });
});

describe('the unserved endpoint', () => {
  let unserved: LocalEndpoint;
  const calls: UnservedCall[] = [];
  beforeEach(async () => {
    calls.length = 0;
    unserved = await startUnservedEndpoint({ onCall: (c) => calls.push(c) });
  });
  afterEach(() => unserved.close());

  const config = () => ({ endpoint: unserved.url, region: 'us-east-1', credentials });
  const ADVICE = 'run this stage with --live, or pass a module with --function';

  test('JSON 1.0 (DynamoDB): the SDK raises the error with the service and operation in its message, without retrying', async () => {
    const dynamo = new DynamoDBClient(config());
    const err = await dynamo.send(new GetItemCommand({ TableName: 't', Key: { id: { S: '1' } } })).catch((e) => e);
    dynamo.destroy();
    expect(err.name).toBe(UNSERVED_ERROR);
    expect(err.message).toBe(`the local runner does not serve dynamodb (DynamoDB_20120810.GetItem): ${ADVICE}`);
    expect(err.$metadata).toMatchObject({ httpStatusCode: 400, attempts: 1 });
    expect(calls).toEqual([{ service: 'dynamodb', operation: 'DynamoDB_20120810.GetItem' }]);
  });

  test('query protocol (SNS) and REST-JSON (Lambda)', async () => {
    const sns = new SNSClient(config());
    const snsErr = await sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:111111111111:t', Message: 'x' })).catch((e) => e);
    sns.destroy();
    expect(snsErr).toMatchObject({ name: UNSERVED_ERROR, message: `the local runner does not serve sns (Publish): ${ADVICE}` });

    const lambda = new LambdaClient(config());
    const lambdaErr = await lambda.send(new InvokeCommand({ FunctionName: 'other-fn', Payload: '{}' })).catch((e) => e);
    lambda.destroy();
    expect(lambdaErr.name).toBe(UNSERVED_ERROR);
    expect(lambdaErr.message).toBe(`the local runner does not serve lambda (POST /2015-03-31/functions/other-fn/invocations): ${ADVICE}`);
  });

  test('REST-XML (S3, when no S3 endpoint is set) and a custom advice', async () => {
    const custom = await startUnservedEndpoint({ advice: 'pass --live' });
    const s3Client = new S3Client({ ...config(), endpoint: custom.url });
    const err = await s3Client.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' })).catch((e) => e);
    s3Client.destroy();
    await custom.close();
    expect(err).toMatchObject({ name: UNSERVED_ERROR, message: 'the local runner does not serve s3 (GET /b/k): pass --live' });
  });

  test('Smithy RPC v2 CBOR: the error body is CBOR with __type and message', async () => {
    // The SDK's own CBOR codec (@smithy/core comes with every client).
    // eslint-disable-next-line @typescript-eslint/no-require-imports, import/no-extraneous-dependencies
    const { cbor } = require('@smithy/core/cbor');
    const res = await raw(unserved.url, {
      method: 'POST',
      path: '/service/GraniteServiceVersion20100801/operation/GetMetricData',
      headers: {
        'smithy-protocol': 'rpc-v2-cbor',
        'content-type': 'application/cbor',
        'authorization': SIGV4.replace('/s3/', '/monitoring/'),
      },
      body: Buffer.from([0xa0]),
    });
    expect(res.status).toBe(400);
    expect(res.headers['smithy-protocol']).toBe('rpc-v2-cbor');
    expect(cbor.deserialize(new Uint8Array(res.body))).toEqual({
      __type: UNSERVED_ERROR,
      message: `the local runner does not serve monitoring (GetMetricData): ${ADVICE}`,
    });
  });
});

import * as fs from 'fs';
import * as path from 'path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { tempDir } from './fixtures';
import { LocalS3, localVersionId } from '../../../../src/cli/local/adapters/local-s3';
import { headObject, readObject, sourceError, writeJson } from '../../../../src/runtime/s3';
import { ErrorNames } from '../../../../src/shared';

let dir: string;
let cleanup: () => void;
let s3: LocalS3;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  s3 = new LocalS3(dir);
});
afterEach(() => cleanup());

describe('LocalS3', () => {
  test('PutObject writes <root>/<bucket>/<key> and returns a deterministic VersionId and an ETag', async () => {
    const out = await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'incoming/a/b.json', Body: '{"x":1}', ContentType: 'application/json' }));
    expect(fs.readFileSync(path.join(dir, 'docs', 'incoming', 'a', 'b.json'), 'utf8')).toBe('{"x":1}');
    expect(s3.localPath('docs', 'incoming/a/b.json')).toBe(path.join(dir, 'docs', 'incoming', 'a', 'b.json'));
    expect(out.VersionId).toMatch(/^[0-9a-f]{32}$/);
    expect(out.VersionId).toBe(localVersionId(Buffer.from('{"x":1}')));
    expect(out.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    const again = await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'other.json', Body: Buffer.from('{"x":1}') }));
    expect(again.VersionId).toBe(out.VersionId);
  });

  test('GetObject round-trips bytes and strings, with a Range', async () => {
    const bytes = Uint8Array.from([0x25, 0x50, 0x44, 0x46, 0x2d, 1, 2, 3, 4, 5]);
    await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'x.pdf', Body: bytes }));
    const whole = await s3.send(new GetObjectCommand({ Bucket: 'docs', Key: 'x.pdf', VersionId: 'ignored' }));
    expect(await whole.Body.transformToByteArray()).toEqual(bytes);
    expect(whole.ContentLength).toBe(10);
    expect(whole.ContentType).toBe('application/pdf');
    const head = await s3.send(new GetObjectCommand({ Bucket: 'docs', Key: 'x.pdf', Range: 'bytes=0-4' }));
    expect(await head.Body.transformToString()).toBe('%PDF-');
    expect(head.ContentLength).toBe(5);
    expect(head.ContentRange).toBe('bytes 0-4/10');
    const tail = await s3.send(new GetObjectCommand({ Bucket: 'docs', Key: 'x.pdf', Range: 'bytes=-2' }));
    expect(await tail.Body.transformToByteArray()).toEqual(Uint8Array.from([4, 5]));
    const past = await s3.send(new GetObjectCommand({ Bucket: 'docs', Key: 'x.pdf', Range: 'bytes=8-100' }));
    expect(await past.Body.transformToByteArray()).toEqual(Uint8Array.from([4, 5]));
    await expect(s3.send(new GetObjectCommand({ Bucket: 'docs', Key: 'x.pdf', Range: 'bytes=10-' })))
      .rejects.toMatchObject({ name: 'InvalidRange', $metadata: { httpStatusCode: 416 } });
  });

  test('HeadObject gives size, type by extension (or as put) and ETag', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'scan.PNG', Body: 'abc' }));
    await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'blob', Body: 'abcd', ContentType: 'text/x-custom' }));
    expect(await s3.send(new HeadObjectCommand({ Bucket: 'docs', Key: 'scan.PNG' }))).toMatchObject({ ContentLength: 3, ContentType: 'image/png' });
    expect(await s3.send(new HeadObjectCommand({ Bucket: 'docs', Key: 'blob' }))).toMatchObject({ ContentLength: 4, ContentType: 'text/x-custom' });
  });

  test('missing objects: NoSuchKey on GetObject, NotFound on HeadObject, both 404; NoSuchBucket', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'a.txt', Body: 'a' }));
    await expect(s3.send(new GetObjectCommand({ Bucket: 'docs', Key: 'nope.pdf' })))
      .rejects.toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
    await expect(s3.send(new HeadObjectCommand({ Bucket: 'docs', Key: 'nope.pdf' })))
      .rejects.toMatchObject({ name: 'NotFound', $metadata: { httpStatusCode: 404 } });
    await expect(s3.send(new GetObjectCommand({ Bucket: 'nobucket', Key: 'a.txt' })))
      .rejects.toMatchObject({ name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } });
    // A "folder" is not an object.
    await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'dir/inner.txt', Body: 'x' }));
    await expect(s3.send(new GetObjectCommand({ Bucket: 'docs', Key: 'dir' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
  });

  test('the cores\' S3 helpers work unchanged over it (and map its errors to Source.Gone)', async () => {
    const client = s3 as unknown as S3Client;
    const pointer = await writeJson(client, 'work', 'stages/X/run/out.json', { a: 1 });
    expect(pointer).toMatchObject({ bucket: 'work', key: 'stages/X/run/out.json', versionId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(JSON.parse(Buffer.from(await readObject(client, pointer)).toString('utf8'))).toEqual({ a: 1 });
    expect(await headObject(client, pointer)).toEqual({ size: 7, contentType: 'application/json' });
    await expect(readObject(client, { bucket: 'work', key: 'missing.json' })).rejects.toMatchObject({ name: ErrorNames.SOURCE_GONE });
    await expect(headObject(client, { bucket: 'work', key: 'missing.json' })).rejects.toMatchObject({ name: ErrorNames.SOURCE_GONE });
    expect(sourceError(await s3.send(new HeadObjectCommand({ Bucket: 'work', Key: 'nope' })).catch((e) => e), 'x').name).toBe(ErrorNames.SOURCE_GONE);
  });

  test('rejects keys and buckets that would escape the root', async () => {
    for (const Key of ['../etc/passwd', 'a/../../b', 'a/./b', 'a\\b', '', 'dir/']) {
      await expect(s3.send(new PutObjectCommand({ Bucket: 'docs', Key, Body: 'x' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    }
    for (const Bucket of ['..', 'a/b', '.']) {
      await expect(s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }))).rejects.toMatchObject({ name: 'InvalidBucketName' });
    }
    expect(() => s3.localPath('docs', '../x')).toThrow(/cannot store the key/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  test('ListObjectsV2 lists keys under a prefix in order, with pagination', async () => {
    for (const key of ['runs/b.json', 'runs/a.json', 'stages/X/1.json', 'runs/sub/c.json']) {
      await s3.send(new PutObjectCommand({ Bucket: 'audit', Key: key, Body: key }));
    }
    const all = await s3.send(new ListObjectsV2Command({ Bucket: 'audit', Prefix: 'runs/' }));
    expect(all.Contents.map((c: any) => c.Key)).toEqual(['runs/a.json', 'runs/b.json', 'runs/sub/c.json']);
    expect(all).toMatchObject({ KeyCount: 3, IsTruncated: false });
    expect(all.Contents[0].Size).toBe('runs/a.json'.length);

    const first = await s3.send(new ListObjectsV2Command({ Bucket: 'audit', MaxKeys: 2 }));
    expect(first.Contents.map((c: any) => c.Key)).toEqual(['runs/a.json', 'runs/b.json']);
    expect(first.IsTruncated).toBe(true);
    const second = await s3.send(new ListObjectsV2Command({ Bucket: 'audit', MaxKeys: 2, ContinuationToken: first.NextContinuationToken }));
    expect(second.Contents.map((c: any) => c.Key)).toEqual(['runs/sub/c.json', 'stages/X/1.json']);
    expect(second.IsTruncated).toBe(false);

    await expect(s3.send(new ListObjectsV2Command({ Bucket: 'none' }))).rejects.toMatchObject({ name: 'NoSuchBucket' });
    s3.ensureBucket('empty');
    expect(await s3.send(new ListObjectsV2Command({ Bucket: 'empty' }))).toMatchObject({ KeyCount: 0, Contents: [] });
  });

  test('convenience accessors', async () => {
    await s3.putObject('docs', 'a.json', '{"k":"v"}');
    expect(s3.exists('docs', 'a.json')).toBe(true);
    expect(s3.exists('docs', 'b.json')).toBe(false);
    expect(s3.getJson('docs', 'a.json')).toEqual({ k: 'v' });
  });

  test('an unknown command names itself', async () => {
    class DeleteObjectCommand { public readonly input = { Bucket: 'b', Key: 'k' }; }
    await expect(s3.send(new DeleteObjectCommand())).rejects.toThrow(/LocalS3 does not implement DeleteObjectCommand/);
  });
});

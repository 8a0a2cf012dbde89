import * as fs from 'fs';
import * as path from 'path';
import {
  CopyObjectCommand, CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand,
  ListObjectsV2Command, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { tempDir } from './fixtures';
import { LocalS3, localVersionId, parseCopySource } from '../../../../src/cli/local/adapters/local-s3';
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
    const whole = await s3.send(new GetObjectCommand({ Bucket: 'docs', Key: 'x.pdf', VersionId: localVersionId(bytes) }));
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
    for (const Bucket of ['..', 'a/b', '.', '.versions']) {
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

  test('an overwrite or a delete keeps the version it supersedes, readable by its VersionId (with its content type)', async () => {
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'a/t.json', Body: 'one', ContentType: 'text/x-one' }))).VersionId;
    const v2 = (await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'a/t.json', Body: 'two' }))).VersionId;
    const read = async (VersionId?: string) => (await s3.send(new GetObjectCommand({ Bucket: 'docs', Key: 'a/t.json', VersionId }))).Body.transformToString();
    expect([await read(), await read(v1), await read(v2)]).toEqual(['two', 'one', 'two']);
    expect(await s3.send(new HeadObjectCommand({ Bucket: 'docs', Key: 'a/t.json', VersionId: v1 }))).toMatchObject({ ContentType: 'text/x-one', VersionId: v1 });
    expect(await s3.send(new HeadObjectCommand({ Bucket: 'docs', Key: 'a/t.json' }))).toMatchObject({ ContentType: 'application/json', VersionId: v2 });
    // Putting the same bytes again is the same version: nothing more is kept.
    await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'a/t.json', Body: 'two' }));

    expect((await s3.send(new DeleteObjectCommand({ Bucket: 'docs', Key: 'a/t.json' }))).$metadata.httpStatusCode).toBe(204);
    expect(s3.exists('docs', 'a/t.json')).toBe(false);
    expect(fs.existsSync(path.join(dir, 'docs', 'a'))).toBe(false); // empty folders go with the object
    await expect(read()).rejects.toMatchObject({ name: 'NoSuchKey' });
    expect([await read(v1), await read(v2)]).toEqual(['one', 'two']);
    // Deleting a version removes it; unknown or malformed versions are NoSuchVersion (NotFound on HEAD).
    await s3.send(new DeleteObjectCommand({ Bucket: 'docs', Key: 'a/t.json', VersionId: v1 }));
    await expect(read(v1)).rejects.toMatchObject({ name: 'NoSuchVersion', $metadata: { httpStatusCode: 404 } });
    await expect(read('not-a-version')).rejects.toMatchObject({ name: 'NoSuchVersion' });
    await expect(s3.send(new HeadObjectCommand({ Bucket: 'docs', Key: 'a/t.json', VersionId: v1 }))).rejects.toMatchObject({ name: 'NotFound' });
    // Deleting what is not there succeeds, as in S3; in a missing bucket it does not.
    expect((await s3.send(new DeleteObjectCommand({ Bucket: 'docs', Key: 'never' }))).$metadata.httpStatusCode).toBe(204);
    await expect(s3.send(new DeleteObjectCommand({ Bucket: 'none', Key: 'k' }))).rejects.toMatchObject({ name: 'NoSuchBucket' });
    // The kept versions live beside the buckets, in a folder no bucket can be named.
    expect(fs.readdirSync(dir).sort()).toEqual(['.versions', 'docs']);
    expect(s3.listBuckets()).toEqual(['docs']);
  });

  test('CopyObject copies bytes, type and metadata (or replaces them), from a version too', async () => {
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'src.bin', Body: 'one', ContentType: 'text/x-a', Metadata: { k: 'v' } }))).VersionId;
    await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'src.bin', Body: 'two', ContentType: 'text/x-b' }));
    const out = await s3.send(new CopyObjectCommand({ Bucket: 'docs', Key: 'copy/1.bin', CopySource: `docs/src.bin?versionId=${v1}` }));
    expect(out).toMatchObject({ VersionId: v1, CopySourceVersionId: v1, CopyObjectResult: { ETag: expect.stringMatching(/^"/) } });
    expect(await s3.send(new HeadObjectCommand({ Bucket: 'docs', Key: 'copy/1.bin' }))).toMatchObject({ ContentType: 'text/x-a', Metadata: { k: 'v' } });
    await s3.send(new CopyObjectCommand({ Bucket: 'docs', Key: 'copy/2.bin', CopySource: '/docs/src.bin', MetadataDirective: 'REPLACE', ContentType: 'text/x-c' }));
    const second = await s3.send(new HeadObjectCommand({ Bucket: 'docs', Key: 'copy/2.bin' }));
    expect(second.ContentType).toBe('text/x-c');
    expect(second.Metadata).toBeUndefined();
    expect(Buffer.from(s3.getBytes('docs', 'copy/2.bin')).toString()).toBe('two');
    await expect(s3.send(new CopyObjectCommand({ Bucket: 'docs', Key: 'x', CopySource: 'docs' }))).rejects.toMatchObject({ name: 'InvalidArgument' });
    await expect(s3.send(new CopyObjectCommand({ Bucket: 'none', Key: 'x', CopySource: 'docs/src.bin' }))).rejects.toMatchObject({ name: 'NoSuchBucket' });
    expect(parseCopySource('b/a%20b%2Fc.txt')).toEqual({ bucket: 'b', key: 'a b/c.txt' });
  });

  test('ListObjectsV2 with a delimiter rolls keys up into common prefixes, paged with the keys', async () => {
    for (const key of ['a.json', 'd/1', 'd/2', 'e/x/1', 'f.json']) await s3.putObject('docs', key, key);
    const all = await s3.send(new ListObjectsV2Command({ Bucket: 'docs', Delimiter: '/' }));
    expect(all.Contents.map((c: any) => c.Key)).toEqual(['a.json', 'f.json']);
    expect(all.CommonPrefixes).toEqual([{ Prefix: 'd/' }, { Prefix: 'e/' }]);
    expect(all.KeyCount).toBe(4);
    const first = await s3.send(new ListObjectsV2Command({ Bucket: 'docs', Delimiter: '/', MaxKeys: 2 }));
    expect([first.Contents.map((c: any) => c.Key), first.CommonPrefixes]).toEqual([['a.json'], [{ Prefix: 'd/' }]]);
    const rest = await s3.send(new ListObjectsV2Command({ Bucket: 'docs', Delimiter: '/', ContinuationToken: first.NextContinuationToken }));
    expect([rest.Contents.map((c: any) => c.Key), rest.CommonPrefixes]).toEqual([['f.json'], [{ Prefix: 'e/' }]]);
    const nested = await s3.send(new ListObjectsV2Command({ Bucket: 'docs', Prefix: 'e/', Delimiter: '/' }));
    expect([nested.Contents, nested.CommonPrefixes]).toEqual([[], [{ Prefix: 'e/x/' }]]);
  });

  test('HeadBucket and CreateBucket', async () => {
    await expect(s3.send(new HeadBucketCommand({ Bucket: 'new' }))).rejects.toMatchObject({ name: 'NotFound', $metadata: { httpStatusCode: 404 } });
    await s3.send(new CreateBucketCommand({ Bucket: 'new' }));
    expect((await s3.send(new HeadBucketCommand({ Bucket: 'new' }))).$metadata.httpStatusCode).toBe(200);
    expect(s3.bucketExists('new')).toBe(true);
  });

  test('an unknown command names itself', async () => {
    class RestoreObjectCommand { public readonly input = { Bucket: 'b', Key: 'k' }; }
    await expect(s3.send(new RestoreObjectCommand())).rejects.toThrow(/LocalS3 does not implement RestoreObjectCommand/);
  });
});

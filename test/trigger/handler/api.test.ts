import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ApiDeps, handleApiRequest, s3PresignPut } from '../../../src/trigger/handler/api';
import { executionName, idempotentName } from '../../../src/trigger/handler/start-run';
import { fakeStepFunctions, FakeExecution, sfnClient } from '../../helpers/fake-sfn';
import { awsError, RecordingLogger } from '../../helpers/handler-test-kit';

const sfn = mockClient(SFNClient);
const s3 = mockClient(S3Client);
const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:111111111111:stateMachine:Contracts';
const BUCKET = 'docs-bucket';
let executions: Map<string, FakeExecution>;
let presigned: Array<[string, string, number]>;

/** Objects in the fake bucket: key → version. */
const OBJECTS: { [key: string]: { VersionId: string; ContentLength: number; ETag: string } } = {
  'incoming/msa.pdf': { VersionId: 'v1', ContentLength: 8643, ETag: '"e1"' },
  'incoming/nda.pdf': { VersionId: 'v7', ContentLength: 1200, ETag: '"e2"' },
};

beforeEach(() => {
  executions = fakeStepFunctions(sfn, STATE_MACHINE_ARN);
  s3.reset();
  s3.on(HeadObjectCommand).callsFake((input: any) => {
    const o = input.Bucket === BUCKET ? OBJECTS[input.Key] : undefined;
    if (!o) throw awsError('NotFound', 404);
    return o;
  });
  presigned = [];
});

function deps(overrides: Partial<ApiDeps> = {}): ApiDeps {
  return {
    sfn: sfnClient(),
    s3: new S3Client({}),
    presignPut: async (bucket, key, seconds) => {
      presigned.push([bucket, key, seconds]);
      return `https://${bucket}.s3.amazonaws.com/${key}?X-Amz-Signature=x`;
    },
    stateMachineArn: STATE_MACHINE_ARN,
    documentBucket: BUCKET,
    documentPrefix: 'incoming/',
    documentSuffixes: ['.pdf'],
    uploadUrlSeconds: 900,
    logger: new RecordingLogger(),
    newId: () => 'fixed-id',
    ...overrides,
  };
}

function request(httpMethod: string, resource: string, body?: unknown, pathParameters?: { [k: string]: string }): APIGatewayProxyEvent {
  return {
    httpMethod,
    resource,
    path: resource,
    body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: false,
    pathParameters: pathParameters ?? null,
  } as unknown as APIGatewayProxyEvent;
}

async function call(event: APIGatewayProxyEvent, d = deps()): Promise<{ status: number; body: any }> {
  const out = await handleApiRequest(d, event);
  expect(out.headers).toEqual({ 'content-type': 'application/json' });
  return { status: out.statusCode, body: JSON.parse(out.body) };
}

describe('POST /runs', () => {
  test('the same request with an idempotency key twice starts one execution, named after the key', async () => {
    const first = await call(request('POST', '/runs', { key: 'incoming/msa.pdf', idempotencyKey: 'order-42' }));
    const second = await call(request('POST', '/runs', { key: 'incoming/msa.pdf', idempotencyKey: 'order-42' }));
    expect(first).toEqual({
      status: 202,
      body: {
        runId: idempotentName('order-42'),
        status: 'STARTED',
        document: { bucket: BUCKET, key: 'incoming/msa.pdf', versionId: 'v1', size: 8643, etag: 'e1' },
        links: { run: `/runs/${idempotentName('order-42')}` },
      },
    });
    expect(second.status).toBe(200);
    expect(second.body).toEqual({ ...first.body, status: 'ALREADY_STARTED' });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 2);
    const names = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name);
    expect(new Set(names)).toEqual(new Set([idempotentName('order-42')]));
    expect([...executions.keys()]).toEqual([idempotentName('order-42')]);
    expect(JSON.parse(executions.get(idempotentName('order-42'))!.input)).toEqual({ document: first.body.document });
  });

  test('without an idempotency key the run is named after the document version, as the upload trigger names it', async () => {
    const out = await call(request('POST', '/runs', { key: 'incoming/msa.pdf', bucket: BUCKET }));
    const expected = executionName({ bucket: BUCKET, key: 'incoming/msa.pdf', versionId: 'v1' });
    expect(out.body.runId).toBe(expected);
    // The upload event of the same version would use the same name: one run either way.
    expect((await call(request('POST', '/runs', { key: 'incoming/msa.pdf' }))).body.status).toBe('ALREADY_STARTED');
  });

  test('an idempotency key reused for another document is a 409 naming the field, and starts nothing new', async () => {
    await call(request('POST', '/runs', { key: 'incoming/msa.pdf', idempotencyKey: 'k1' }));
    const out = await call(request('POST', '/runs', { key: 'incoming/nda.pdf', idempotencyKey: 'k1' }));
    expect(out).toEqual({ status: 409, body: { error: 'Conflict', field: 'idempotencyKey', message: expect.stringContaining('already used for another document') } });
    expect(executions.size).toBe(1);
  });

  test.each<[string, unknown, string, RegExp]>([
    ['a missing key', { idempotencyKey: 'a' }, 'key', /^`key` is required$/],
    ['a key of the wrong type', { key: 7 }, 'key', /^`key` must be a non-empty string, got: 7$/],
    ['a key outside the prefix', { key: 'other/msa.pdf' }, 'key', /^`key` must start with 'incoming\/' and end with '\.pdf', got: "other\/msa\.pdf"$/],
    ['a key with another suffix', { key: 'incoming/msa.docx' }, 'key', /end with '\.pdf'/],
    ['another bucket', { key: 'incoming/msa.pdf', bucket: 'elsewhere' }, 'bucket', /^`bucket` must be the pipeline's document bucket 'docs-bucket', got: "elsewhere"$/],
    ['a bad idempotency key', { key: 'incoming/msa.pdf', idempotencyKey: 'has space' }, 'idempotencyKey', /^`idempotencyKey` must be 1-128 letters/],
    ['an unknown field', { key: 'incoming/msa.pdf', priority: 1 }, 'priority', /^`priority` is not a field of this request/],
    ['a body that is not JSON', 'not json', 'body', /^the body must be a JSON object/],
    ['a JSON array', [1], 'body', /^the body must be a JSON object, got: an array$/],
  ])('%s: 400 naming the field', async (_what, body, field, message) => {
    const out = await call(request('POST', '/runs', body));
    expect(out.status).toBe(400);
    expect(out.body).toEqual({ error: 'BadRequest', field, message: expect.stringMatching(message) });
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  test('a key with no object is a 404 naming the key', async () => {
    const out = await call(request('POST', '/runs', { key: 'incoming/missing.pdf' }));
    expect(out).toEqual({ status: 404, body: { error: 'NotFound', field: 'key', message: expect.stringContaining('upload it first') } });
  });

  test('a Step Functions failure is a 500 that says retrying is safe, and logs no document key', async () => {
    sfn.on(StartExecutionCommand).rejects(awsError('ThrottlingException'));
    const logger = new RecordingLogger();
    const out = await call(request('POST', '/runs', { key: 'incoming/msa.pdf' }), deps({ logger }));
    expect(out).toEqual({ status: 500, body: { error: 'InternalError', message: expect.stringContaining('never starts a second run') } });
    expect(logger.entries).toEqual([{ level: 'error', message: 'request failed', extra: [{ errorName: 'ThrottlingException' }] }]);
    expect(logger.text()).not.toContain('msa.pdf');
  });
});

describe('POST /uploads', () => {
  test('returns a presigned PUT under <prefix>uploads/, and the POST /runs to send after', async () => {
    const out = await call(request('POST', '/uploads', { fileName: 'msa.pdf' }));
    expect(out).toEqual({
      status: 201,
      body: {
        uploadUrl: 'https://docs-bucket.s3.amazonaws.com/incoming/uploads/fixed-id/msa.pdf?X-Amz-Signature=x',
        method: 'PUT',
        bucket: BUCKET,
        key: 'incoming/uploads/fixed-id/msa.pdf',
        expiresInSeconds: 900,
        next: { method: 'POST', path: '/runs', body: { key: 'incoming/uploads/fixed-id/msa.pdf' } },
      },
    });
    expect(presigned).toEqual([[BUCKET, 'incoming/uploads/fixed-id/msa.pdf', 900]]);
  });

  test('the same idempotency key gets the same upload key', async () => {
    const a = await call(request('POST', '/uploads', { fileName: 'msa.pdf', idempotencyKey: 'u-1' }), deps({ newId: () => 'a' }));
    const b = await call(request('POST', '/uploads', { fileName: 'msa.pdf', idempotencyKey: 'u-1' }), deps({ newId: () => 'b' }));
    expect(a.body.key).toBe(b.body.key);
    expect(a.body.key).toMatch(/^incoming\/uploads\/[0-9a-f]{32}\/msa\.pdf$/);
    expect(a.body.next.body).toEqual({ key: a.body.key, idempotencyKey: 'u-1' });
  });

  test.each<[unknown, string, RegExp]>([
    [{}, 'fileName', /^`fileName` is required$/],
    [{ fileName: 'a/b.pdf' }, 'fileName', /^`fileName` must be one file name/],
    [{ fileName: 'msa.docx' }, 'fileName', /^`fileName` must start with 'incoming\/' and end with '\.pdf'/],
  ])('%j: 400 naming the field', async (body, field, message) => {
    const out = await call(request('POST', '/uploads', body));
    expect(out).toEqual({ status: 400, body: { error: 'BadRequest', field, message: expect.stringMatching(message) } });
    expect(presigned).toEqual([]);
  });

  test('the real presigner signs a PUT of exactly that key, valid for the given seconds, offline', async () => {
    const client = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });
    const url = new URL(await s3PresignPut(client)(BUCKET, 'incoming/uploads/x/msa.pdf', 900));
    expect(url.hostname).toBe(`${BUCKET}.s3.us-east-1.amazonaws.com`);
    expect(url.pathname).toBe('/incoming/uploads/x/msa.pdf');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDEXAMPLE\/\d{8}\/us-east-1\/s3\/aws4_request$/);
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('GET /runs/{runId}', () => {
  test('a running run: its status and document', async () => {
    const started = await call(request('POST', '/runs', { key: 'incoming/msa.pdf' }));
    const out = await call(request('GET', '/runs/{runId}', undefined, { runId: started.body.runId }));
    expect(out).toEqual({
      status: 200,
      body: { runId: started.body.runId, status: 'RUNNING', startDate: '1970-01-01T00:00:00.000Z', document: started.body.document },
    });
  });

  test('a finished run: its route, outputs (the result pointer) and audit record', async () => {
    const started = await call(request('POST', '/runs', { key: 'incoming/msa.pdf' }));
    const e = executions.get(started.body.runId)!;
    e.status = 'SUCCEEDED';
    e.output = JSON.stringify({
      document: started.body.document,
      results: { Extract: { pages: 2 } },
      route: { rule: 'high-risk', destination: 'legal' },
      outputs: { Results: { bucket: 'results', key: `results/Contracts/${started.body.runId}.json` } },
      audit: { record: { bucket: 'audit', key: `runs/${started.body.runId}.json` } },
    });
    const out = await call(request('GET', '/runs/{runId}', undefined, { runId: started.body.runId }));
    expect(out.body).toEqual({
      runId: started.body.runId,
      status: 'SUCCEEDED',
      startDate: '1970-01-01T00:00:00.000Z',
      stopDate: '1970-01-01T00:01:00.000Z',
      document: started.body.document,
      route: { rule: 'high-risk', destination: 'legal' },
      outputs: { Results: { bucket: 'results', key: `results/Contracts/${started.body.runId}.json` } },
      audit: { bucket: 'audit', key: `runs/${started.body.runId}.json` },
    });
    expect(JSON.stringify(out.body)).not.toContain('pages');
  });

  test('an unknown run is a 404; a malformed id a 400 naming runId', async () => {
    const unknown = 'a'.repeat(64);
    expect(await call(request('GET', '/runs/{runId}', undefined, { runId: unknown }))).toEqual({ status: 404, body: { error: 'NotFound', field: 'runId', message: `no run ${unknown}` } });
    const bad = await call(request('GET', '/runs/{runId}', undefined, { runId: '../x' }));
    expect(bad).toEqual({ status: 400, body: { error: 'BadRequest', field: 'runId', message: expect.stringMatching(/^`runId` must be 64 lowercase hex characters/) } });
  });
});

test('an unknown route is a 404', async () => {
  expect((await call(request('DELETE', '/runs'))).status).toBe(404);
});

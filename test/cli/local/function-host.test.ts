/**
 * A user's Lambda handler in the function host: its own worker and environment, the real AWS SDK
 * pointed at the runner's S3 endpoint and at the catch-all for the other services, Lambda's error
 * report, timeouts and cold starts.
 */
import * as fs from 'fs';
import * as path from 'path';
import { tempDir } from './adapters/fixtures';
import { LocalS3 } from '../../../src/cli/local/adapters/local-s3';
import {
  createFunctionHost, FunctionError, FunctionHost, FunctionHostSpec, FunctionLogEntry, functionEnvironment,
} from '../../../src/cli/local/function-host';
import { LocalEndpoint, startS3Endpoint, startUnservedEndpoint, UNSERVED_ERROR } from '../../../src/cli/local/s3-endpoint';

/** The SDK the functions require comes from this repository, as Lambda's comes from its NODE_PATH. */
const NODE_MODULES = path.resolve(__dirname, '../../../node_modules');

let dir: string;
let cleanup: () => void;
let s3: LocalS3;
let s3Endpoint: LocalEndpoint;
let unserved: LocalEndpoint;
const hosts: FunctionHost[] = [];
let logs: FunctionLogEntry[];

beforeAll(async () => {
  ({ dir, cleanup } = tempDir());
  s3 = new LocalS3(path.join(dir, 's3'));
  s3Endpoint = await startS3Endpoint(s3);
  unserved = await startUnservedEndpoint();
});
afterAll(async () => {
  await s3Endpoint.close();
  await unserved.close();
  cleanup();
});
beforeEach(() => {
  logs = [];
});
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.close()));
});

/** Writes the module and hosts it as `<file>.handler`, with the local environment. */
function host(file: string, code: string, options: Partial<FunctionHostSpec> & { fnEnv?: { [k: string]: string } } = {}): FunctionHost {
  const modulePath = path.join(dir, file);
  fs.writeFileSync(modulePath, code);
  const name = options.name ?? path.basename(file).replace(/\..*$/, '');
  const h = createFunctionHost({
    name,
    modulePath,
    exportName: 'handler',
    env: functionEnvironment({
      functionName: name,
      env: options.fnEnv,
      s3Url: s3Endpoint.url,
      unservedUrl: unserved.url,
      nodePath: [NODE_MODULES],
      taskRoot: dir,
    }),
    timeoutMs: 20_000,
    onLog: (entry) => logs.push(entry),
    ...options,
  });
  hosts.push(h);
  return h;
}

/** A handler that reads the text a pointer names, with the real S3 client and no endpoint in its code. */
const READER = `
const { S3Client, GetObjectCommand } = require('@aws-sdk/client-s3');
const s3 = new S3Client({});
let calls = 0;
exports.handler = async (event, context) => {
  calls++;
  const out = await s3.send(new GetObjectCommand({ Bucket: event.text.bucket, Key: event.text.key, VersionId: event.text.versionId }));
  const text = JSON.parse(await out.Body.transformToString()).text;
  console.log('read %d characters', text.length);
  process.env.SET_BY_THE_FUNCTION = 'yes';
  return {
    words: text.split(/\\s+/).length,
    calls,
    mode: process.env.MODE,
    endpoint: process.env.AWS_ENDPOINT_URL_S3,
    profile: process.env.AWS_PROFILE ?? null,
    functionName: context.functionName,
    requestId: context.awsRequestId,
    remaining: context.getRemainingTimeInMillis() > 0,
  };
};`;

describe('the function host', () => {
  test('a handler reads a text pointer through the S3 endpoint, in its own environment, warm on the next call', async () => {
    const put = await s3.putObject('work-bucket', 'stages/Extract/run-1/text.json', JSON.stringify({ text: 'three little words' }), 'application/json');
    const before = { ...process.env };
    const reader = host('reader.js', READER, { fnEnv: { MODE: 'strict', AWS_REGION: 'eu-west-9' } });
    const event = { text: { bucket: 'work-bucket', key: 'stages/Extract/run-1/text.json', versionId: put.VersionId } };

    const first: any = await reader.invoke(event);
    expect(first).toMatchObject({
      words: 3, calls: 1, mode: 'strict', endpoint: s3Endpoint.url, profile: null, functionName: 'reader', remaining: true,
    });
    expect(first.requestId).toMatch(/^[0-9a-f-]{36}$/);
    // The same worker serves the next invocation (module state survives, as in a warm sandbox).
    const second: any = await reader.invoke(event);
    expect(second.calls).toBe(2);
    expect(second.requestId).not.toBe(first.requestId);

    // The runner's environment is untouched, whatever the function's is or does.
    expect(process.env).toEqual(before);
    expect(logs).toContainEqual({ functionName: 'reader', requestId: first.requestId, level: 'log', message: 'read 18 characters' });
  });

  test('functionEnvironment: the function\'s variables, then Lambda\'s reserved ones and the endpoints, nothing of the runner\'s', () => {
    const env = functionEnvironment({
      functionName: 'fn',
      env: { TABLE: 't', AWS_REGION: 'x', AWS_ACCESS_KEY_ID: 'real-looking' },
      s3Url: 'http://127.0.0.1:1',
      unservedUrl: 'http://127.0.0.1:2',
      region: 'eu-central-1',
    });
    expect(env).toMatchObject({
      TABLE: 't',
      AWS_REGION: 'eu-central-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:1',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:2',
      AWS_LAMBDA_FUNCTION_NAME: 'fn',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    expect(Object.keys(env).filter((k) => !/^(AWS_|LANG$|PATH$|TABLE$)/.test(k))).toEqual([]);
    expect(env.AWS_SESSION_TOKEN).toBeUndefined();
  });

  test('a call to a service the runner does not serve fails with a message naming it', async () => {
    const fn = host('unserved.js', `
const { DynamoDBClient, GetItemCommand } = require('@aws-sdk/client-dynamodb');
const { LambdaClient, InvokeCommand } = require('@aws-sdk/client-lambda');
exports.handler = async (event) => {
  if (event.call === 'dynamodb') {
    return new DynamoDBClient({}).send(new GetItemCommand({ TableName: 'customers', Key: { id: { S: '1' } } }));
  }
  return new LambdaClient({}).send(new InvokeCommand({ FunctionName: 'enrich', Payload: '{}' }));
};`);
    const dynamo = await fn.invoke({ call: 'dynamodb' }).catch((e: FunctionError) => e);
    expect(dynamo).toMatchObject({
      name: UNSERVED_ERROR,
      message: 'the local runner does not serve dynamodb (DynamoDB_20120810.GetItem): run this stage with --live, or pass a module with --function',
    });
    const lambda = await fn.invoke({ call: 'lambda' }).catch((e: FunctionError) => e) as FunctionError;
    expect(lambda.errorType).toBe(UNSERVED_ERROR);
    expect(lambda.errorMessage).toMatch(/^the local runner does not serve lambda \(POST \/2015-03-31\/functions\/enrich\/invocations\)/);
  });

  test('a thrown error keeps its name, message and the top of its stack; Lambda\'s errorType/errorMessage/trace too', async () => {
    const fn = host('thrower.js', `
function checkText(text) {
  if (!text) {
    const err = new Error('nothing to read');
    err.name = 'Document.NoText';
    throw err;
  }
}
exports.handler = async (event) => { checkText(event.text); return 'unreached'; };`);
    const err = await fn.invoke({ text: '' }).catch((e: FunctionError) => e) as FunctionError;
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('Document.NoText');
    expect(err.message).toBe('nothing to read');
    const stack = err.stack!.split('\n');
    expect(stack[0]).toBe('Document.NoText: nothing to read');
    expect(stack[1]).toContain(`checkText (${path.join(dir, 'thrower.js')}:4:`);
    expect(stack.length).toBeLessThanOrEqual(10);
    expect(err.errorType).toBe('Document.NoText');
    expect(err.errorMessage).toBe('nothing to read');
    expect(err.trace.slice(0, 2)).toEqual(stack.slice(0, 2));

    // A thrown value that is not an Error is reported as Lambda reports it (errorType = its type).
    const plain = host('plain.js', 'exports.handler = async () => { throw "just a string"; };');
    await expect(plain.invoke({})).rejects.toMatchObject({ name: 'string', errorMessage: 'just a string', trace: [] });
  });

  test('a timeout ends the worker with Sandbox.Timedout, naming the function; the next call is a cold start', async () => {
    const fn = host('slow.js', `
let calls = 0;
exports.handler = async (event) => {
  calls++;
  if (event.hang) await new Promise(() => setInterval(() => undefined, 1000));
  return { calls };
};`, { timeoutMs: 300 });
    expect(await fn.invoke({})).toEqual({ calls: 1 });
    const err = await fn.invoke({ hang: true }).catch((e: FunctionError) => e) as FunctionError;
    expect(err).toMatchObject({ name: 'Sandbox.Timedout', errorType: 'Sandbox.Timedout', message: 'the function slow timed out after 300 ms in an invocation' });
    // A new sandbox: the module's state starts again.
    expect(await fn.invoke({})).toEqual({ calls: 1 });
  });

  test('ES modules, callback handlers, JSON results', async () => {
    const esm = host('esm.mjs', `
import { basename } from 'node:path';
export const handler = async (event, context) => ({ file: basename(import.meta.url), at: new Date(0), name: context.functionName });`);
    expect(await esm.invoke({})).toEqual({ file: 'esm.mjs', at: '1970-01-01T00:00:00.000Z', name: 'esm' });

    const callback = host('callback.js', `
exports.handler = (event, context, callback) => {
  setImmediate(() => (event.fail ? callback(new TypeError('bad input')) : callback(null, { doubled: event.n * 2 })));
};`);
    expect(await callback.invoke({ n: 21 })).toEqual({ doubled: 42 });
    await expect(callback.invoke({ fail: true })).rejects.toMatchObject({ name: 'TypeError', message: 'bad input' });

    const nothing = host('nothing.js', 'exports.handler = async () => undefined;');
    expect(await nothing.invoke({})).toBeNull();
  });

  test('a module that does not load or has no such export fails each invocation with Lambda\'s init errors', async () => {
    const missing = host('missing.js', "require('./no-such-module'); exports.handler = async () => 1;");
    await expect(missing.invoke({})).rejects.toMatchObject({ name: 'Runtime.ImportModuleError', message: expect.stringContaining("Cannot find module './no-such-module'") });
    const broken = host('broken.js', 'exports.handler = async () => {;');
    await expect(broken.invoke({})).rejects.toMatchObject({ name: 'Runtime.UserCodeSyntaxError' });
    const wrong = host('wrong.js', 'exports.main = async () => 1;');
    await expect(wrong.invoke({})).rejects.toMatchObject({ name: 'Runtime.HandlerNotFound', message: expect.stringContaining('handler is undefined or not exported') });
    // Fixing the file fixes the next invocation: a failed init is retried, as Lambda retries it.
    fs.writeFileSync(path.join(dir, 'wrong.js'), 'exports.handler = async () => 1;');
    expect(await wrong.invoke({})).toBe(1);
  });

  test('process.exit in the function ends its worker only (Runtime.ExitError); raw stdout is forwarded', async () => {
    const fn = host('exits.js', `
exports.handler = async (event) => {
  process.stdout.write('raw line\\n');
  if (event.exit) process.exit(3);
  return 'alive';
};`);
    expect(await fn.invoke({})).toBe('alive');
    await expect(fn.invoke({ exit: true })).rejects.toMatchObject({ name: 'Runtime.ExitError', message: expect.stringContaining('exited with status 3') });
    expect(await fn.invoke({})).toBe('alive');
    expect(logs.filter((l) => l.level === 'stdout').map((l) => l.message)).toContain('raw line');
  });

  test('invocations queue on the one worker; after close() none is accepted', async () => {
    const fn = host('queue.js', `
let running = 0;
exports.handler = async (event) => {
  running++;
  const overlapped = running > 1;
  await new Promise((r) => setTimeout(r, 20));
  running--;
  return { i: event.i, overlapped };
};`);
    const results = await Promise.all([1, 2, 3].map((i) => fn.invoke({ i })));
    expect(results).toEqual([1, 2, 3].map((i) => ({ i, overlapped: false })));
    await fn.close();
    await expect(fn.invoke({ i: 4 })).rejects.toThrow('the function host of queue is closed');
  });
});

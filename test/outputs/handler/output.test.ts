import { createHash } from 'crypto';
import * as fs from 'fs';
import { BedrockRuntimeClient, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import Ajv2020 from 'ajv/dist/2020';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ResultOutput } from '../../../src';
import { OutputConfig, OutputDeps, OutputInvocation, runOutput } from '../../../src/outputs/handler/output';
import { bedrockEmbedder, HttpSend, SignedIndex } from '../../../src/outputs/handler/signed-index';
import { RecordingLogger } from '../../helpers/handler-test-kit';

const s3 = mockClient(S3Client);
const bedrock = mockClient(BedrockRuntimeClient);
const RUN_ID = 'c'.repeat(64);
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };

const INVOCATION: OutputInvocation = {
  runId: RUN_ID,
  startedAt: '2026-01-01T00:00:00.000Z',
  state: {
    document: { bucket: 'docs', key: 'incoming/msa.pdf', versionId: 'v1', size: 10, etag: 'e' },
    results: {
      Extract: { text: { bucket: 'work', key: `stages/Extract/${RUN_ID}/text.json` }, pages: 1 },
      Classify: { documentType: 'MSA', confidence: 0.9 },
    },
    route: { rule: 'default', destination: 'review' },
  },
};

beforeEach(() => {
  s3.reset();
  bedrock.reset();
  s3.on(PutObjectCommand).resolves({ VersionId: 'rv1' });
});

const base = { output: 'Results', pipeline: 'Contracts', stages: ['Extract', 'Classify', 'Summarize'] };

function deps(config: OutputConfig, more: Partial<OutputDeps> = {}): OutputDeps {
  return { s3: new S3Client({}), config, resultsBucket: 'results-bucket', auditBucket: 'audit-bucket', logger: new RecordingLogger(), ...more };
}

describe('the S3 output', () => {
  test('writes a result document that the published schema accepts, at results/<pipeline>/<runId>.json', async () => {
    const out = await runOutput(deps({ ...base, kind: 's3', prefix: 'results/' }), INVOCATION);
    const put = s3.commandCalls(PutObjectCommand)[0].args[0].input;
    expect([put.Bucket, put.Key, put.ContentType]).toEqual(['results-bucket', `results/Contracts/${RUN_ID}.json`, 'application/json']);
    const doc = JSON.parse(String(put.Body));
    expect(out).toEqual({ bucket: 'results-bucket', key: put.Key, versionId: 'rv1', sha256: createHash('sha256').update(String(put.Body)).digest('hex') });
    expect(doc).toEqual({
      schemaVersion: '1',
      pipeline: 'Contracts',
      runId: RUN_ID,
      startedAt: '2026-01-01T00:00:00.000Z',
      document: INVOCATION.state.document,
      results: INVOCATION.state.results,
      route: { rule: 'default', destination: 'review' },
      audit: {
        run: { bucket: 'audit-bucket', key: `runs/${RUN_ID}.json` },
        // Summarize did not run: no pointer to a record that does not exist.
        stages: { Extract: { bucket: 'audit-bucket', key: `stages/Extract/${RUN_ID}.json` }, Classify: { bucket: 'audit-bucket', key: `stages/Classify/${RUN_ID}.json` } },
      },
    });
    const schema = JSON.parse(fs.readFileSync(ResultOutput.RESULT_DOCUMENT_SCHEMA_FILE, 'utf8'));
    const validate = new Ajv2020({ strict: true, validateFormats: false }).compile(schema);
    expect(validate(doc)).toBe(true);
    expect(validate({ ...doc, route: { rule: 'x' } })).toBe(false);
    expect(validate({ ...doc, extra: 1 })).toBe(false);
  });

  test('a run with no routing has route null', async () => {
    await runOutput(deps({ ...base, kind: 's3', prefix: '' }), { ...INVOCATION, state: { ...INVOCATION.state, route: undefined } });
    const put = s3.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(put.Key).toBe(`Contracts/${RUN_ID}.json`);
    expect(JSON.parse(String(put.Body)).route).toBeNull();
  });
});

/** An OpenSearch stand-in: records each signed request and answers like the service. */
function fakeOpenSearch(answers: Array<{ status: number; body: object }> = []) {
  const requests: Array<{ url: string; method: string; headers: { [k: string]: string }; body: any }> = [];
  const send: HttpSend = async (url, init) => {
    requests.push({ url, method: init.method, headers: init.headers, body: JSON.parse(init.body ?? 'null') });
    const a = answers.shift() ?? { status: 200, body: { _id: url.split('/').pop() } };
    return { status: a.status, text: async () => JSON.stringify(a.body) };
  };
  return { requests, send };
}

const searchConfig: OutputConfig = {
  ...base,
  output: 'Index',
  kind: 'opensearch',
  index: 'contracts',
  fields: ['Classify.documentType', 'Classify.confidence', 'Summarize.riskScore'],
  indexBody: { mappings: { dynamic: 'false', properties: { runId: { type: 'keyword' } } } },
  service: 'aoss',
  customIds: true,
};

describe('the OpenSearch output', () => {
  test('creates the index once, then PUTs the run under its id, SigV4-signed for aoss with the payload hash', async () => {
    const os = fakeOpenSearch();
    const index = new SignedIndex({ endpoint: 'https://abc123.us-east-1.aoss.amazonaws.com', region: 'us-east-1', service: 'aoss', credentials: CREDENTIALS, send: os.send });
    const out = await runOutput(deps(searchConfig, { index }), INVOCATION);
    await runOutput(deps(searchConfig, { index }), INVOCATION);
    expect(out).toEqual({ index: 'contracts', id: RUN_ID });
    expect(os.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'PUT https://abc123.us-east-1.aoss.amazonaws.com/contracts',
      `PUT https://abc123.us-east-1.aoss.amazonaws.com/contracts/_doc/${RUN_ID}`,
      `PUT https://abc123.us-east-1.aoss.amazonaws.com/contracts/_doc/${RUN_ID}`,
    ]);
    expect(os.requests[0].body).toEqual(searchConfig.indexBody);
    expect(os.requests[1].body).toEqual({
      runId: RUN_ID,
      pipeline: 'Contracts',
      startedAt: '2026-01-01T00:00:00.000Z',
      document: { bucket: 'docs', key: 'incoming/msa.pdf' },
      route: { rule: 'default', destination: 'review' },
      results: { Classify: { documentType: 'MSA', confidence: 0.9 } },
    });
    const headers = os.requests[1].headers;
    expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/aoss\/aws4_request, SignedHeaders=[^ ]*host[^ ]*x-amz-content-sha256[^ ]*, Signature=[0-9a-f]{64}$/);
    expect(headers['x-amz-content-sha256']).toBe(createHash('sha256').update(JSON.stringify(os.requests[1].body)).digest('hex'));
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });

  test('an index that already exists is fine; a vector collection gets POST (no custom ids)', async () => {
    const os = fakeOpenSearch([{ status: 400, body: { error: { type: 'resource_already_exists_exception' } } }, { status: 201, body: { _id: 'generated-1' } }]);
    const index = new SignedIndex({ endpoint: 'abc.us-east-1.aoss.amazonaws.com', region: 'us-east-1', service: 'aoss', credentials: CREDENTIALS, send: os.send });
    const out = await runOutput(deps({ ...searchConfig, customIds: false }, { index }), INVOCATION);
    expect(out).toEqual({ index: 'contracts', id: 'generated-1' });
    expect(os.requests[1].method).toBe('POST');
    expect(os.requests[1].url).toBe('https://abc.us-east-1.aoss.amazonaws.com/contracts/_doc');
  });

  test.each<[number, string]>([[429, 'OpenSearch.Throttled'], [403, 'OpenSearch.AccessDenied'], [503, 'OpenSearch.Unavailable'], [400, 'OpenSearch.Rejected']])(
    'HTTP %d on indexing is the named error %s', async (status, name) => {
      const os = fakeOpenSearch([{ status: 200, body: {} }, { status, body: { error: 'x' } }]);
      const index = new SignedIndex({ endpoint: 'abc.us-east-1.aoss.amazonaws.com', region: 'us-east-1', service: 'aoss', credentials: CREDENTIALS, send: os.send });
      await expect(runOutput(deps(searchConfig, { index }), INVOCATION)).rejects.toMatchObject({ name });
    });

  test('with an embedding: the Extract text is read from S3, embedded by Bedrock (Titan V2 request shape), and stored', async () => {
    s3.on(GetObjectCommand).resolves({ Body: { transformToByteArray: async () => Buffer.from(JSON.stringify({ pages: [{ text: 'Page one' }, { text: 'Page two' }] })) } as any });
    bedrock.on(InvokeModelCommand).resolves({ body: Buffer.from(JSON.stringify({ embedding: [0.6, 0.8, 0] })) as any });
    const os = fakeOpenSearch();
    const index = new SignedIndex({ endpoint: 'abc.us-east-1.aoss.amazonaws.com', region: 'us-east-1', service: 'aoss', credentials: CREDENTIALS, send: os.send });
    const config: OutputConfig = { ...searchConfig, embedding: { modelId: 'amazon.titan-embed-text-v2:0', dimension: 3, textFrom: 'Extract', maxChars: 12 } };
    const embed = bedrockEmbedder(new BedrockRuntimeClient({}), 'amazon.titan-embed-text-v2:0', 3);
    await runOutput(deps(config, { index, embed }), INVOCATION);
    expect(s3.commandCalls(GetObjectCommand)[0].args[0].input).toEqual(expect.objectContaining({ Bucket: 'work', Key: `stages/Extract/${RUN_ID}/text.json` }));
    const call = bedrock.commandCalls(InvokeModelCommand)[0].args[0].input;
    expect(call.modelId).toBe('amazon.titan-embed-text-v2:0');
    expect(JSON.parse(String(call.body))).toEqual({ inputText: 'Page one\n\nPa', dimensions: 3, normalize: true });
    expect(os.requests[1].body.embedding).toEqual([0.6, 0.8, 0]);
  });

  test('an embedding of the wrong length fails rather than break the index', async () => {
    s3.on(GetObjectCommand).resolves({ Body: { transformToByteArray: async () => Buffer.from('plain text') } as any });
    const os = fakeOpenSearch();
    const index = new SignedIndex({ endpoint: 'abc.us-east-1.aoss.amazonaws.com', region: 'us-east-1', service: 'aoss', credentials: CREDENTIALS, send: os.send });
    const config: OutputConfig = { ...searchConfig, embedding: { modelId: 'm', dimension: 4, textFrom: 'Extract', maxChars: 100 } };
    await expect(runOutput(deps(config, { index, embed: async () => [1, 0] }), INVOCATION)).rejects.toThrow('the embedding model answered 2 dimensions; the index expects 4');
    expect(os.requests.filter((r) => r.url.includes('_doc'))).toEqual([]);
  });
});

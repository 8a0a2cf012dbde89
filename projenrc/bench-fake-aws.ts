/**
 * A fake AWS endpoint on 127.0.0.1 for the cold-start benchmark: answers the calls the handlers
 * make with small, valid responses, so a bundled handler (which carries its own SDK copy, out of
 * reach of aws-sdk-client-mock) makes real SDK calls over HTTP. Point a process at it with
 * `AWS_ENDPOINT_URL` and dummy credentials, and Bedrock Runtime (whose client speaks HTTP/2) at
 * `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` = `http2Url` (cleartext HTTP/2).
 *
 * Requests are told apart by the service in the SigV4 credential scope, then by `X-Amz-Target`
 * (JSON protocols) or the path (REST protocols). Signatures are not checked. Unknown calls answer
 * 400 with the call named, so a benchmark that makes them fails loudly instead of measuring errors.
 */
import * as http from 'http';
import * as http2 from 'http2';
import { AddressInfo } from 'net';

/** Canned replies the benchmark chooses per run. */
export interface FakeAwsReplies {
  /** The Converse reply's text (the model's JSON). */
  readonly converseText: string;
  /** The SageMaker endpoint's JSON body. */
  readonly endpointBody: unknown;
  /** The user function's JSON payload. */
  readonly functionPayload: unknown;
  /** The lines DetectDocumentText finds on page 1. */
  readonly textractLines: readonly string[];
}

export interface FakeAws {
  /** HTTP/1.1: every service but Bedrock Runtime. */
  readonly url: string;
  /** Cleartext HTTP/2 (prior knowledge), for the Bedrock Runtime client's default HTTP/2 handler. */
  readonly http2Url: string;
  /** Objects by `bucket/key`; the benchmark seeds the documents the handlers read. */
  readonly objects: Map<string, Buffer>;
  /** `service operation` of every call answered, in order (to check a handler and its floor agree). */
  readonly calls: string[];
  close(): Promise<void>;
}

const ISO = '2026-01-01T00:00:00.000Z';

export async function startFakeAws(replies: FakeAwsReplies): Promise<FakeAws> {
  const objects = new Map<string, Buffer>();
  const calls: string[] = [];
  const serve = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        answer(req, Buffer.concat(chunks), res);
      } catch (err: any) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err?.stack ?? err));
      }
    });
  };
  const server = http.createServer(serve);
  const server2 = http2.createServer(serve as any);
  const sessions = new Set<http2.ServerHttp2Session>();
  server2.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });

  function json(res: http.ServerResponse, body: unknown, contentType = 'application/x-amz-json-1.1', headers: http.OutgoingHttpHeaders = {}) {
    const text = Buffer.from(JSON.stringify(body));
    res.writeHead(200, { 'content-type': contentType, 'content-length': text.length, 'x-amzn-requestid': 'bench', ...headers }).end(text);
  }

  function answer(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) {
    const service = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? '?';
    const target = String(req.headers['x-amz-target'] ?? '');
    const url = new URL(req.url ?? '/', 'http://x');
    const path = decodeURIComponent(url.pathname);
    // The operation, without object keys or resource names: `GET /bucket`, `POST /model`, `DetectDocumentText`.
    const op = target ? target.split('.').pop()! : `${req.method} ${path.split('/').slice(0, 2).join('/')}`;
    calls.push(`${service} ${op}`);

    if (service === 's3') {
      const key = path.slice(1);
      if (req.method === 'PUT') {
        objects.set(key, body);
        res.writeHead(200, { 'etag': '"bench"', 'x-amz-version-id': 'v1', 'content-length': 0 }).end();
        return;
      }
      const data = objects.get(key);
      if (!data) {
        const xml = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>${key}</Message></Error>`;
        res.writeHead(404, { 'content-type': 'application/xml' }).end(req.method === 'HEAD' ? undefined : xml);
        return;
      }
      const common = { 'content-type': 'application/octet-stream', 'etag': '"bench"', 'last-modified': new Date(ISO).toUTCString(), 'accept-ranges': 'bytes' };
      if (req.method === 'HEAD') {
        res.writeHead(200, { ...common, 'content-length': data.length }).end();
        return;
      }
      const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
      if (range) {
        const start = Number(range[1]);
        const end = Math.min(range[2] ? Number(range[2]) : data.length - 1, data.length - 1);
        const part = data.subarray(start, end + 1);
        res.writeHead(206, { ...common, 'content-length': part.length, 'content-range': `bytes ${start}-${end}/${data.length}` }).end(part);
        return;
      }
      res.writeHead(200, { ...common, 'content-length': data.length }).end(data);
      return;
    }
    if (service === 'textract' && target === 'Textract.DetectDocumentText') {
      const blocks = [
        { BlockType: 'PAGE', Id: 'p1', Page: 1, Confidence: 99.9 },
        ...replies.textractLines.map((text, i) => ({ BlockType: 'LINE', Id: `l${i}`, Page: 1, Confidence: 99.5, Text: text })),
      ];
      json(res, { DocumentMetadata: { Pages: 1 }, Blocks: blocks, DetectDocumentTextModelVersion: '1.0' });
      return;
    }
    if (service === 'events' && target === 'AWSEvents.PutEvents') {
      const entries = JSON.parse(body.toString()).Entries ?? [];
      json(res, { FailedEntryCount: 0, Entries: entries.map((_: unknown, i: number) => ({ EventId: `e${i}` })) });
      return;
    }
    if (service === 'states' && target === 'AWSStepFunctions.StartExecution') {
      const { stateMachineArn, name } = JSON.parse(body.toString());
      json(res, { executionArn: `${String(stateMachineArn).replace(':stateMachine:', ':execution:')}:${name}`, startDate: 1767225600 }, 'application/x-amz-json-1.0');
      return;
    }
    if (service === 'states' && target === 'AWSStepFunctions.SendTaskSuccess') {
      json(res, {}, 'application/x-amz-json-1.0');
      return;
    }
    if (service === 'bedrock' && /^\/guardrail\/[^/]+\/version\/[^/]+\/apply$/.test(path)) {
      json(res, {
        action: 'NONE',
        outputs: [],
        assessments: [{ contentPolicy: { filters: [] } }],
        usage: {
          topicPolicyUnits: 0,
          contentPolicyUnits: 1,
          wordPolicyUnits: 0,
          sensitiveInformationPolicyUnits: 0,
          sensitiveInformationPolicyFreeUnits: 0,
          contextualGroundingPolicyUnits: 0,
        },
      }, 'application/json');
      return;
    }
    if (service === 'bedrock' && /^\/model\/.+\/converse$/.test(path)) {
      json(res, {
        output: { message: { role: 'assistant', content: [{ text: replies.converseText }] } },
        stopReason: 'end_turn',
        usage: { inputTokens: 900, outputTokens: 120, totalTokens: 1020 },
        metrics: { latencyMs: 1 },
      }, 'application/json');
      return;
    }
    if (service === 'sagemaker' && /^\/endpoints\/[^/]+\/invocations$/.test(path)) {
      json(res, replies.endpointBody, 'application/json', { 'x-amzn-invoked-production-variant': 'AllTraffic' });
      return;
    }
    if (service === 'lambda' && /^\/2015-03-31\/functions\/[^/]+\/invocations$/.test(path)) {
      json(res, replies.functionPayload, 'application/json', { 'x-amz-executed-version': '$LATEST' });
      return;
    }
    res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ message: `fake AWS does not answer ${service} ${op}` }));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => server2.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    http2Url: `http://127.0.0.1:${(server2.address() as AddressInfo).port}`,
    objects,
    calls,
    close: async () => {
      server.closeAllConnections();
      for (const s of sessions) s.destroy();
      await Promise.all([
        new Promise<void>((resolve) => server.close(() => resolve())),
        new Promise<void>((resolve) => server2.close(() => resolve())),
      ]);
    },
  };
}

/**
 * The OpenSearch index port over HTTPS signed with SigV4 (service `aoss` for a Serverless collection,
 * `es` for a domain), with no OpenSearch client library: two requests (create the index, index a
 * document) do not need one. Also the Bedrock embedder of the output.
 */
import { createHash, createHmac } from 'crypto';
import { BedrockRuntimeClient, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { SignatureV4 } from '@smithy/signature-v4';
import { IndexPort } from './output';

/** sha256 / HMAC-sha256 in the shape the signer takes, on Node's crypto. */
class NodeSha256 {
  private readonly hash;
  constructor(secret?: string | Uint8Array) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', Buffer.from(secret as any));
  }
  public update(data: string | Uint8Array): void {
    this.hash.update(typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data));
  }
  public async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

/** One HTTP exchange (the global fetch in Lambda; a stub in tests). */
export type HttpSend = (
  url: string,
  init: { method: string; headers: { [name: string]: string }; body?: string },
) => Promise<{ status: number; text(): Promise<string> }>;

export interface SignedIndexOptions {
  /** `https://<id>.<region>.aoss.amazonaws.com` or a domain endpoint. */
  readonly endpoint: string;
  readonly region: string;
  readonly service: 'aoss' | 'es';
  /** Credentials or a provider of them (an SDK client's `config.credentials`). */
  readonly credentials: ConstructorParameters<typeof SignatureV4>[0]['credentials'];
  readonly send?: HttpSend;
}

function named(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

/** An index port that signs each request with SigV4. */
export class SignedIndex implements IndexPort {
  private readonly signer: SignatureV4;
  private readonly url: URL;
  private readonly send: HttpSend;
  private readonly ready = new Set<string>();

  constructor(options: SignedIndexOptions) {
    this.url = new URL(options.endpoint.startsWith('https://') ? options.endpoint : `https://${options.endpoint}`);
    this.signer = new SignatureV4({ service: options.service, region: options.region, credentials: options.credentials, sha256: NodeSha256 as any });
    this.send = options.send ?? ((url, init) => fetch(url, init));
  }

  public async ensureIndex(index: string, body: object): Promise<void> {
    if (this.ready.has(index)) return;
    const out = await this.request('PUT', `/${encodeURIComponent(index)}`, body);
    if (out.status >= 300 && !(out.status === 400 && out.text.includes('resource_already_exists_exception'))) {
      throw this.failure('create the index', out.status);
    }
    this.ready.add(index);
  }

  public async put(index: string, id: string | undefined, doc: object): Promise<{ id: string }> {
    const out = id === undefined
      ? await this.request('POST', `/${encodeURIComponent(index)}/_doc`, doc)
      : await this.request('PUT', `/${encodeURIComponent(index)}/_doc/${encodeURIComponent(id)}`, doc);
    if (out.status >= 300) throw this.failure('index the result', out.status);
    let answer: any;
    try {
      answer = JSON.parse(out.text);
    } catch {
      answer = {};
    }
    return { id: String(answer?._id ?? id ?? '') };
  }

  private failure(what: string, status: number): Error {
    if (status === 429) return named('OpenSearch.Throttled', `OpenSearch throttled the request to ${what} (HTTP 429)`);
    if (status === 401 || status === 403) return named('OpenSearch.AccessDenied', `OpenSearch refused to ${what} (HTTP ${status}): check the data-access policy`);
    if (status >= 500) return named('OpenSearch.Unavailable', `OpenSearch could not ${what} (HTTP ${status})`);
    return named('OpenSearch.Rejected', `OpenSearch rejected the request to ${what} (HTTP ${status})`);
  }

  private async request(method: string, path: string, body: object): Promise<{ status: number; text: string }> {
    const text = JSON.stringify(body);
    const signed = await this.signer.sign({
      method,
      protocol: 'https:',
      hostname: this.url.hostname,
      path,
      query: {},
      headers: { 'host': this.url.hostname, 'content-type': 'application/json' },
      body: text,
    });
    const res = await this.send(`https://${this.url.hostname}${path}`, { method, headers: signed.headers, body: text });
    return { status: res.status, text: await res.text() };
  }
}

/** Embeds text with an Amazon Titan Text Embeddings model (v2: chosen dimension, normalized). */
export function bedrockEmbedder(bedrock: BedrockRuntimeClient, modelId: string, dimension: number): (text: string) => Promise<number[]> {
  const v2 = modelId.includes('titan-embed-text-v2');
  return async (text) => {
    const out = await bedrock.send(new InvokeModelCommand({
      modelId,
      contentType: 'application/json',
      accept: 'application/json',
      body: JSON.stringify(v2 ? { inputText: text, dimensions: dimension, normalize: true } : { inputText: text }),
    }));
    const answer = JSON.parse(Buffer.from(out.body).toString('utf8'));
    if (!Array.isArray(answer?.embedding)) throw named('Model.InvalidOutput', `the embedding model ${modelId} answered no embedding`);
    return answer.embedding as number[];
  };
}

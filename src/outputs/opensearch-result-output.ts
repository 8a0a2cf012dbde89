import { createHash } from 'crypto';
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as aoss from 'aws-cdk-lib/aws-opensearchserverless';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import { Construct } from 'constructs';
import { EmbeddingModel } from './embedding-model';
import { ResultOutputBase, ResultOutputKind } from './result-output-base';
import { acknowledgeWildcards } from '../private/acknowledge';
import { lookupPath } from '../private/contract-check';
import { grantReadPrefix } from '../private/grants';
import { indexBody } from '../private/index-mapping';
import { OutputAttachContext } from '../private/output-context';
import { invalid, STAGE_ID } from '../private/validation';
import { Keys } from '../shared';
import { OutputConfig, OutputEnv } from '../shared/outputs-config';

/** An embedding of the document's text, stored beside the indexed fields. */
export interface ResultEmbeddingOptions {
  /** The Bedrock embedding model. */
  readonly model: EmbeddingModel;
  /** The stage whose `text` pointer (e.g. a Textract stage's) is embedded. */
  readonly textFrom: string;
  /**
   * Longest text sent to the model, in characters; longer text is cut.
   * @default 20000
   */
  readonly maxInputChars?: number;
}

/** Props of the OpenSearch result output. */
export interface OpenSearchResultOutputProps {
  /** The index (lowercase letters, digits, '-', '_'). Created on first use with a mapping derived from the contracts. */
  readonly indexName: string;
  /**
   * The result fields to index, as dotted paths under `results` (`Classify.documentType`). Each must
   * be a string, number or boolean in its stage's output contract; its mapping follows from it.
   * @default - none: the run id, pipeline, document, route and start time only
   */
  readonly fields?: string[];
  /**
   * A domain to index into (its access policy must let the output's role in; the role gets
   * es:ESHttpPut/ESHttpPost on the index only).
   * @default - a new OpenSearch Serverless collection
   */
  readonly domain?: opensearch.IDomain;
  /**
   * Name of the new Serverless collection (3-28 lowercase letters, digits, '-').
   * @default - 'cdkaip-' and a hash of the construct path
   */
  readonly collectionName?: string;
  /**
   * Also store a vector embedding of the document's text.
   * @default - no embedding
   */
  readonly embedding?: ResultEmbeddingOptions;
}

const INDEX_NAME = /^[a-z0-9][a-z0-9_-]{0,254}$/;
const COLLECTION_NAME = /^[a-z][a-z0-9-]{2,27}$/;
/** What the output may do in a Serverless collection: create and read its own index, write documents. */
const AOSS_INDEX_PERMISSIONS = ['aoss:CreateIndex', 'aoss:DescribeIndex', 'aoss:UpdateIndex', 'aoss:WriteDocument'];

/**
 * Indexes each run's result in OpenSearch: the fields you name from the contracts (mapped from their
 * contract types: enum → keyword, string → text, integer → long, number → double, boolean), the run
 * id, route and document, and optionally a Bedrock embedding of the text. By default a new
 * Serverless collection, whose data-access policy lets only this output's role touch only this index.
 */
export class OpenSearchResultOutput extends ResultOutputBase {
  public readonly kind = ResultOutputKind.OPENSEARCH;
  /** The index. */
  public readonly indexName: string;
  /** The new Serverless collection, when no domain is passed. */
  public readonly collection?: aoss.CfnCollection;
  private readonly props: OpenSearchResultOutputProps;

  constructor(scope: Construct, id: string, props: OpenSearchResultOutputProps) {
    super(scope, id, 'cdk-ai-pipeline output: indexes run results in OpenSearch');
    this.props = props;
    this.indexName = props.indexName;
    if (!INDEX_NAME.test(props.indexName)) {
      invalid(this, `\`indexName\` must be lowercase letters, digits, '-' or '_' (not starting with '-' or '_'), got: '${props.indexName}'. Use e.g. 'contracts'.`);
    }
    if (props.domain && props.collectionName) {
      invalid(this, '`collectionName` names a new Serverless collection, but `domain` is given too. Pass one of them.');
    }
    if (props.embedding) {
      if (!STAGE_ID.test(props.embedding.textFrom)) invalid(this, `\`embedding.textFrom\` must be a stage id, got: '${props.embedding.textFrom}'.`);
      const max = props.embedding.maxInputChars ?? 20_000;
      if (!Number.isInteger(max) || max < 1 || max > 50_000) invalid(this, `\`embedding.maxInputChars\` must be a whole number from 1 to 50000, got: ${max}.`);
    }
    if (props.domain) {
      this.handler.addEnvironment(OutputEnv.OPENSEARCH_ENDPOINT, `https://${props.domain.domainEndpoint}`);
      iam.Grant.addToPrincipal({
        grantee: this.role,
        actions: ['es:ESHttpPut', 'es:ESHttpPost'],
        resourceArns: [`${props.domain.domainArn}/${props.indexName}`, `${props.domain.domainArn}/${props.indexName}/*`],
      });
      acknowledgeWildcards(this, [{
        matches: (f, actions) => f.endsWith(`/${props.indexName}/*`) && actions.every((a) => a.startsWith('es:ESHttp')),
        reason: `The output creates and writes documents of the index '${props.indexName}' only (document ids are run ids).`,
      }]);
    } else {
      const name = props.collectionName ?? `cdkaip-${createHash('sha256').update(this.node.path).digest('hex').slice(0, 12)}`;
      if (!COLLECTION_NAME.test(name)) {
        invalid(this, `\`collectionName\` must be 3-28 lowercase letters, digits or '-', starting with a letter, got: '${name}'.`);
      }
      const resource = [`collection/${name}`];
      const encryption = new aoss.CfnSecurityPolicy(this, 'EncryptionPolicy', {
        name: `${name}-enc`,
        type: 'encryption',
        description: 'cdk-ai-pipeline: results collection encrypted at rest',
        policy: JSON.stringify({ Rules: [{ ResourceType: 'collection', Resource: resource }], AWSOwnedKey: true }),
      });
      const network = new aoss.CfnSecurityPolicy(this, 'NetworkPolicy', {
        name: `${name}-net`,
        type: 'network',
        description: 'cdk-ai-pipeline: results collection endpoint (every request is SigV4-signed and checked against the data-access policy)',
        policy: JSON.stringify([{ Rules: [{ ResourceType: 'collection', Resource: resource }], AllowFromPublic: true }]),
      });
      this.collection = new aoss.CfnCollection(this, 'Collection', {
        name,
        type: props.embedding ? 'VECTORSEARCH' : 'SEARCH',
        description: 'cdk-ai-pipeline: run results',
      });
      this.collection.addDependency(encryption);
      this.collection.addDependency(network);
      new aoss.CfnAccessPolicy(this, 'DataAccessPolicy', {
        name: `${name}-data`,
        type: 'data',
        description: `cdk-ai-pipeline: the output's role writes the index ${props.indexName} only`,
        policy: Stack.of(this).toJsonString([{
          Rules: [{ ResourceType: 'index', Resource: [`index/${name}/${props.indexName}`], Permission: AOSS_INDEX_PERMISSIONS }],
          Principal: [this.role.roleArn],
        }]),
      });
      iam.Grant.addToPrincipal({ grantee: this.role, actions: ['aoss:APIAccessAll'], resourceArns: [this.collection.attrArn] });
      this.handler.addEnvironment(OutputEnv.OPENSEARCH_ENDPOINT, this.collection.attrCollectionEndpoint);
    }
  }

  /** @internal */
  public _configure(context: OutputAttachContext): OutputConfig {
    const fields = this.props.fields ?? [];
    const embedding = this.props.embedding;
    const { body, problems } = indexBody(context.resultsSchema, fields, embedding?.model.dimension);
    if (problems.length > 0) {
      invalid(this, `\`fields\` cannot be indexed: ${problems.join('; ')}. Name fields that a stage's output contract declares as a string, number or boolean (e.g. 'Classify.documentType').`);
    }
    if (embedding) {
      const text = lookupPath(context.resultsSchema as any, `${embedding.textFrom}.text`);
      if (!context.stageIds.includes(embedding.textFrom) || text.schema === undefined) {
        invalid(this, `\`embedding.textFrom\` names '${embedding.textFrom}', which is no stage of the pipeline producing a 'text' pointer (its stages: ${context.stageIds.join(', ')}). Name a text-producing stage, e.g. a Textract stage.`);
      }
      const stack = Stack.of(this);
      iam.Grant.addToPrincipal({
        grantee: this.role,
        actions: ['bedrock:InvokeModel'],
        resourceArns: [`arn:${stack.partition}:bedrock:${stack.region}::foundation-model/${embedding.model.modelId}`],
      });
      const prefix = Keys.stagePrefix(embedding.textFrom);
      grantReadPrefix(this.role, context.workingBucket, prefix);
      acknowledgeWildcards(this, [{
        matches: (f, actions) => f.endsWith(`/${prefix}*`) && actions.every((a) => a === 's3:GetObject' || a === 's3:GetObjectVersion'),
        reason: `The output reads the text stage ${embedding.textFrom} extracted (under '${prefix}') to embed it.`,
      }]);
    }
    return {
      kind: 'opensearch',
      output: this.outputId,
      pipeline: context.pipelineName,
      stages: context.stageIds,
      index: this.indexName,
      fields,
      indexBody: body,
      service: this.props.domain ? 'es' : 'aoss',
      // Vector search collections refuse custom document ids: there a retried step may index twice.
      customIds: this.props.domain !== undefined || embedding === undefined,
      ...(embedding ? {
        embedding: {
          modelId: embedding.model.modelId,
          dimension: embedding.model.dimension,
          textFrom: embedding.textFrom,
          maxChars: embedding.maxInputChars ?? 20_000,
        },
      } : {}),
    };
  }
}

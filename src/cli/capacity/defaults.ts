/**
 * The numbers the capacity model assumes when neither the app (a `ServiceQuota`) nor the user (a
 * quotas or prices file) gives them. Every figure carries where it comes from. Quotas differ per
 * account and region and change over time: they are starting points, not facts about your account.
 */

/** A default quota of one dimension, per second. */
export interface DefaultQuota {
  readonly perSecond: number;
  readonly source: string;
}

const CHECK = "assumed default; check your account's Service Quotas";
const TEXTRACT_SOURCE = `${CHECK} (AWS General Reference, "Amazon Textract endpoints and quotas", us-east-1)`;
const BEDROCK_SOURCE = `${CHECK} (AWS General Reference, "Amazon Bedrock endpoints and quotas": cross-Region InvokeModel requests/tokens per minute)`;

/** Textract text-detection transactions per second. */
export const TEXTRACT_DEFAULTS: { [api: string]: DefaultQuota } = {
  DetectDocumentText: { perSecond: 10, source: TEXTRACT_SOURCE },
  StartDocumentTextDetection: { perSecond: 10, source: TEXTRACT_SOURCE },
};

/** Bedrock models' per-minute quotas (the model id without a cross-region prefix). */
export const BEDROCK_DEFAULTS: { [model: string]: { requestsPerMinute: number; tokensPerMinute: number; source: string } } = {
  'anthropic.claude-3-5-haiku-20241022-v1:0': { requestsPerMinute: 2_000, tokensPerMinute: 4_000_000, source: BEDROCK_SOURCE },
  'anthropic.claude-3-haiku-20240307-v1:0': { requestsPerMinute: 2_000, tokensPerMinute: 4_000_000, source: BEDROCK_SOURCE },
  'anthropic.claude-3-5-sonnet-20241022-v2:0': { requestsPerMinute: 500, tokensPerMinute: 2_000_000, source: BEDROCK_SOURCE },
};

/**
 * A SageMaker endpoint has no account quota on invocations: its rate is what its instances sustain.
 * Without a `ServiceQuota.sagemakerEndpoint` in the app or an override, the model assumes this.
 */
export const SAGEMAKER_DEFAULT: DefaultQuota = {
  perSecond: 20,
  source: 'assumed: a SageMaker endpoint has no invocation quota; its rate is what its instances sustain. Give ServiceQuota.sagemakerEndpoint or --quotas',
};

/** List prices (USD). */
export interface PriceTable {
  readonly asOf: string;
  readonly source: string;
  /** Textract DetectDocumentText / StartDocumentTextDetection, per page (first million pages a month). */
  readonly textractPerPage: number;
  /** Bedrock on-demand per 1,000 input and output tokens, per model id without a cross-region prefix. */
  readonly bedrock: { [model: string]: { inputPer1k: number; outputPer1k: number } };
  /** A SageMaker real-time endpoint, per hour (all its instances). */
  readonly sagemakerEndpointPerHour: number;
  /** Step Functions Standard, per state transition. */
  readonly stepFunctionsPerTransition: number;
  /** Lambda (Arm) per GB-second, and per request. */
  readonly lambdaPerGbSecond: number;
  readonly lambdaPerRequest: number;
  /** DynamoDB on-demand, per write and per read request unit. */
  readonly dynamoPerWrite: number;
  readonly dynamoPerRead: number;
  /** S3 Standard PUT and GET requests. */
  readonly s3PerPut: number;
  readonly s3PerGet: number;
  /** EventBridge custom events, per event. */
  readonly eventBridgePerEvent: number;
}

/** us-east-1 list prices from the services' public pricing pages; override with `--prices <file>`. */
export const DEFAULT_PRICES: PriceTable = {
  asOf: '2026-11-28',
  source: 'us-east-1 list prices from the AWS pricing pages of each service (aws.amazon.com/<service>/pricing), as assumed on the date shown; override with --prices',
  textractPerPage: 0.0015,
  bedrock: {
    'anthropic.claude-3-5-haiku-20241022-v1:0': { inputPer1k: 0.0008, outputPer1k: 0.004 },
    'anthropic.claude-3-haiku-20240307-v1:0': { inputPer1k: 0.00025, outputPer1k: 0.00125 },
    'anthropic.claude-3-5-sonnet-20241022-v2:0': { inputPer1k: 0.003, outputPer1k: 0.015 },
  },
  // one ml.m5.large instance
  sagemakerEndpointPerHour: 0.115,
  stepFunctionsPerTransition: 0.000025,
  lambdaPerGbSecond: 0.0000133334,
  lambdaPerRequest: 0.0000002,
  dynamoPerWrite: 0.000000625,
  dynamoPerRead: 0.000000125,
  s3PerPut: 0.000005,
  s3PerGet: 0.0000004,
  eventBridgePerEvent: 0.000001,
};

/** The model id a quota and a price are kept under: without the cross-region prefix (`us.`, `eu.`, ...). */
export function baseModelId(modelId: string): string {
  return modelId.replace(/^(us|eu|apac|global|us-gov|jp|au|ca)\./, '');
}

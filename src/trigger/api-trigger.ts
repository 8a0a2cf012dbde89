import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { IDocumentTrigger, TriggerBindOptions } from './document-trigger';
import { acknowledgeRule, acknowledgeWildcards, XRAY_REASON } from '../private/acknowledge';
import { accessLogsBucket, secureBucket } from '../private/buckets';
import { grantListPrefix, grantReadPrefix, grantWritePrefix } from '../private/grants';
import { Bundles, bundleCode } from '../private/handler-asset';
import { handlerFunction } from '../private/handler-function';
import { logsKey } from '../private/logs-key';
import { bindRunClaims } from '../private/run-claims';
import { invalid, outOfRange } from '../private/validation';
import { Env } from '../shared';
import { ApiEnv } from '../shared/trigger-env';

/** Props of an API trigger. */
export interface ApiTriggerProps {
  /**
   * The bucket documents are read from and uploaded to.
   * @default - a new bucket: KMS-encrypted, versioned, public access blocked, SSL only, access-logged
   */
  readonly bucket?: s3.IBucket;
  /**
   * Only keys with this prefix can be run; uploads go under `<prefix>uploads/`.
   * @default - any key
   */
  readonly prefix?: string;
  /**
   * Only keys ending in one of these can be run (e.g. ['.pdf']).
   * @default - any key
   */
  readonly suffixes?: string[];
  /**
   * Callers sign in with these Cognito user pools (a Cognito authorizer on every method) instead
   * of signing requests with IAM (SigV4).
   * @default - IAM authorization on every method: grant callers with `grantInvoke`
   */
  readonly cognitoUserPools?: cognito.IUserPool[];
  /**
   * How long a presigned upload URL stays valid.
   * @default Duration.minutes(15)
   */
  readonly uploadUrlExpiration?: Duration;
  /**
   * Steady-state requests per second the API accepts (API Gateway stage throttling).
   * @default 10
   */
  readonly throttlingRateLimit?: number;
  /**
   * Burst of requests the API accepts above the steady rate.
   * @default 20
   */
  readonly throttlingBurstLimit?: number;
  /**
   * What happens to a new bucket, its key and the access logs when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** The JSON Schema (draft 4, as API Gateway models take it) of `POST /runs`. */
const RUN_REQUEST: apigateway.JsonSchema = {
  schema: apigateway.JsonSchemaVersion.DRAFT4,
  title: 'RunRequest',
  type: apigateway.JsonSchemaType.OBJECT,
  required: ['key'],
  additionalProperties: false,
  properties: {
    key: { type: apigateway.JsonSchemaType.STRING, minLength: 1, maxLength: 1024 },
    bucket: { type: apigateway.JsonSchemaType.STRING, minLength: 3, maxLength: 63 },
    idempotencyKey: { type: apigateway.JsonSchemaType.STRING, pattern: '^[A-Za-z0-9._:-]{1,128}$' },
  },
};

/** The JSON Schema of `POST /uploads`. */
const UPLOAD_REQUEST: apigateway.JsonSchema = {
  schema: apigateway.JsonSchemaVersion.DRAFT4,
  title: 'UploadRequest',
  type: apigateway.JsonSchemaType.OBJECT,
  required: ['fileName'],
  additionalProperties: false,
  properties: {
    fileName: { type: apigateway.JsonSchemaType.STRING, minLength: 1, maxLength: 255, pattern: '^[^/\\\\]+$' },
    idempotencyKey: { type: apigateway.JsonSchemaType.STRING, pattern: '^[A-Za-z0-9._:-]{1,128}$' },
  },
};

/**
 * Starts runs through a REST API, each exactly once: `POST /runs` for a document already in the
 * bucket (an idempotency key names the execution, so the same request twice gives one run),
 * `POST /uploads` for a presigned upload URL, `GET /runs/{runId}` for a run's status, route, outputs
 * and audit record. IAM authorization on every method by default (Cognito as an option), request
 * bodies validated against JSON models (a 400 names the field), access logs, stage throttling.
 */
export class ApiTrigger extends Construct implements IDocumentTrigger {
  public readonly documentBucket: s3.IBucket;
  public readonly documentPrefix: string;
  public readonly documentSuffixes: string[];
  /** The REST API (the trigger's main child, id `Resource`). */
  public readonly api: apigateway.RestApi;
  /** The function behind every method. */
  public readonly handler: lambda.Function;
  /** The key of the new bucket, when the trigger made one. */
  public readonly encryptionKey?: kms.IKey;
  private readonly role: iam.Role;
  private bound?: sfn.IStateMachine;
  private claims?: dynamodb.Table;

  constructor(scope: Construct, id: string, props: ApiTriggerProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const prefix = props.prefix ?? '';
    if (prefix.startsWith('/')) {
      invalid(this, `\`prefix\` must not start with '/', got: '${prefix}'. S3 keys have no leading slash: use '${prefix.replace(/^\/+/, '')}'.`);
    }
    for (const s of props.suffixes ?? []) {
      if (s.length === 0) invalid(this, '`suffixes` must not contain an empty string. Remove it, or leave `suffixes` unset to accept any key.');
    }
    const expiration = props.uploadUrlExpiration ?? Duration.minutes(15);
    if (!expiration.isUnresolved() && (expiration.toSeconds() < 60 || expiration.toSeconds() > 3600)) {
      invalid(this, `\`uploadUrlExpiration\` must be from 1 minute to 1 hour (the handler's credentials outlive no longer), got: ${expiration.toHumanString()}.`);
    }
    const rate = props.throttlingRateLimit ?? 10;
    const burst = props.throttlingBurstLimit ?? 20;
    if (outOfRange(rate, 1, 10_000)) invalid(this, `\`throttlingRateLimit\` must be from 1 to 10000 requests per second, got: ${rate}.`);
    if (outOfRange(burst, 1, 5_000, true)) invalid(this, `\`throttlingBurstLimit\` must be a whole number from 1 to 5000, got: ${burst}.`);
    if (props.cognitoUserPools && props.cognitoUserPools.length === 0) {
      invalid(this, '`cognitoUserPools` must hold at least one user pool, got: []. Leave it unset for IAM authorization.');
    }
    this.documentPrefix = prefix;
    this.documentSuffixes = [...(props.suffixes ?? [])];

    if (props.bucket) {
      this.documentBucket = props.bucket;
    } else {
      this.encryptionKey = new kms.Key(this, 'Key', {
        enableKeyRotation: true,
        description: 'cdk-ai-pipeline API trigger: documents bucket',
        removalPolicy,
      });
      this.documentBucket = secureBucket(this, 'Documents', {
        encryptionKey: this.encryptionKey,
        accessLogs: accessLogsBucket(this, 'AccessLogs', removalPolicy),
        accessLogsPrefix: 'documents/',
        lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(7) }],
        removalPolicy,
      });
    }

    const fn = handlerFunction(this, 'Handler', {
      description: 'cdk-ai-pipeline API trigger: starts runs exactly once, presigns uploads, reports run status',
      code: bundleCode(Bundles.API_TRIGGER),
      timeout: Duration.seconds(29),
      memorySize: 256,
      noDeadLetterReason: 'Invoked synchronously by API Gateway: a failure returns to the caller as an error response; there is no asynchronous event to keep.',
      environment: {
        [ApiEnv.DOCUMENT_BUCKET]: this.documentBucket.bucketName,
        [ApiEnv.DOCUMENT_PREFIX]: prefix,
        [ApiEnv.DOCUMENT_SUFFIXES]: JSON.stringify(this.documentSuffixes),
        [ApiEnv.UPLOAD_URL_SECONDS]: String(expiration.toSeconds()),
      },
    });
    this.handler = fn.fn;
    this.role = fn.role;
    // HeadObject (and 404 rather than 403 for a missing key) under the prefix; PUT only under uploads/.
    grantReadPrefix(this.role, this.documentBucket, prefix);
    grantListPrefix(this.role, this.documentBucket, prefix);
    grantWritePrefix(this.role, this.documentBucket, `${prefix}uploads/`, false);

    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy, encryptionKey: logsKey(this) });
    const cognitoAuth = props.cognitoUserPools
      ? new apigateway.CognitoUserPoolsAuthorizer(this, 'Authorizer', { cognitoUserPools: props.cognitoUserPools })
      : undefined;
    this.api = new apigateway.RestApi(this, 'Resource', {
      description: 'cdk-ai-pipeline: start runs, upload documents, read run status',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      cloudWatchRole: false,
      deployOptions: {
        stageName: 'v1',
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        tracingEnabled: true,
        throttlingRateLimit: rate,
        throttlingBurstLimit: burst,
      },
      defaultMethodOptions: cognitoAuth
        ? { authorizationType: apigateway.AuthorizationType.COGNITO, authorizer: cognitoAuth }
        : { authorizationType: apigateway.AuthorizationType.IAM },
    });
    // Model validation failures answer 400 with the validator's message, which names the field.
    this.api.addGatewayResponse('BadRequestBody', {
      type: apigateway.ResponseType.BAD_REQUEST_BODY,
      statusCode: '400',
      templates: { 'application/json': '{"error":"BadRequest","message":"$context.error.validationErrorString"}' },
    });
    const validator = this.api.addRequestValidator('Validator', { validateRequestBody: true, validateRequestParameters: true });
    const integration = new apigateway.LambdaIntegration(this.handler);
    const model = (name: string, schema: apigateway.JsonSchema) => this.api.addModel(name, { contentType: 'application/json', modelName: name, schema });
    const runs = this.api.root.addResource('runs');
    runs.addMethod('POST', integration, { requestValidator: validator, requestModels: { 'application/json': model('RunRequest', RUN_REQUEST) } });
    runs.addResource('{runId}').addMethod('GET', integration, {
      requestValidator: validator,
      requestParameters: { 'method.request.path.runId': true },
    });
    this.api.root.addResource('uploads').addMethod('POST', integration, {
      requestValidator: validator,
      requestModels: { 'application/json': model('UploadRequest', UPLOAD_REQUEST) },
    });

    if (!cognitoAuth) {
      acknowledgeRule(this.api, 'AwsSolutions-COG4', 'Every method uses IAM authorization (SigV4); a Cognito authorizer is the cognitoUserPools option.');
    }
    for (const m of this.api.methods) {
      if (!cognitoAuth) acknowledgeRule(m, 'AwsSolutions-COG4', 'This method uses IAM authorization (SigV4); a Cognito authorizer is the cognitoUserPools option.');
    }
    acknowledgeRule(this.api.deploymentStage, 'AwsSolutions-APIG3', 'No WAF web ACL by default: every method is authorized and the stage is throttled; associate a web ACL with the stage when the API is exposed beyond your accounts.');
    acknowledgeRule(this.api.deploymentStage, 'AwsSolutions-APIG6', 'Access logs are on; execution logging needs the account-wide API Gateway CloudWatch role, which a library must not set for the account.');
    const noWaf = 'No WAF web ACL by default: every method is authorized (IAM SigV4 or Cognito) and the stage is throttled; associate a web ACL with the stage (deploymentStage.stageArn) when the API is exposed beyond your accounts.';
    const noExecLogs = 'Access logs are on (KMS-encrypted log group); execution logging needs the account-wide API Gateway CloudWatch role, which a library must not set for the account.';
    const noCache = 'No response cache: the API starts runs and reports their status, which must never be served from a cache.';
    const noClientCert = 'The integrations are AWS services (Lambda), not an HTTP backend that could check a client certificate; callers are authenticated by IAM SigV4 or Cognito over TLS.';
    for (const pack of ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321']) {
      acknowledgeRule(this.api.deploymentStage, `${pack}-APIGWExecutionLoggingEnabled`, noExecLogs);
      acknowledgeRule(this.api.deploymentStage, `${pack}-APIGWCacheEnabledAndEncrypted`, noCache);
      acknowledgeRule(this.api.deploymentStage, `${pack}-APIGWSSLEnabled`, noClientCert);
    }
    for (const pack of ['NIST.800.53.R5', 'PCI.DSS.321']) acknowledgeRule(this.api.deploymentStage, `${pack}-APIGWAssociatedWithWAF`, noWaf);
    acknowledgeWildcards(this, [
      XRAY_REASON,
      {
        matches: (f) => f.startsWith('Resource::arn:<AWS::Partition>:states:') && f.endsWith(':*'),
        reason: 'GET /runs/{runId} describes the executions of this pipeline\'s state machine only (their names are the run ids).',
      },
      {
        matches: (f, actions) => f.endsWith(`/${prefix}*`) && actions.every((a) => a === 's3:GetObject' || a === 's3:GetObjectVersion'),
        reason: 'POST /runs reads the metadata (HeadObject) of documents under the trigger\'s prefix; their keys are the callers\'.',
      },
      {
        matches: (f, actions) => f.endsWith(`/${prefix}uploads/*`) && actions.every((a) => a === 's3:PutObject'),
        reason: 'POST /uploads presigns PUTs of new documents under the trigger\'s uploads/ folder; the key carries a request id.',
      },
    ]);
    this.node.addValidation({
      validate: () => this.bound ? [] : [`[ApiTrigger ${this.node.path}] the trigger starts nothing: pass it as a Pipeline's \`trigger\`.`],
    });
  }

  /** Express pipelines only: the table the handler claims run ids in before it starts them (and reads run status from). */
  public get runClaims(): dynamodb.ITable | undefined {
    return this.claims;
  }

  public bind(stateMachine: sfn.IStateMachine, options: TriggerBindOptions = {}): void {
    if (this.bound) {
      invalid(this, 'the trigger already starts another pipeline. Create one trigger per Pipeline.');
    }
    this.bound = stateMachine;
    stateMachine.grantStartExecution(this.role);
    this.handler.addEnvironment(Env.STATE_MACHINE_ARN, stateMachine.stateMachineArn);
    // Express: claims before starts, and GET /runs/{runId} reads the claim (an Express execution cannot be described).
    this.claims = bindRunClaims(this, this.handler, this.role, this.handler.timeout ?? Duration.seconds(29), options);
    if (!this.claims) stateMachine.grantExecution(this.role, 'states:DescribeExecution');
  }

  /**
   * Grants calling every method of the API with IAM (SigV4) authorization.
   * @param grantee who calls the API
   */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: this.api.methods.map((m) => m.methodArn),
    });
  }

  /** The base URL of the API's stage (`https://<id>.execute-api.<region>.amazonaws.com/v1/`). */
  public get url(): string {
    return this.api.url;
  }
}

import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { cloneSchema, DOCUMENT_INPUT_SCHEMA } from '../../contracts/schemas';
import { StageContract } from '../../contracts/stage-contract';
import { mergeObjectSchemas, schemaRequiringPaths } from '../../private/contract-check';
import { Bundles, stageBundle, stageCode } from '../../private/handler-asset';
import { invalid, outOfRange, whereOf } from '../../private/validation';
import { Env, SageMakerStageConfig, TRANSIENT_ERRORS } from '../../shared';
import { InferenceStageBase, InferenceStageOptions, StageKind } from '../inference-stage-base';

/** Props of a SageMaker endpoint stage. */
export interface SageMakerEndpointStageProps extends InferenceStageOptions {
  /** Name of the real-time endpoint. */
  readonly endpointName: string;
  /**
   * Contract of the endpoint's JSON answer (what lands at `results.<id>`).
   * @default - any JSON object
   */
  readonly output?: StageContract;
  /**
   * The JSON request body: each field and the path it is read from (`text`, `document.key`,
   * `results.<Stage>.<field>`). S3 pointers are replaced by the content they point at.
   * @default { text: 'text' } - the text of the latest earlier stage that produced a `text` pointer
   */
  readonly request?: { [field: string]: string };
  /**
   * Longest string sent, in characters; longer text is cut.
   * @default 100000
   */
  readonly maxInputChars?: number;
}

const ENDPOINT_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/**
 * An Amazon SageMaker real-time endpoint (InvokeEndpoint, JSON in and out), e.g. a document
 * classifier. The role may invoke exactly this endpoint.
 */
export class SageMakerEndpointStage extends InferenceStageBase {
  /** The endpoint the stage calls. */
  public readonly endpointName: string;

  constructor(scope: Construct, id: string, props: SageMakerEndpointStageProps) {
    const where = whereOf('SageMakerEndpointStage', scope, id);
    if (!Token.isUnresolved(props.endpointName) && !ENDPOINT_NAME.test(props.endpointName)) {
      invalid(where, `\`endpointName\` must be 1-63 letters, digits or hyphens, got: '${props.endpointName}'. Use the endpoint's name, not its ARN.`);
    }
    const request = props.request ?? { text: 'text' };
    const fields = Object.entries(request);
    if (fields.length === 0) {
      invalid(where, '`request` must name at least one field, got: {}. For example { text: \'text\' }.');
    }
    const bad = fields.filter(([, p]) => p !== 'text' && !/^(document|results)\.[A-Za-z0-9_.-]+$/.test(p));
    if (bad.length > 0) {
      invalid(where, `\`request\` reads ${bad.map(([f, p]) => `${f} from '${p}'`).join(', ')}, which no stage can see. Read 'text', 'document.<field>' or 'results.<Stage>.<field>'.`);
    }
    const maxInputChars = props.maxInputChars ?? 100_000;
    if (outOfRange(maxInputChars, 1, Number.MAX_SAFE_INTEGER, true)) {
      invalid(where, `\`maxInputChars\` must be a positive whole number, got: ${maxInputChars}.`);
    }
    const paths = fields.map(([, p]) => p).filter((p) => p !== 'text');
    const input = props.input ?? StageContract.fromObject(mergeObjectSchemas(cloneSchema(DOCUMENT_INPUT_SCHEMA), schemaRequiringPaths(paths)));
    const output = props.output ?? StageContract.anyObject();
    const config: SageMakerStageConfig = { stage: id, kind: 'sagemaker', request, maxInputChars };
    super(scope, id, {
      kind: StageKind.SAGEMAKER,
      code: stageCode(stageBundle(Bundles.SAGEMAKER, props.quota), config, { input: input.schema, output: output.schema }),
      inputContract: input,
      outputContract: output,
      transientErrors: [...TRANSIENT_ERRORS.sagemaker, ...TRANSIENT_ERRORS.s3],
      timeout: props.timeout ?? Duration.minutes(2),
      memorySize: props.memorySize ?? 512,
      retry: props.retry,
      quota: props.quota,
      standalone: props.standalone,
      readsText: fields.some(([, p]) => p === 'text'),
      description: `SageMaker endpoint ${Token.isUnresolved(props.endpointName) ? '' : props.endpointName}`.trim(),
    });
    this.endpointName = props.endpointName;
    this._capacityFacts = { endpoint: props.endpointName };
    const quotaFor = props.quota?.resourceName;
    if (props.quota?.service === 'sagemaker' && quotaFor && !Token.isUnresolved(quotaFor) && !Token.isUnresolved(props.endpointName) && quotaFor !== props.endpointName) {
      invalid(this, `\`quota\` is for endpoint '${quotaFor}', but the stage calls '${props.endpointName}'. Give the stage the quota of its own endpoint.`);
    }
    const stack = Stack.of(this);
    // Endpoint ARNs are lowercase, whatever the case of the name.
    const arnName = Token.isUnresolved(props.endpointName) ? props.endpointName : props.endpointName.toLowerCase();
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['sagemaker:InvokeEndpoint'],
      resources: [`arn:${stack.partition}:sagemaker:${stack.region}:${stack.account}:endpoint/${arnName}`],
    }));
    this.addHandlerEnvironment(Env.ENDPOINT_NAME, props.endpointName);
  }
}

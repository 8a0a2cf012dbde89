import { Duration, Resource, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { cloneSchema, DOCUMENT_INPUT_SCHEMA } from '../../contracts/schemas';
import { StageContract } from '../../contracts/stage-contract';
import { acknowledgeWildcards, flattenReference } from '../../private/acknowledge';
import { Bundles, stageCode } from '../../private/handler-asset';
import { Env, LambdaStageConfig, TRANSIENT_ERRORS } from '../../shared';
import { InferenceStageBase, InferenceStageOptions, StageKind } from '../inference-stage-base';

/** Props of a stage that runs your own Lambda function. */
export interface LambdaStageProps extends InferenceStageOptions {
  /** Your function. It receives `{ document, results, runId }` and returns a JSON object. */
  readonly function: lambda.IFunction;
  /**
   * Contract of what your function returns (what lands at `results.<id>`).
   * @default - any JSON object
   */
  readonly output?: StageContract;
}

/**
 * A Lambda function of your own as a stage. The stage's handler calls it, validates what goes in
 * and what comes out against the contracts, and writes the audit record, so your function needs
 * no knowledge of the pipeline. Errors your function throws keep their names (throw an error named
 * `Document.NoText`, say, and the pipeline treats it as such).
 */
export class LambdaStage extends InferenceStageBase {
  /** Your function. */
  public readonly function: lambda.IFunction;

  constructor(scope: Construct, id: string, props: LambdaStageProps) {
    const input = props.input ?? StageContract.fromObject(cloneSchema(DOCUMENT_INPUT_SCHEMA));
    const output = props.output ?? StageContract.anyObject();
    const config: LambdaStageConfig = { stage: id, kind: 'lambda' };
    super(scope, id, {
      kind: StageKind.LAMBDA,
      code: stageCode(Bundles.LAMBDA_PROXY, config, { input: input.schema, output: output.schema }),
      inputContract: input,
      outputContract: output,
      transientErrors: [...TRANSIENT_ERRORS.lambda],
      timeout: props.timeout ?? Duration.minutes(5),
      memorySize: props.memorySize ?? 256,
      retry: props.retry,
      quota: props.quota,
      standalone: props.standalone,
      description: 'calls your function and checks its contracts',
    });
    this.function = props.function;
    // A function of this app: grantInvoke. An imported one: the same grant on the role only, since an
    // imported function's resource policy cannot be changed from here.
    if (Resource.isOwnedResource(props.function)) {
      props.function.grantInvoke(this.role);
    } else {
      iam.Grant.addToPrincipal({
        grantee: this.role,
        actions: ['lambda:InvokeFunction'],
        resourceArns: [props.function.functionArn, `${props.function.functionArn}:*`],
      });
    }
    const stack = Stack.of(this);
    acknowledgeWildcards(this, [{
      matches: (f, actions) => f === `Resource::${flattenReference(stack.resolve(props.function.functionArn))}:*` && actions.every((a) => a === 'lambda:InvokeFunction'),
      reason: 'grantInvoke lets the stage call the versions and aliases of your function (`<arn>:*`); it names that one function.',
    }]);
    this.addHandlerEnvironment(Env.TARGET_FUNCTION, props.function.functionArn);
  }
}

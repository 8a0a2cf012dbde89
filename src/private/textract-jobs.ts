/**
 * What the Textract stage kinds (text detection, document analysis) share: the preflight limits and
 * their checks, and the asynchronous job's wiring (the completion topic, the role Textract publishes
 * with, the handler's subscription, the service actions on `*`, the task-response policy). ADR-0003.
 */
import { Duration, Names, Size } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledgeRule, acknowledgeWildcards } from './acknowledge';
import { grantThroughPolicy } from './grants';
import { Bundles, stageBundle, stageCode } from './handler-asset';
import { invalid, outOfRange } from './validation';
import { StageContract } from '../contracts/stage-contract';
import { Env, TextractStageConfig, TRANSIENT_ERRORS } from '../shared';
import { InferenceStageBaseProps, InferenceStageOptions, StageKind } from '../stages/inference-stage-base';

/** The preflight props both Textract stage kinds take. */
export interface TextractLimitProps {
  readonly maxDocumentSize?: Size;
  readonly maxPages?: number;
  readonly maxDecompressedSize?: Size;
}

/** The preflight limits, in bytes and pages, as the handler's config carries them. */
export interface TextractLimits {
  readonly maxDocumentBytes: number;
  readonly maxPages: number;
  readonly maxDecompressedBytes: number;
}

/** Checks and resolves the preflight props (defaults: 50 MiB, 3000 pages, 256 MiB decompressed). */
export function textractLimits(where: string, props: TextractLimitProps): TextractLimits {
  const maxDocumentBytes = (props.maxDocumentSize ?? Size.mebibytes(50)).toBytes();
  const maxPages = props.maxPages ?? 3000;
  if (outOfRange(maxPages, 1, 3000, true)) {
    invalid(where, `\`maxPages\` must be a whole number from 1 to 3000 (Textract's asynchronous limit), got: ${maxPages}.`);
  }
  if (outOfRange(maxDocumentBytes, 1, 500 * 1024 * 1024)) {
    invalid(where, `\`maxDocumentSize\` must be between 1 byte and 500 MiB (Textract's limit), got: ${maxDocumentBytes} bytes.`);
  }
  const maxDecompressedBytes = (props.maxDecompressedSize ?? Size.mebibytes(256)).toBytes();
  if (outOfRange(maxDecompressedBytes, 1, 4 * 1024 * 1024 * 1024)) {
    invalid(where, `\`maxDecompressedSize\` must be between 1 byte and 4 GiB, got: ${maxDecompressedBytes} bytes.`);
  }
  return { maxDocumentBytes, maxPages, maxDecompressedBytes };
}

/**
 * The base props of a Textract stage: the Textract handler with `config`, one `waitForTaskToken` task
 * (30 minutes by default, the job included), a 2-minute handler with 1024 MiB (it inspects PDFs),
 * Textract's and S3's transient errors retried.
 */
export function textractStageBaseProps(
  config: TextractStageConfig,
  contracts: { input: StageContract; output: StageContract },
  props: InferenceStageOptions,
  description: string,
): InferenceStageBaseProps {
  return {
    kind: StageKind.TEXTRACT,
    code: stageCode(stageBundle(Bundles.TEXTRACT, props.quota), config, {
      input: contracts.input.schema,
      output: contracts.output.schema,
    }),
    inputContract: contracts.input,
    outputContract: contracts.output,
    transientErrors: [...TRANSIENT_ERRORS.textract, ...TRANSIENT_ERRORS.s3],
    timeout: props.timeout ?? Duration.minutes(30),
    handlerTimeout: Duration.minutes(2),
    memorySize: props.memorySize ?? 1024,
    retry: props.retry,
    quota: props.quota,
    standalone: props.standalone,
    waitForCallback: true,
    description,
  };
}

/** What a Textract stage gives the job wiring. */
export interface TextractJobWiringOptions {
  /** The stage's id (topic and role descriptions). */
  readonly id: string;
  readonly handler: lambda.IFunction;
  readonly role: iam.Role;
  /** The Textract actions the handler calls (no resource-level permissions: granted on `*`). */
  readonly actions: string[];
  /** Why `*` is acceptable for them (the acknowledgement's reason). */
  readonly wildcardReason: string;
  /** Sets one of the handler's environment variables. */
  readonly setEnvironment: (key: string, value: string) => void;
}

/** The asynchronous job's resources. */
export interface TextractJobWiring {
  readonly completionTopic: sns.Topic;
  readonly textractServiceRole: iam.Role;
}

/**
 * The completion topic (AWS-managed SNS key, SSL only), the role Textract publishes with, the
 * handler's subscription, the stage role's Textract actions and `iam:PassRole` of exactly that role.
 */
export function wireTextractJobs(stage: Construct, options: TextractJobWiringOptions): TextractJobWiring {
  const { id, handler, role } = options;
  // Job completion: Textract publishes to this topic with its own role; the handler resumes the run.
  const snsKey = kms.Alias.fromAliasName(stage, 'SnsKey', 'alias/aws/sns');
  const completionTopic = new sns.Topic(stage, 'JobCompletion', {
    masterKey: snsKey,
    enforceSSL: true,
    displayName: `Textract job completion of stage ${id}`,
  });
  const textractServiceRole = new iam.Role(stage, 'TextractPublishRole', {
    assumedBy: new iam.ServicePrincipal('textract.amazonaws.com'),
    description: `Lets Amazon Textract announce job completion of stage ${id}`,
  });
  completionTopic.grantPublish(textractServiceRole);
  completionTopic.addSubscription(new subs.LambdaSubscription(handler));
  const lostCompletion = 'A completion this function could not take (after Lambda\'s own asynchronous retries) leaves the waiting task to its timeout, which the stage\'s Catch turns into the failure path: the run is recorded and the document quarantined, so no event is lost silently.';
  for (const pack of ['Serverless', 'HIPAA.Security', 'NIST.800.53.R5']) acknowledgeRule(handler, `${pack}-LambdaDLQ`, `Invoked asynchronously by the job-completion topic and synchronously by the state machine. ${lostCompletion}`);
  acknowledgeRule([...completionTopic.node.findAll(), ...handler.node.findAll()].find((c) => c instanceof sns.Subscription)!, 'Serverless-SNSRedrivePolicy', `Textract publishes one completion per job to this topic. ${lostCompletion}`);

  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: options.actions, resources: ['*'] }));
  textractServiceRole.grantPassRole(role);
  options.setEnvironment(Env.TEXTRACT_TOPIC_ARN, completionTopic.topicArn);
  options.setEnvironment(Env.TEXTRACT_ROLE_ARN, textractServiceRole.roleArn);

  const actions = options.actions;
  acknowledgeWildcards(stage, [{
    matches: (f, granted) => f === 'Resource::*' && granted.every((a) => actions.includes(a)),
    reason: options.wildcardReason,
  }]);
  return { completionTopic, textractServiceRole };
}

/**
 * SendTaskSuccess/SendTaskFailure on the state machine, in a policy of its own per state machine, so
 * the state machine (which references the handler) does not depend on the handler's default policy.
 */
export function grantTaskResponsePolicy(stage: Construct, role: iam.IRole, stateMachine: sfn.IStateMachine): iam.Grant {
  const first = stage.node.tryFindChild('TaskResponsePolicy') === undefined;
  const policy = new iam.Policy(stage, first ? 'TaskResponsePolicy' : `TaskResponsePolicy${Names.uniqueId(stateMachine).slice(-8)}`);
  return grantThroughPolicy(policy, role, ['states:SendTaskSuccess', 'states:SendTaskFailure'], [stateMachine.stateMachineArn]);
}

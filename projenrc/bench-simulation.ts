/**
 * `npm run bench -- simulation`: a simulated day of 100,000 documents in bursts through the flagship's
 * stage kinds (Textract, a SageMaker endpoint, Claude 3.5 Haiku on Bedrock), once with today's bounded
 * retries and once with the capacity control (ServiceQuota), side by side. The Retry lists and the
 * control's quotas are read from synthesized definitions and handler environments of the real
 * constructs; the services are stand-ins enforcing the default quotas of src/cli/capacity/defaults.ts.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { BEDROCK_DEFAULTS, SAGEMAKER_DEFAULT, TEXTRACT_DEFAULTS } from '../src/cli/capacity/defaults';
import { Retrier, SimResult, SimSettings, simulateDay } from '../src/cli/capacity/simulation';
import { BedrockModel, InferenceStage, InferenceStageBase, PromptTemplate, ServiceQuota, StageContract } from '../src/index';
import { CAPACITY_ENV, QuotaConfig } from '../src/shared';

const HAIKU = 'us.anthropic.claude-3-5-haiku-20241022-v1:0';
const ENDPOINT = 'contract-classifier';
const MAX_TOKENS = 2048;

/** The three stages as the flagship builds them, with or without quotas; their Retry lists and quota configs. */
function synthesizeStages(withQuotas: boolean): { retry: SimSettings['retry']; control?: SimSettings['control'] } {
  const app = new App({ builtinCloudFormationValidation: false } as any);
  const stack = new Stack(app, withQuotas ? 'WithQuotas' : 'Today', { env: { account: '111111111111', region: 'us-east-1' } });
  const haiku = BEDROCK_DEFAULTS['anthropic.claude-3-5-haiku-20241022-v1:0'];
  // BENCH_POLL_DELAY (seconds) tries another maxPollDelay than the default.
  const poll = process.env.BENCH_POLL_DELAY ? { maxPollDelay: Duration.seconds(Number(process.env.BENCH_POLL_DELAY)) } : {};
  const quotas = withQuotas ? {
    textract: ServiceQuota.textract(stack, 'TextractQuota', { ...poll }),
    sagemaker: ServiceQuota.sagemakerEndpoint(stack, 'ClassifierQuota', { endpointName: ENDPOINT, invocationsPerSecond: SAGEMAKER_DEFAULT.perSecond, ...poll }),
    bedrock: ServiceQuota.bedrockModel(stack, 'HaikuQuota', { model: BedrockModel.inferenceProfile(HAIKU), requestsPerMinute: haiku.requestsPerMinute, tokensPerMinute: haiku.tokensPerMinute, ...poll }),
  } : undefined;
  const extract = InferenceStage.textract(stack, 'Extract', { quota: quotas?.textract });
  const classify = InferenceStage.sagemakerEndpoint(stack, 'Classify', { endpointName: ENDPOINT, quota: quotas?.sagemaker });
  const summarize = InferenceStage.bedrock(stack, 'Summarize', {
    model: BedrockModel.inferenceProfile(HAIKU),
    prompt: PromptTemplate.fromText('Summarize the contract and list its risk clauses: {{text}}', { version: '1' }),
    output: StageContract.fromObject({ type: 'object', required: ['riskScore'], properties: { riskScore: { type: 'number' } } }),
    maxTokens: MAX_TOKENS,
    quota: quotas?.bedrock,
  });
  const machine = new sfn.StateMachine(stack, 'Machine', { definitionBody: sfn.DefinitionBody.fromChainable(extract.next(classify).next(summarize)) });
  const definition = JSON.parse(flatten(stack.resolve((machine.node.defaultChild as sfn.CfnStateMachine).definitionString)));
  const retry = {
    Extract: definition.States.Extract.Retry as Retrier[],
    Classify: definition.States.Classify.Retry as Retrier[],
    Summarize: definition.States.Summarize.Retry as Retrier[],
  };
  if (!withQuotas) return { retry };
  const quotaOf = (stage: InferenceStageBase): QuotaConfig => {
    const vars = stack.resolve((stage.handler.node.defaultChild as any).environment).variables;
    return JSON.parse(vars[CAPACITY_ENV.QUOTA]);
  };
  return { retry, control: { textract: quotaOf(extract), sagemaker: quotaOf(classify), bedrock: quotaOf(summarize) } };
}

function flatten(value: any): string {
  if (typeof value === 'string') return value;
  const [sep, parts] = value['Fn::Join'];
  return parts.map((p: any) => (typeof p === 'string' ? p : '<token>')).join(sep);
}

/** Five bursts of 20,000 documents, each arriving over 10 minutes: about 33 a second, twice what the quotas let through. */
export function simulationSettings(withQuotas: boolean): SimSettings {
  const { retry, control } = synthesizeStages(withQuotas);
  const haiku = BEDROCK_DEFAULTS['anthropic.claude-3-5-haiku-20241022-v1:0'];
  return {
    documents: 100_000,
    bursts: [1, 5, 9, 13, 17].map((atHour) => ({ atHour, minutes: 10 })),
    singlePageShare: 0.3,
    tokensPerPage: 600,
    promptTokens: 250,
    maxTokens: MAX_TOKENS,
    quotas: {
      DetectDocumentText: { name: 'Textract DetectDocumentText', perSecond: TEXTRACT_DEFAULTS.DetectDocumentText.perSecond, burstSeconds: 1, error: 'ProvisionedThroughputExceededException' },
      StartDocumentTextDetection: { name: 'Textract StartDocumentTextDetection', perSecond: TEXTRACT_DEFAULTS.StartDocumentTextDetection.perSecond, burstSeconds: 1, error: 'ProvisionedThroughputExceededException' },
      invocations: { name: `SageMaker ${ENDPOINT}`, perSecond: SAGEMAKER_DEFAULT.perSecond, burstSeconds: 1, error: 'ThrottlingException' },
      requests: { name: 'Bedrock Haiku requests', perSecond: haiku.requestsPerMinute / 60, burstSeconds: 60, error: 'ThrottlingException' },
      tokens: { name: 'Bedrock Haiku tokens', perSecond: haiku.tokensPerMinute / 60, burstSeconds: 60, error: 'ThrottlingException' },
    },
    retry,
    control,
    seed: 'bench-simulation',
  };
}

function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return '-';
  return s < 120 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`;
}

export function printSimulation(): { today: SimResult; control: SimResult; wallMs: number } {
  const t0 = process.hrtime.bigint();
  const today = simulateDay('bounded retries (today)', simulationSettings(false));
  const control = simulateDay('capacity control (ServiceQuota)', simulationSettings(true));
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const binding = control.binding;
  const rows: Array<[string, string, string]> = [
    ['documents', String(today.documents), String(control.documents)],
    ['succeeded', String(today.succeeded), String(control.succeeded)],
    ['failed by throttling', String(today.failedByThrottling), String(control.failedByThrottling)],
    ['failed waiting for capacity (maxWait)', String(today.failedWaiting), String(control.failedWaiting)],
    [`utilization of ${binding} while backlogged`, pct(today.utilization[binding].whileBacklogged), pct(control.utilization[binding].whileBacklogged)],
    [`time ${binding} was backlogged`, fmtSeconds(today.utilization[binding].backloggedSeconds), fmtSeconds(control.utilization[binding].backloggedSeconds)],
    ['p50 time per document', fmtSeconds(today.p50Seconds), fmtSeconds(control.p50Seconds)],
    ['p99 time per document', fmtSeconds(today.p99Seconds), fmtSeconds(control.p99Seconds)],
    ['calls throttled by the service', String(today.throttles), String(control.throttles)],
    ['tries refused by the control (Capacity.Wait)', String(today.capacityWaits), String(control.capacityWaits)],
    ['task attempts per document', today.attemptsPerDocument.toFixed(2), control.attemptsPerDocument.toFixed(2)],
  ];
  for (const dim of Object.keys(control.utilization)) {
    if (dim === binding) continue;
    rows.push([`utilization of ${dim} over the day`, pct(today.utilization[dim].day), pct(control.utilization[dim].day)]);
  }
  const w = [
    Math.max(...rows.map((r) => r[0].length)),
    Math.max(...rows.map((r) => r[1].length), today.label.length),
    Math.max(...rows.map((r) => r[2].length), control.label.length),
  ];
  console.log('\nA simulated day: 100,000 documents in 5 bursts of 20,000 over 10 minutes; default quotas (Textract 10 TPS, Haiku 2,000 RPM / 4M TPM, endpoint 20/s)');
  console.log(`${''.padEnd(w[0])}  ${today.label.padStart(w[1])}  ${control.label.padStart(w[2])}`);
  console.log(`${'-'.repeat(w[0])}  ${'-'.repeat(w[1])}  ${'-'.repeat(w[2])}`);
  for (const r of rows) console.log(`${r[0].padEnd(w[0])}  ${r[1].padStart(w[1])}  ${r[2].padStart(w[2])}`);
  console.log(`(goal: 0 failed by throttling, >= 90% utilization of the binding quota; ${today.events + control.events} events, wall time ${(wallMs / 1000).toFixed(1)} s incl. 2 syntheses)`);
  return { today, control, wallMs };
}

if (require.main === module) printSimulation();

/**
 * Human review steps in the local runner. The review's task state (a `.waitForTaskToken` publish) is
 * answered the way reviewers answer it in AWS: a decision goes through the decision API's real core
 * (validation against the decision contract, the decision record in the audit bucket,
 * SendTaskSuccess on the local Step Functions API), and the runner resumes the task with the answer
 * its token got. Decisions come from the scenario file, or from a prompt in the terminal
 * (`--interactive`); with neither, nobody decides: the task times out and the real definition's
 * catch escalates the run.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LocalEvents } from './adapters/local-events';
import { LocalS3 } from './adapters/local-s3';
import { LocalSfn } from './adapters/local-sfn';
import { LOCAL_ACCOUNT, LocalPipeline, RunnerError } from './cloud-assembly';
import { ReviewDecisionPlan } from './scenario';
import { DecisionValidators, handleDecisionRequest } from '../../review/handler/decision';
import { loadValidators } from '../../runtime/contracts';
import { SILENT_LOGGER } from '../../runtime/logger';
import { Env } from '../../shared';

/** Where a review's decision came from. */
export type DecisionSource = 'scenario' | 'prompt' | 'default';

/** What a person is asked to decide. */
export interface ReviewRequest {
  readonly document: string;
  readonly review: string;
  /** The reviewed stage. */
  readonly stage: string;
  /** The notification the review task sent (document pointer, results, deadline). */
  readonly message: any;
}

/** Asks a person for a decision (the terminal prompt). */
export type ReviewDecider = (request: ReviewRequest) => Promise<ReviewDecisionPlan>;

/** How one review of one document ended. */
export interface LocalReviewOutcome {
  /** approve, reject, correct, or timeout. */
  readonly decision: string;
  /** The reviewer's (local) IAM ARN. */
  readonly reviewer?: string;
  readonly source: DecisionSource;
  /** The decision record's key in the audit bucket. */
  readonly record?: string;
}

export interface ReviewHandlerOptions {
  readonly pipeline: LocalPipeline;
  readonly s3: LocalS3;
  readonly events: LocalEvents;
  readonly sfn: LocalSfn;
  /** The document being run. */
  readonly document: () => string;
  /** The scenario's decision for a review of the current document. */
  readonly planned: (review: string) => ReviewDecisionPlan | undefined;
  /** Asks in the terminal when the scenario has no decision. */
  readonly decide?: ReviewDecider;
  /** Called when a review of the current document ends. */
  readonly reviewed: (review: string, outcome: LocalReviewOutcome) => void;
  /** Folder the notifications are written to (`destinations/<review>.jsonl`). */
  readonly outDir: string;
}

function named(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

/** The local IAM ARN a reviewer's decision is signed with. */
export function localReviewerArn(reviewer: string): string {
  return `arn:aws:iam::${LOCAL_ACCOUNT}:user/${reviewer}`;
}

/** One handler per review task state (keyed by state name, as the interpreter calls them). */
export function reviewHandlers(options: ReviewHandlerOptions): { [state: string]: (input: any) => Promise<any> } {
  const handlers: { [state: string]: (input: any) => Promise<any> } = {};
  let tokens = 0;
  for (const review of options.pipeline.meta.reviews ?? []) {
    const fn = options.pipeline.functions[review.handler];
    if (!fn?.assetDir) throw new RunnerError(`review ${review.name}: its decision function's asset folder is not in the cloud assembly (synthesize with asset metadata on)`);
    const deps = {
      sfn: options.sfn as any,
      s3: options.s3 as any,
      events: options.events as any,
      review: review.name,
      pipeline: fn.env[Env.PIPELINE_NAME],
      auditBucket: fn.env[Env.AUDIT_BUCKET],
      auditBus: fn.env[Env.AUDIT_BUS],
      validators: loadValidators(fn.assetDir) as unknown as DecisionValidators,
      logger: SILENT_LOGGER,
    };
    handlers[review.name] = async (input: any) => {
      const document = options.document();
      const raw = input?.Message ?? input?.MessageBody;
      const message = typeof raw === 'string' ? JSON.parse(raw) : raw;
      notify(options.outDir, review.name, { document, review: review.name, message });
      let plan = options.planned(review.name);
      let source: DecisionSource = 'scenario';
      if (plan === undefined && options.decide) {
        plan = await options.decide({ document, review: review.name, stage: review.stage, message });
        source = 'prompt';
      }
      if (plan === undefined) source = 'default';
      if (plan === undefined || plan === 'timeout') {
        options.reviewed(review.name, { decision: 'timeout', source });
        throw named('States.Timeout', `review ${review.name}: no decision before the deadline (${source === 'default' ? 'no decision given: the default' : source})`);
      }
      const { reviewer, ...body } = plan;
      const taskToken = `local-review-${++tokens}`;
      const response = await handleDecisionRequest(deps, {
        version: '2.0',
        rawPath: '/',
        rawQueryString: '',
        headers: { 'content-type': 'application/json' },
        requestContext: { http: { method: 'POST' }, authorizer: { iam: { userArn: localReviewerArn(reviewer), accountId: LOCAL_ACCOUNT } } } as any,
        body: JSON.stringify({ ...body, taskToken }),
        isBase64Encoded: false,
      } as any);
      if (response.statusCode !== 200) {
        const why = JSON.parse(response.body);
        const from = source === 'prompt' ? 'the decision typed in' : '--scenario: the decision';
        throw new RunnerError(`${from} for review ${review.name} of ${document} was refused by the decision API (${response.statusCode}): '${why.field}' ${why.message}`);
      }
      const answer = options.sfn.take(taskToken);
      if (answer?.status !== 'SUCCESS') throw new RunnerError(`review ${review.name} of ${document}: the decision API answered no task`);
      const output = answer.output as any;
      options.reviewed(review.name, { decision: output.decision, reviewer: output.reviewer, source, record: output.record?.key });
      return output;
    };
  }
  return handlers;
}

function notify(outDir: string, review: string, record: unknown) {
  const file = path.join(outDir, 'destinations', `${review}.jsonl`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, JSON.stringify(record) + '\n');
}

const DECISION_WORDS = ['approve', 'reject', 'correct', 'timeout'];

/**
 * A decider that asks in the terminal: the decision, the reviewer, a comment, and for `correct` the
 * corrected fields as JSON. `ask` prints a question and returns the line typed.
 */
export function promptDecider(ask: (question: string) => Promise<string>, print: (line: string) => void): ReviewDecider {
  return async (request) => {
    print(`\nReview ${request.review} of ${request.document} (reviewed stage ${request.stage}):`);
    print(JSON.stringify(request.message?.results?.[request.stage] ?? {}, null, 2));
    let decision = '';
    while (!DECISION_WORDS.includes(decision)) decision = (await ask(`decision [${DECISION_WORDS.join('/')}]: `)).trim();
    if (decision === 'timeout') return 'timeout';
    let reviewer = '';
    while (!/^[A-Za-z0-9+=,.@_-]{1,64}$/.test(reviewer)) reviewer = (await ask('reviewer (local IAM user name): ')).trim();
    const comment = (await ask('comment (optional): ')).trim();
    let corrections: any;
    while (decision === 'correct' && corrections === undefined) {
      try {
        corrections = JSON.parse(await ask(`corrections of ${request.stage} as JSON, e.g. {"field": value}: `));
      } catch {
        print('not JSON; try again');
      }
    }
    return { decision, reviewer, ...(comment ? { comment } : {}), ...(corrections !== undefined ? { corrections } : {}) };
  };
}

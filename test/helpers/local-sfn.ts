/**
 * Runs the REAL synthesized state machine definition in aws-local-stepfunctions.
 *
 * - `definitionFromTemplate` turns the template's `DefinitionString` (an `Fn::Join` with
 *   CloudFormation tokens) into plain ASL, replacing each token by a fake but well-formed value
 *   (`arn:aws:lambda:us-east-1:111111111111:function:<LogicalId>`, a queue URL, a topic ARN, ...).
 *   An unknown token throws, so a new kind of reference is noticed instead of silently mangled.
 * - `runLocal` runs it with a local handler per Task state (keyed by state name), zero retry waits,
 *   and returns the outcome, the event log, the states entered and what each handler was called with.
 *   A Task with no handler fails with `LocalRun.NoHandler` (it never calls AWS).
 *
 * The interpreter is loaded by the runner's own loader (no global polyfill on Node 20).
 */
import { Template } from 'aws-cdk-lib/assertions';
import { ACCOUNT, REGION } from './pipeline-fixture';
import { loadInterpreter } from '../../src/cli/local/interpreter';

// ---------------------------------------------------------------------------------------------
// Definition
// ---------------------------------------------------------------------------------------------

export type Definition = { StartAt: string; States: { [name: string]: any }; [key: string]: any };

const PSEUDO: { [ref: string]: string } = {
  'AWS::Partition': 'aws',
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'Flagship',
};

/** A fake but well-formed value for a CloudFormation token of the template. */
export function fakeValue(resources: { [id: string]: any }, token: any): string {
  if (typeof token !== 'object' || token === null) throw new Error(`not a token: ${JSON.stringify(token)}`);
  if (token.Ref !== undefined) {
    const ref: string = token.Ref;
    if (ref in PSEUDO) return PSEUDO[ref];
    const type: string | undefined = resources[ref]?.Type;
    switch (type) {
      case 'AWS::SNS::Topic': return `arn:aws:sns:${REGION}:${ACCOUNT}:${ref}`;
      case 'AWS::SQS::Queue': return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${ref}`;
      case 'AWS::Lambda::Function': return ref;
      case 'AWS::S3::Bucket': return ref.toLowerCase();
      case 'AWS::Events::EventBus': return ref;
      case 'AWS::StepFunctions::StateMachine': return `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${ref}`;
      default: throw new Error(`no fake value for Ref ${ref} (type ${type})`);
    }
  }
  if (token['Fn::GetAtt'] !== undefined) {
    const [id, attr] = token['Fn::GetAtt'] as [string, string];
    const type: string | undefined = resources[id]?.Type;
    if (attr === 'Arn') {
      switch (type) {
        case 'AWS::Lambda::Function': return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${id}`;
        case 'AWS::SQS::Queue': return `arn:aws:sqs:${REGION}:${ACCOUNT}:${id}`;
        case 'AWS::Events::EventBus': return `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${id}`;
        case 'AWS::IAM::Role': return `arn:aws:iam::${ACCOUNT}:role/${id}`;
        case 'AWS::S3::Bucket': return `arn:aws:s3:::${id.toLowerCase()}`;
        default: break;
      }
    }
    if (type === 'AWS::SQS::Queue' && attr === 'QueueUrl') return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${id}`;
    if (type === 'AWS::SQS::Queue' && attr === 'QueueName') return id;
    if (type === 'AWS::SNS::Topic' && attr === 'TopicName') return id;
    if (type === 'AWS::Events::EventBus' && attr === 'Name') return id;
    if (type === 'AWS::Lambda::Url' && attr === 'FunctionUrl') return `https://${id.toLowerCase()}.lambda-url.${REGION}.on.aws/`;
    throw new Error(`no fake value for Fn::GetAtt ${id}.${attr} (type ${type})`);
  }
  throw new Error(`no fake value for ${JSON.stringify(token)}`);
}

/** The DefinitionString of the template's only state machine, with every token replaced by a fake value. */
export function definitionFromTemplate(template: Template): Definition {
  const json = template.toJSON();
  const resources: { [id: string]: any } = json.Resources;
  const machines = Object.values(resources).filter((r: any) => r.Type === 'AWS::StepFunctions::StateMachine');
  if (machines.length !== 1) throw new Error(`expected one state machine, found ${machines.length}`);
  return renderDefinitionString(resources, (machines[0] as any).Properties.DefinitionString);
}

/** Renders a DefinitionString (a string or an Fn::Join of strings and tokens) to ASL. */
export function renderDefinitionString(resources: { [id: string]: any }, definitionString: any): Definition {
  let text: string;
  if (typeof definitionString === 'string') {
    text = definitionString;
  } else if (definitionString?.['Fn::Join']) {
    const [delimiter, parts] = definitionString['Fn::Join'] as [string, any[]];
    text = parts.map((p) => (typeof p === 'string' ? p : fakeValue(resources, p))).join(delimiter);
  } else {
    throw new Error(`unexpected DefinitionString: ${JSON.stringify(definitionString).slice(0, 200)}`);
  }
  return JSON.parse(text);
}

/** Every state of a definition, nested branches and iterators included, with its name. */
export function allStates(definition: { States: { [name: string]: any } }): Array<[string, any]> {
  const out: Array<[string, any]> = [];
  for (const [name, state] of Object.entries(definition.States)) {
    out.push([name, state]);
    for (const branch of state.Branches ?? []) out.push(...allStates(branch));
    if (state.Iterator) out.push(...allStates(state.Iterator));
    if (state.ItemProcessor) out.push(...allStates(state.ItemProcessor));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Execution
// ---------------------------------------------------------------------------------------------

export type LocalHandler = (input: any) => any | Promise<any>;

/** An Error with a name (what Retry and Catch match on), as a Lambda's errorType would be. */
export function namedError(name: string, message = `${name} (local test)`): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

export interface LocalRunOptions {
  /** A local function per Task state name. */
  readonly handlers: { [state: string]: LocalHandler };
  /** The execution's name ($$.Execution.Name). */
  readonly executionName?: string;
}

export interface LocalRunResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: any;
  /** The execution's error name and cause, when it failed. */
  readonly error?: string;
  readonly cause?: string;
  /** Every event of the interpreter's log. */
  readonly events: any[];
  /** State names in the order they were entered (one entry per transition). */
  readonly statesEntered: string[];
  /** What each Task's local handler was called with, per attempt. */
  readonly calls: { [state: string]: any[] };
}

/** Runs a definition locally. Retries wait 0 ms; every Task state without a handler fails with LocalRun.NoHandler. */
export async function runLocal(definition: Definition, input: any, options: LocalRunOptions): Promise<LocalRunResult> {
  const { StateMachine, ExecutionError } = loadInterpreter();
  const calls: { [state: string]: any[] } = {};
  const taskResourceLocalHandlers: { [state: string]: (input: any) => Promise<any> } = {};
  const retryIntervalOverrides: { [state: string]: number } = {};
  for (const [name, state] of allStates(definition)) {
    if (state.Retry) retryIntervalOverrides[name] = 0;
    if (state.Type !== 'Task') continue;
    const handler = options.handlers[name];
    taskResourceLocalHandlers[name] = async (taskInput: any) => {
      (calls[name] = calls[name] ?? []).push(JSON.parse(JSON.stringify(taskInput)));
      if (!handler) throw namedError('LocalRun.NoHandler', `no local handler for Task state '${name}'`);
      return handler(taskInput);
    };
  }
  for (const name of Object.keys(options.handlers)) {
    if (!(name in taskResourceLocalHandlers)) throw new Error(`a handler is given for '${name}', which is not a Task state of the definition`);
  }

  const machine = new StateMachine(definition as any, { validationOptions: { checkArn: true, checkPaths: true } });
  const executionName = options.executionName ?? 'local-run-0001';
  const execution = machine.run(input, {
    overrides: { taskResourceLocalHandlers, retryIntervalOverrides },
    context: {
      Execution: {
        Id: `arn:aws:states:${REGION}:${ACCOUNT}:execution:Contracts:${executionName}`,
        Name: executionName,
      },
      Task: { Token: 'local-task-token' },
    },
  });
  const events: any[] = [];
  const collect = (async () => {
    for await (const event of execution.eventLogs) events.push(event);
  })();
  let result: LocalRunResult;
  try {
    const output = await execution.result;
    await collect;
    result = { status: 'SUCCEEDED', output, events, statesEntered: [], calls };
  } catch (err: any) {
    await collect;
    if (!(err instanceof ExecutionError)) throw err;
    const cause = err.cause as Error | undefined;
    result = { status: 'FAILED', error: cause?.name, cause: cause?.message, events, statesEntered: [], calls };
  }
  return {
    ...result,
    statesEntered: events.filter((e) => e.type === 'StateEntered').map((e) => e.state.name as string),
  };
}

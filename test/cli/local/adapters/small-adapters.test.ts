import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { SendTaskFailureCommand, SendTaskSuccessCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { LocalEvents } from '../../../../src/cli/local/adapters/local-events';
import { LocalLambda } from '../../../../src/cli/local/adapters/local-lambda';
import { LocalSfn } from '../../../../src/cli/local/adapters/local-sfn';
import { PipelineError } from '../../../../src/shared';

const decode = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes));

describe('LocalSfn', () => {
  test('records SendTaskSuccess (output parsed) and SendTaskFailure per token', async () => {
    const sfn = new LocalSfn();
    await sfn.send(new SendTaskSuccessCommand({ taskToken: 'a', output: '{"pages":3}' }));
    await sfn.send(new SendTaskFailureCommand({ taskToken: 'b', error: 'Document.NoText', cause: 'no line' }));
    expect(sfn.peek('a')).toEqual({ status: 'SUCCESS', output: { pages: 3 } });
    expect(sfn.take('a')).toEqual({ status: 'SUCCESS', output: { pages: 3 } });
    expect(sfn.take('a')).toBeUndefined();
    expect(sfn.take('b')).toEqual({ status: 'FAILURE', error: 'Document.NoText', cause: 'no line' });
    expect(sfn.take('never')).toBeUndefined();
  });

  test('a closed or already answered token throws TaskTimedOut; a bad one InvalidToken / InvalidOutput', async () => {
    const sfn = new LocalSfn({ closedTokens: ['late'] });
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: 'late', output: '{}' }))).rejects.toMatchObject({ name: 'TaskTimedOut' });
    await sfn.send(new SendTaskSuccessCommand({ taskToken: 'once', output: '{}' }));
    await expect(sfn.send(new SendTaskFailureCommand({ taskToken: 'once', error: 'E' }))).rejects.toMatchObject({ name: 'TaskTimedOut' });
    sfn.close('x');
    await expect(sfn.send(new SendTaskFailureCommand({ taskToken: 'x' }))).rejects.toMatchObject({ name: 'TaskTimedOut' });
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: '', output: '{}' }))).rejects.toMatchObject({ name: 'InvalidToken' });
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: 'y', output: 'not json' }))).rejects.toMatchObject({ name: 'InvalidOutput' });
    const lenient = new LocalSfn({ strict: false });
    await lenient.send(new SendTaskSuccessCommand({ taskToken: 't', output: '1' }));
    await lenient.send(new SendTaskSuccessCommand({ taskToken: 't', output: '2' }));
    expect(lenient.take('t')).toEqual({ status: 'SUCCESS', output: 2 });
  });

  test('StartExecution is not implemented, and says so', async () => {
    await expect(new LocalSfn().send(new StartExecutionCommand({ stateMachineArn: 'arn', input: '{}' })))
      .rejects.toThrow(/LocalSfn does not implement StartExecutionCommand/);
  });
});

describe('LocalEvents', () => {
  test('PutEvents records the entries with Detail parsed and answers with deterministic ids', async () => {
    const run = async () => {
      const events = new LocalEvents();
      const out = await events.send(new PutEventsCommand({
        Entries: [
          { Source: 'cdk-ai-pipeline', DetailType: 'Stage Succeeded', EventBusName: 'bus', Detail: '{"runId":"r1"}' },
          { Source: 'cdk-ai-pipeline', DetailType: 'Run Failed', Detail: 'not json' },
        ],
      }));
      return { events, out };
    };
    const { events, out } = await run();
    expect(out.FailedEntryCount).toBe(0);
    expect(out.Entries).toHaveLength(2);
    expect(out.Entries[0].EventId).not.toBe(out.Entries[1].EventId);
    expect((await run()).out).toEqual(out);
    expect(events.entries()).toEqual([
      { eventId: out.Entries[0].EventId, source: 'cdk-ai-pipeline', detailType: 'Stage Succeeded', eventBusName: 'bus', detail: { runId: 'r1' } },
      { eventId: out.Entries[1].EventId, source: 'cdk-ai-pipeline', detailType: 'Run Failed', detail: 'not json' },
    ]);
    expect(events.entries('Run Failed')).toHaveLength(1);
    events.clear();
    expect(events.entries()).toEqual([]);
  });
});

describe('LocalLambda', () => {
  const lambda = new LocalLambda((name) => {
    if (name === 'echo') return async (event) => ({ got: event });
    if (name === 'arn:aws:lambda:us-east-1:111111111111:function:fails') {
      return async () => { throw new PipelineError('Document.NoText', 'nothing to read'); };
    }
    if (name === 'nothing') return async () => undefined;
    return undefined;
  });

  test('Invoke runs the handler and returns its JSON payload', async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: JSON.stringify({ a: 1 }) }));
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBeUndefined();
    expect(decode(out.Payload)).toEqual({ got: { a: 1 } });
    expect(decode((await lambda.send(new InvokeCommand({ FunctionName: 'nothing' }))).Payload)).toBeNull();
    expect(lambda.invocations[0]).toEqual({ functionName: 'echo', event: { a: 1 } });
  });

  test('a thrown error comes back as Lambda reports it: FunctionError Unhandled with errorType and errorMessage', async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'arn:aws:lambda:us-east-1:111111111111:function:fails', Payload: '{}' }));
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe('Unhandled');
    expect(decode(out.Payload)).toMatchObject({ errorType: 'Document.NoText', errorMessage: 'nothing to read' });
  });

  test('an unknown function is ResourceNotFoundException; bad JSON is InvalidRequestContentException', async () => {
    await expect(lambda.send(new InvokeCommand({ FunctionName: 'missing' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } });
    await expect(lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: new TextEncoder().encode('{') })))
      .rejects.toMatchObject({ name: 'InvalidRequestContentException' });
  });
});

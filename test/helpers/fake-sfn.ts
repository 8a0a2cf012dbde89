/**
 * A Step Functions stand-in for trigger handler tests, on aws-sdk-client-mock: StartExecution
 * refuses a name it has seen (`ExecutionAlreadyExists`), DescribeExecution answers what was started.
 * No module-level side effects: each call of `fakeStepFunctions` resets the mock it is given.
 */
import { DescribeExecutionCommand, ExecutionStatus, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { AwsStub } from 'aws-sdk-client-mock';
import { awsError } from './handler-test-kit';

export interface FakeExecution {
  readonly name: string;
  readonly input: string;
  status: ExecutionStatus;
  output?: string;
}

/** Wires `mock` to behave like Step Functions for one state machine; returns the executions by name. */
export function fakeStepFunctions(mock: AwsStub<any, any, any>, stateMachineArn: string): Map<string, FakeExecution> {
  const executions = new Map<string, FakeExecution>();
  const arnOf = (name: string) => `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  mock.reset();
  mock.on(StartExecutionCommand).callsFake((input: any) => {
    if (input.stateMachineArn !== stateMachineArn) throw awsError('StateMachineDoesNotExist');
    if (executions.has(input.name)) throw awsError('ExecutionAlreadyExists');
    executions.set(input.name, { name: input.name, input: input.input, status: 'RUNNING' });
    return { executionArn: arnOf(input.name), startDate: new Date(0) };
  });
  mock.on(DescribeExecutionCommand).callsFake((input: any) => {
    const name = String(input.executionArn).split(':').pop()!;
    const e = executions.get(name);
    if (!e || input.executionArn !== arnOf(name)) throw awsError('ExecutionDoesNotExist');
    return { executionArn: input.executionArn, name, status: e.status, input: e.input, output: e.output, startDate: new Date(0), ...(e.status === 'RUNNING' ? {} : { stopDate: new Date(60_000) }) };
  });
  return executions;
}

/** The mock as a client type, for deps. */
export const sfnClient = () => new SFNClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } });

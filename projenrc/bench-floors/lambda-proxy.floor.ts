/** Floor of the Lambda proxy handler: Invoke, audit. */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { auditStage } from './common';

const lambda = new LambdaClient({ maxAttempts: 1 });

export async function handler(event: any) {
  const out = await lambda.send(new InvokeCommand({ FunctionName: process.env.TARGET_FUNCTION, Payload: JSON.stringify(event.state) }));
  const reply = JSON.parse(new TextDecoder().decode(out.Payload));
  // Input view and output, as the handler keeps them (issue 12).
  await auditStage('floor/audit.json', [event.state, reply], { runId: event.runId });
  return reply;
}

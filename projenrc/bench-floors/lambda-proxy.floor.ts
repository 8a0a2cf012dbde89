/** Floor of the Lambda proxy handler: Invoke, audit. */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { audit } from './common';

const lambda = new LambdaClient({ maxAttempts: 1 });

export async function handler(event: any) {
  const out = await lambda.send(new InvokeCommand({ FunctionName: process.env.TARGET_FUNCTION, Payload: JSON.stringify(event.state) }));
  const reply = JSON.parse(new TextDecoder().decode(out.Payload));
  await audit('floor/audit.json', { runId: event.runId });
  return reply;
}

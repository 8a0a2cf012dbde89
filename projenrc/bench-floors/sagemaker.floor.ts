/** Floor of the SageMaker handler: read the text, InvokeEndpoint, audit. */
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { auditStage, read } from './common';

const sagemaker = new SageMakerRuntimeClient({ maxAttempts: 1 });

export async function handler(event: any) {
  const pointer = event.state.results.Extract.text;
  const text = Buffer.from(await read(pointer.bucket, pointer.key)).toString('utf8');
  const out = await sagemaker.send(new InvokeEndpointCommand({
    EndpointName: process.env.ENDPOINT_NAME, ContentType: 'application/json', Accept: 'application/json', Body: JSON.stringify({ text }),
  }));
  const reply = JSON.parse(new TextDecoder().decode(out.Body));
  // Input view, output, request and reply, as the handler keeps them (issue 12).
  await auditStage('floor/audit.json', [event.state, reply, { text }, reply], { runId: event.runId });
  return reply;
}

/** Floor of the Bedrock handler: read the text, ApplyGuardrail, Converse, response + offloaded field + audit. */
import { ApplyGuardrailCommand, BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { auditStage, put, read } from './common';

const bedrock = new BedrockRuntimeClient({ maxAttempts: 1 });

export async function handler(event: any) {
  const pointer = event.state.results.Extract.text;
  const text = Buffer.from(await read(pointer.bucket, pointer.key)).toString('utf8');
  // The handler screens each untrusted value of its prompt: the classifier's label and the text.
  for (const value of [event.state.results.Classify.documentType, text]) {
    await bedrock.send(new ApplyGuardrailCommand({
      guardrailIdentifier: process.env.PROMPT_ATTACK_GUARDRAIL_ID, guardrailVersion: 'DRAFT', source: 'INPUT', content: [{ text: { text: value } }],
    }));
  }
  const out = await bedrock.send(new ConverseCommand({
    modelId: 'floor-model',
    messages: [{ role: 'user', content: [{ text }] }],
    inferenceConfig: { maxTokens: 2048, temperature: 0 },
  }));
  const reply = JSON.parse(out.output!.message!.content![0].text!);
  await put(process.env.WORK_BUCKET!, 'floor/response.json', reply);
  await put(process.env.WORK_BUCKET!, 'floor/summary.json', reply.summary);
  // Input view, output, rendered prompt and raw reply, as the handler keeps them (issue 12).
  await auditStage('floor/audit.json', [event.state, reply, { text }, out.output], { runId: event.runId });
  return {};
}

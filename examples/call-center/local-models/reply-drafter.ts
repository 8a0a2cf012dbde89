/**
 * The call-center example's model for the local runner: a deterministic, rule-based reply drafter
 * standing in for the Bedrock model of the `Draft` stage, answering the example's reply contract
 * (`schemas/reply.schema.json`): `{ "intent", "reply", "followUp" }`.
 *
 * It reads the transcript between `<transcript>` and `</transcript>` in the prompt, picks the intent
 * by keywords and fills a short reply for it. A stand-in to show the pipeline's behaviour, not a model.
 */

export type Intent = 'BILLING' | 'ACCOUNT' | 'DELIVERY' | 'TECHNICAL' | 'SALES' | 'OTHER';

export interface ReplyDraft {
  readonly intent: Intent;
  readonly reply: string;
  readonly followUp: boolean;
}

const KEYWORDS: ReadonlyArray<[Intent, RegExp]> = [
  ['BILLING', /\b(invoice|bill|charge|payment|amount|line item)\b/i],
  ['DELIVERY', /\b(order|delivery|tracking|arrive|shipped|parcel)\b/i],
  ['ACCOUNT', /\b(address|moved|password|account details|email address)\b/i],
  ['TECHNICAL', /\b(internet|outage|down|broken|router|connection|slow)\b/i],
  ['SALES', /\b(plan|plans|upgrade|price|offer)\b/i],
];

const REPLIES: { readonly [intent in Intent]: string } = {
  BILLING: 'Thank you for calling about your invoice. We are checking the charges you asked about and will '
    + 'write to you with an explanation of each line item within two working days.',
  DELIVERY: 'Thank you for calling about your order. We are checking its status with the carrier and will '
    + 'write to you as soon as we have a confirmed delivery date.',
  ACCOUNT: 'Thank you for letting us know about the change to your account. We will confirm in writing once '
    + 'the change is made.',
  TECHNICAL: 'Thank you for reporting the problem with your service. Our technical team is looking into it '
    + 'and will contact you with an update.',
  SALES: 'Thank you for your interest in our plans. We will send you an overview of the plans available at '
    + 'your address, with their prices.',
  OTHER: 'Thank you for calling us. We have noted your request and will get back to you shortly.',
};

/** The transcript inside the prompt's `<transcript>` tags (the whole prompt when there are none). */
export function transcriptOf(prompt: string): string {
  const m = /<transcript>([\s\S]*?)<\/transcript>/.exec(prompt);
  return (m ? m[1] : prompt).trim();
}

/** The reply draft for a transcript. */
export function draftReply(transcript: string): ReplyDraft {
  const intent = KEYWORDS.find(([, re]) => re.test(transcript))?.[0] ?? 'OTHER';
  return { intent, reply: `Dear customer, ${REPLIES[intent]} Customer Care`, followUp: intent !== 'SALES' && intent !== 'OTHER' };
}

/** The Converse request's user text. */
function promptOf(request: { messages?: any[] }): string {
  return (request.messages ?? [])
    .flatMap((m: any) => m?.content ?? [])
    .map((c: any) => (typeof c?.text === 'string' ? c.text : ''))
    .join('\n');
}

/** The local runner calls this with the Converse request the Draft stage sends. */
export function handler(request: { messages?: any[] }): ReplyDraft {
  return draftReply(transcriptOf(promptOf(request)));
}

/** Floor of the audit recorder's run record: one object and one event. */
import { audit } from './common';

export async function handler(event: any) {
  await audit('floor/run.json', { runId: event.runId });
  return {};
}

/** Floor of the trigger's starter: one StartExecution per record. */
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';

const sfn = new SFNClient({});

export async function handler(event: any) {
  for (const record of event.Records) {
    await sfn.send(new StartExecutionCommand({ stateMachineArn: process.env.STATE_MACHINE_ARN, name: record.messageId, input: record.body }));
  }
  return { batchItemFailures: [] };
}

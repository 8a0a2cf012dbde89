import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { QueuePort } from './output';

/** The SQS output's queue over the SDK: one SendMessage per run. */
export class SqsQueue implements QueuePort {
  constructor(private readonly sqs: SQSClient, private readonly queueUrl: string) {}

  public async send(body: string, fifo?: { readonly groupId: string; readonly deduplicationId: string }): Promise<{ messageId: string }> {
    const out = await this.sqs.send(new SendMessageCommand({
      QueueUrl: this.queueUrl,
      MessageBody: body,
      ...(fifo ? { MessageGroupId: fifo.groupId, MessageDeduplicationId: fifo.deduplicationId } : {}),
    }));
    return { messageId: out.MessageId ?? '' };
  }
}

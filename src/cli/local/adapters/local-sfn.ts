/**
 * The Step Functions callback API for the local runner: SendTaskSuccess and SendTaskFailure are
 * recorded per task token, and the runner takes the answer with `take(token)` to resume the
 * waiting task (a `.waitForTaskToken` state).
 */
import { commandName, serviceError, unsupportedCommand } from './errors';

/** The answer a task token got. */
export type TaskAnswer =
  | { readonly status: 'SUCCESS'; readonly output: unknown }
  | { readonly status: 'FAILURE'; readonly error?: string; readonly cause?: string };

export interface LocalSfnOptions {
  /** Tokens that are closed already (their task timed out): answering them throws TaskTimedOut. */
  readonly closedTokens?: readonly string[];
  /**
   * When true, a second answer to the same token throws TaskTimedOut, as Step Functions does once
   * a task is closed. Default: true.
   */
  readonly strict?: boolean;
}

const SUPPORTED = ['SendTaskSuccessCommand', 'SendTaskFailureCommand'];

export class LocalSfn {
  private readonly answers = new Map<string, TaskAnswer>();
  /** Tokens answered at least once (taking an answer does not reopen its token). */
  private readonly answered = new Set<string>();
  private readonly closed: Set<string>;
  private readonly strict: boolean;

  constructor(options: LocalSfnOptions = {}) {
    this.closed = new Set(options.closedTokens ?? []);
    this.strict = options.strict ?? true;
  }

  public async send(command: any): Promise<any> {
    const input = command?.input ?? {};
    const name = commandName(command);
    if (!SUPPORTED.includes(name)) throw unsupportedCommand('LocalSfn', command, SUPPORTED);
    const token: unknown = input.taskToken;
    if (typeof token !== 'string' || token.length === 0) {
      throw serviceError('InvalidToken', 400, 'Invalid token');
    }
    if (this.closed.has(token) || (this.strict && this.answered.has(token))) {
      throw serviceError('TaskTimedOut', 400, 'Task Timed Out');
    }
    if (name === 'SendTaskSuccessCommand') {
      let output: unknown;
      try {
        output = JSON.parse(input.output ?? '');
      } catch {
        throw serviceError('InvalidOutput', 400, 'Invalid output: not JSON');
      }
      this.answers.set(token, { status: 'SUCCESS', output });
    } else {
      this.answers.set(token, {
        status: 'FAILURE',
        ...(input.error !== undefined ? { error: input.error } : {}),
        ...(input.cause !== undefined ? { cause: input.cause } : {}),
      });
    }
    this.answered.add(token);
    return { $metadata: { httpStatusCode: 200 } };
  }

  /** The answer a token got, removed once taken; undefined while the task has no answer. */
  public take(token: string): TaskAnswer | undefined {
    const answer = this.answers.get(token);
    this.answers.delete(token);
    return answer;
  }

  /** The answer a token got, left in place. */
  public peek(token: string): TaskAnswer | undefined {
    return this.answers.get(token);
  }

  /** Closes a token (as a task timeout would): later answers throw TaskTimedOut. */
  public close(token: string): void {
    this.closed.add(token);
  }
}

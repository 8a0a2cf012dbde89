/**
 * EventBridge for the local runner: PutEvents records its entries (with `Detail` parsed) so the
 * runner and tests can read the audit events the handlers put on the audit bus.
 */
import { createHash } from 'crypto';
import { commandName, unsupportedCommand } from './errors';

/** One recorded event. */
export interface LocalEventEntry {
  readonly eventId: string;
  readonly source?: string;
  readonly detailType?: string;
  readonly eventBusName?: string;
  readonly resources?: string[];
  /** `Detail`, parsed (the raw string when it is not JSON). */
  readonly detail: unknown;
}

const SUPPORTED = ['PutEventsCommand'];

export class LocalEvents {
  private readonly recorded: LocalEventEntry[] = [];

  public async send(command: any): Promise<any> {
    if (commandName(command) !== 'PutEventsCommand') throw unsupportedCommand('LocalEvents', command, SUPPORTED);
    const entries: any[] = Array.isArray(command.input?.Entries) ? command.input.Entries : [];
    const out = entries.map((e) => {
      let detail: unknown = e?.Detail;
      if (typeof detail === 'string') {
        try {
          detail = JSON.parse(detail);
        } catch {
          // keep the raw string
        }
      }
      // Deterministic: the id is derived from the entry and its position in the log.
      const eventId = uuidOf(`${this.recorded.length}/${JSON.stringify(e ?? null)}`);
      this.recorded.push({
        eventId,
        ...(e?.Source !== undefined ? { source: e.Source } : {}),
        ...(e?.DetailType !== undefined ? { detailType: e.DetailType } : {}),
        ...(e?.EventBusName !== undefined ? { eventBusName: e.EventBusName } : {}),
        ...(Array.isArray(e?.Resources) ? { resources: e.Resources } : {}),
        detail,
      });
      return { EventId: eventId };
    });
    return { $metadata: { httpStatusCode: 200 }, FailedEntryCount: 0, Entries: out };
  }

  /** Every event put so far, in order (optionally only those of one detail-type). */
  public entries(detailType?: string): LocalEventEntry[] {
    return this.recorded.filter((e) => detailType === undefined || e.detailType === detailType);
  }

  /** Forgets the recorded events. */
  public clear(): void {
    this.recorded.length = 0;
  }
}

function uuidOf(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

import { BucketState, CAPACITY_NAMESPACE, CAPACITY_WAIT, CapacityCost, decide, QuotaConfig, QuotaDimension, refund, THROTTLING_ERROR_NAMES } from '../shared/capacity';
import { PipelineError } from '../shared/errors';

/** Where a quota's buckets live: DynamoDB in Lambda, memory in the local runner and the simulation. */
export interface QuotaStore {
  /** The buckets of a quota, and a version for the conditional write (0: no item yet). */
  read(quotaId: string): Promise<{ version: number; buckets: { [dim: string]: BucketState } }>;
  /** Writes the buckets if the version is still `version`; false when another call wrote first. */
  write(quotaId: string, version: number, buckets: { [dim: string]: BucketState }): Promise<boolean>;
  /** Gives units back to some dimensions, unconditionally. */
  refund(quotaId: string, ms: { [dim: string]: number }): Promise<void>;
}

/** A granted acquire: what was charged, so the unused part can be given back. */
export interface CapacityGrant {
  readonly quotaId: string;
  readonly cost: CapacityCost;
  /** Seconds the document waited for capacity (from the task's entry), when known. */
  readonly waitedSeconds?: number;
}

/** What the capacity control reports; the Lambda entry writes it as CloudWatch embedded metrics. */
export interface CapacityEvent {
  readonly quota: string;
  readonly stage: string;
  readonly outcome: 'granted' | 'wait' | 'throttled';
  /** Units granted per dimension (granted only). */
  readonly units?: CapacityCost;
  /** Seconds since the task was entered (how long this document has been waiting). */
  readonly waitedSeconds?: number;
}

/** How many times an acquire re-reads after losing a conditional write before asking the run to wait. */
const WRITE_ATTEMPTS = 3;

/**
 * Takes `cost` units from every dimension of the quota, all or nothing. When a dimension lacks them,
 * raises `Capacity.Wait` (the state machine retries it) naming the quota and the expected wait.
 */
export async function acquireCapacity(store: QuotaStore, quota: QuotaConfig, cost: CapacityCost, nowMs: number): Promise<CapacityGrant> {
  let waitMs = 0;
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    const { version, buckets } = await store.read(quota.id);
    const next: { [dim: string]: BucketState } = { ...buckets };
    waitMs = 0;
    for (const dim of quota.dimensions) {
      const units = cost[dim.name] ?? 0;
      if (units <= 0) continue;
      const d = decide(buckets[dim.name], dim, units, nowMs);
      if (!d.granted) waitMs = Math.max(waitMs, d.waitMs);
      else next[dim.name] = { tat: d.tat };
    }
    if (waitMs > 0) break;
    if (await store.write(quota.id, version, next)) return { quotaId: quota.id, cost };
    waitMs = 1;
  }
  throw new PipelineError(CAPACITY_WAIT, `quota ${quota.id} has no capacity now; expected wait ${Math.ceil(waitMs / 1000)} s`);
}

/** Gives back what a grant charged beyond what the call used (Bedrock's output tokens below maxTokens). */
export async function settleCapacity(store: QuotaStore, quota: QuotaConfig, grant: CapacityGrant, used: CapacityCost): Promise<void> {
  const ms: { [dim: string]: number } = {};
  for (const dim of quota.dimensions) {
    const unused = (grant.cost[dim.name] ?? 0) - (used[dim.name] ?? grant.cost[dim.name] ?? 0);
    if (unused > 0) ms[dim.name] = -refund({ tat: 0 }, dim, unused).tat;
  }
  if (Object.keys(ms).length > 0) await store.refund(quota.id, ms);
}

/** Errors that mean the service throttled the call (they count as throttles in the metrics). */
export const THROTTLING_ERRORS = THROTTLING_ERROR_NAMES;

/** The capacity control a stage core uses: acquire before the call, settle after, report both. */
export class CapacityControl {
  constructor(
    private readonly store: QuotaStore,
    public readonly quota: QuotaConfig,
    private readonly stage: string,
    private readonly report: (event: CapacityEvent) => void = () => {},
    private readonly nowMs: () => number = () => Date.now(),
  ) {}

  /**
   * Takes `cost` from the quota, or raises `Capacity.Wait`; reports either.
   * @param enteredAt when the task was entered (`$$.State.EnteredTime`): the wait is measured from it
   */
  public async acquire(cost: CapacityCost, enteredAt?: string): Promise<CapacityGrant> {
    const now = this.nowMs();
    const entered = enteredAt ? Date.parse(enteredAt) : NaN;
    const waitedSeconds = Number.isFinite(entered) ? Math.max(0, (now - entered) / 1000) : undefined;
    try {
      const grant = await acquireCapacity(this.store, this.quota, cost, now);
      this.report({ quota: this.quota.id, stage: this.stage, outcome: 'granted', units: cost, waitedSeconds });
      return { ...grant, waitedSeconds };
    } catch (err: any) {
      if (err?.name === CAPACITY_WAIT) this.report({ quota: this.quota.id, stage: this.stage, outcome: 'wait', waitedSeconds });
      throw err;
    }
  }

  /**
   * Runs `call` under a grant: `used` maps its result to what it really used (the rest is given back);
   * a throttling error of the call is reported, the whole grant given back, and the error re-thrown.
   */
  public async complete<T>(grant: CapacityGrant, call: () => Promise<T>, used?: (result: T) => CapacityCost): Promise<T> {
    let result: T;
    try {
      result = await call();
    } catch (err: any) {
      if (THROTTLING_ERRORS.includes(err?.name)) {
        this.report({ quota: this.quota.id, stage: this.stage, outcome: 'throttled' });
        // A throttled call used none of what was granted.
        await settleCapacity(this.store, this.quota, grant, Object.fromEntries(Object.keys(grant.cost).map((d) => [d, 0])));
      }
      throw err;
    }
    if (used) await settleCapacity(this.store, this.quota, grant, used(result));
    return result;
  }

  /** `acquire`, then `complete`. */
  public async run<T>(cost: CapacityCost, call: () => Promise<T>, used?: (result: T) => CapacityCost, enteredAt?: string): Promise<T> {
    return this.complete(await this.acquire(cost, enteredAt), call, used);
  }
}

/** A quota store in memory: the local runner, tests and the simulation. Synchronous underneath. */
export class MemoryQuotaStore implements QuotaStore {
  private readonly items = new Map<string, { version: number; buckets: { [dim: string]: BucketState } }>();
  public async read(quotaId: string) {
    return this.readNow(quotaId);
  }
  public async write(quotaId: string, version: number, buckets: { [dim: string]: BucketState }) {
    return this.writeNow(quotaId, version, buckets);
  }
  public async refund(quotaId: string, ms: { [dim: string]: number }) {
    this.refundNow(quotaId, ms);
  }
  /** The same operations without promises, for a discrete-event simulation. */
  public readNow(quotaId: string) {
    const item = this.items.get(quotaId);
    return item ? { version: item.version, buckets: { ...item.buckets } } : { version: 0, buckets: {} };
  }
  public writeNow(quotaId: string, version: number, buckets: { [dim: string]: BucketState }): boolean {
    if ((this.items.get(quotaId)?.version ?? 0) !== version) return false;
    this.items.set(quotaId, { version: version + 1, buckets: { ...buckets } });
    return true;
  }
  public refundNow(quotaId: string, ms: { [dim: string]: number }): void {
    const item = this.items.get(quotaId);
    if (!item) return;
    const buckets = { ...item.buckets };
    for (const [dim, v] of Object.entries(ms)) if (buckets[dim]) buckets[dim] = { tat: buckets[dim].tat - v };
    this.items.set(quotaId, { version: item.version + 1, buckets });
  }
}

/** The synchronous twin of `acquireCapacity` over a `MemoryQuotaStore` (the simulation's hot path). */
export function acquireNow(store: MemoryQuotaStore, quota: QuotaConfig, cost: CapacityCost, nowMs: number): { granted: boolean; waitMs: number } {
  const { version, buckets } = store.readNow(quota.id);
  const next: { [dim: string]: BucketState } = { ...buckets };
  let waitMs = 0;
  for (const dim of quota.dimensions) {
    const units = cost[dim.name] ?? 0;
    if (units <= 0) continue;
    const d = decide(buckets[dim.name], dim, units, nowMs);
    if (!d.granted) waitMs = Math.max(waitMs, d.waitMs);
    else next[dim.name] = { tat: d.tat };
  }
  if (waitMs > 0) return { granted: false, waitMs };
  return { granted: store.writeNow(quota.id, version, next), waitMs: 0 };
}

/** The CloudWatch embedded-metric-format line of one capacity event (namespace `cdk-ai-pipeline/Capacity`). */
export function capacityMetricLine(event: CapacityEvent, nowMs: number): string {
  const values: { [name: string]: number } = {};
  const metrics: Array<{ Name: string; Unit: string }> = [];
  const put = (name: string, value: number, unit: string) => {
    values[name] = value;
    metrics.push({ Name: name, Unit: unit });
  };
  if (event.outcome === 'granted') {
    put('Granted', 1, 'Count');
    for (const [dim, units] of Object.entries(event.units ?? {})) put(`Units_${dim}`, units, 'Count');
    if (event.waitedSeconds !== undefined) put('WaitTime', event.waitedSeconds, 'Seconds');
  } else if (event.outcome === 'wait') {
    put('Waits', 1, 'Count');
    if (event.waitedSeconds !== undefined) put('BacklogAge', event.waitedSeconds, 'Seconds');
  } else {
    put('Throttles', 1, 'Count');
  }
  return JSON.stringify({
    _aws: { Timestamp: nowMs, CloudWatchMetrics: [{ Namespace: CAPACITY_NAMESPACE, Dimensions: [['Quota']], Metrics: metrics }] },
    Quota: event.quota,
    Stage: event.stage,
    ...values,
  });
}

export type { QuotaDimension };

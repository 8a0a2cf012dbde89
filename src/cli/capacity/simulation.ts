/**
 * A simulated day: documents arrive in bursts and go through the flagship's stages (Textract, a
 * SageMaker endpoint, a Bedrock model) on a virtual clock (discrete events, no waiting in real time).
 *
 * - The services are stand-ins that enforce quotas with token buckets and, over them, throw the
 *   errors the SDK throws (`ProvisionedThroughputExceededException` from Textract, Bedrock's
 *   `ThrottlingException`, a 429 `ThrottlingException` from the SageMaker endpoint). Bedrock's
 *   tokens-per-minute bucket is charged the input plus `maxTokens` when a call starts and given the
 *   unused part back when it ends, as Bedrock does.
 * - Each stage is one Task whose Retry list is read from a synthesized definition, applied as Step
 *   Functions does: the first retrier matching the error, its own attempt count, interval x backoff^n
 *   capped by MaxDelaySeconds, full jitter.
 * - With capacity control, the task first takes capacity with `acquireNow`: the same GCRA decision
 *   (`decide`) and conditional write the Lambda handler runs against DynamoDB, here over memory.
 *
 * What it does not model: Lambda cold starts and concurrency, GetDocumentTextDetection calls after an
 * asynchronous job, the repair call of a Bedrock stage, S3 and audit writes.
 */
import { acquireNow, MemoryQuotaStore } from '../../runtime/capacity';
import { bedrockReservation, CAPACITY_WAIT, QuotaConfig, refund } from '../../shared/capacity';
import { Rng, rngFrom } from '../local/stand-ins/prng';

/** One retrier of a Task, as in the definition (ASL field names). */
export interface Retrier {
  readonly ErrorEquals: string[];
  readonly IntervalSeconds?: number;
  readonly BackoffRate?: number;
  readonly MaxAttempts?: number;
  readonly MaxDelaySeconds?: number;
  readonly JitterStrategy?: string;
}

/** A service quota dimension the stand-ins enforce, and where its number comes from. */
export interface SimQuota {
  readonly name: string;
  /** Units per second the service allows. */
  readonly perSecond: number;
  /** The bucket: seconds of `perSecond` the service lets through at once. */
  readonly burstSeconds: number;
  /** The error the service throws over it, as the SDK names it. */
  readonly error: string;
}

export interface SimSettings {
  readonly documents: number;
  /** Bursts: each brings `documents / bursts.length` documents, arriving at random over `minutes` from `atHour`. */
  readonly bursts: ReadonlyArray<{ readonly atHour: number; readonly minutes: number }>;
  /** Share of single-page documents (DetectDocumentText); the others have 2-20 pages (asynchronous job). */
  readonly singlePageShare: number;
  readonly tokensPerPage: number;
  readonly promptTokens: number;
  readonly maxTokens: number;
  /** Quotas per dimension: `DetectDocumentText`, `StartDocumentTextDetection`, `invocations`, `requests`, `tokens`. */
  readonly quotas: { readonly [dimension: string]: SimQuota };
  /** The Retry lists of the three tasks. */
  readonly retry: { readonly Extract: Retrier[]; readonly Classify: Retrier[]; readonly Summarize: Retrier[] };
  /** With capacity control: the quotas the control grants from (what the construct writes into the handler's environment). */
  readonly control?: { readonly textract: QuotaConfig; readonly sagemaker: QuotaConfig; readonly bedrock: QuotaConfig };
  readonly seed: string;
}

/** How much of a quota dimension the service admitted. */
export interface DimensionUtilization {
  /** Units admitted while documents waited for the dimension, over what it allows in that time. */
  readonly whileBacklogged: number;
  /** Units admitted over the day, over what it allows in a day. */
  readonly day: number;
  readonly backloggedSeconds: number;
}

export interface SimResult {
  readonly label: string;
  readonly documents: number;
  readonly succeeded: number;
  readonly failedByThrottling: number;
  readonly failedWaiting: number;
  /** Seconds from arrival to the end of the last stage, of the documents that succeeded. */
  readonly p50Seconds: number;
  readonly p99Seconds: number;
  readonly maxSeconds: number;
  /** Per dimension: units the service admitted over what it allows, while documents were waiting for it; and over the day. */
  readonly utilization: { readonly [dimension: string]: DimensionUtilization };
  /** The dimension with the most backlogged time. */
  readonly binding: string;
  readonly throttles: number;
  readonly capacityWaits: number;
  /** Task attempts per document (each a state transition and a Lambda invocation). */
  readonly attemptsPerDocument: number;
  /** Events the simulation processed (its own cost). */
  readonly events: number;
}

/** A token bucket of a service stand-in (continuous refill). */
class ServiceBucket {
  private level: number;
  private at = 0;
  public admitted = 0;
  public admittedBacklogged = 0;
  public waiting = 0;
  public backloggedSince = -1;
  public backloggedSeconds = 0;
  constructor(public readonly quota: SimQuota) {
    this.level = quota.perSecond * quota.burstSeconds;
  }
  private refill(t: number) {
    this.level = Math.min(this.quota.perSecond * this.quota.burstSeconds, this.level + (t - this.at) * this.quota.perSecond);
    this.at = t;
  }
  public take(t: number, units: number): boolean {
    this.refill(t);
    if (this.level < units) return false;
    this.level -= units;
    return true;
  }
  public give(t: number, units: number) {
    this.refill(t);
    this.level = Math.min(this.quota.perSecond * this.quota.burstSeconds, this.level + units);
  }
  /** Counts units the service really used (after refunds) against its quota. */
  public count(units: number) {
    this.admitted += units;
    if (this.waiting > 0) this.admittedBacklogged += units;
  }
  public wait(t: number, delta: number) {
    if (this.waiting === 0 && delta > 0) this.backloggedSince = t;
    this.waiting += delta;
    if (this.waiting === 0 && delta < 0) this.backloggedSeconds += t - this.backloggedSince;
  }
}

interface Doc {
  readonly id: number;
  readonly arrival: number;
  readonly pages: number;
  readonly outputTokens: number;
  /** The Bedrock stage's real input tokens: the estimate, give or take (the estimate is 4 characters a token). */
  readonly inputTokens: number;
  stage: number;
  counts: number[];
  attempts: number;
  /** The dimension the document is waiting for, if any. */
  waitingOn?: string;
  /** A settlement event, not a document: tokens Bedrock and the control give back when a reply ends. */
  settle?: { readonly service: number; readonly control: number };
}

const STAGES = ['Extract', 'Classify', 'Summarize'] as const;

/** A binary heap of events by time (ties in insertion order). */
class EventQueue {
  private readonly times: number[] = [];
  private readonly seqs: number[] = [];
  private readonly docs: Doc[] = [];
  private seq = 0;
  public get size() {
    return this.times.length;
  }
  public push(t: number, doc: Doc) {
    this.times.push(t); this.seqs.push(this.seq++); this.docs.push(doc);
    let i = this.times.length - 1;
    while (i > 0) {
      const p = Math.floor((i - 1) / 2);
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  public pop(): { t: number; doc: Doc } {
    const t = this.times[0];
    const doc = this.docs[0];
    const last = this.times.length - 1;
    this.swap(0, last);
    this.times.pop(); this.seqs.pop(); this.docs.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.times.length && this.less(l, m)) m = l;
      if (r < this.times.length && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return { t, doc };
  }
  private less(a: number, b: number) {
    return this.times[a] < this.times[b] || (this.times[a] === this.times[b] && this.seqs[a] < this.seqs[b]);
  }
  private swap(a: number, b: number) {
    [this.times[a], this.times[b]] = [this.times[b], this.times[a]];
    [this.seqs[a], this.seqs[b]] = [this.seqs[b], this.seqs[a]];
    [this.docs[a], this.docs[b]] = [this.docs[b], this.docs[a]];
  }
}

/** The retrier Step Functions applies to `error` (the first whose ErrorEquals names it, or States.ALL). */
export function retrierFor(retriers: readonly Retrier[], error: string): number {
  return retriers.findIndex((r) => r.ErrorEquals.includes(error) || r.ErrorEquals.includes('States.ALL'));
}

/** The wait before retry number `attempt` (0-based) of a retrier, full jitter drawn from `rng`. */
export function retryDelay(r: Retrier, attempt: number, rng: Rng): number {
  const base = (r.IntervalSeconds ?? 1) * (r.BackoffRate ?? 2) ** attempt;
  const capped = r.MaxDelaySeconds !== undefined ? Math.min(base, r.MaxDelaySeconds) : base;
  return r.JitterStrategy === 'FULL' ? rng.next() * capped : capped;
}

/** Runs one simulated day. Deterministic for a seed. */
export function simulateDay(label: string, s: SimSettings): SimResult {
  const rng = rngFrom(`${s.seed}/${label}`);
  const loadRng = rngFrom(`${s.seed}/load`);
  const buckets: { [dim: string]: ServiceBucket } = {};
  for (const [dim, q] of Object.entries(s.quotas)) buckets[dim] = new ServiceBucket(q);
  const store = new MemoryQuotaStore();
  const queue = new EventQueue();
  const times: number[] = [];
  let failedByThrottling = 0;
  let failedWaiting = 0;
  let throttles = 0;
  let capacityWaits = 0;
  let attempts = 0;
  let events = 0;

  // Arrivals: the same documents in both runs (the load's own seed).
  const perBurst = Math.floor(s.documents / s.bursts.length);
  let id = 0;
  for (const [b, burst] of s.bursts.entries()) {
    const n = b === s.bursts.length - 1 ? s.documents - perBurst * (s.bursts.length - 1) : perBurst;
    for (let i = 0; i < n; i++) {
      const single = loadRng.chance(s.singlePageShare);
      const pages = single ? 1 : loadRng.int(2, 20);
      const estimate = s.promptTokens + pages * s.tokensPerPage;
      const doc: Doc = {
        id: id++,
        arrival: burst.atHour * 3600 + loadRng.next() * burst.minutes * 60,
        pages,
        outputTokens: loadRng.int(300, 700),
        inputTokens: Math.round(estimate * (0.9 + 0.15 * loadRng.next())),
        stage: 0,
        counts: [],
        attempts: 0,
      };
      queue.push(doc.arrival, doc);
    }
  }

  const setWaiting = (doc: Doc, t: number, dim: string | undefined) => {
    if (doc.waitingOn === dim) return;
    if (doc.waitingOn) buckets[doc.waitingOn].wait(t, -1);
    if (dim) buckets[dim].wait(t, 1);
    doc.waitingOn = dim;
  };
  const next = (doc: Doc, t: number) => {
    setWaiting(doc, t, undefined);
    doc.stage++;
    doc.counts = [];
    if (doc.stage >= STAGES.length) times.push(t - doc.arrival);
    else queue.push(t, doc);
  };
  /** The error path of one attempt: the matching retrier, or the end of the document. */
  const fail = (doc: Doc, t: number, error: string, dim: string) => {
    const retriers = s.retry[STAGES[doc.stage]];
    const i = retrierFor(retriers, error);
    const n = doc.counts[i] ?? 0;
    if (i < 0 || n >= (retriers[i].MaxAttempts ?? 3)) {
      setWaiting(doc, t, undefined);
      if (error === CAPACITY_WAIT) failedWaiting++;
      else failedByThrottling++;
      return;
    }
    doc.counts[i] = n + 1;
    setWaiting(doc, t, dim);
    queue.push(t + retryDelay(retriers[i], n, rng), doc);
  };

  const tokensDim = s.control?.bedrock.dimensions.find((d) => d.name === 'tokens');
  while (queue.size > 0) {
    const { t, doc } = queue.pop();
    events++;
    if (doc.settle) {
      buckets.tokens.give(t, doc.settle.service);
      if (s.control && tokensDim && doc.settle.control > 0) {
        store.refundNow(s.control.bedrock.id, { tokens: -refund({ tat: 0 }, tokensDim, doc.settle.control).tat });
      }
      continue;
    }
    attempts++;
    doc.attempts++;
    const stage = STAGES[doc.stage];
    // What this attempt calls: one dimension of one service (two for Bedrock).
    let dims: Array<[string, number]>;
    let control: QuotaConfig | undefined;
    let latency: number;
    if (stage === 'Extract') {
      const api = doc.pages === 1 ? 'DetectDocumentText' : 'StartDocumentTextDetection';
      dims = [[api, 1]];
      control = s.control?.textract;
      // A synchronous call; or a job start, then the job (callback) at about half a second a page.
      latency = doc.pages === 1 ? 1.2 : 0.3 + 4 + 0.5 * doc.pages;
    } else if (stage === 'Classify') {
      dims = [['invocations', 1]];
      control = s.control?.sagemaker;
      latency = 0.25;
    } else {
      const reserved = bedrockReservation(4 * (s.promptTokens + doc.pages * s.tokensPerPage), s.maxTokens);
      dims = [['requests', 1], ['tokens', reserved]];
      control = s.control?.bedrock;
      latency = 1 + doc.outputTokens / 80;
    }
    if (control) {
      const cost = Object.fromEntries(dims);
      const got = acquireNow(store, control, cost, t * 1000);
      if (!got.granted) {
        capacityWaits++;
        // The dimension the control refused: the binding one of this stage.
        const refusedDim = dims.length === 1 ? dims[0][0] : dimRefused(store, control, cost, t * 1000);
        fail(doc, t, CAPACITY_WAIT, refusedDim);
        continue;
      }
    }
    // The service's own buckets: Bedrock's tokens are charged the real input plus maxTokens.
    const charged = dims.map(([dim, units]) => [dim, dim === 'tokens' ? doc.inputTokens + s.maxTokens : units] as [string, number]);
    const refusedBy = serviceRefusal(buckets, charged, t);
    if (refusedBy) {
      throttles++;
      if (control) giveBack(store, control, Object.fromEntries(dims));
      fail(doc, t, buckets[refusedBy].quota.error, refusedBy);
      continue;
    }
    for (const [dim, units] of charged) buckets[dim].count(dim === 'tokens' ? units - (s.maxTokens - doc.outputTokens) : units);
    if (stage === 'Summarize') {
      // Bedrock settles the reservation when the reply ends; so does the control (what the reservation did not use).
      const control_ = control ? Math.max(0, dims[1][1] - (doc.inputTokens + doc.outputTokens)) : 0;
      queue.push(t + latency, { ...doc, settle: { service: s.maxTokens - doc.outputTokens, control: control_ } });
    }
    next(doc, t + latency);
  }

  times.sort((a, b) => a - b);
  const q = (p: number) => (times.length === 0 ? NaN : times[Math.min(times.length - 1, Math.floor(p * times.length))]);
  const utilization: { [dim: string]: DimensionUtilization } = {};
  let binding = '';
  let most = -1;
  for (const [dim, b] of Object.entries(buckets)) {
    const rate = b.quota.perSecond;
    utilization[dim] = {
      whileBacklogged: b.backloggedSeconds > 0 ? b.admittedBacklogged / (rate * b.backloggedSeconds) : 0,
      day: b.admitted / (rate * 86_400),
      backloggedSeconds: b.backloggedSeconds,
    };
    if (b.backloggedSeconds > most) {
      most = b.backloggedSeconds;
      binding = dim;
    }
  }
  return {
    label,
    documents: s.documents,
    succeeded: times.length,
    failedByThrottling,
    failedWaiting,
    p50Seconds: q(0.5),
    p99Seconds: q(0.99),
    maxSeconds: times.length ? times[times.length - 1] : NaN,
    utilization,
    binding,
    throttles,
    capacityWaits,
    attemptsPerDocument: attempts / s.documents,
    events,
  };
}

/** The first dimension the service stand-ins refuse, charging none when one refuses. */
function serviceRefusal(buckets: { [dim: string]: ServiceBucket }, charged: Array<[string, number]>, t: number): string | undefined {
  const taken: Array<[string, number]> = [];
  for (const [dim, units] of charged) {
    if (!buckets[dim].take(t, units)) {
      for (const [d, u] of taken) buckets[d].give(t, u);
      return dim;
    }
    taken.push([dim, units]);
  }
  return undefined;
}

/** Which dimension of a multi-dimension quota refused (the one with the longest wait). */
function dimRefused(store: MemoryQuotaStore, control: QuotaConfig, cost: { [dim: string]: number }, nowMs: number): string {
  const { buckets } = store.readNow(control.id);
  let worst = control.dimensions[0].name;
  let longest = -1;
  for (const dim of control.dimensions) {
    const perUnit = 1000 / dim.ratePerSecond;
    const tat = Math.max(buckets[dim.name]?.tat ?? 0, nowMs) + Math.min(cost[dim.name] ?? 0, dim.burst) * perUnit;
    const over = tat - nowMs - dim.burst * perUnit;
    if (over > longest) {
      longest = over;
      worst = dim.name;
    }
  }
  return worst;
}

/** A call the service throttled used none of the capacity the control granted: give it back. */
function giveBack(store: MemoryQuotaStore, control: QuotaConfig, cost: { [dim: string]: number }): void {
  const ms: { [dim: string]: number } = {};
  for (const dim of control.dimensions) if (cost[dim.name]) ms[dim.name] = (cost[dim.name] * 1000) / dim.ratePerSecond;
  store.refundNow(control.id, ms);
}

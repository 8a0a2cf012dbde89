/**
 * The capacity model: from a pipeline's stages, the quotas they count against and a daily load, the
 * bottleneck, the expected wait, the sustainable documents per day and the cost per document. Pure:
 * no I/O, so the command line, the tests and the benchmark share it.
 *
 * Queueing: only the bottleneck queues (stages behind it see at most its rate). Below saturation it
 * is an M/D/1 queue (Poisson arrivals, a deterministic service rate: the token bucket's); a burst
 * above it is a fluid model (the backlog grows at arrival minus service rate, then drains).
 */
import { baseModelId, BEDROCK_DEFAULTS, DEFAULT_PRICES, PriceTable, SAGEMAKER_DEFAULT, TEXTRACT_DEFAULTS } from './defaults';

/** A stage as the pipeline's metadata describes it. */
export interface CapacityStage {
  readonly id: string;
  readonly kind: string;
  readonly model?: string;
  readonly maxTokens?: number;
  readonly promptChars?: number;
  readonly endpoint?: string;
  readonly quota?: {
    readonly id: string;
    readonly service: string;
    readonly resource: string;
    readonly limits: ReadonlyArray<{ dimension: string; quotaPerSecond: number; grantPerSecond: number }>;
    readonly maxWaitSeconds?: number;
    readonly maxPollDelaySeconds?: number;
  };
}

/** The daily load. */
export interface CapacityLoad {
  readonly documentsPerDay: number;
  /** Average pages per document. */
  readonly pagesPerDocument: number;
  /** Share of single-page documents (DetectDocumentText); the others start an asynchronous job. */
  readonly singlePageShare: number;
  /** Text tokens per page that reach a model's prompt. */
  readonly inputTokensPerPage: number;
  /** Tokens a model writes per document. */
  readonly outputTokensPerDocument: number;
  /** Peak arrival rate over the day's average. */
  readonly burstFactor: number;
  /** How long the peak lasts, in hours. */
  readonly burstHours: number;
}

/** Quotas given by the user (a JSON file): they win over the app's and the defaults. */
export interface QuotaOverrides {
  readonly textract?: { readonly [api: string]: number };
  /** Per model id (with or without the cross-region prefix). */
  readonly bedrock?: { readonly [model: string]: { readonly requestsPerMinute?: number; readonly tokensPerMinute?: number } };
  /** Per endpoint name. */
  readonly sagemaker?: { readonly [endpoint: string]: { readonly invocationsPerSecond: number } };
  /** Share of each quota the capacity control grants when the app does not say. @default 0.95 */
  readonly utilizationTarget?: number;
}

/** One quota dimension the pipeline uses, with what a document needs of it. */
export interface QuotaUse {
  /** `bedrock tokens (us.anthropic...)`, `textract DetectDocumentText`, ... */
  readonly name: string;
  readonly unitsPerDocument: number;
  readonly quotaPerSecond: number;
  readonly grantPerSecond: number;
  readonly source: string;
  /** Documents per second the quota sustains (grant rate over units per document). */
  readonly documentsPerSecond: number;
  readonly utilizationAverage: number;
  readonly utilizationPeak: number;
  /** The stages counting against it. */
  readonly stages: string[];
  /** Seconds a document may wait for it before failing (the app's `maxWait`), when the app has a quota. */
  readonly maxWaitSeconds?: number;
}

export interface CostLine {
  readonly item: string;
  readonly perDocument: number;
}

export interface CapacityPlan {
  readonly load: CapacityLoad;
  readonly averagePerSecond: number;
  readonly peakPerSecond: number;
  readonly uses: QuotaUse[];
  readonly bottleneck: QuotaUse;
  readonly sustainableDocumentsPerDay: number;
  /** True when the day's average exceeds what the bottleneck sustains (the backlog never drains). */
  readonly overloaded: boolean;
  readonly wait: { readonly model: string; readonly meanSeconds: number; readonly maxSeconds: number; readonly backlogDocuments: number };
  /** Tries for capacity per document at the bottleneck (state transitions and invocations). */
  readonly pollsPerDocument: number;
  readonly cost: { readonly perDocument: number; readonly lines: CostLine[]; readonly prices: string };
  readonly warnings: string[];
}

const DAY = 86_400;

/** The plan for `stages` under `load`. */
export function planCapacity(
  stages: readonly CapacityStage[],
  load: CapacityLoad,
  overrides: QuotaOverrides = {},
  prices: PriceTable = DEFAULT_PRICES,
): CapacityPlan {
  checkLoad(load);
  const target = overrides.utilizationTarget ?? 0.95;
  const warnings: string[] = [];
  const avg = load.documentsPerDay / DAY;
  const peak = avg * load.burstFactor;
  const inputTokens = (s: CapacityStage) => Math.ceil(load.pagesPerDocument * load.inputTokensPerPage + (s.promptChars ?? 0) / 4);

  // Demand per quota dimension, summed over the stages that share it.
  const uses = new Map<string, Omit<QuotaUse, 'documentsPerSecond' | 'utilizationAverage' | 'utilizationPeak'> & { stages: string[] }>();
  const add = (name: string, units: number, stage: string, quota: { perSecond: number; grant?: number; source: string; maxWait?: number }) => {
    const prev = uses.get(name);
    if (prev) {
      uses.set(name, { ...prev, unitsPerDocument: prev.unitsPerDocument + units, stages: [...prev.stages, stage] });
    } else {
      uses.set(name, {
        name,
        unitsPerDocument: units,
        quotaPerSecond: quota.perSecond,
        grantPerSecond: quota.grant ?? quota.perSecond * target,
        source: quota.source,
        stages: [stage],
        maxWaitSeconds: quota.maxWait,
      });
    }
  };
  const fromApp = (s: CapacityStage, dim: string) => {
    const l = s.quota?.limits.find((x) => x.dimension === dim);
    return l ? { perSecond: l.quotaPerSecond, grant: l.grantPerSecond, source: `the app's ServiceQuota ${s.quota!.id}`, maxWait: s.quota!.maxWaitSeconds } : undefined;
  };

  for (const s of stages) {
    switch (s.kind) {
      case 'textract': {
        const share = { DetectDocumentText: load.singlePageShare, StartDocumentTextDetection: 1 - load.singlePageShare };
        for (const [api, units] of Object.entries(share)) {
          if (units <= 0) continue;
          const given = overrides.textract?.[api];
          const quota = given !== undefined ? { perSecond: given, source: 'your --quotas file' } : fromApp(s, api) ?? TEXTRACT_DEFAULTS[api];
          add(`textract ${api}`, units, s.id, quota);
        }
        break;
      }
      case 'bedrock': {
        const model = s.model ?? '';
        const base = baseModelId(model);
        const given = overrides.bedrock?.[model] ?? overrides.bedrock?.[base];
        const defaults = BEDROCK_DEFAULTS[base];
        const perDim = (dim: 'requests' | 'tokens', perMinute: number | undefined, fallback: number | undefined) => {
          if (perMinute !== undefined) return { perSecond: perMinute / 60, source: 'your --quotas file' };
          const app = fromApp(s, dim);
          if (app) return app;
          if (fallback !== undefined) return { perSecond: fallback / 60, source: defaults!.source };
          throw new Error(`stage ${s.id} calls ${model}, whose ${dim}-per-minute quota is not in the defaults table: give it in --quotas as {"bedrock": {"${model}": {"requestsPerMinute": ..., "tokensPerMinute": ...}}} (the values of your account's Service Quotas).`);
        };
        add(`bedrock requests (${model})`, 1, s.id, perDim('requests', given?.requestsPerMinute, defaults?.requestsPerMinute));
        add(`bedrock tokens (${model})`, inputTokens(s) + load.outputTokensPerDocument, s.id, perDim('tokens', given?.tokensPerMinute, defaults?.tokensPerMinute));
        break;
      }
      case 'sagemaker': {
        const endpoint = s.endpoint ?? s.id;
        const given = overrides.sagemaker?.[endpoint];
        const quota = given ? { perSecond: given.invocationsPerSecond, source: 'your --quotas file' } : fromApp(s, 'invocations') ?? SAGEMAKER_DEFAULT;
        add(`sagemaker invocations (${endpoint})`, 1, s.id, quota);
        break;
      }
      default:
        break;
    }
  }
  if (uses.size === 0) throw new Error('the pipeline has no stage that calls a service with a quota (Textract, Bedrock, SageMaker): nothing to plan.');

  const rows: QuotaUse[] = [...uses.values()].map((u) => {
    const dps = u.grantPerSecond / u.unitsPerDocument;
    return { ...u, documentsPerSecond: dps, utilizationAverage: avg / dps, utilizationPeak: peak / dps };
  });
  const bottleneck = rows.reduce((a, b) => (b.documentsPerSecond < a.documentsPerSecond ? b : a));
  const mu = bottleneck.documentsPerSecond;
  const overloaded = avg >= mu;
  const wait = queueWait(avg, peak, mu, load);
  if (overloaded) {
    warnings.push(`the load (${fmt(load.documentsPerDay)} documents/day) exceeds what ${bottleneck.name} sustains (${fmt(mu * DAY)}/day): the backlog grows without end. Raise that quota (Service Quotas) or spread the load.`);
  }
  if (!overloaded && bottleneck.utilizationPeak > 1 && bottleneck.maxWaitSeconds === undefined) {
    warnings.push(`the peak needs ${pct(bottleneck.utilizationPeak)} of ${bottleneck.name}, and its stages (${bottleneck.stages.join(', ')}) have no ServiceQuota: their throttled calls fail after retry.maxAttempts. Give them a ServiceQuota (with maxWait above ${duration(wait.maxSeconds)}) so they wait instead; the wait and cost above assume one.`);
  } else if (!overloaded && wait.maxSeconds > (bottleneck.maxWaitSeconds ?? Infinity)) {
    warnings.push(`at the peak a document waits up to ${duration(wait.maxSeconds)} for ${bottleneck.name}, longer than its quota's maxWait (${duration(bottleneck.maxWaitSeconds!)}): those documents fail. Raise maxWait (and the pipeline's timeout) or the quota.`);
  }
  // Tries for capacity: below saturation, the share rho of documents that find the bucket empty, each
  // waiting Wq / rho on average; in a burst, the tries of the mean wait.
  const pollDelay = stages.find((st) => bottleneck.stages.includes(st.id) && st.quota?.maxPollDelaySeconds)?.quota?.maxPollDelaySeconds ?? 60;
  const rhoPeak = peak / mu;
  let polls = NaN;
  if (!overloaded) {
    if (rhoPeak >= 1) polls = pollsFor(wait.meanSeconds, pollDelay);
    else polls = wait.meanSeconds > 0 ? rhoPeak * pollsFor(wait.meanSeconds / rhoPeak, pollDelay) : 0;
  }
  return {
    load,
    averagePerSecond: avg,
    peakPerSecond: peak,
    uses: rows,
    bottleneck,
    sustainableDocumentsPerDay: mu * DAY,
    overloaded,
    wait,
    pollsPerDocument: polls,
    cost: costPerDocument(stages, load, prices, inputTokens, Number.isFinite(polls) ? polls : 0),
    warnings,
  };
}

/** Mean and longest wait at the bottleneck; see the module comment for the models. */
function queueWait(avg: number, peak: number, mu: number, load: CapacityLoad): CapacityPlan['wait'] {
  if (avg >= mu) return { model: 'overloaded: no steady state', meanSeconds: Infinity, maxSeconds: Infinity, backlogDocuments: Infinity };
  if (peak < mu) {
    const rho = peak / mu;
    const wq = rho / (2 * mu * (1 - rho));
    return { model: `M/D/1 at the peak (utilization ${pct(rho)})`, meanSeconds: wq, maxSeconds: wq, backlogDocuments: peak * wq };
  }
  // Fluid: the burst brings at most the day's documents; the backlog grows at (peak - mu) during it.
  const burstSeconds = Math.min(load.burstHours * 3600, load.documentsPerDay / peak);
  const backlog = (peak - mu) * burstSeconds;
  const maxWait = backlog / mu;
  // Documents of the burst wait from 0 to maxWait, linearly in their arrival; documents after it see the draining backlog.
  const burstDocs = peak * burstSeconds;
  const meanWait = (burstDocs * (maxWait / 2)) / load.documentsPerDay;
  return { model: `fluid: the peak exceeds the bottleneck for ${duration(burstSeconds)}`, meanSeconds: meanWait, maxSeconds: maxWait, backlogDocuments: backlog };
}

/** Tries for capacity during a wait: waits of 1, 2, 4 ... s, then `maxDelay`, each jittered to half on average. */
export function pollsFor(waitSeconds: number, maxDelay: number): number {
  let t = 0;
  let n = 0;
  while (t < waitSeconds) {
    t += Math.min(2 ** n, maxDelay) / 2;
    n++;
  }
  return n;
}

/** Per-kind handler runs (memory in GB, seconds) for the Lambda share of the cost. */
const HANDLER_RUN: { [kind: string]: { gb: number; seconds: (load: CapacityLoad) => number } } = {
  textract: { gb: 1, seconds: () => 1 },
  sagemaker: { gb: 0.5, seconds: () => 0.3 },
  bedrock: { gb: 0.5, seconds: (l) => 2 + l.outputTokensPerDocument / 80 },
  lambda: { gb: 0.25, seconds: () => 0.5 },
};

function costPerDocument(stages: readonly CapacityStage[], load: CapacityLoad, p: PriceTable, inputTokens: (s: CapacityStage) => number, polls: number): CapacityPlan['cost'] {
  const lines: CostLine[] = [];
  const endpoints = new Set<string>();
  let quotaCalls = 0;
  for (const s of stages) {
    if (s.kind === 'textract') lines.push({ item: `${s.id}: Textract, ${load.pagesPerDocument} pages`, perDocument: load.pagesPerDocument * p.textractPerPage });
    if (s.kind === 'bedrock') {
      const price = p.bedrock[baseModelId(s.model ?? '')];
      if (!price) throw new Error(`no list price for ${s.model} (stage ${s.id}): give it in --prices as {"bedrock": {"${baseModelId(s.model ?? '')}": {"inputPer1k": ..., "outputPer1k": ...}}}.`);
      lines.push({ item: `${s.id}: Bedrock ${s.model}, ${inputTokens(s)} in + ${load.outputTokensPerDocument} out tokens`, perDocument: (inputTokens(s) / 1000) * price.inputPer1k + (load.outputTokensPerDocument / 1000) * price.outputPer1k });
    }
    if (s.kind === 'sagemaker' && !endpoints.has(s.endpoint ?? s.id)) {
      endpoints.add(s.endpoint ?? s.id);
      lines.push({ item: `${s.id}: SageMaker endpoint ${s.endpoint ?? ''} (${p.sagemakerEndpointPerHour}/h over the day's documents)`, perDocument: (p.sagemakerEndpointPerHour * 24) / load.documentsPerDay });
    }
    if (s.quota) quotaCalls += s.kind === 'bedrock' ? 1 : 1;
  }
  const stageCount = stages.length;
  const transitions = stageCount + 3 + polls;
  lines.push({ item: `Step Functions: ${fmt(transitions, 1)} transitions (stages + 3${polls > 0 ? `, ${fmt(polls, 1)} tries for capacity` : ''})`, perDocument: transitions * p.stepFunctionsPerTransition });
  const asyncShare = stages.some((s) => s.kind === 'textract') ? 1 - load.singlePageShare : 0;
  const run = (kind: string) => (HANDLER_RUN[kind]?.gb ?? 0.25) * (HANDLER_RUN[kind]?.seconds(load) ?? 0.5);
  // the stages, the recorder (256 MB, 0.2 s) and each refused try (512 MB, 0.1 s)
  const gbSeconds = stages.reduce((t, s) => t + run(s.kind), 0) + 0.25 * 0.2 + polls * 0.5 * 0.1;
  const invocations = stageCount + 1 + asyncShare + polls;
  lines.push({ item: `Lambda: ${fmt(invocations, 1)} invocations, ${fmt(gbSeconds, 2)} GB-s`, perDocument: invocations * p.lambdaPerRequest + gbSeconds * p.lambdaPerGbSecond });
  if (quotaCalls > 0) {
    const bedrockRefunds = stages.filter((s) => s.quota && s.kind === 'bedrock').length;
    lines.push({ item: `DynamoDB (capacity control): ${quotaCalls + polls} reads, ${quotaCalls + bedrockRefunds} writes`, perDocument: (quotaCalls + polls) * p.dynamoPerRead + (quotaCalls + bedrockRefunds) * p.dynamoPerWrite });
  }
  lines.push({ item: `S3 requests: ${2 * stageCount + 1} PUT, ${2 * stageCount} GET (results, audit records)`, perDocument: (2 * stageCount + 1) * p.s3PerPut + 2 * stageCount * p.s3PerGet });
  lines.push({ item: `EventBridge: ${stageCount + 1} audit events`, perDocument: (stageCount + 1) * p.eventBridgePerEvent });
  return { perDocument: lines.reduce((t, l) => t + l.perDocument, 0), lines, prices: `${p.source} (as of ${p.asOf})` };
}

function checkLoad(load: CapacityLoad): void {
  const positive: Array<[string, number]> = [
    ['--docs-per-day', load.documentsPerDay], ['--pages-per-doc', load.pagesPerDocument], ['--burst-factor', load.burstFactor],
  ];
  for (const [flag, v] of positive) if (!(v > 0) || !Number.isFinite(v)) throw new Error(`${flag} must be a positive number, got: ${v}.`);
  if (load.burstFactor < 1) throw new Error(`--burst-factor must be at least 1 (the peak over the average), got: ${load.burstFactor}.`);
  if (!(load.singlePageShare >= 0 && load.singlePageShare <= 1)) throw new Error(`--single-page-share must be between 0 and 1, got: ${load.singlePageShare}.`);
  if (!(load.burstHours > 0 && load.burstHours <= 24)) throw new Error(`--burst-hours must be more than 0 and at most 24, got: ${load.burstHours}.`);
  if (!(load.inputTokensPerPage >= 0) || !(load.outputTokensPerDocument >= 0)) throw new Error('--tokens-per-page and --output-tokens must be 0 or more.');
}

export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return 'unbounded';
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function pct(x: number): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : 'unbounded';
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'unbounded';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** The plan as text: quotas assumed and their sources, the load per quota, the bottleneck, the wait, the cost. */
export function renderPlan(title: string, plan: CapacityPlan): string {
  const l = plan.load;
  const out: string[] = [];
  out.push(`${title} at ${fmt(l.documentsPerDay)} documents/day: ${fmt(plan.averagePerSecond, 2)}/s on average, ${fmt(plan.peakPerSecond, 2)}/s at the peak (x${l.burstFactor} for ${l.burstHours} h)`);
  out.push(`  ${l.pagesPerDocument} pages per document (${pct(l.singlePageShare)} single-page), ${l.inputTokensPerPage} tokens per page, ${l.outputTokensPerDocument} output tokens`);
  out.push('');
  out.push('Quotas assumed:');
  for (const u of plan.uses) out.push(`  ${u.name}: ${fmt(u.quotaPerSecond, 2)}/s (${fmt(u.quotaPerSecond * 60)}/min), granted ${fmt(u.grantPerSecond, 2)}/s — ${u.source}`);
  out.push('');
  const header = ['quota', 'per document', 'documents/s', 'sustainable/day', 'util. avg', 'util. peak', 'stages'];
  const rows = plan.uses.map((u) => [u.name, fmt(u.unitsPerDocument, 2), fmt(u.documentsPerSecond, 2), fmt(u.documentsPerSecond * DAY), pct(u.utilizationAverage), pct(u.utilizationPeak), u.stages.join(', ')]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => '  ' + cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  out.push(line(header));
  for (const r of rows) out.push(line(r));
  out.push('');
  out.push(`Bottleneck: ${plan.bottleneck.name} — sustainable ${fmt(plan.sustainableDocumentsPerDay)} documents/day${plan.overloaded ? ' (BELOW THE LOAD)' : ''}`);
  out.push(`Expected wait for capacity (${plan.wait.model}): mean ${duration(plan.wait.meanSeconds)}, longest ${duration(plan.wait.maxSeconds)}, backlog up to ${fmt(plan.wait.backlogDocuments)} documents`);
  out.push('');
  out.push(`Cost per document: $${plan.cost.perDocument.toFixed(5)} (${fmt(plan.cost.perDocument * l.documentsPerDay, 0)} USD/day)`);
  for (const c of plan.cost.lines) out.push(`  $${c.perDocument.toFixed(6)}  ${c.item}`);
  out.push(`  prices: ${plan.cost.prices}`);
  for (const w of plan.warnings) out.push(`\nWarning: ${w}`);
  return out.join('\n');
}

/**
 * Scenarios for the local runner (`--scenario <file>`): per document (a glob on its file name) and
 * stage, pin fields of the stage's model reply, or inject a fault into the stage's service calls.
 * The real definition's retries, catches and failure paths handle the faults; nothing is simulated
 * above the service client.
 *
 * ```json
 * {
 *   "rules": [
 *     { "documents": "claim-fraud*.pdf", "stage": "Score", "fields": { "fraudScore": 0.95 } },
 *     { "documents": "*", "stage": "Extract", "fault": { "throttle": 3 } },
 *     { "documents": "late.pdf", "stage": "Summarize", "fault": "timeout" },
 *     { "documents": "claim-*.pdf", "review": "Check", "decision": { "decision": "approve", "reviewer": "alice" } },
 *     { "documents": "slow-*.pdf", "review": "Check", "decision": "timeout" }
 *   ]
 * }
 * ```
 *
 * A review rule gives a human review's decision: the body sent to its decision API (`decision`,
 * `comment`, `corrections`) plus `reviewer`, the local IAM user who signs it; or `"timeout"`: nobody
 * decides before the deadline and the run escalates.
 */
import * as fs from 'fs';
import * as path from 'path';
import { RunnerError } from './cloud-assembly';

/** The faults a scenario can inject into one stage's calls. */
export type Fault =
  /** The service throttles the first `n` calls, then answers. */
  | { readonly throttle: number }
  /** The stage's task never answers in time: `States.Timeout`. */
  | 'timeout'
  /** The model answers text that is not JSON. */
  | 'invalid-json'
  /** The model's JSON reply is cut off in the middle of the object. */
  | 'truncated-json'
  /** From this stage on, reading the source document is refused (AccessDenied, 403). */
  | 'deny-source'
  /**
   * From this stage on until the execution ends, every write to the audit bucket fails (503); the
   * backstop, which EventBridge retries for up to 24 hours, runs after the outage.
   */
  | 'audit-unavailable'
  /** From this stage on until the execution ends, every invocation of the recorder fails; the backstop's works. */
  | 'recorder-fails'
  /** The model answers a reply larger than a state's payload may be (256 KiB). */
  | 'oversized'
  /** The source document is deleted (every version) just before the stage runs. */
  | 'delete-source'
  /** The service fails with this error: every call, or only the first `times` calls (then it answers). */
  | { readonly error: string; readonly times?: number };

/** A reviewer's decision: the decision API's body plus who signs it; or `timeout` (nobody decides in time). */
export type ReviewDecisionPlan =
  | {
    readonly reviewer: string;
    readonly decision: string;
    readonly comment?: string;
    readonly corrections?: { readonly [field: string]: unknown };
    readonly [field: string]: unknown;
  }
  | 'timeout';

export interface ScenarioRule {
  /** A glob on the document's file name (`*`, `?`); default every document. */
  readonly documents: string;
  /** The stage the rule pins or faults (stage rules). */
  readonly stage?: string;
  /** The human review the rule decides (review rules). */
  readonly review?: string;
  readonly decision?: ReviewDecisionPlan;
  /** Fields of the stage's model reply, pinned to these values (dotted paths). */
  readonly fields?: { readonly [path: string]: unknown };
  readonly fault?: Fault;
}

export interface Scenario {
  /** The file it was read from (for messages). */
  readonly file: string;
  readonly rules: readonly ScenarioRule[];
}

const FAULT_WORDS = ['timeout', 'invalid-json', 'truncated-json', 'oversized', 'delete-source', 'deny-source', 'audit-unavailable', 'recorder-fails'];
const USAGE = 'a scenario is { "rules": [ { "documents": "<glob>", "stage": "<stage id>", "fields": { ... } | "fault": { "throttle": N } | { "error": "<name>", "times": N } | "timeout" | "invalid-json" | "truncated-json" | "oversized" | "delete-source" | "deny-source" | "audit-unavailable" | "recorder-fails" }'
  + ' | { "documents": "<glob>", "review": "<review>", "decision": { "decision": "approve" | "reject" | "correct", "reviewer": "<name>", "comment"?, "corrections"? } | "timeout" } ] }';
const REVIEWER = /^[A-Za-z0-9+=,.@_-]{1,64}$/;

/** Reads and checks a scenario file against the pipeline's stage ids. */
export function loadScenario(file: string, stageIds: readonly string[], reviews: readonly string[] = []): Scenario {
  let raw: any;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err: any) {
    throw new RunnerError(`--scenario ${file}: cannot read it as JSON (${err?.code ?? err?.message}); ${USAGE}`);
  }
  return parseScenario(raw, file, stageIds, reviews);
}

/** Checks a parsed scenario: every rule names a stage of the pipeline and a known fault. */
export function parseScenario(raw: any, file: string, stageIds: readonly string[], reviews: readonly string[] = []): Scenario {
  const where = path.basename(file);
  if (raw === null || typeof raw !== 'object' || !Array.isArray(raw.rules)) {
    throw new RunnerError(`--scenario ${where}: it has no "rules" list; ${USAGE}`);
  }
  const rules = raw.rules.map((r: any, i: number): ScenarioRule => {
    const at = `--scenario ${where}: rules[${i}]`;
    if (r === null || typeof r !== 'object') throw new RunnerError(`${at} is not an object; ${USAGE}`);
    if ('review' in r) return reviewRule(r, at, reviews);
    const unknownKeys = Object.keys(r).filter((k) => !['documents', 'stage', 'fields', 'fault'].includes(k));
    if (unknownKeys.length > 0) throw new RunnerError(`${at} has unknown key '${unknownKeys[0]}'; ${USAGE}`);
    if (typeof r.stage !== 'string' || !stageIds.includes(r.stage)) {
      throw new RunnerError(`${at} names stage '${r.stage}', which the pipeline does not have; its stages are ${stageIds.join(', ')}`);
    }
    if (r.documents !== undefined && (typeof r.documents !== 'string' || r.documents.length === 0)) {
      throw new RunnerError(`${at}: "documents" must be a glob on file names, got ${JSON.stringify(r.documents)}`);
    }
    if (r.fields === undefined && r.fault === undefined) throw new RunnerError(`${at} has neither "fields" nor "fault"; ${USAGE}`);
    if (r.fields !== undefined && (r.fields === null || typeof r.fields !== 'object' || Array.isArray(r.fields))) {
      throw new RunnerError(`${at}: "fields" must be an object of field paths and values, got ${JSON.stringify(r.fields)}`);
    }
    if (r.fault !== undefined) checkFault(r.fault, at);
    return { documents: r.documents ?? '*', stage: r.stage, fields: r.fields, fault: r.fault };
  });
  return { file, rules };
}

/** A review rule: a review of the pipeline, and a decision with a reviewer, or "timeout". */
function reviewRule(r: any, at: string, reviews: readonly string[]): ScenarioRule {
  const unknownKeys = Object.keys(r).filter((k) => !['documents', 'review', 'decision'].includes(k));
  if (unknownKeys.length > 0) throw new RunnerError(`${at} has unknown key '${unknownKeys[0]}' (a review rule has documents, review, decision); ${USAGE}`);
  if (typeof r.review !== 'string' || !reviews.includes(r.review)) {
    const has = reviews.length > 0 ? `its reviews are ${reviews.join(', ')}` : 'it has no HumanReview step';
    throw new RunnerError(`${at} names review '${r.review}', which the pipeline does not have; ${has}`);
  }
  if (r.documents !== undefined && (typeof r.documents !== 'string' || r.documents.length === 0)) {
    throw new RunnerError(`${at}: "documents" must be a glob on file names, got ${JSON.stringify(r.documents)}`);
  }
  const d = r.decision;
  if (d !== 'timeout') {
    if (d === null || typeof d !== 'object' || Array.isArray(d)) {
      throw new RunnerError(`${at}: "decision" must be "timeout" or { "decision": "approve" | "reject" | "correct", "reviewer": "<name>", ... }, got ${JSON.stringify(d)}`);
    }
    if (typeof d.reviewer !== 'string' || !REVIEWER.test(d.reviewer)) {
      throw new RunnerError(`${at}: "decision.reviewer" must name the reviewer (1-64 letters, digits or +=,.@_-; it becomes the local IAM user who signs the decision), got ${JSON.stringify(d.reviewer)}`);
    }
    if ('taskToken' in d) throw new RunnerError(`${at}: "decision.taskToken" is not yours to give: the runner answers each review's own task token. Remove it`);
  }
  return { documents: r.documents ?? '*', review: r.review, decision: d };
}

/** The decision a scenario gives one document's review (later rules win); undefined when none. */
export function reviewPlanFor(scenario: Scenario | undefined, document: string, review: string): ReviewDecisionPlan | undefined {
  let plan: ReviewDecisionPlan | undefined;
  for (const rule of scenario?.rules ?? []) {
    if (rule.review === review && rule.decision !== undefined && globMatches(rule.documents, document)) plan = rule.decision;
  }
  return plan;
}

function checkFault(fault: any, at: string) {
  if (typeof fault === 'string') {
    if (!FAULT_WORDS.includes(fault)) throw new RunnerError(`${at}: unknown fault '${fault}'; use one of ${FAULT_WORDS.join(', ')}, { "throttle": N } or { "error": "<name>" }`);
    return;
  }
  if (fault && typeof fault === 'object') {
    const keys = Object.keys(fault);
    if (keys.length === 1 && 'throttle' in fault && Number.isInteger(fault.throttle) && fault.throttle >= 1) return;
    const times = fault.times === undefined || (Number.isInteger(fault.times) && fault.times >= 1);
    if ('error' in fault && keys.every((k) => k === 'error' || k === 'times') && times
      && typeof fault.error === 'string' && /^[A-Za-z][\w.]*$/.test(fault.error)) return;
  }
  throw new RunnerError(`${at}: fault ${JSON.stringify(fault)} is not one of ${FAULT_WORDS.join(', ')}, { "throttle": N (>= 1) } or { "error": "<ErrorName>", "times": N (>= 1, optional) }`);
}

/** A glob on a file name: `*` any run of characters, `?` one character. */
export function globMatches(glob: string, name: string): boolean {
  const pattern = glob.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${pattern}$`).test(name);
}

/** What a scenario says about one document and one stage: the fields pinned and the fault, if any. */
export interface StagePlan {
  readonly fields?: { readonly [path: string]: unknown };
  readonly fault?: Fault;
}

/** The plan of one document and stage: later rules win over earlier ones; fields are merged. */
export function planFor(scenario: Scenario | undefined, document: string, stage: string): StagePlan {
  if (!scenario) return {};
  let fields: { [path: string]: unknown } | undefined;
  let fault: Fault | undefined;
  for (const rule of scenario.rules) {
    if (rule.stage === undefined || rule.stage !== stage || !globMatches(rule.documents, document)) continue;
    if (rule.fields) fields = { ...fields, ...rule.fields };
    if (rule.fault !== undefined) fault = rule.fault;
  }
  return { fields, fault };
}

/** Sets dotted paths (`a.b.0.c`) of an object to the values given; creates objects on the way. */
export function applyFields(target: { [key: string]: unknown }, fields: { readonly [path: string]: unknown }): { [key: string]: unknown } {
  const out = JSON.parse(JSON.stringify(target));
  for (const [p, value] of Object.entries(fields)) {
    const parts = p.split('.');
    let node = out;
    for (const part of parts.slice(0, -1)) {
      if (node[part] === null || typeof node[part] !== 'object') node[part] = /^\d+$/.test(part) ? [] : {};
      node = node[part];
    }
    node[parts[parts.length - 1]] = value;
  }
  return out;
}

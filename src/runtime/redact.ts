import { createHash } from 'crypto';
import { REDACT_PATH } from '../shared/paths';

/**
 * Redaction of the content kept for audit. A path is dotted over the run state a stage sees
 * (`document.key`, `results.Summarize.parties`); a `*` step matches every key of an object or every
 * item of an array (`results.*.email`, `results.Extract.people.*.name`). A redacted value becomes
 * `[REDACTED sha256:<hex>]`, the sha256 of its JSON, so two records can still be matched on it.
 */


/** The marker a redacted value is replaced by. */
export function redactedMarker(value: unknown): string {
  return `[REDACTED sha256:${createHash('sha256').update(JSON.stringify(value ?? null)).digest('hex')}]`;
}

/** Parses the AUDIT_REDACT_FIELDS value (a JSON array of paths); unset or empty means none. */
export function parseRedactFields(value: string | undefined): string[] {
  if (!value) return [];
  const parsed = JSON.parse(value);
  if (!Array.isArray(parsed) || parsed.some((p) => typeof p !== 'string' || !REDACT_PATH.test(p))) {
    throw new Error('AUDIT_REDACT_FIELDS must be a JSON array of paths such as "results.Summarize.parties"');
  }
  return parsed;
}

/** A copy of `value` with every path replaced by its marker, and the concrete paths that were replaced (sorted). */
export function redact(value: unknown, paths: readonly string[]): { value: unknown; redacted: string[] } {
  const redacted = new Set<string>();
  let out = value;
  for (const p of paths) out = redactAt(out, p.split('.'), [], redacted);
  return { value: out, redacted: [...redacted].sort() };
}

/**
 * The paths that apply to one stage's output: those under `results.<stage>.`, relative to the output
 * (`results.Summarize.parties` → `parties`; `results.*.email` → `email`).
 */
export function outputPaths(paths: readonly string[], stage: string): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const steps = p.split('.');
    if (steps[0] === 'results' && (steps[1] === stage || steps[1] === '*') && steps.length > 2) out.push(steps.slice(2).join('.'));
  }
  return out;
}

function redactAt(value: unknown, steps: readonly string[], at: readonly string[], found: Set<string>): unknown {
  if (steps.length === 0) {
    found.add(at.join('.'));
    return redactedMarker(value);
  }
  if (value === null || typeof value !== 'object') return value;
  const [step, ...rest] = steps;
  if (Array.isArray(value)) {
    return value.map((item, i) => (step === '*' || step === String(i) ? redactAt(item, rest, [...at, String(i)], found) : item));
  }
  const obj = value as { [key: string]: unknown };
  const copy: { [key: string]: unknown } = { ...obj };
  for (const key of Object.keys(obj)) {
    if (step === '*' || step === key) copy[key] = redactAt(obj[key], rest, [...at, key], found);
  }
  return copy;
}

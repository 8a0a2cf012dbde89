/** Reads a dotted path (`results.Extract.text`) from an object; undefined when any step is missing. */
export function getPath(obj: unknown, dotted: string): unknown {
  let cur: any = obj;
  for (const part of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object' || !(part in cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

/** True when a value has the shape of an S3 pointer. */
export function isPointer(value: unknown): value is { bucket: string; key: string; versionId?: string; sha256?: string } {
  return typeof value === 'object' && value !== null
    && typeof (value as any).bucket === 'string' && typeof (value as any).key === 'string';
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;

/** The placeholders a template reads, in order of first use. */
export function templateVariables(template: string): string[] {
  const seen = new Set<string>();
  for (const m of template.matchAll(PLACEHOLDER)) seen.add(m[1]);
  return [...seen];
}

/** Replaces each `{{path}}` with its resolved value (strings as they are, anything else as JSON). */
export function renderTemplate(template: string, values: { [path: string]: unknown }): string {
  return template.replace(PLACEHOLDER, (_m, p: string) => {
    const v = values[p];
    return typeof v === 'string' ? v : JSON.stringify(v ?? null);
  });
}

/** The grammar of a redaction path: dotted steps of letters, digits, `_` and `-`, or `*`. */
export const REDACT_PATH = /^(document|results)(\.([A-Za-z0-9_-]+|\*))+$/;

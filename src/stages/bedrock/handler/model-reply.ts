/**
 * Turns a model's text reply into a JSON object: a ```json fenced block when there is one,
 * otherwise the outermost `{...}`. Never returns or throws the reply text itself, since it may
 * quote the document.
 */
export type ParsedReply =
  | { readonly ok: true; readonly value: { [key: string]: unknown } }
  | { readonly ok: false; readonly problem: string };

const FENCE = /```[ \t]*(?:json|JSON)?[ \t]*\r?\n?([\s\S]*?)```/;

/** The JSON text of a reply, or undefined when it holds none. */
export function extractJson(reply: string): string | undefined {
  const fenced = FENCE.exec(reply);
  if (fenced && fenced[1].trim().length > 0) return fenced[1].trim();
  const start = reply.indexOf('{');
  const end = reply.lastIndexOf('}');
  if (start >= 0 && end > start) return reply.slice(start, end + 1);
  return undefined;
}

/** Parses a reply into a JSON object; the problem, when there is one, never quotes the reply. */
export function parseReply(reply: string): ParsedReply {
  const json = extractJson(reply);
  if (json === undefined) return { ok: false, problem: 'the reply contains no JSON object' };
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    // JSON.parse's message quotes the input: do not pass it on.
    return { ok: false, problem: 'the reply is not well-formed JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, problem: 'the reply is not a JSON object' };
  }
  return { ok: true, value: value as { [key: string]: unknown } };
}

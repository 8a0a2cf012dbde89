import { S3Client } from '@aws-sdk/client-s3';
import { dereference } from './s3';
import { S3Pointer, StageView } from '../shared';
import { getPath, isPointer } from '../shared/paths';

/**
 * The alias every model stage accepts besides stage-view paths: `text` is the text of the most
 * recent result that carries a `text` pointer. Results are visited in their insertion order (the
 * order the stages ran in) and the last one wins, so a later OCR or clean-up stage shadows an
 * earlier one. Only pointers count: an inline `text` string is an ordinary field. Note that
 * JavaScript visits integer-like keys first, so stage ids that are plain numbers ("1", "2") would
 * not keep their run order; stage ids are construct ids and are not expected to look like that.
 */
export const TEXT_ALIAS = 'text';

/** The `text` pointer of the most recent result holding one, or undefined when no stage produced text. */
export function latestTextPointer(view: StageView): S3Pointer | undefined {
  let found: S3Pointer | undefined;
  for (const result of Object.values(view.results ?? {})) {
    if (result !== null && typeof result === 'object' && isPointer((result as any).text)) {
      found = (result as any).text;
    }
  }
  return found;
}

/** Reads a stage-view path or the `text` alias, without dereferencing. */
export function lookup(view: StageView, path: string): unknown {
  return path === TEXT_ALIAS ? latestTextPointer(view) : getPath(view, path);
}

/**
 * Cuts every string in a value (nested ones too) to at most `maxChars` UTF-16 units, never leaving
 * half a surrogate pair behind.
 */
export function cutStrings(value: unknown, maxChars: number): unknown {
  if (typeof value === 'string') {
    if (value.length <= maxChars) return value;
    let cut = value.slice(0, Math.max(0, maxChars));
    const last = cut.charCodeAt(cut.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
    return cut;
  }
  if (Array.isArray(value)) return value.map((v) => cutStrings(v, maxChars));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cutStrings(v, maxChars)]));
  }
  return value;
}

/**
 * Resolves a stage-view path (or the `text` alias) to the value a prompt or a request uses:
 * S3 pointers are read (extracted text becomes its pages' text joined), strings are cut at
 * `maxChars`. Returns undefined when the path has no value.
 */
export async function resolveInput(s3: S3Client, view: StageView, path: string, maxChars: number): Promise<unknown> {
  const raw = lookup(view, path);
  if (raw === undefined) return undefined;
  return cutStrings(await dereference(s3, raw), maxChars);
}

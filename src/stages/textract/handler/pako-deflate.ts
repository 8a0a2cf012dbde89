/**
 * Stands in for `pako` in the Textract handler bundle (`--alias` in .projenrc.ts).
 *
 * pdf-lib imports pako only to compress streams it writes (`PDFContext.flateStream`,
 * `PDFFlateStream`); the preflight only parses, so pako (46 KiB of the bundle, evaluated when the
 * first PDF loads pdf-lib) is never called there. Should a pdf-lib path ever deflate, Node's own zlib
 * does it. Anything else imported from pako fails the bundle build ("No matching export").
 * Not used by Node, jest or the local runner, which load the real package.
 */
import { deflateSync } from 'zlib';

function deflate(data: Uint8Array): Uint8Array {
  return new Uint8Array(deflateSync(data));
}

export default { deflate };

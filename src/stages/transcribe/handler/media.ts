/**
 * What the Transcribe stage checks before it starts a job: the recording's size and its container,
 * by magic bytes (the key's suffix is not trusted). No AWS SDK here.
 */
import { ErrorNames, PipelineError } from '../../../shared';

/** Bytes read to tell the container. */
export const MEDIA_MAGIC_BYTES = 16;

/** Transcribe's `MediaFormat` values the stage recognizes. */
export type MediaFormat = 'wav' | 'mp3' | 'flac' | 'ogg' | 'webm' | 'amr' | 'mp4' | 'm4a';

/** The container of a recording from its first bytes; undefined when it is none Transcribe reads. */
export function sniffMedia(bytes: Uint8Array): MediaFormat | undefined {
  const ascii = (from: number, to: number) => Buffer.from(bytes.subarray(from, to)).toString('latin1');
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WAVE') return 'wav';
  if (ascii(0, 4) === 'fLaC') return 'flac';
  if (ascii(0, 4) === 'OggS') return 'ogg';
  if (ascii(0, 5) === '#!AMR') return 'amr';
  if (bytes.length >= 4 && bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3) return 'webm';
  if (ascii(4, 8) === 'ftyp') return /^M4A/.test(ascii(8, 12)) ? 'm4a' : 'mp4';
  if (ascii(0, 3) === 'ID3') return 'mp3';
  // An MPEG audio frame header: 11 set sync bits, then a layer other than "reserved".
  // (Arithmetic, not bitwise: the top three bits set is >= 0xe0; the layer bits 2-1 are not 00.)
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] >= 0xe0 && Math.floor(bytes[1] / 2) % 4 !== 0) return 'mp3';
  return undefined;
}

/** Size and container checks: `Document.Empty`, `Document.TooLarge`, `Document.UnsupportedType`. */
export function checkMedia(size: number, head: Uint8Array, maxBytes: number): MediaFormat {
  if (size === 0) throw new PipelineError(ErrorNames.DOCUMENT_EMPTY, 'the recording is empty (0 bytes)');
  if (size > maxBytes) {
    throw new PipelineError(ErrorNames.DOCUMENT_TOO_LARGE, `the recording is ${size} bytes, over the stage's limit of ${maxBytes} bytes`);
  }
  const format = sniffMedia(head);
  if (!format) {
    throw new PipelineError(ErrorNames.DOCUMENT_UNSUPPORTED_TYPE,
      'the recording is not in a container Amazon Transcribe reads (WAV, MP3, FLAC, Ogg, WebM, AMR, MP4/M4A), judged by its first bytes');
  }
  return format;
}

/** The text of a Transcribe result file (`results.transcripts[].transcript`, joined by new lines). */
export function transcriptText(result: unknown): string {
  const transcripts = (result as any)?.results?.transcripts;
  if (!Array.isArray(transcripts)) {
    throw new PipelineError(ErrorNames.CONTRACT_OUTPUT_VIOLATION, 'the transcription result has no results.transcripts array');
  }
  return transcripts.map((t: any) => (typeof t?.transcript === 'string' ? t.transcript : '')).join('\n').trim();
}

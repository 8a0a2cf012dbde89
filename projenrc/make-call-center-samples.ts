/**
 * Generates the sample call recordings of the call-center example, deterministically.
 *
 *   npx ts-node --transpile-only projenrc/make-call-center-samples.ts [outDir]   (default: examples/call-center/samples)
 *
 * Each recording is a real WAV file (RIFF, 8 kHz, 16-bit mono PCM: a few seconds of a quiet
 * two-tone "voice" whose pitches come from the call's name) that carries its transcript in its
 * `LIST`/`INFO` chunk, field `ICMT`: what the local runner's Transcribe stand-in "hears" (ADR-0022).
 * In AWS, Transcribe listens to the audio instead; these tones hold no speech. No clock and no random
 * source: running it twice gives byte-identical files. It also writes `expected-outcomes.json` beside
 * the samples folder: the route each call takes with `scenarios/demo.json`, and whether its reply is
 * queued.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

const SAMPLE_RATE = 8000;

interface Call {
  readonly file: string;
  /** The transcript the recording carries; undefined: a recording with no INFO chunk (silence). */
  readonly transcript?: string;
  /** Raw bytes instead of a WAV file (a file that is no recording). */
  readonly raw?: Buffer;
  readonly seconds?: number;
  /** With scenarios/demo.json. */
  readonly expected: { readonly route: string; readonly error?: string; readonly replyQueued: boolean; readonly corrected?: boolean };
}

const CALLS: readonly Call[] = [
  {
    file: 'billing-question.wav',
    transcript: 'Hi, this is Maria Lopez. I have a question about my invoice for March. The amount is higher than '
      + 'last month and there is a new line item called service plus. Could you explain what it is? My account '
      + 'number is 4471 2290. Thanks for your help.',
    expected: { route: 'none', replyQueued: true },
  },
  {
    file: 'address-change.wav',
    transcript: 'Hello, I moved last week and I would like to update my account address to 12 Harbour Street, '
      + 'Bristol. Can you also send the next invoice to the new address? Thank you, that would be great.',
    expected: { route: 'none', replyQueued: true, corrected: true },
  },
  {
    file: 'delivery-date.wav',
    transcript: 'Hi, I ordered a router on the second of May and the tracking page shows nothing yet. '
      + 'When will my order arrive? The order number is A 5512.',
    expected: { route: 'manual-reply', replyQueued: false },
  },
  {
    file: 'plan-upgrade.wav',
    transcript: 'Good morning. I would like to know which plans offer faster upload speeds and what the '
      + 'price difference is compared to my current plan. Thanks.',
    expected: { route: 'supervisor', replyQueued: false },
  },
  {
    file: 'angry-outage.wav',
    transcript: 'This is unacceptable. My internet has been down for three days, the service is broken and '
      + 'nobody calls me back. I am furious. This is the worst support I have ever had and I want to cancel.',
    expected: { route: 'supervisor', replyQueued: false },
  },
  {
    file: 'silence.wav',
    expected: { route: 'review', error: 'Document.NoText', replyQueued: false },
  },
  {
    file: 'not-audio.wav',
    raw: Buffer.from('Subject: call notes\n\nThis is a text file with a .wav name, not a recording.\n', 'utf8'),
    expected: { route: 'quarantine', error: 'Document.UnsupportedType', replyQueued: false },
  },
];

/** A RIFF chunk: id, little-endian size, body, a pad byte when the size is odd. */
function chunk(id: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write(id, 0, 'latin1');
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body, body.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

/** A quiet two-tone signal whose pitches come from the seed: deterministic, no speech. */
function samples(seed: string, seconds: number): Buffer {
  const digest = createHash('sha256').update(seed).digest();
  const f1 = 180 + (digest[0] % 120);
  const f2 = 240 + (digest[1] % 160);
  const n = SAMPLE_RATE * seconds;
  const pcm = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) {
    const t = i / SAMPLE_RATE;
    // Syllable-like bursts: the amplitude rises and falls four times a second.
    const envelope = 0.5 - 0.5 * Math.cos(2 * Math.PI * 4 * t);
    const v = envelope * (0.6 * Math.sin(2 * Math.PI * f1 * t) + 0.4 * Math.sin(2 * Math.PI * f2 * t));
    pcm.writeInt16LE(Math.round(v * 3000), i * 2);
  }
  return pcm;
}

/** A WAV file: `fmt ` (PCM, mono, 16 bit), `data`, and a `LIST`/`INFO` chunk with the transcript when given. */
export function wavFile(seed: string, seconds: number, transcript?: string): Buffer {
  const fmt = Buffer.alloc(16);
  fmt.writeUInt16LE(1, 0); // PCM
  fmt.writeUInt16LE(1, 2); // mono
  fmt.writeUInt32LE(SAMPLE_RATE, 4);
  fmt.writeUInt32LE(SAMPLE_RATE * 2, 8); // byte rate
  fmt.writeUInt16LE(2, 12); // block align
  fmt.writeUInt16LE(16, 14); // bits per sample
  const parts = [chunk('fmt ', fmt), chunk('data', samples(seed, seconds))];
  if (transcript !== undefined) {
    const info = Buffer.concat([
      Buffer.from('INFO', 'latin1'),
      chunk('INAM', Buffer.from(`${seed}\0`, 'utf8')),
      chunk('ISFT', Buffer.from('cdk-ai-pipeline projenrc/make-call-center-samples.ts\0', 'utf8')),
      chunk('ICMT', Buffer.from(`${transcript}\0`, 'utf8')),
    ]);
    parts.push(chunk('LIST', info));
  }
  const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), ...parts]);
  return chunk('RIFF', body);
}

function main(): void {
  const outDir = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'examples', 'call-center', 'samples'));
  fs.mkdirSync(outDir, { recursive: true });
  const expected: { [file: string]: Call['expected'] } = {};
  for (const call of CALLS) {
    const bytes = call.raw ?? wavFile(call.file.replace(/\.wav$/, ''), call.seconds ?? 3, call.transcript);
    fs.writeFileSync(path.join(outDir, call.file), bytes);
    expected[call.file] = call.expected;
  }
  fs.writeFileSync(path.join(outDir, '..', 'expected-outcomes.json'), JSON.stringify(expected, null, 2) + '\n');
  process.stdout.write(`wrote ${CALLS.length} recordings to ${path.relative(process.cwd(), outDir) || '.'}\n`);
}

if (require.main === module) main();

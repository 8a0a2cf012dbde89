/**
 * Prompt-injection screening on the labelled corpus (test/fixtures/injection-corpus.json): the
 * detection rate (injection documents flagged) and the false-positive rate (benign documents
 * flagged) of each deterministic layer on its own and of the policy over all of them, on the
 * `tune` split and, separately, on the `holdout` split the layers were not tuned on.
 *
 *   ts-node --transpile-only projenrc/bench-injection.ts [--misses]
 *
 * Bedrock Guardrails and the model's own report (spotlighting) need AWS and a model: they are not
 * measured here. The local guardrail stand-in is listed for completeness; it reuses the
 * deterministic layers, so its figures say nothing about the real prompt-attack filter.
 */
import * as fs from 'fs';
import { CORPUS_FILE, CorpusEntry } from './injection-corpus';
import { LocalGuardrail } from '../src/cli/local/stand-ins/local-guardrail';
import { screenDeterministic } from '../src/stages/bedrock/handler/screening';

/** The prompt and contract of the flagship example, which the structure layer uses. */
const CONTEXT = { delimiterTags: ['contract'], outputFields: ['riskScore', 'riskClauses', 'summary'] };

export interface LayerRate {
  readonly layer: string;
  readonly split: string;
  /** Injection documents, and how many the layer flagged. */
  readonly injections: number;
  readonly detected: number;
  /** Benign documents, and how many the layer flagged. */
  readonly benign: number;
  readonly falsePositives: number;
  /** detected / injections, falsePositives / benign (0..1). */
  readonly detectionRate: number;
  readonly falsePositiveRate: number;
  /** Ids of the injection documents missed and of the benign ones flagged. */
  readonly missed: string[];
  readonly flagged: string[];
}

type Verdicts = { [layer: string]: boolean };

/** Which layers flag one document. */
function verdicts(entry: CorpusEntry, guardrail: LocalGuardrail): Verdicts {
  const raw = screenDeterministic([entry.document], { ...CONTEXT, normalize: false });
  const n = screenDeterministic([entry.document], CONTEXT);
  return {
    'phrases (no normalization)': raw.phrases.length > 0,
    'structure (no normalization)': raw.structure.length > 0,
    'normalization (hiding signs)': n.normalization.length > 0,
    'phrases': n.phrases.length > 0,
    'structure': n.structure.length > 0,
    'guardrail (local stand-in)': guardrail.promptAttack(entry.document),
    'policy: all deterministic layers': n.normalization.length + n.phrases.length + n.structure.length > 0,
  };
}

/** Per-layer, per-split rates on the corpus. */
export function benchInjection(entries: readonly CorpusEntry[] = loadCorpus()): LayerRate[] {
  const guardrail = new LocalGuardrail();
  type Counts = { injections: number; detected: number; benign: number; falsePositives: number; missed: string[]; flagged: string[] };
  const rows = new Map<string, Counts>();
  for (const entry of entries) {
    for (const [layer, hit] of Object.entries(verdicts(entry, guardrail))) {
      for (const split of [entry.split, 'all']) {
        const key = `${layer}\u0000${split}`;
        const r = rows.get(key) ?? { injections: 0, detected: 0, benign: 0, falsePositives: 0, missed: [], flagged: [] };
        if (entry.label === 'injection') {
          r.injections++;
          if (hit) r.detected++; else r.missed.push(entry.id);
        } else {
          r.benign++;
          if (hit) { r.falsePositives++; r.flagged.push(entry.id); }
        }
        rows.set(key, r);
      }
    }
  }
  return [...rows.entries()].map(([key, r]) => {
    const [layer, split] = key.split('\u0000');
    return {
      layer,
      split,
      ...r,
      detectionRate: r.injections ? r.detected / r.injections : 0,
      falsePositiveRate: r.benign ? r.falsePositives / r.benign : 0,
    };
  });
}

export function loadCorpus(file: string = CORPUS_FILE): CorpusEntry[] {
  return JSON.parse(fs.readFileSync(file, 'utf8')).entries;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** Prints the table (and, with `misses`, the ids of what each split's policy got wrong). */
export function printInjectionBench(rates: readonly LayerRate[], misses = false): void {
  const header = ['layer', 'split', 'detection', 'false positives'];
  const rows = rates.map((r) => [r.layer, r.split, `${pct(r.detectionRate)} (${r.detected}/${r.injections})`, `${pct(r.falsePositiveRate)} (${r.falsePositives}/${r.benign})`]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  console.log('\nprompt-injection screening on test/fixtures/injection-corpus.json');
  console.log(header.map((h, i) => h.padEnd(widths[i])).join('  '));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(row.map((c, i) => c.padEnd(widths[i])).join('  '));
  console.log('Bedrock Guardrails and spotlighting (the model\'s report) are not measured here: they need AWS and a model.');
  if (misses) {
    for (const r of rates.filter((x) => x.layer.startsWith('policy') && x.split !== 'all')) {
      console.log(`${r.split}: missed ${r.missed.join(' ') || 'none'}; flagged benign ${r.flagged.join(' ') || 'none'}`);
    }
  }
}

if (require.main === module) {
  printInjectionBench(benchInjection(), process.argv.includes('--misses'));
}

/**
 * Writes the example's sample transactions (samples/*.json) and what each should come to
 * (expected-outcomes.json). Deterministic: run it again and nothing changes.
 *
 *   npx ts-node --transpile-only make-samples.ts
 */
import * as fs from 'fs';
import * as path from 'path';

interface Sample {
  readonly file: string;
  readonly transaction: { [field: string]: unknown };
  /** What the run comes to: its status, and the rule that fired (or the error it failed with). */
  readonly expected: { status: 'SUCCEEDED' | 'FAILED'; rule?: string; route?: string; error?: string };
  readonly why: string;
}

const base = { currency: 'USD', country: 'US', cardBin: '411111', merchantCategory: '5411', cardPresent: true, transactions24h: 2 };

const SAMPLES: Sample[] = [
  {
    file: 'groceries.json',
    transaction: { transactionId: 'txn-0001', amount: 54.2, ...base },
    expected: { status: 'SUCCEEDED', rule: 'low-score', route: 'approved' },
    why: 'an ordinary card-present purchase at home: low score, approved',
  },
  {
    file: 'blocked-country.json',
    transaction: { transactionId: 'txn-0002', amount: 120, ...base, country: 'KP' },
    expected: { status: 'SUCCEEDED', rule: 'blocked-country', route: 'fraud-team' },
    why: 'a blocked country: the rules escalate it before the model runs',
  },
  {
    file: 'card-testing.json',
    transaction: { transactionId: 'txn-0003', amount: 1, ...base, cardPresent: false, transactions24h: 45 },
    expected: { status: 'SUCCEEDED', rule: 'card-testing', route: 'fraud-team' },
    why: '45 transactions in 24 hours: card testing, escalated by rule',
  },
  {
    file: 'wire-abroad.json',
    transaction: { transactionId: 'txn-0004', amount: 2400, ...base, country: 'NG', merchantCategory: '4829', cardPresent: false },
    expected: { status: 'SUCCEEDED', rule: 'high-score', route: 'fraud-team' },
    why: 'a card-not-present money transfer abroad: the model scores it high, escalated',
  },
  {
    file: 'online-electronics.json',
    transaction: { transactionId: 'txn-0005', amount: 640, ...base, merchantCategory: '5732', cardPresent: false, transactions24h: 9 },
    expected: { status: 'SUCCEEDED', route: 'review' },
    why: 'online, several purchases today: a middling score, to review',
  },
  {
    file: 'malformed.json',
    transaction: { transactionId: 'txn-0006', amount: '12O.00', ...base },
    expected: { status: 'FAILED', error: 'Contract.OutputViolation' },
    why: 'an amount that is not a number: fails the transaction contract, kept and audited',
  },
];

const dir = __dirname;
fs.mkdirSync(path.join(dir, 'samples'), { recursive: true });
const expected: { [file: string]: Sample['expected'] & { why: string } } = {};
for (const s of SAMPLES) {
  fs.writeFileSync(path.join(dir, 'samples', s.file), JSON.stringify(s.transaction, null, 2) + '\n');
  expected[s.file] = { ...s.expected, why: s.why };
}
fs.writeFileSync(path.join(dir, 'expected-outcomes.json'), JSON.stringify(expected, null, 2) + '\n');

/**
 * The fraud-screening example's fraud model for the local runner: a deterministic, explainable
 * score standing in for the SageMaker endpoint of the `Score` stage. The runner calls it with the
 * endpoint's JSON request (the features the stage sends) and sends its answer back as the body.
 */

/** The features the Score stage sends to the endpoint. */
export interface TransactionFeatures {
  readonly amount: number;
  readonly currency: string;
  readonly country: string;
  readonly merchantCategory: string;
  readonly cardPresent: boolean;
  readonly transactions24h: number;
}

/** The endpoint's answer. */
export interface FraudScore {
  readonly fraudScore: number;
  readonly reasons: string[];
}

/** Merchant categories with high fraud rates: money transfer, quasi-cash, gambling, digital goods. */
const RISKY_MERCHANTS = ['4829', '6051', '7995', '5816'];
/** Countries the card issuer serves (a purchase elsewhere is foreign). */
const HOME_COUNTRIES = ['US', 'CA', 'GB', 'DE', 'FR'];

/** Adds up weighted risk signals into a score in [0, 1], two decimals, with the reasons behind it. */
export function scoreTransaction(t: TransactionFeatures): FraudScore {
  const signals: Array<[string, number]> = [];
  if (!t.cardPresent) signals.push(['card-not-present', 0.2]);
  if (RISKY_MERCHANTS.includes(t.merchantCategory)) signals.push(['risky-merchant', 0.3]);
  if (!HOME_COUNTRIES.includes(t.country)) signals.push(['foreign-country', 0.2]);
  if (t.amount >= 2_000) signals.push(['large-amount', 0.15]);
  if (t.transactions24h >= 8) signals.push(['high-velocity', 0.15]);
  const raw = 0.05 + signals.reduce((sum, [, w]) => sum + w, 0);
  return { fraudScore: Math.round(Math.min(1, raw) * 100) / 100, reasons: signals.map(([name]) => name) };
}

/** The `--model Score=local-models/fraud-model.ts` entry point. */
export function handler(request: TransactionFeatures): FraudScore {
  return scoreTransaction(request);
}

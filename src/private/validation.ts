import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Throws a synth error that names the construct, the prop, the value and the fix:
 * `[Pipeline Contracts] \`stages\` must ...`.
 */
export function invalid(scope: IConstruct | string, message: string): never {
  const where = typeof scope === 'string' ? scope : `${scope.constructor.name} ${scope.node.path}`;
  throw new Error(`[${where}] ${message}`);
}

/** True when the value is a token we cannot check at synth time. */
export function unresolved(value: unknown): boolean {
  return Token.isUnresolved(value);
}

/** Ids that become state names and keys under `$.results`: letters, digits, `_`, starting with a letter. */
export const STAGE_ID = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** Names of rules and destinations: lowercase letters, digits and hyphens. */
export const ROUTE_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;

import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Throws a synth error that names the construct, the prop, the value and the fix:
 * `[Pipeline Contracts] \`stages\` must ...`. Pass a string (see `whereOf`) before the construct exists.
 */
export function invalid(scope: IConstruct | string, message: string): never {
  const where = typeof scope === 'string' ? scope : `${scope.constructor.name} ${scope.node.path}`;
  throw new Error(`[${where}] ${message}`);
}

/** How `invalid` names a construct that is not created yet (checks before `super()`): `Kind Stack/Parent/Id`. */
export function whereOf(kind: string, scope: IConstruct, id: string): string {
  return `${kind} ${scope.node.path ? `${scope.node.path}/` : ''}${id}`;
}

/** True when the value is a token we cannot check at synth time. */
export function unresolved(value: unknown): boolean {
  return Token.isUnresolved(value);
}

/**
 * Checks a number against a range (and, with `integer`, that it is whole), skipping unresolved
 * tokens. True when the value is known and outside the range.
 */
export function outOfRange(value: number, min: number, max: number, integer = false): boolean {
  if (unresolved(value)) return false;
  return (integer && !Number.isInteger(value)) || value < min || value > max;
}

/** Ids that become state names and keys under `$.results`: letters, digits, `_`, starting with a letter. */
export const STAGE_ID = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** Names of rules and destinations: lowercase letters, digits and hyphens. */
export const ROUTE_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;

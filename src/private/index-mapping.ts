import { lookupPath } from './contract-check';

/** An OpenSearch field mapping. */
export type FieldMapping = { [key: string]: unknown };

/**
 * The OpenSearch mapping of a field from its contract: a string enum or const → keyword, a string →
 * text with a `raw` keyword, an integer → long, a number → double, a boolean → boolean. Returns
 * the problem instead when the contract does not give a scalar.
 */
export function fieldMapping(schema: any): FieldMapping | string {
  if (schema === undefined || schema === true || schema === null || typeof schema !== 'object') return 'has no type in its contract';
  const strings = (values: unknown[]) => values.every((v) => typeof v === 'string');
  if (Array.isArray(schema.enum) && strings(schema.enum)) return { type: 'keyword' };
  if (typeof schema.const === 'string') return { type: 'keyword' };
  const types: string[] = (Array.isArray(schema.type) ? schema.type : [schema.type]).filter((t: unknown) => t !== 'null' && t !== undefined);
  if (types.length !== 1) return types.length === 0 ? 'has no type in its contract' : `has several types in its contract (${types.join(', ')})`;
  switch (types[0]) {
    case 'string': return { type: 'text', fields: { raw: { type: 'keyword', ignore_above: 256 } } };
    case 'integer': return { type: 'long' };
    case 'number': return { type: 'double' };
    case 'boolean': return { type: 'boolean' };
    default: return `is of type '${types[0]}'; only strings, numbers and booleans are indexed`;
  }
}

/** The index body (settings and mappings) for the named fields of `results`, plus an optional embedding. */
export function indexBody(resultsSchema: object, fields: readonly string[], embeddingDimension?: number): { body: object; problems: string[] } {
  const problems: string[] = [];
  const results: FieldMapping = {};
  for (const field of fields) {
    const found = lookupPath(resultsSchema as any, field);
    if (found.schema === undefined) {
      problems.push(`'${field}' ${found.opaque ? 'is inside a schema the pipeline cannot follow (a combinator)' : 'is declared by no stage\'s output contract'}`);
      continue;
    }
    const mapping = fieldMapping(found.schema);
    if (typeof mapping === 'string') {
      problems.push(`'${field}' ${mapping}`);
      continue;
    }
    const parts = field.split('.');
    let node: any = results;
    for (const part of parts.slice(0, -1)) {
      node[part] = node[part] ?? { properties: {} };
      node = node[part].properties;
    }
    node[parts[parts.length - 1]] = mapping;
  }
  const keyword = { type: 'keyword' };
  const properties: FieldMapping = {
    runId: keyword,
    pipeline: keyword,
    startedAt: { type: 'date' },
    document: { properties: { bucket: keyword, key: keyword } },
    route: { properties: { rule: keyword, destination: keyword } },
    results: { properties: results },
  };
  if (embeddingDimension !== undefined) {
    properties.embedding = { type: 'knn_vector', dimension: embeddingDimension, method: { name: 'hnsw', engine: 'faiss', space_type: 'l2' } };
  }
  return {
    body: {
      ...(embeddingDimension !== undefined ? { settings: { index: { knn: true } } } : {}),
      mappings: { dynamic: 'false', properties },
    },
    problems,
  };
}

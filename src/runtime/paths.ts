// The path helpers live in src/shared (constructs use them too); handlers may import them from here.
export * from '../shared/paths';

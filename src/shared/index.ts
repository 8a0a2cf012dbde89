export * from './errors';
export * from './types';
export * from './stage-config';
export * from './failures';
export * from './metadata';
export * from './capacity';

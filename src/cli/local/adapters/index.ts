// Local stand-ins for the AWS SDK v3 clients the handler cores call (see each module).
export * from './errors';
export * from './local-events';
export * from './local-lambda';
export * from './local-s3';
export * from './local-sfn';
export * from './local-textract';
export * from './pdf-text';

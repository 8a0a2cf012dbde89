/** Shared by the trigger constructs and their handlers: the handlers' environment variables. */

/** Environment variables of the API trigger's handler. */
export const ApiEnv = {
  DOCUMENT_BUCKET: 'DOCUMENT_BUCKET',
  DOCUMENT_PREFIX: 'DOCUMENT_PREFIX',
  /** JSON array of key suffixes. */
  DOCUMENT_SUFFIXES: 'DOCUMENT_SUFFIXES',
  UPLOAD_URL_SECONDS: 'UPLOAD_URL_SECONDS',
} as const;

/** Environment variables of the batch starter. */
export const BatchEnv = {
  DOCUMENT_BUCKET: 'DOCUMENT_BUCKET',
  DOCUMENT_PREFIX: 'DOCUMENT_PREFIX',
  /** JSON array of key suffixes. */
  DOCUMENT_SUFFIXES: 'DOCUMENT_SUFFIXES',
} as const;

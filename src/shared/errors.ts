/**
 * Stable error names raised by the handlers. The state machine's Retry and Catch match on them,
 * so they never change once released. Messages carrying them never contain document text.
 */
export const ErrorNames = {
  DOCUMENT_EMPTY: 'Document.Empty',
  DOCUMENT_UNSUPPORTED_TYPE: 'Document.UnsupportedType',
  DOCUMENT_ENCRYPTED: 'Document.Encrypted',
  DOCUMENT_CORRUPT: 'Document.Corrupt',
  DOCUMENT_TOO_LARGE: 'Document.TooLarge',
  DOCUMENT_NO_TEXT: 'Document.NoText',
  SOURCE_GONE: 'Source.Gone',
  SOURCE_ACCESS_DENIED: 'Source.AccessDenied',
  MODEL_INVALID_OUTPUT: 'Model.InvalidOutput',
  CONTRACT_INPUT_VIOLATION: 'Contract.InputViolation',
  CONTRACT_OUTPUT_VIOLATION: 'Contract.OutputViolation',
  TEXTRACT_JOB_FAILED: 'Textract.JobFailed',
  /** A transcription job ended FAILED (Transcribe's reason is in the message). */
  TRANSCRIBE_JOB_FAILED: 'Transcribe.JobFailed',
  /** A text pointer's object no longer has the sha256 the pointer carries. */
  TEXT_INTEGRITY_VIOLATION: 'Text.IntegrityViolation',
  /**
   * The run's route was delivered but no run record could be written (recorder or audit bucket down):
   * the execution fails with it, its cause carrying the route, and the backstop records both.
   */
  AUDIT_RECORDER_UNAVAILABLE: 'Audit.RecorderUnavailable',
} as const;

/** Errors after which the document is quarantined: it is kept where it is and never reaches a model. */
export const QUARANTINE_ERRORS: readonly string[] = [
  ErrorNames.DOCUMENT_EMPTY,
  ErrorNames.DOCUMENT_UNSUPPORTED_TYPE,
  ErrorNames.DOCUMENT_ENCRYPTED,
  ErrorNames.DOCUMENT_CORRUPT,
  ErrorNames.DOCUMENT_TOO_LARGE,
  ErrorNames.SOURCE_GONE,
  ErrorNames.SOURCE_ACCESS_DENIED,
];

/** Errors that send the run to human review rather than to quarantine. */
export const REVIEW_ERRORS: readonly string[] = [ErrorNames.DOCUMENT_NO_TEXT];

/** Lambda service errors worth retrying (as Step Functions names them). */
export const LAMBDA_TRANSIENT_ERRORS: readonly string[] = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/** Throttling and transient errors of each service a built-in stage calls, as the SDK names them. */
export const TRANSIENT_ERRORS = {
  textract: [
    'ProvisionedThroughputExceededException',
    'ThrottlingException',
    'InternalServerError',
    'LimitExceededException',
  ],
  bedrock: [
    'ThrottlingException',
    'ModelTimeoutException',
    'ServiceUnavailableException',
    'ModelNotReadyException',
    'InternalServerException',
  ],
  sagemaker: ['ModelNotReadyException', 'ServiceUnavailable', 'ThrottlingException', 'InternalFailure'],
  lambda: ['TooManyRequestsException', 'ServiceException', 'EC2ThrottledException', 'ResourceNotReadyException'],
  s3: ['SlowDown', 'InternalError', 'ServiceUnavailable', 'RequestTimeout'],
  comprehend: ['ThrottlingException', 'InternalServerException', 'TooManyRequestsException'],
  transcribe: ['LimitExceededException', 'InternalFailureException', 'ThrottlingException'],
  translate: ['ThrottlingException', 'InternalServerException', 'ServiceUnavailableException', 'TooManyRequestsException', 'LimitExceededException'],
  /**
   * The Step Functions HTTP task: a 429 or 5xx answer fails the task with `States.Http.StatusCode.<code>`;
   * a connection that does not answer within the task's 60 s with `States.Http.Socket`.
   */
  http: [
    'States.Http.StatusCode.429',
    'States.Http.StatusCode.500',
    'States.Http.StatusCode.502',
    'States.Http.StatusCode.503',
    'States.Http.StatusCode.504',
    'States.Http.Socket',
  ],
} as const;

/** A named error a handler raises on purpose. `name` becomes the Lambda errorType Step Functions sees. */
export class PipelineError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

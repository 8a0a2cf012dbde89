import { JsonLogger, logLevelFromEnv } from '../../src/runtime/logger';

const NOW = new Date('2026-11-29T12:00:00.000Z');

/** A logger writing into an array, with a fixed clock and the given environment. */
function logger(env: { [name: string]: string | undefined } = {}) {
  const lines: string[] = [];
  const log = new JsonLogger('textract-Extract', { write: (l) => lines.push(l), now: () => NOW, env });
  return { log, lines, entries: () => lines.map((l) => JSON.parse(l)) };
}

test('one JSON line per entry, with the keys Powertools writes and the extra fields', () => {
  const { log, lines } = logger({ _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' });
  log.info('stage succeeded', { runId: 'run-1', stage: 'Extract' }, { outputBytes: 42 });
  expect(lines).toHaveLength(1);
  expect(lines[0].endsWith('\n')).toBe(true);
  expect(lines[0].slice(0, -1)).not.toContain('\n');
  expect(JSON.parse(lines[0])).toEqual({
    level: 'INFO',
    message: 'stage succeeded',
    timestamp: '2026-11-29T12:00:00.000Z',
    service: 'textract-Extract',
    xray_trace_id: '1-5759e988-bd862e3fe1be46a994272793',
    runId: 'run-1',
    stage: 'Extract',
    outputBytes: 42,
  });
});

test('warn and error carry their level; no trace id outside Lambda', () => {
  const { log, entries } = logger();
  log.warn('w');
  log.error('e');
  expect(entries().map((e) => e.level)).toEqual(['WARN', 'ERROR']);
  expect(entries()[0]).not.toHaveProperty('xray_trace_id');
});

test('an extra field never replaces the logger\'s own keys', () => {
  const { log, entries } = logger();
  log.info('real', { level: 'ERROR', message: 'forged', service: 'other', timestamp: 'then', xray_trace_id: 'x', runId: 'r' });
  expect(entries()[0]).toEqual({ level: 'INFO', message: 'real', timestamp: NOW.toISOString(), service: 'textract-Extract', runId: 'r' });
});

test('an Error adds its name only: its message may quote a document', () => {
  const { log, lines } = logger();
  const err = Object.assign(new Error('the contract of Zebulon Quixfeather'), { name: 'Document.Corrupt' });
  log.error('stage failed', err);
  expect(JSON.parse(lines[0]).errorName).toBe('Document.Corrupt');
  expect(lines[0]).not.toContain('Quixfeather');
});

test('fields JSON cannot write end in a plain entry, never a throw', () => {
  const { log, entries } = logger();
  const cycle: any = { a: 1 };
  cycle.self = cycle;
  expect(() => log.info('cyclic', { cycle })).not.toThrow();
  log.info('big', { count: BigInt(2) ** BigInt(64) });
  expect(entries()[0]).toEqual({ level: 'INFO', message: 'cyclic', timestamp: NOW.toISOString(), service: 'textract-Extract', logError: 'extra fields not serializable' });
  expect(entries()[1].count).toBe('18446744073709551616');
});

test.each([
  [{}, 'INFO'],
  [{ POWERTOOLS_LOG_LEVEL: 'warn' }, 'WARN'],
  [{ LOG_LEVEL: 'ERROR' }, 'ERROR'],
  [{ POWERTOOLS_LOG_LEVEL: 'DEBUG', LOG_LEVEL: 'ERROR' }, 'DEBUG'],
  // Lambda's application log level wins, as it does for Powertools.
  [{ AWS_LAMBDA_LOG_LEVEL: 'ERROR', POWERTOOLS_LOG_LEVEL: 'DEBUG' }, 'ERROR'],
  [{ AWS_LAMBDA_LOG_LEVEL: 'loud' }, 'INFO'],
])('log level from %j: %s', (env, level) => {
  expect(logLevelFromEnv(env)).toBe(level);
});

test('entries below the level are not written', () => {
  const { log, entries } = logger({ AWS_LAMBDA_LOG_LEVEL: 'WARN' });
  log.info('dropped');
  log.warn('kept');
  log.error('kept too');
  expect(entries().map((e) => e.message)).toEqual(['kept', 'kept too']);
  const silent = logger({ POWERTOOLS_LOG_LEVEL: 'SILENT' });
  silent.log.error('nothing');
  expect(silent.lines).toEqual([]);
});

test('by default it writes to stdout', () => {
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    new JsonLogger('s', { env: {} }).info('hello');
    expect(JSON.parse(String(spy.mock.calls[0][0]))).toMatchObject({ level: 'INFO', message: 'hello', service: 's' });
  } finally {
    spy.mockRestore();
  }
});

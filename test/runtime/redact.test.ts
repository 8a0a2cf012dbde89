import { createHash } from 'crypto';
import { outputPaths, parseRedactFields, redact, redactedMarker } from '../../src/runtime/redact';

const marker = (v: unknown) => `[REDACTED sha256:${createHash('sha256').update(JSON.stringify(v)).digest('hex')}]`;

describe('redact', () => {
  const view = {
    document: { bucket: 'b', key: 'incoming/jane-doe.pdf' },
    results: {
      Extract: { pages: 2 },
      Parties: { people: [{ name: 'Jane Doe', role: 'buyer' }, { name: 'John Roe', role: 'seller' }], email: 'jane@example.com' },
    },
  };

  test('replaces each value at a path by the sha256 marker and lists the concrete paths, sorted', () => {
    const { value, redacted } = redact(view, ['results.Parties.people.*.name', 'document.key', 'results.*.email']);
    expect(redacted).toEqual(['document.key', 'results.Parties.email', 'results.Parties.people.0.name', 'results.Parties.people.1.name']);
    expect(value).toEqual({
      document: { bucket: 'b', key: marker('incoming/jane-doe.pdf') },
      results: {
        Extract: { pages: 2 },
        Parties: { people: [{ name: marker('Jane Doe'), role: 'buyer' }, { name: marker('John Roe'), role: 'seller' }], email: marker('jane@example.com') },
      },
    });
    expect(JSON.stringify(value)).not.toContain('Jane');
  });

  test('a path with no value redacts nothing; the input is never changed', () => {
    const before = JSON.stringify(view);
    expect(redact(view, ['results.Nope.x', 'results.Extract.pages.deeper'])).toEqual({ value: view, redacted: [] });
    redact(view, ['results.Parties.email']);
    expect(JSON.stringify(view)).toBe(before);
  });

  test('a whole object can be redacted; the marker hashes its JSON', () => {
    expect(redact(view, ['results.Parties']).value).toMatchObject({ results: { Parties: redactedMarker(view.results.Parties) } });
  });

  test('outputPaths: the paths under results.<stage> (or results.*), relative to the stage output', () => {
    expect(outputPaths(['results.Parties.email', 'results.*.people.*.name', 'results.Other.x', 'document.key', 'results.Parties'], 'Parties'))
      .toEqual(['email', 'people.*.name']);
  });

  test('AUDIT_REDACT_FIELDS: a JSON array of run-state paths', () => {
    expect(parseRedactFields(undefined)).toEqual([]);
    expect(parseRedactFields('["results.A.b"]')).toEqual(['results.A.b']);
    expect(() => parseRedactFields('["$.x"]')).toThrow(/AUDIT_REDACT_FIELDS must be a JSON array of paths/);
  });
});

import { describe, expect, it } from 'vitest';
import { locateJsonPath, locateJsonSyntaxError } from '../dist/src/config/json-locate.js';

const text = ['{', '  "providers": {', '    "openai": [', '      { "kind": "env", "vars": ["A", "B"] },', '      {"kind":"module"}', '    ],', '    "a\\"b": []', '  },', '  "aliases": {}', '}'].join(
  '\n',
);

describe('locating a zod issue path in JSON text', () => {
  it('points at an object member by its key', () => {
    expect(locateJsonPath(text, ['providers'])).toEqual({ line: 2, column: 3 });
    expect(locateJsonPath(text, ['providers', 'openai'])).toEqual({ line: 3, column: 5 });
    expect(locateJsonPath(text, ['aliases'])).toEqual({ line: 9, column: 3 });
  });

  it('points at an array element by its first character', () => {
    expect(locateJsonPath(text, ['providers', 'openai', 0])).toEqual({ line: 4, column: 7 });
    expect(locateJsonPath(text, ['providers', 'openai', 0, 'vars', 1])).toEqual({ line: 4, column: 38 });
    expect(locateJsonPath(text, ['providers', 'openai', 1, 'kind'])).toEqual({ line: 5, column: 8 });
  });

  it('decodes escaped keys', () => {
    expect(locateJsonPath(text, ['providers', 'a"b'])).toEqual({ line: 7, column: 5 });
  });

  it('falls back to the nearest ancestor for a missing field', () => {
    expect(locateJsonPath(text, ['providers', 'openai', 1, 'module'])).toEqual({ line: 5, column: 7 });
    expect(locateJsonPath(text, ['defaults'])).toEqual({ line: 1, column: 1 });
  });

  it('gives nothing for text that is not JSON', () => {
    expect(locateJsonPath('{"a": }', ['a'])).toBeUndefined();
  });
});

describe('locating a JSON syntax error', () => {
  it('is undefined for valid JSON of every kind of value', () => {
    expect(locateJsonSyntaxError(text)).toBeUndefined();
    expect(locateJsonSyntaxError(' [1, -2.5e3, true, false, null, "\\u00e9\\n", {}, []] ')).toBeUndefined();
  });

  it.each([
    ['{\n  "a": 1,\n}', { line: 3, column: 1 }],
    ['{"a" 1}', { line: 1, column: 6 }],
    ['[1 2]', { line: 1, column: 4 }],
    ['{"a": "unterminated', { line: 1, column: 20 }],
    ['{"a": "bad \u0001 control"}', { line: 1, column: 12 }],
    ['{}\n{}', { line: 2, column: 1 }],
    ['', { line: 1, column: 1 }],
    ['{"a": tru}', { line: 1, column: 7 }],
    ['[01]', { line: 1, column: 3 }],
  ])('finds the error in %j', (bad, at) => {
    expect(() => JSON.parse(bad)).toThrow();
    expect(locateJsonSyntaxError(bad)).toEqual(at);
  });

  it('does not overflow the stack on deep nesting', () => {
    expect(locateJsonSyntaxError('['.repeat(100_000) + ']'.repeat(100_000))).toEqual({ line: 1, column: 514 });
  });
});

/**
 * Finds where things are in a JSON text, so a configuration error can name
 * its line: the member or element a zod issue path points at, or the place a
 * syntax error starts. It walks the text itself (JSON.parse keeps no
 * positions, and V8's syntax message quotes the input, which may hold a
 * secret). Positions only: nothing of the text is returned.
 */

/** A place in a text: 1-based line and column (in UTF-16 code units). */
export interface JsonPosition {
  readonly line: number;
  readonly column: number;
}

type Scan = { readonly ok: true; readonly offsets: ReadonlyMap<string, number> } | { readonly ok: false; readonly offset: number };

/** Deeper than this, the text is not indexed: a configuration is never this deep, and recursion must stay bounded. */
const MAX_DEPTH = 512;

const keyOf = (path: readonly PropertyKey[]): string => JSON.stringify(path.map(String));

/**
 * The position of the value at `path` (for an object member, of its key), or
 * of its nearest ancestor present in the text: a missing required field is
 * reported at the object that lacks it. Undefined when the text is not JSON.
 */
export function locateJsonPath(text: string, path: readonly PropertyKey[]): JsonPosition | undefined {
  const scan = scanJson(text);
  if (!scan.ok) return undefined;
  for (let n = path.length; n >= 0; n--) {
    const offset = scan.offsets.get(keyOf(path.slice(0, n)));
    if (offset !== undefined) return positionAt(text, offset);
  }
  return undefined;
}

/** Where the first syntax error is, or undefined when the text is valid JSON. */
export function locateJsonSyntaxError(text: string): JsonPosition | undefined {
  const scan = scanJson(text);
  return scan.ok ? undefined : positionAt(text, scan.offset);
}

export function positionAt(text: string, offset: number): JsonPosition {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

class SyntaxAt {
  constructor(readonly offset: number) {}
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON forbids raw control characters in a string (RFC 8259, section 7)
const STRING_BODY = /(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*/y;

function scanJson(text: string): Scan {
  const offsets = new Map<string, number>();
  let i = 0;
  const fail = (): never => {
    throw new SyntaxAt(i);
  };
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const string = (): string => {
    const start = i;
    i++; // the opening quote
    STRING_BODY.lastIndex = i;
    STRING_BODY.exec(text);
    i = STRING_BODY.lastIndex;
    if (text[i] !== '"') fail();
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: PropertyKey[]): void => {
    if (path.length > MAX_DEPTH) fail();
    ws();
    offsets.set(keyOf(path), i);
    const c = text[i];
    if (c === '{') return object(path);
    if (c === '[') return array(path);
    if (c === '"') return void string();
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return;
      }
    }
    NUMBER.lastIndex = i;
    if (!NUMBER.test(text)) fail();
    i = NUMBER.lastIndex;
  };
  const object = (path: PropertyKey[]): void => {
    i++;
    ws();
    if (text[i] === '}') return void i++;
    for (;;) {
      ws();
      if (text[i] !== '"') fail();
      const at = i;
      const key = string();
      ws();
      if (text[i] !== ':') fail();
      i++;
      value([...path, key]);
      // A member is located at its key, where an editor's eye goes.
      offsets.set(keyOf([...path, key]), at);
      ws();
      if (text[i] === ',') i++;
      else if (text[i] === '}') return void i++;
      else fail();
    }
  };
  const array = (path: PropertyKey[]): void => {
    i++;
    ws();
    if (text[i] === ']') return void i++;
    for (let index = 0; ; index++) {
      value([...path, index]);
      ws();
      if (text[i] === ',') i++;
      else if (text[i] === ']') return void i++;
      else fail();
    }
  };
  try {
    value([]);
    ws();
    if (i < text.length) fail();
  } catch (err) {
    if (err instanceof SyntaxAt) return { ok: false, offset: err.offset };
    throw err;
  }
  return { ok: true, offsets };
}

import { describe, expect, it } from 'vitest';
import { commonScope, ScopeSchema } from '../src/config/schema.js';
import { resolveScope } from '../src/config/scope.js';

const long = (n: number) => `/${'a'.repeat(n - 1)}`;

/** Scopes of every shape the quick check looks at, valid and not, and some it leaves to the schema. */
const inputs: object[] = [
  {},
  { agentDir: '/state/agents/a/agent' },
  { agentDir: '/a', workspaceDir: '/w', agentId: 'main' },
  { agentId: 'main' },
  { agentDir: 'relative/agent' },
  { agentDir: '' },
  { agentDir: '/a\0b' },
  { agentDir: long(4096) },
  { agentDir: long(4097) },
  { agentId: 'x'.repeat(256) },
  { agentId: 'x'.repeat(257) },
  { agentId: '' },
  { agentId: 'a\0' },
  { workspaceDir: './ws' },
  { agentDir: 42 },
  { agentDir: undefined },
  { agentDir: '/a', extra: 1 },
  { agentDir: '/a', env: { KEY: 'v' } },
  Object.assign(Object.create(null), { agentDir: '/null-proto' }),
  Object.create({ agentDir: '/inherited' }),
  new (class Scope {
    agentDir = '/class';
  })(),
];

describe('a scope checked without zod', () => {
  it('accepts only what the schema accepts, as the schema parses it', () => {
    for (const input of inputs) {
      const quick = commonScope(input);
      const parsed = ScopeSchema.safeParse(input);
      if (quick !== undefined) {
        expect(parsed.success, JSON.stringify(input)).toBe(true);
        expect({ ...quick }).toEqual(parsed.data);
      }
    }
  });

  it('takes the common scopes without the schema, and leaves the rest to it', () => {
    const quick = inputs.filter((input) => commonScope(input) !== undefined);
    expect(quick).toEqual([inputs[0], inputs[1], inputs[2], inputs[3], inputs[7], inputs[9], inputs[18]]);
  });

  it('resolves a common scope, and refuses one past its limits naming the field', () => {
    expect(resolveScope({ agentDir: '/a', agentId: 'main' })).toEqual({ key: JSON.stringify(['/a', null, 'main', '']), agentDir: '/a', agentId: 'main' });
    expect(() => resolveScope({ agentDir: long(4097) })).toThrow(expect.objectContaining({ code: 'E_BAD_SCOPE', message: expect.stringMatching(/agentDir/) }));
  });
});

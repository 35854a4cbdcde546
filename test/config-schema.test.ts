import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadProbeConfig, ProbeSchema } from 'auth-probe-pool';
import { runCli } from './helpers/cli.js';
import { useFixture } from './helpers/fixture.js';

const committed = readFileSync(new URL('../schema/probe-config.schema.json', import.meta.url), 'utf8');

describe('the JSON Schema of a probe configuration', () => {
  const { dir } = useFixture();

  it('is the committed schema/probe-config.schema.json (run `npm run gen:schema` after changing src/config/schema.ts)', () => {
    const run = runCli(['schema']);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(committed);
  });

  it('is shipped in the package and exported as auth-probe-pool/schema.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { files: string[]; exports: Record<string, unknown> };
    expect(pkg.files).toContain('schema');
    expect(pkg.exports['./schema.json']).toBe('./schema/probe-config.schema.json');
  });

  it('describes every probe kind, closed to unknown fields, and allows "$schema"', () => {
    const schema = JSON.parse(committed) as { $schema: string; properties: Record<string, unknown>; additionalProperties: boolean; definitions?: Record<string, unknown> };
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(Object.keys(schema.properties).sort()).toEqual(['$schema', 'aliases', 'defaults', 'providers']);
    expect(schema.additionalProperties).toBe(false);
    const kinds = ProbeSchema.options.map((o) => o.shape.kind.value);
    for (const kind of kinds) expect(committed).toContain(`"const": "${kind}"`);
  });

  it('refuses a platform name Node never reports ("macos"), naming the allowed ones', () => {
    const file = dir.write('macos.json', { providers: { a: [{ kind: 'env', vars: ['A'], platforms: ['darwin', 'macos'] }] } });
    expect(() => loadProbeConfig(file)).toThrow(/providers\.a\[0\]\.platforms\[1\]: must be a process\.platform value: .*darwin.*linux.*win32/);
    expect(committed).toContain('"win32"');
  });

  it('lets a config file name it: loadProbeConfig ignores a top-level "$schema"', () => {
    const file = dir.write('probes.json', { $schema: './node_modules/auth-probe-pool/schema/probe-config.schema.json', providers: { openai: [{ kind: 'env', vars: ['OPENAI_API_KEY'] }] } });
    expect(loadProbeConfig(file).probes).toEqual({ providers: { openai: [{ kind: 'env', vars: ['OPENAI_API_KEY'] }] } });
    const typo = dir.write('typo.json', { $schemas: 'x', providers: {} });
    expect(() => loadProbeConfig(typo)).toThrow(/\$schemas/);
  });

  it('keeps a secret written into a bad config out of the error, its cause and its stack', () => {
    const secret = 'sk-config-secret-9b2d';
    const file = dir.write('leaky.json', {
      providers: {
        a: [
          { kind: 'env', vars: [secret] },
          { kind: 'credentialFile', path: 'x', pointer: secret },
        ],
      },
    });
    let caught: (Error & { cause?: unknown }) | undefined;
    try {
      loadProbeConfig(file);
    } catch (err) {
      caught = err as Error & { cause?: unknown };
    }
    expect(caught?.cause).toBeInstanceOf(Error);
    const seen = [caught?.message, caught?.stack, JSON.stringify(caught), String(caught?.cause), JSON.stringify(caught?.cause)].join('\n');
    expect(seen).toContain('providers.a[0].vars[0]');
    expect(seen).not.toContain(secret);
  });
});

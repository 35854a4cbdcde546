import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Internal: reached through the build, like the worker.
const dist = (file: string) => fileURLToPath(new URL(`../dist/src/${file}`, import.meta.url));
const { checkResultOf, providerResultOf, CheckResultSchema } = (await import(dist('config/check-result.js'))) as typeof import('../src/config/check-result.js');
const { ProviderResultSchema } = (await import(dist('config/schema.js'))) as typeof import('../src/config/schema.js');
const { errorData } = (await import(dist('errors.js'))) as typeof import('../src/errors.js');
const { CompiledCheckResultSchema } = (await import(dist('dispatch/task-results.js'))) as typeof import('../src/dispatch/task-results.js');

const whole = ProviderResultSchema.parse({
  provider: 'anthropic',
  auth: true,
  decidedBy: 1,
  probes: [
    { position: 0, index: 0, source: 'provider', kind: 'env', label: 'API key', outcome: 'absent', error: errorData('E_ENV_UNSET', 'ANTHROPIC_API_KEY'), durationMs: 0.1 },
    {
      position: 3,
      index: 0,
      source: 'defaults',
      kind: 'openclawStore',
      label: 'store',
      outcome: 'present',
      validUntil: 1_900_000_000_000,
      detail: { path: '/a/agent/auth-profiles.json', store: 'agent-json', profileId: 'anthropic:login' },
      durationMs: 4.2,
      deps: [
        ['sqlite:agent:/a/agent/openclaw-agent.sqlite', 'missing'],
        ['/a/agent/auth-profiles.json', '1:2:3:4:5'],
      ],
    },
  ],
  durationMs: 5,
});

describe("a check's form of a provider's result", () => {
  it('keeps what a check needs, through the copy between threads, and leaves out what only explain() shows', () => {
    const sent = structuredClone(checkResultOf(whole));
    const back = providerResultOf('anthropic', CheckResultSchema.parse(sent));
    expect(back).toEqual({
      ...whole,
      probes: whole.probes.map(({ label: _label, detail: _detail, error, ...kept }) => ({ ...kept, ...(error ? { error: errorData(error.code) } : {}) })),
    });
    // The dependencies the watcher follows, pair by pair, in order.
    expect(back.probes[1]?.deps).toEqual(whole.probes[1]?.deps);
  });

  it('is refused when malformed: a dependency without its fingerprint or not a string, an unknown kind, a negative position, a field of the whole form', () => {
    const good = checkResultOf(whole);
    const bad = (field: string, value: unknown) => ({ ...good, probes: [good.probes[0], { ...good.probes[1], [field]: value }] });
    expect(CheckResultSchema.safeParse(good).success).toBe(true);
    expect(CheckResultSchema.safeParse(bad('deps', '/a\u00001:2:3:4:5\u0000/b')).success).toBe(false);
    expect(CheckResultSchema.safeParse(bad('deps', ['/a', '1:2:3:4:5'])).success).toBe(false);
    expect(CheckResultSchema.safeParse(bad('kind', 'keychain')).success).toBe(false);
    expect(CheckResultSchema.safeParse(bad('position', -1)).success).toBe(false);
    expect(CheckResultSchema.safeParse(bad('label', 'API key')).success).toBe(false);
  });

  it('names the fields that were wrong, as the log does: the compiled schema hands a refusal to the runtime parser, issues and all', () => {
    const good = checkResultOf(whole);
    const fields = (raw: unknown) => {
      const parsed = CompiledCheckResultSchema.safeParse(raw);
      return parsed.success ? [] : parsed.error.issues.map((issue) => issue.path.join('.'));
    };
    expect(fields({ ...good, probes: [good.probes[0], { ...good.probes[1], position: -1 }] })).toEqual(['probes.1.position']);
    expect(fields({ ...good, decidedBy: 1.5, auth: 'yes' })).toEqual(['auth', 'decidedBy']);
    expect(fields({ ...good, probes: [{ ...good.probes[0], deps: '/a' }] })).toEqual(['probes.0.deps']);
  });
});

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Internal: reached through the build, like the worker.
const dist = (file: string) => fileURLToPath(new URL(`../dist/src/${file}`, import.meta.url));
const { ChecksPacker, unpackChecks, providerResultOf, CheckResultSchema, DepsLists, RESULT_WIDTH, PROBE_WIDTH } = (await import(
  dist('config/check-result.js')
)) as typeof import('../src/config/check-result.js');
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

/** `results` packed as a worker posts them, copied between threads as a message is. */
function sent(...results: (typeof whole)[]): ReturnType<InstanceType<typeof ChecksPacker>['take']> {
  const packer = new ChecksPacker();
  for (const [i, r] of results.entries()) packer.add(i, r);
  return structuredClone(packer.take());
}

/** The check form of one result, as the main thread reads it from a packed message. */
function checkOf(result: typeof whole): Record<string, unknown> {
  return unpackChecks(sent(result))[0]?.check as Record<string, unknown>;
}

describe("a check's form of a provider's result", () => {
  it('keeps what a check needs, through the copy between threads, and leaves out what only explain() shows', () => {
    const [one, ...rest] = unpackChecks(sent(whole));
    expect(rest).toEqual([]);
    expect(one?.index).toBe(0);
    const back = providerResultOf('anthropic', CheckResultSchema.parse(one?.check));
    expect(back).toEqual({
      ...whole,
      probes: whole.probes.map(({ label: _label, detail: _detail, error, ...kept }) => ({ ...kept, ...(error ? { error: errorData(error.code) } : {}) })),
    });
    // The dependencies the watcher follows, pair by pair, in order.
    expect(back.probes[1]?.deps).toEqual(whole.probes[1]?.deps);
  });

  it("keeps a result's own error, code and message, and each result's index", () => {
    const failed = ProviderResultSchema.parse({ provider: 'mistral', auth: false, decidedBy: null, probes: [], durationMs: 0, error: errorData('E_PROBE_TIMEOUT', 'deadline') });
    const packer = new ChecksPacker();
    packer.add(3, whole);
    packer.add(1, failed);
    const [a, b] = unpackChecks(structuredClone(packer.take()));
    expect([a?.index, b?.index]).toEqual([3, 1]);
    expect(CheckResultSchema.parse(b?.check)).toEqual({ auth: false, decidedBy: null, durationMs: 0, probes: [], error: errorData('E_PROBE_TIMEOUT', 'deadline') });
  });

  it("sends an agent's equal dependency lists once: its providers' results share one string, and so one list", () => {
    // Equal pairs, as each provider's probe records them (its own arrays, the task's same strings).
    const again = (r: typeof whole): typeof whole => ({ ...r, probes: r.probes.map((p) => (p.deps ? { ...p, deps: p.deps.map(([a, b]) => [a, b] as [string, string]) } : p)) });
    const other = { ...whole, probes: [whole.probes[0], { ...whole.probes[1], deps: [['/b/agent/auth-profiles.json', '9:9:9:9:9']] }] } as typeof whole;
    const message = sent(whole, again(whole), again(whole), other);
    // The error code, the shared list, the other list.
    expect(message.strings).toHaveLength(3);
    const lists = new DepsLists();
    const back = unpackChecks(message).map(({ check }) => providerResultOf('anthropic', CheckResultSchema.parse(check), lists));
    expect(back[1]?.probes[1]?.deps).toBe(back[0]?.probes[1]?.deps);
    expect(back[2]?.probes[1]?.deps).toBe(back[0]?.probes[1]?.deps);
    expect(back[3]?.probes[1]?.deps).toEqual([['/b/agent/auth-profiles.json', '9:9:9:9:9']]);
  });

  it('is refused when malformed: a dependency without its fingerprint or not a string, an unknown kind, a negative position, a field of the whole form', () => {
    const good = checkOf(whole);
    const probes = good.probes as Record<string, unknown>[];
    const bad = (field: string, value: unknown) => ({ ...good, probes: [probes[0], { ...probes[1], [field]: value }] });
    expect(CheckResultSchema.safeParse(good).success).toBe(true);
    expect(CheckResultSchema.safeParse(bad('deps', '/a\u00001:2:3:4:5\u0000/b')).success).toBe(false);
    expect(CheckResultSchema.safeParse(bad('deps', ['/a', '1:2:3:4:5'])).success).toBe(false);
    expect(CheckResultSchema.safeParse(bad('kind', 'keychain')).success).toBe(false);
    expect(CheckResultSchema.safeParse(bad('position', -1)).success).toBe(false);
    expect(CheckResultSchema.safeParse(bad('label', 'API key')).success).toBe(false);
  });

  it('names the fields that were wrong, as the log does: the compiled schema hands a refusal to the runtime parser, issues and all', () => {
    const good = checkOf(whole);
    const probes = good.probes as Record<string, unknown>[];
    const fields = (raw: unknown) => {
      const parsed = CompiledCheckResultSchema.safeParse(raw);
      return parsed.success ? [] : parsed.error.issues.map((issue) => issue.path.join('.'));
    };
    expect(fields({ ...good, probes: [probes[0], { ...probes[1], position: -1 }] })).toEqual(['probes.1.position']);
    expect(fields({ ...good, decidedBy: 1.5, auth: 'yes' })).toEqual(['auth', 'decidedBy']);
    expect(fields({ ...good, probes: [{ ...probes[0], deps: '/a' }] })).toEqual(['probes.0.deps']);
  });

  it('leaves what a packed number cannot stand for as the number, for the schema to refuse by its field; a count past the numbers ends the message', () => {
    const message = sent(whole, whole);
    const refused = (edit: (nums: Float64Array) => void) => {
      const nums = Float64Array.from(message.nums);
      edit(nums);
      const parsed = CompiledCheckResultSchema.safeParse(unpackChecks({ nums, strings: message.strings })[0]?.check);
      return parsed.success ? [] : parsed.error.issues.map((issue) => issue.path.join('.')).sort();
    };
    // The first result's second probe: its kind (an enum's index) and its deps (a string's index) out of range.
    const second = RESULT_WIDTH + PROBE_WIDTH;
    expect(
      refused((nums) => {
        nums[second + 3] = 99;
        nums[second + 9] = 7;
      }),
    ).toEqual(['probes.1.deps', 'probes.1.kind']);
    // A value the check form refuses is refused unpacked, not read as absent: a NaN expiry, a negative decidedBy.
    expect(refused((nums) => (nums[second + 8] = Number.NaN))).toEqual(['probes.1.validUntil']);
    expect(refused((nums) => (nums[3] = -1))).toEqual(['decidedBy']);
    // A presence neither 1 nor 0.
    expect(refused((nums) => (nums[2] = 2))).toEqual(['decidedBy']);
    expect(refused(() => undefined)).toEqual([]);
    // The second result claims more probes than the numbers hold: the first is still read, the second is not.
    const past = Float64Array.from(message.nums);
    past[RESULT_WIDTH + 2 * PROBE_WIDTH + 7] = 3;
    expect(unpackChecks({ nums: past, strings: message.strings }).map((r) => r.index)).toEqual([0]);
    expect(unpackChecks({ nums: message.nums.subarray(0, message.nums.length - 1), strings: message.strings }).map((r) => r.index)).toEqual([0]);
  });
});

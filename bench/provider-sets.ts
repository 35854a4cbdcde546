/**
 * Which of the scenario's providers a sweep asks about, and in what order:
 * the warm-up set, the CPU-bound set, the providers whose probes run a CLI
 * or a module (what the critical path is made of), and the adversarial
 * order that puts every CLI side by side.
 */
import type { Scenario } from './scenario.js';

/** Providers whose probes are CPU work (the multi-MB store, the keyring hash): the CPU-bound modes' sweep. */
export function cpuProviders(scenario: Scenario): string[] {
  return scenario.providers.filter((id) => scenario.kinds[id] === 'store' || scenario.kinds[id] === 'keyring');
}

/**
 * Providers whose probes spawn no CLI: enough to compile every code path and
 * load every module during `prepare()` without paying for the slow ones.
 */
export function warmupProviders(scenario: Scenario): string[] {
  return scenario.providers.filter((id) => !['keychain', 'slow-cli', 'hung-cli'].includes(scenario.kinds[id] as string));
}

/** Providers with a probe of one of `kinds` in their configuration, in sweep order. */
export function providersWithProbe(scenario: Scenario, kinds: readonly string[]): string[] {
  return scenario.providers.filter((id) => (scenario.config.providers[id] ?? []).some((probe) => kinds.includes(probe.kind)));
}

/** Where the adversarial order's block starts, as a share of the sweep (position 40 of 200). */
export const ADVERSARIAL_START = 0.2;

/**
 * `providers` with every one in `block` moved next to each other, starting at
 * `start` × the sweep's length (earlier if the block would not fit), the rest
 * in their own order: the order a dispatch that batches neighbours into one
 * task, or plans by position, handles worst.
 */
export function adversarialOrder(providers: readonly string[], block: readonly string[], start = ADVERSARIAL_START): string[] {
  const inBlock = new Set(block);
  const moved = providers.filter((p) => inBlock.has(p));
  const rest = providers.filter((p) => !inBlock.has(p));
  const at = Math.max(0, Math.min(Math.floor(providers.length * start), rest.length));
  return [...rest.slice(0, at), ...moved, ...rest.slice(at)];
}

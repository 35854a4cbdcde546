/**
 * The memory of a large gateway: Buffers that are really resident (filled,
 * so every page is touched) and that the main thread keeps writing to, as a
 * busy gateway does with its heap. A fork copies the page tables of the whole
 * process, and the main thread's page faults wait for it: with ballast held,
 * the cost of spawning from inside the gateway shows up as loop delay.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { collectGarbage } from './proc.js';

const CHUNK = 1 << 20;
const PAGE = 4096;
/** Longest wait for the ballast's pages to leave the RSS after release, in milliseconds. */
const RELEASE_WAIT_MS = 2000;

export interface Ballast {
  /** MiB held right now. */
  readonly heldMb: number;
  /** Allocates the ballast and starts touching it every `touchEveryMs`. */
  hold(): void;
  /**
   * Stops touching, drops every reference and collects garbage, then waits
   * (at most 2 s) until the pages have left the RSS, so the next mode starts
   * from the same floor and forks a process of the same size.
   */
  release(): Promise<void>;
}

/** `mb` MiB of ballast in 1 MiB chunks, one page of each written every `touchEveryMs` milliseconds while held. */
export function createBallast(mb: number, touchEveryMs = 5): Ballast {
  let chunks: Buffer[] = [];
  let timer: NodeJS.Timeout | undefined;
  let tick = 0;
  return {
    get heldMb() {
      return chunks.length;
    },
    hold() {
      if (timer) return;
      for (let i = 0; i < mb; i++) chunks.push(Buffer.alloc(CHUNK, 1));
      // One small write per chunk, on a different page each tick: every one a fault while a fork has the pages shared.
      timer = setInterval(() => {
        const offset = (++tick * PAGE) % CHUNK;
        for (const chunk of chunks) chunk[offset] = tick & 0xff;
      }, touchEveryMs);
      timer.unref();
    },
    async release() {
      clearInterval(timer);
      timer = undefined;
      const held = chunks.length * CHUNK;
      const before = process.memoryUsage.rss();
      chunks = [];
      collectGarbage();
      // V8 frees ArrayBuffer memory on a background task after the collection, a few tens of ms later.
      const until = Date.now() + RELEASE_WAIT_MS;
      while (held > 0 && before - process.memoryUsage.rss() < 0.9 * held && Date.now() < until) await sleep(10);
    },
  };
}

/**
 * Transcript rows of `bench:sqlite`'s gateway: JSON events of about 1 KiB
 * (messages, tool calls and results), their text drawn from a seeded pool of
 * made-up sentences so that a gigabyte of them is generated in seconds and
 * still compresses and pages like real text, not like a repeated block.
 */
import { token, type Random } from './scenario-util.js';

const SENTENCES = 512;

export type EventSource = (sessionId: string, seq: number, at: number) => string;

/** Events drawn from `random`: the same seed gives the same events. */
export function eventSource(random: Random): EventSource {
  const words = Array.from({ length: 1024 }, () => token(random, 2 + Math.floor(random() * 9)).toLowerCase());
  const sentences = Array.from({ length: SENTENCES }, () => {
    const n = 8 + Math.floor(random() * 14);
    let s = '';
    for (let i = 0; i < n; i++) s += `${words[Math.floor(random() * words.length)]}${i === n - 1 ? '.' : ' '}`;
    return s;
  });
  const text = (count: number) => {
    let out = '';
    for (let i = 0; i < count; i++) out += `${sentences[Math.floor(random() * SENTENCES)]} `;
    return out;
  };
  return (sessionId, seq, at) => {
    const kind = seq % 4;
    const base = { id: `${sessionId}-${seq}`, ts: at, seq };
    if (kind === 0) return JSON.stringify({ ...base, type: 'message', role: 'user', content: [{ type: 'text', text: text(3 + Math.floor(random() * 4)) }] });
    if (kind === 2) return JSON.stringify({ ...base, type: 'tool_call', name: 'read_file', arguments: { path: `src/${token(random, 8)}.ts` } });
    if (kind === 3) return JSON.stringify({ ...base, type: 'tool_result', ok: random() > 0.1, output: text(4 + Math.floor(random() * 8)) });
    return JSON.stringify({
      ...base,
      type: 'message',
      role: 'assistant',
      model: 'gpt-5',
      content: [{ type: 'text', text: text(5 + Math.floor(random() * 10)) }],
      usage: { input: 200 + Math.floor(random() * 4000), output: 20 + Math.floor(random() * 900), cacheRead: Math.floor(random() * 2000) },
    });
  };
}

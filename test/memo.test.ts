/**
 * A scope's memo of spellings (`answers/memo.ts`): the caller's spelling (and modelApi) → the kept answer, and on the
 * answer the spellings it is known by, so that an answer leaving the book leaves the memo whole. Most answers are known
 * by one spelling and no modelApi: that one is kept as the string alone.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Internal: reached through the build, like the worker.
const dist = (file: string) => fileURLToPath(new URL(`../dist/src/${file}`, import.meta.url));
const { AnswerMemo } = (await import(dist('answers/memo.js'))) as typeof import('../src/answers/memo.js');
type Answer = import('../src/answers/answer.js').Answer;

/** What the memo reads and writes of an answer: its spellings. */
const answer = (): Answer => ({ spellings: undefined }) as unknown as Answer;

describe('AnswerMemo', () => {
  it('keeps one spelling with no modelApi as the string alone, more as a list, and forgets them all with the answer', () => {
    const memo = new AnswerMemo();
    const a = answer();
    memo.set('openai', undefined, a);
    expect(a.spellings).toBe('openai');
    expect(memo.get('openai', undefined)).toBe(a);
    memo.set('openai', undefined, a);
    expect(a.spellings).toBe('openai');
    memo.set('OpenAI', undefined, a);
    memo.set('openai', 'responses', a);
    expect(a.spellings).toEqual(['openai', undefined, 'OpenAI', undefined, 'openai', 'responses']);
    expect([memo.get('openai', undefined), memo.get('OpenAI', undefined), memo.get('openai', 'responses')]).toEqual([a, a, a]);
    memo.forget(a);
    expect(a.spellings).toBeUndefined();
    expect([memo.get('openai', undefined), memo.get('OpenAI', undefined), memo.get('openai', 'responses')]).toEqual([undefined, undefined, undefined]);
  });

  it('keeps a first spelling with a modelApi as a list', () => {
    const memo = new AnswerMemo();
    const a = answer();
    memo.set('openai', 'responses', a);
    expect(a.spellings).toEqual(['openai', 'responses']);
    expect(memo.get('openai', undefined)).toBeUndefined();
    memo.forget(a);
    expect(memo.get('openai', 'responses')).toBeUndefined();
  });

  it('leaves a spelling that went to another answer when the first is forgotten', () => {
    const memo = new AnswerMemo();
    const [a, b] = [answer(), answer()];
    memo.set('openai', undefined, a);
    memo.set('openai', undefined, b);
    expect(memo.get('openai', undefined)).toBe(b);
    memo.forget(a);
    expect(memo.get('openai', undefined)).toBe(b);
    memo.forget(b);
    expect(memo.get('openai', undefined)).toBeUndefined();
  });

  it('memoises 64 spellings of one answer at most', () => {
    const memo = new AnswerMemo();
    const a = answer();
    for (let i = 0; i < 70; i++) memo.set(`p${i}`, undefined, a);
    expect(memo.get('p0', undefined)).toBe(a);
    expect(memo.get('p63', undefined)).toBe(a);
    expect(memo.get('p64', undefined)).toBeUndefined();
    memo.forget(a);
    expect(memo.get('p0', undefined)).toBeUndefined();
  });
});

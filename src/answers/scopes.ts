/**
 * Scopes and the answers each keeps. A scope's state is found again by its
 * key for as long as anything holds it: a checker keeps its scope alive, so
 * a long-lived checker always shares its state with later `warm()`,
 * `hasAuth()` and `invalidate()` calls, however many scopes came and went.
 * Scopes that hold answers are counted against `maxScopes`; past it, the one
 * least recently used gives up its answers (its checkers stay attached and
 * simply probe again on their next check).
 */
import type { AuthChecker } from '../pool-types.js';
import type { ResolvedScope } from '../config/scope.js';
import type { Answer } from './answer.js';
import { AnswerMemo } from './memo.js';

let ordinals = 0;

/** Everything the pool keeps per scope. */
export class ScopeState {
  /** Its number, in the order states were made: what a burst's runs are grouped by (see `tasksByCost`), a number to compare, not its key. */
  readonly ordinal = ordinals++;
  /** Kept answers by key (normalised id, plus modelApi for providers that answer by it), shared by all its checkers. */
  readonly answers = new Map<string, Answer>();
  /** What its checkers' callers spelt, → the kept answers (see `memo.ts`). */
  readonly memo = new AnswerMemo();
  /** The checker `hasAuth()` uses for this scope: it lives as long as the scope's state. */
  shared: AuthChecker | undefined;

  constructor(readonly scope: ResolvedScope) {}
}

export class ScopeRegistry {
  readonly #byKey = new Map<string, WeakRef<ScopeState>>();
  /** Entries after the last sweep of dead ones: the next comes when there are twice as many (amortised, no finaliser per scope). */
  #swept = 0;
  /** Scopes holding answers, least recently used first. */
  readonly #holding = new Map<string, ScopeState>();

  constructor(
    private readonly maxScopes: number,
    /** Drops a scope's answers when it is pushed out by the cap. */
    private readonly dropAnswers: (state: ScopeState) => void,
  ) {}

  /** Scopes holding answers. */
  get size(): number {
    return this.#holding.size;
  }

  /** The state for a resolved scope: the same object as long as anything holds it. */
  get(scope: ResolvedScope): ScopeState {
    const known = this.#byKey.get(scope.key)?.deref();
    if (known) return known;
    const state = new ScopeState(scope);
    if (this.#byKey.size >= 2 * this.#swept + 1024) this.#sweep();
    this.#byKey.set(scope.key, new WeakRef(state));
    return state;
  }

  /** Forgets the scopes nothing holds any more. */
  #sweep(): void {
    for (const [key, ref] of this.#byKey) if (ref.deref() === undefined) this.#byKey.delete(key);
    this.#swept = this.#byKey.size;
  }

  /** The scope is about to hold an answer, or was just used: most recent now, and the cap applied. */
  touch(state: ScopeState): void {
    this.#holding.delete(state.scope.key);
    this.#holding.set(state.scope.key, state);
    if (this.#holding.size <= this.maxScopes) return;
    for (const [key, oldest] of this.#holding) {
      if (this.#holding.size <= this.maxScopes) break;
      if (oldest === state) continue;
      this.#holding.delete(key);
      this.dropAnswers(oldest);
    }
  }

  /** The scope no longer holds answers. */
  release(state: ScopeState): void {
    if (state.answers.size === 0 && this.#holding.get(state.scope.key) === state) this.#holding.delete(state.scope.key);
  }
}

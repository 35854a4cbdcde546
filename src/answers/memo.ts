/**
 * A scope's memo: the caller's own spelling of a provider (and the modelApi it
 * passed) → the answer kept for it, so that a hit costs a `Map` lookup and no
 * normalising. Shared by every checker of the scope, and exactly as large as
 * what the scope keeps: an answer dropped from the book is dropped from here
 * too (see the book's `#evict`), so a memo never holds an answer nobody keeps.
 */
import type { Answer } from './answer.js';

/** Spellings and modelApis memoised per answer, at most: a check spelt or asked otherwise still answers, through a lookup. */
const SPELLINGS_PER_ANSWER = 64;

export class AnswerMemo {
  /**
   * Made when its first answer is found, not with the scope: a thousand agents' checkers are made in the caller's turn,
   * and what that turn allocates all survives its first collection.
   */
  #plain: Map<string, Answer> | undefined;
  /** Made on the first check with a modelApi: most gateways' scopes never see one, and a thousand agents make a thousand memos. */
  #byModelApi: Map<string, Map<string, Answer>> | undefined;

  get(provider: string, modelApi: string | undefined): Answer | undefined {
    return modelApi === undefined ? this.#plain?.get(provider) : this.#byModelApi?.get(provider)?.get(modelApi);
  }

  set(provider: string, modelApi: string | undefined, answer: Answer): void {
    const known = this.get(provider, modelApi);
    const spellings = answer.spellings;
    if (known === answer || (typeof spellings === 'object' && spellings.length >= 2 * SPELLINGS_PER_ANSWER)) return;
    if (known) this.#delete(provider, modelApi);
    // Kept with every answer: most are known by one spelling and no modelApi, kept as that string alone (an array of
    // two was 64 bytes an answer more); more, flat.
    if (spellings === undefined) answer.spellings = modelApi === undefined ? provider : [provider, modelApi];
    else if (typeof spellings === 'string') answer.spellings = [spellings, undefined, provider, modelApi];
    else spellings.push(provider, modelApi);
    if (modelApi === undefined) {
      (this.#plain ??= new Map()).set(provider, answer);
      return;
    }
    this.#byModelApi ??= new Map();
    let inner = this.#byModelApi.get(provider);
    if (!inner) this.#byModelApi.set(provider, (inner = new Map()));
    inner.set(modelApi, answer);
  }

  /** The answer left the book: its spellings leave the memo. */
  forget(answer: Answer): void {
    const spellings = answer.spellings;
    answer.spellings = undefined;
    if (spellings === undefined) return;
    if (typeof spellings === 'string') {
      if (this.get(spellings, undefined) === answer) this.#delete(spellings, undefined);
      return;
    }
    for (let i = 0; i < spellings.length; i += 2) {
      const provider = spellings[i] as string;
      const modelApi = spellings[i + 1];
      if (this.get(provider, modelApi) === answer) this.#delete(provider, modelApi);
    }
  }

  #delete(provider: string, modelApi: string | undefined): void {
    if (modelApi === undefined) {
      this.#plain?.delete(provider);
      return;
    }
    const inner = this.#byModelApi?.get(provider);
    inner?.delete(modelApi);
    if (inner?.size === 0) this.#byModelApi?.delete(provider);
  }
}

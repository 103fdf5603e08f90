// Streaming detokenisation: stop strings that span tokens are cut and never sent, text that could
// still become a stop string is held back until it cannot, and split UTF-8 characters wait for
// their last byte.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TextStream } from '../../../src/moe/serve/textStream.ts';

const pieces = ['Hel', 'lo ', 'wor', 'ld', '!'];
const joinPieces = (ids: number[]): string => ids.map((i) => pieces[i]).join('');

describe('TextStream', () => {
  it('cuts at a stop string that spans tokens and holds back possible prefixes', () => {
    const stream = new TextStream(joinPieces, ['o w']);
    assert.equal(stream.push(0), 'Hel');
    assert.equal(stream.push(1), 'l'); // 'o ' might start 'o w'
    assert.equal(stream.stopped, false);
    assert.equal(stream.push(2), ''); // 'o w' completes: nothing of it is sent
    assert.equal(stream.stopped, true);
    assert.equal(stream.text, 'Hell');
    assert.equal(stream.push(3), '');
    assert.equal(stream.flush(), '');
  });

  it('releases held-back text when the stop string does not complete', () => {
    const stream = new TextStream(joinPieces, ['o x', 'zzz']);
    const sent = [0, 1, 2, 3, 4].map((i) => stream.push(i)).join('') + stream.flush();
    assert.equal(sent, 'Hello world!');
    assert.equal(stream.text, 'Hello world!');
    assert.equal(stream.stopped, false);
  });

  it('waits for the last byte of a character split over tokens', () => {
    const bytes = [...new TextEncoder().encode('aé€')]; // 1 + 2 + 3 bytes
    const decode = (ids: number[]): string =>
      new TextDecoder().decode(new Uint8Array(ids.map((i) => bytes[i]!)));
    const stream = new TextStream(decode);
    const deltas = bytes.map((_, i) => stream.push(i));
    assert.deepEqual(deltas, ['a', '', 'é', '', '', '€']);
  });
});

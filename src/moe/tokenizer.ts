/**
 * The model folder's tokenizer and chat template, through Hugging Face's own JS libraries
 * (`@huggingface/tokenizers` for `tokenizer.json`, `@huggingface/jinja` for the template in
 * `tokenizer_config.json`), so prompts are encoded exactly as transformers would encode them.
 * Also `byteLevelTokenizerJson`: the small byte-level BPE tokenizer that `moe make-tiny` writes.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

function tokenText(token: unknown): string | undefined {
  if (typeof token === 'string') return token;
  if (token && typeof token === 'object' && 'content' in token) {
    return String((token as { content: unknown }).content);
  }
  return undefined;
}

export class ModelTokenizer {
  readonly #template: Template | null;
  constructor(
    readonly tokenizer: Tokenizer,
    readonly config: Record<string, unknown>,
    readonly eosIds: number[],
  ) {
    const template = config.chat_template;
    this.#template = typeof template === 'string' ? new Template(template) : null;
  }

  static async open(dir: string): Promise<ModelTokenizer> {
    const read = async (name: string): Promise<Record<string, unknown>> => {
      const path = join(dir, name);
      const text = await readFile(path, 'utf8').catch(() => {
        throw new Error(
          `${path} not found: the model folder needs tokenizer.json and tokenizer_config.json`,
        );
      });
      return JSON.parse(text) as Record<string, unknown>;
    };
    const json = await read('tokenizer.json');
    const config = await read('tokenizer_config.json');
    const tokenizer = new Tokenizer(json, config);
    const eos = tokenText(config.eos_token);
    const eosId =
      eos === undefined ? undefined : tokenizer.encode(eos, { add_special_tokens: false }).ids;
    return new ModelTokenizer(tokenizer, config, eosId?.length === 1 ? eosId : []);
  }

  get hasChatTemplate(): boolean {
    return this.#template !== null;
  }

  encode(text: string): number[] {
    return this.tokenizer.encode(text).ids;
  }

  decode(ids: number[]): string {
    return this.tokenizer.decode(ids, { skip_special_tokens: true });
  }

  /** Renders the chat template with a generation prompt, then encodes without extra specials. */
  encodeChat(messages: ChatMessage[]): number[] {
    if (!this.#template) {
      throw new Error(
        'this model has no chat_template in tokenizer_config.json: use a plain prompt',
      );
    }
    const text = this.#template.render({
      messages,
      add_generation_prompt: true,
      bos_token: tokenText(this.config.bos_token) ?? '',
      eos_token: tokenText(this.config.eos_token) ?? '',
    });
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }
}

/** GPT-2's reversible byte -> printable character map used by byte-level BPE. */
function bytesToUnicode(): string[] {
  const printable = new Set<number>();
  for (const [a, b] of [
    [33, 126],
    [161, 172],
    [174, 255],
  ] as const) {
    for (let c = a; c <= b; c++) printable.add(c);
  }
  let extra = 0;
  return Array.from({ length: 256 }, (_, byte) =>
    String.fromCodePoint(printable.has(byte) ? byte : 256 + extra++),
  );
}

export const TINY_SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];
const TINY_MERGES: [string, string][] = [
  ['Ġ', 't'],
  ['h', 'e'],
  ['Ġt', 'he'],
  ['i', 'n'],
  ['e', 'r'],
  ['Ġ', 'a'],
];

/**
 * A byte-level BPE tokenizer.json: 256 byte tokens, the given merges, then the special tokens.
 * With no merges, token id = UTF-8 byte value (what `moe train-lm` trains on).
 */
export function byteLevelTokenizerJson(merges: [string, string][] = TINY_MERGES): {
  json: object;
  size: number;
} {
  const vocab: Record<string, number> = {};
  bytesToUnicode().forEach((ch, id) => (vocab[ch] = id));
  for (const [a, b] of merges) vocab[a + b] = Object.keys(vocab).length;
  const firstSpecial = Object.keys(vocab).length;
  const added = TINY_SPECIAL_TOKENS.map((content, i) => ({
    id: firstSpecial + i,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: {
      type: 'ByteLevel',
      add_prefix_space: false,
      trim_offsets: true,
      use_regex: true,
    },
    post_processor: {
      type: 'ByteLevel',
      add_prefix_space: false,
      trim_offsets: true,
      use_regex: true,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
  return { json, size: firstSpecial + added.length };
}

export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

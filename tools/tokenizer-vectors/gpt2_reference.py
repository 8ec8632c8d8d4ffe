"""Independent byte-level BPE reference for the test vectors of SubwordTokenizer's Hugging Face kinds.

The encoder follows OpenAI's published GPT-2 encoder.py (github.com/openai/gpt-2, src/encoder.py, MIT):
bytes_to_unicode, get_pairs, Encoder.bpe (lowest merge rank first) and the GPT-2 pre-tokenization regex,
which Hugging Face's RobertaTokenizer / GPT2Tokenizer use unchanged. It needs the `regex` module
(Debian: apt-get install python3-regex) for \\p{L} / \\p{N}; it shares no code with the C# library.

The small trainer (learn_merges) only makes a vocabulary to test with: it is not the reference.
"""
import json
from functools import lru_cache

import regex as re

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


@lru_cache()
def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character table (encoder.py)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2 ** 8):
        if b not in bs:
            bs.append(b)
            cs.append(2 ** 8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def get_pairs(word):
    pairs = set()
    prev = word[0]
    for ch in word[1:]:
        pairs.add((prev, ch))
        prev = ch
    return pairs


class Encoder:
    """encoder.py's Encoder: vocab (token -> id) and merges in rank order."""

    def __init__(self, encoder, bpe_merges):
        self.encoder = encoder
        self.byte_encoder = bytes_to_unicode()
        self.bpe_ranks = dict(zip(bpe_merges, range(len(bpe_merges))))
        self.cache = {}
        self.pat = re.compile(GPT2_PATTERN)

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token)
        pairs = get_pairs(word)
        if not pairs:
            return token
        while True:
            bigram = min(pairs, key=lambda pair: self.bpe_ranks.get(pair, float("inf")))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                    new_word.extend(word[i:j])
                    i = j
                except ValueError:
                    new_word.extend(word[i:])
                    break
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = get_pairs(word)
        word = " ".join(word)
        self.cache[token] = word
        return word

    def encode(self, text):
        ids = []
        for token in re.findall(self.pat, text):
            token = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self.bpe(token).split(" "))
        return ids


def read_merges(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    return [tuple(line.split(" ")) for line in lines if line and not line.startswith("#version")]


def learn_merges(texts, count):
    """Plain BPE learning over GPT-2 pre-tokens (most frequent pair, ties by the pair itself), to make a test vocabulary."""
    pat = re.compile(GPT2_PATTERN)
    b2u = bytes_to_unicode()
    words = {}
    for text in texts:
        for token in re.findall(pat, text):
            w = tuple(b2u[b] for b in token.encode("utf-8"))
            words[w] = words.get(w, 0) + 1
    merges = []
    for _ in range(count):
        stats = {}
        for w, c in words.items():
            for p in zip(w, w[1:]):
                stats[p] = stats.get(p, 0) + c
        if not stats:
            break
        best = min(stats, key=lambda p: (-stats[p], p))
        merges.append(best)
        merged = {}
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i < len(w) - 1 and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            merged[tuple(out)] = merged.get(tuple(out), 0) + c
        words = merged
    return merges


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=None if isinstance(obj, dict) and len(obj) > 50 else 1)
        f.write("\n")

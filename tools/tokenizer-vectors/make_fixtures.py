"""Writes the tokenizer test vectors of tests/MLNetForgetting.Tests/Text/fixtures (see README.md here).

  /usr/bin/python3 tools/tokenizer-vectors/make_fixtures.py tests/MLNetForgetting.Tests/Text/fixtures

Needs Debian's python3-regex and python3-sentencepiece (apt-get install -y python3-regex python3-sentencepiece).
"""
import json
import os
import sys

import sentencepiece as spm

import gpt2_reference as ref

HERE = os.path.dirname(os.path.abspath(__file__))
MERGES = 300           # byte-level BPE merges learnt from corpus.txt
SPM_VOCAB = 400        # SentencePiece pieces (BPE and Unigram models)


def byte_bpe(out, texts, sentences):
    merges = ref.learn_merges(texts, MERGES)
    b2u = ref.bytes_to_unicode()
    merged = [a + b for a, b in merges]
    pieces = [b2u[b] for b in range(256)] + [m for m in merged if m not in b2u.values()]
    layouts = {
        # RoBERTa's layout: fairseq's four specials first, <mask> last.
        "roberta-bpe": (["<s>", "<pad>", "</s>", "<unk>"] + pieces + ["<mask>"],
                        {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
                         "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>"},
                        {"tokenizer_class": "RobertaTokenizer", "add_prefix_space": False, "model_max_length": 512}),
        # GPT-2's layout: bytes and merges, one special <|endoftext|> last.
        "gpt2-bpe": (pieces + ["<|endoftext|>"],
                     {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"},
                     {"tokenizer_class": "GPT2Tokenizer", "add_prefix_space": False, "model_max_length": 1024}),
    }
    for name, (vocab_list, special_map, config) in layouts.items():
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        vocab = {t: i for i, t in enumerate(vocab_list)}
        assert len(vocab) == len(vocab_list)
        with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
            json.dump(vocab, f, ensure_ascii=False)
        with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
            f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
        ref.write_json(os.path.join(folder, "special_tokens_map.json"), special_map)
        ref.write_json(os.path.join(folder, "tokenizer_config.json"), config)
        # The reference reads the files back, as a user of encoder.py would.
        with open(os.path.join(folder, "vocab.json"), encoding="utf-8") as f:
            encoder = ref.Encoder(json.load(f), ref.read_merges(os.path.join(folder, "merges.txt")))
        expected = {"source": "tools/tokenizer-vectors/gpt2_reference.py (OpenAI GPT-2 encoder.py algorithm, python3-regex)",
                    "sentences": sentences, "ids": [encoder.encode(s) for s in sentences]}
        ref.write_json(os.path.join(folder, "expected.json"), expected)


def sentencepiece(out, sentences, name, model_type):
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    prefix = os.path.join(folder, "sentencepiece.bpe")
    # A small normalization table instead of nmt_nfkc (whose compiled table alone is ~240 KB): full-width
    # Latin letters to ASCII, the fi ligature to "fi", ideographic space to space.
    rules = os.path.join(HERE, "spm_rules.tsv")
    with open(rules, "w", encoding="utf-8") as f:
        for c in range(ord("Ａ"), ord("Ｚ") + 1):
            f.write(f"{c:X}\t{c - ord('Ａ') + ord('A'):X}\n")
        for c in range(ord("ａ"), ord("ｚ") + 1):
            f.write(f"{c:X}\t{c - ord('ａ') + ord('a'):X}\n")
        f.write("FB01\t66 69\n3000\t20\n")
    spm.SentencePieceTrainer.train(
        input=os.path.join(HERE, "corpus.txt"), model_prefix=prefix, model_type=model_type, vocab_size=SPM_VOCAB,
        character_coverage=1.0, normalization_rule_tsv=rules, hard_vocab_limit=False,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1, minloglevel=2)
    os.remove(prefix + ".vocab")
    os.rename(prefix + ".model", os.path.join(folder, "sentencepiece.bpe.model"))
    sp = spm.SentencePieceProcessor(model_file=os.path.join(folder, "sentencepiece.bpe.model"))
    # fairseq / XLMRobertaTokenizer: <s>=0 <pad>=1 </s>=2 <unk>=3, SentencePiece id + 1 (its <unk> 0 -> 3), <mask> last.
    spm_ids = [sp.encode(s) for s in sentences]
    ids = [[3 if i == 0 else i + 1 for i in row] for row in spm_ids]
    ref.write_json(os.path.join(folder, "special_tokens_map.json"),
                   {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
                    "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>"})
    ref.write_json(os.path.join(folder, "tokenizer_config.json"), {"tokenizer_class": "XLMRobertaTokenizer", "model_max_length": 512})
    ref.write_json(os.path.join(folder, "expected.json"),
                   {"source": f"Debian python3-sentencepiece {spm.__version__} encode ({model_type} model), fairseq id offset as XLMRobertaTokenizer",
                    "vocab_size": sp.get_piece_size() + 2, "sentences": sentences, "ids": ids, "spm_ids": spm_ids})


def main():
    out = sys.argv[1]
    with open(os.path.join(HERE, "corpus.txt"), encoding="utf-8") as f:
        texts = f.read().split("\n")
    with open(os.path.join(HERE, "sentences.json"), encoding="utf-8") as f:
        sentences = json.load(f)
    byte_bpe(out, texts, sentences)
    sentencepiece(out, sentences, "xlmr-spm", "bpe")
    sentencepiece(out, sentences, "xlmr-spm-unigram", "unigram")


if __name__ == "__main__":
    main()

using Microsoft.ML.Tokenizers;
using static MLNetForgetting.Text.TokenizerFiles;

namespace MLNetForgetting.Text;

/// <summary>
/// Kind "byte-level-bpe": a Hugging Face RoBERTa / GPT-2 vocab.json + merges.txt, kept byte for byte, encoded by
/// Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/> (ByteLevel) with GPT-2's pre-tokenization. The roles
/// are tokens named in tokenizer_config.json (Hugging Face's keys: cls_token, sep_token, pad_token, unk_token,
/// mask_token); a role with no token in vocab.json (GPT-2 has no padding or mask) gets an id after the last one.
/// </summary>
internal static class ByteLevelBpeKind
{
    /// <summary>Our roles and the Hugging Face keys that name them, first found wins (RoBERTa classifies on cls = bos, separates with sep = eos).</summary>
    private static readonly (string Key, string[] HfKeys, string Default)[] Roles =
    [
        ("cls_token", ["cls_token", "bos_token"], SpecialTokens.Bos),
        ("pad_token", ["pad_token"], SpecialTokens.Pad),
        ("sep_token", ["sep_token", "eos_token"], SpecialTokens.Eos),
        ("unk_token", ["unk_token"], SpecialTokens.Unk),
        ("mask_token", ["mask_token"], SpecialTokens.Mask),
    ];

    public static SubwordTokenizer Load(TokenizerConfig config, IReadOnlyDictionary<string, byte[]> files)
    {
        string preTokenizer = config.String("pre_tokenizer") ?? "";
        if (preTokenizer != PreTokenization.Gpt2Name) throw new InvalidDataException($"Unsupported pre_tokenizer '{preTokenizer}' (expected '{PreTokenization.Gpt2Name}').");
        var roleTokens = Roles.Select(r => config.String(r.Key)).ToArray();
        return Create(Require(files, VocabJsonFile), Require(files, MergesFile), roleTokens, config.Bool("add_prefix_space") ?? false, ConfigFile);
    }

    /// <summary>
    /// From a Hugging Face folder's files: special tokens from special_tokens_map.json, then tokenizer_config.json
    /// (either may be null), then RoBERTa's token texts if vocab.json has them.
    /// </summary>
    public static SubwordTokenizer FromHuggingFace(byte[] vocabJson, byte[] merges, TokenizerConfig? specialTokensMap, TokenizerConfig? hfConfig)
    {
        var roleTokens = new string?[Roles.Length];
        for (int r = 0; r < Roles.Length; r++)
        {
            foreach (string key in Roles[r].HfKeys)
            {
                roleTokens[r] ??= specialTokensMap?.Token(key) ?? hfConfig?.Token(key);
            }
        }
        bool addPrefixSpace = hfConfig?.Bool("add_prefix_space") ?? false;
        return Create(vocabJson, merges, roleTokens, addPrefixSpace, "special_tokens_map.json / tokenizer_config.json");
    }

    private static SubwordTokenizer Create(byte[] vocabJson, byte[] mergesTxt, string?[] roleTokens, bool addPrefixSpace, string rolesSource)
    {
        var vocab = ParseVocabJson(vocabJson);
        if (vocab.Count == 0) throw new InvalidDataException($"{VocabJsonFile} is empty.");
        var merges = ParseMerges(mergesTxt);
        BpeKind.RequireByteSymbols(vocab, VocabJsonFile);
        foreach (var (left, right) in merges)
        {
            // Microsoft.ML.Tokenizers would skip such a merge silently; Hugging Face refuses the file.
            if (!vocab.ContainsKey(left) || !vocab.ContainsKey(right) || !vocab.ContainsKey(left + right))
                throw new InvalidDataException($"{MergesFile}: the merge \"{left} {right}\" uses a token that {VocabJsonFile} lacks.");
        }

        var tokenToId = new Dictionary<string, int>(vocab, StringComparer.Ordinal);
        var resolved = new int?[Roles.Length];
        var named = new string?[Roles.Length];
        for (int r = 0; r < Roles.Length; r++)
        {
            string? token = roleTokens[r];
            if (token is not null)
            {
                resolved[r] = vocab.TryGetValue(token, out int id) ? id
                    : throw new InvalidDataException($"{rolesSource} names '{token}' as {Roles[r].Key}, but {VocabJsonFile} has no such token.");
                named[r] = token;
            }
            else if (vocab.TryGetValue(Roles[r].Default, out int id))
            {
                resolved[r] = id;
                named[r] = Roles[r].Default;
            }
        }
        var specials = SubwordTokenizer.AppendMissingSpecials(vocab.Values.Max() + 1, tokenToId,
            resolved[0], resolved[1], resolved[2], resolved[3], resolved[4], out int vocabSize);

        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal)
        {
            [VocabJsonFile] = vocabJson,
            [MergesFile] = mergesTxt,
            [ConfigFile] = WriteConfig(TokenizerKind.ByteLevelBpe, w =>
            {
                w.WriteBoolean("byte_level", true);
                w.WriteString("pre_tokenizer", PreTokenization.Gpt2Name);
                w.WriteString("pre_tokenizer_pattern", PreTokenization.Gpt2Pattern);
                w.WriteBoolean("add_prefix_space", addPrefixSpace);
                // Only roles vocab.json has; appended ones follow from the vocabulary when the files are read back.
                for (int r = 0; r < Roles.Length; r++) if (named[r] is string t) w.WriteString(Roles[r].Key, t);
            }),
        };

        var bpe = BpeTokenizer.Create(new BpeOptions(vocab)
        {
            Merges = merges.Select(m => m.Left + " " + m.Right).ToList(),
            PreTokenizer = new RegexPreTokenizer(PreTokenization.Gpt2Regex, null),
            ByteLevel = true,
        });
        SubwordEncoder encoder = addPrefixSpace ? new PrefixSpaceEncoder(bpe) : new PlainEncoder(bpe);
        return new SubwordTokenizer(TokenizerKind.ByteLevelBpe, encoder, vocabSize, tokenToId, specials, files, lossless: !addPrefixSpace);
    }
}

using Microsoft.ML.Tokenizers;
using static MLNetForgetting.Text.TokenizerFiles;

namespace MLNetForgetting.Text;

/// <summary>Kind "bpe": our byte-level BPE (<see cref="BpeVocabularyTrainer"/>), specials at ids 0-4, our pre-tokenizer.</summary>
internal static class BpeKind
{
    public static SubwordTokenizer Load(TokenizerConfig config, IReadOnlyDictionary<string, byte[]> files)
    {
        string preTokenizer = config.String("pre_tokenizer") ?? "";
        if (preTokenizer != PreTokenization.Name) throw new InvalidDataException($"Unsupported pre_tokenizer '{preTokenizer}' (expected '{PreTokenization.Name}').");
        var vocab = ParseVocabJson(Require(files, VocabJsonFile));
        var merges = ParseMerges(Require(files, MergesFile));
        var ordered = vocab.OrderBy(kv => kv.Value).Select(kv => kv.Key).ToList();
        for (int i = 0; i < ordered.Count; i++)
        {
            if (vocab[ordered[i]] != i) throw new InvalidDataException($"{VocabJsonFile} ids must be 0..{ordered.Count - 1} without gaps.");
        }
        return Create(ordered, merges);
    }

    public static SubwordTokenizer Create(IReadOnlyList<string> vocabInIdOrder, IReadOnlyList<(string Left, string Right)> merges)
    {
        for (int i = 0; i < SpecialTokens.InIdOrder.Count; i++)
        {
            if (vocabInIdOrder.Count <= i || vocabInIdOrder[i] != SpecialTokens.InIdOrder[i])
                throw new InvalidDataException($"BPE vocabulary id {i} must be '{SpecialTokens.InIdOrder[i]}'.");
        }
        var tokenToId = new Dictionary<string, int>(vocabInIdOrder.Count, StringComparer.Ordinal);
        for (int i = 0; i < vocabInIdOrder.Count; i++)
        {
            if (!tokenToId.TryAdd(vocabInIdOrder[i], i)) throw new InvalidDataException($"BPE vocabulary lists '{vocabInIdOrder[i]}' twice.");
        }
        RequireByteSymbols(tokenToId, "BPE vocabulary");

        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal)
        {
            [VocabJsonFile] = WriteVocabJson(vocabInIdOrder),
            [MergesFile] = WriteMerges(merges),
            [ConfigFile] = WriteConfig(TokenizerKind.Bpe, w =>
            {
                w.WriteBoolean("byte_level", true);
                w.WriteString("pre_tokenizer", PreTokenization.Name);
                w.WriteString("pre_tokenizer_pattern", PreTokenization.Pattern);
                w.WriteString("unknown_token", SpecialTokens.Unk);
            }),
        };

        var tokenizer = CreateBpeTokenizer(tokenToId, merges);
        return new SubwordTokenizer(TokenizerKind.Bpe, new PlainEncoder(tokenizer), vocabInIdOrder.Count, tokenToId,
            (SpecialTokens.BosId, SpecialTokens.PadId, SpecialTokens.EosId, SpecialTokens.UnkId, SpecialTokens.MaskId), files, lossless: true);
    }

    /// <summary>Without every byte symbol some text would become &lt;unk&gt;; refuse such a vocabulary.</summary>
    public static void RequireByteSymbols(IReadOnlyDictionary<string, int> tokenToId, string what)
    {
        foreach (char c in ByteLevelAlphabet.ByteToChar)
        {
            if (!tokenToId.ContainsKey(c.ToString())) throw new InvalidDataException($"{what} lacks the byte-level symbol '{c}' (U+{(int)c:X4}).");
        }
    }

    /// <summary>The exact Microsoft.ML.Tokenizers configuration our BPE files are meant for.</summary>
    public static BpeTokenizer CreateBpeTokenizer(IReadOnlyDictionary<string, int> vocab, IEnumerable<(string Left, string Right)> merges) =>
        BpeTokenizer.Create(new BpeOptions(vocab)
        {
            Merges = merges.Select(m => m.Left + " " + m.Right).ToList(),
            PreTokenizer = new RegexPreTokenizer(PreTokenization.Regex, null),
            UnknownToken = SpecialTokens.Unk,
            ByteLevel = true,
        });
}

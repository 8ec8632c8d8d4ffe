using System.Text.Json;
using MLNetForgetting.Interop;
using MLNetForgetting.Text;

namespace MLNetForgetting.Tests.Text;

/// <summary>
/// Token ids of the Hugging Face tokenizer kinds against independent sources, on a fixed list of sentences (empty,
/// accents, CJK, Hangul, Devanagari, emoji with ZWJ, long words, contractions, whitespace runs, full-width letters).
/// The fixtures (Text/fixtures, made by <c>/usr/bin/python3 tools/tokenizer-vectors/make_fixtures.py
/// tests/MLNetForgetting.Tests/Text/fixtures</c>) hold the tokenizer files and the expected ids:
/// <list type="bullet">
/// <item>roberta-bpe, gpt2-bpe: tools/tokenizer-vectors/gpt2_reference.py, OpenAI's GPT-2 encoder.py algorithm
/// (bytes_to_unicode, merge ranks, the GPT-2 regex through python3-regex) on a vocab.json / merges.txt learnt from
/// tools/tokenizer-vectors/corpus.txt, in RoBERTa's layout (fairseq's four specials first, &lt;mask&gt; last) and
/// GPT-2's (only &lt;|endoftext|&gt;, last);</item>
/// <item>xlmr-spm: Debian python3-sentencepiece 0.1.97 encoding with a BPE model it trained on the same corpus,
/// numbered with fairseq's offset as XLMRobertaTokenizer does.</item>
/// </list>
/// </summary>
[TestClass]
public sealed class HuggingFaceTokenizerVectorTests
{
    internal static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Text", "fixtures", name);

    private sealed record Expected(string Source, string[] Sentences, int[][] Ids, int? VocabSize, int[][]? SpmIds);

    private static Expected Read(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Fixture(name), "expected.json")));
        var root = doc.RootElement;
        int[][] Ids(string key) => root.GetProperty(key).EnumerateArray().Select(a => a.EnumerateArray().Select(i => i.GetInt32()).ToArray()).ToArray();
        return new Expected(root.GetProperty("source").GetString()!, root.GetProperty("sentences").EnumerateArray().Select(s => s.GetString()!).ToArray(),
            Ids("ids"), root.TryGetProperty("vocab_size", out var v) ? v.GetInt32() : null, root.TryGetProperty("spm_ids", out _) ? Ids("spm_ids") : null);
    }

    /// <summary>
    /// Every sentence's ids equal the reference's, before and after a round trip through our files, except the
    /// sentences listed in <paramref name="knownDifferences"/>, which must differ (so a fix upstream shows here).
    /// </summary>
    private static void AssertMatches(SubwordTokenizer tokenizer, Expected expected, params int[] knownDifferences)
    {
        Assert.IsGreaterThanOrEqualTo(15, expected.Sentences.Length);
        Assert.AreEqual("", expected.Sentences[0], "the list starts with the empty string");
        var rebuilt = SubwordTokenizer.FromFiles(tokenizer.ToFiles());
        Assert.AreEqual(tokenizer.Fingerprint, rebuilt.Fingerprint);
        Assert.AreEqual((tokenizer.VocabSize, tokenizer.BosId, tokenizer.PadId, tokenizer.EosId, tokenizer.UnkId, tokenizer.MaskId),
            (rebuilt.VocabSize, rebuilt.BosId, rebuilt.PadId, rebuilt.EosId, rebuilt.UnkId, rebuilt.MaskId));
        int tokens = 0;
        var differing = new List<int>();
        for (int i = 0; i < expected.Sentences.Length; i++)
        {
            string s = expected.Sentences[i];
            // Our normalisation runs first; the reference saw the raw text, so the list must already be normalised.
            Assert.AreEqual(s, TextNormalization.Normalize(s), $"sentence {i} is not in our normal form");
            int[] ours = tokenizer.EncodeToIds(s);
            CollectionAssert.AreEqual(ours, rebuilt.EncodeToIds(s), $"sentence {i} after the round trip");
            if (!ours.SequenceEqual(expected.Ids[i]))
            {
                differing.Add(i);
                if (!knownDifferences.Contains(i))
                    Assert.Fail($"sentence {i} \"{s}\": ours [{string.Join(", ", ours)}], {expected.Source} [{string.Join(", ", expected.Ids[i])}]");
            }
            tokens += expected.Ids[i].Length;
        }
        CollectionAssert.AreEqual(knownDifferences, differing.ToArray(), "the known differences are still there");
        Assert.IsGreaterThan(expected.Sentences.Length * 3, tokens, "the sentences are not trivially short");
    }

    [TestMethod]
    public void RobertaByteLevelBpeMatchesTheGpt2Reference()
    {
        var expected = Read("roberta-bpe");
        var tokenizer = HuggingFaceImport.ImportTokenizer(Fixture("roberta-bpe"));
        Assert.AreEqual("byte-level-bpe", tokenizer.Kind);
        int entries = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Fixture("roberta-bpe"), "vocab.json"))).RootElement.EnumerateObject().Count();
        Assert.AreEqual(entries, tokenizer.VocabSize, "RoBERTa's vocab.json has every role, nothing is appended");
        Assert.AreEqual((0, 1, 2, 3, entries - 1), (tokenizer.BosId, tokenizer.PadId, tokenizer.EosId, tokenizer.UnkId, tokenizer.MaskId));
        AssertMatches(tokenizer, expected);
        // Byte-level BPE is lossless: every sentence decodes back exactly.
        foreach (string s in expected.Sentences) Assert.AreEqual(s, tokenizer.Decode(tokenizer.EncodeToIds(s)));
        Assert.AreEqual(tokenizer.TokenToId("Ġthe"), tokenizer.SingleTokenId(" the"));
        // RoBERTa's pair layout <s> a </s></s> b </s>.
        int[] a = tokenizer.EncodeToIds("Hello world"), b = tokenizer.EncodeToIds("café");
        CollectionAssert.AreEqual(new[] { 0 }.Concat(a).Concat([2, 2]).Concat(b).Append(2).ToArray(), tokenizer.EncodePair("Hello world", "café", 64));
    }

    [TestMethod]
    public void Gpt2ByteLevelBpeMatchesTheReferenceAndAppendsPaddingAndMask()
    {
        var expected = Read("gpt2-bpe");
        var tokenizer = HuggingFaceImport.ImportTokenizer(Fixture("gpt2-bpe"));
        Assert.AreEqual("byte-level-bpe", tokenizer.Kind);
        int entries = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Fixture("gpt2-bpe"), "vocab.json"))).RootElement.EnumerateObject().Count();
        int endOfText = (int)tokenizer.TokenToId("<|endoftext|>")!;
        Assert.AreEqual(entries - 1, endOfText);
        Assert.AreEqual((endOfText, endOfText, endOfText), (tokenizer.BosId, tokenizer.EosId, tokenizer.UnkId), "GPT-2's one special token takes bos, eos and unk");
        Assert.AreEqual((entries, entries + 1, entries + 2), (tokenizer.PadId, tokenizer.MaskId, tokenizer.VocabSize), "padding and mask appended");
        AssertMatches(tokenizer, expected);
    }

    /// <summary>
    /// Two differences of Microsoft.ML.Tokenizers 3.0.0 with SentencePiece BPE models (none with Unigram models, the
    /// other row): it breaks ties between equal pairs on the right, SentencePiece on the left ("schifffahrt",
    /// s c h i f f f ..., becomes "f ff" instead of "ff f"; sentence 5), and it ignores the model's normalization table
    /// (precompiled_charsmap), so full-width letters and the "ﬁ" ligature stay unknown (sentence 18).
    /// </summary>
    [TestMethod]
    [DataRow("xlmr-spm", new[] { 5, 18 })]
    [DataRow("xlmr-spm-unigram", new int[0])]
    public void XlmrSentencePieceMatchesSentencePieceWithFairseqIds(string fixture, int[] knownDifferences)
    {
        var expected = Read(fixture);
        var tokenizer = HuggingFaceImport.ImportTokenizer(Fixture(fixture));
        Assert.AreEqual("fairseq-sentencepiece", tokenizer.Kind);
        Assert.AreEqual(expected.VocabSize, tokenizer.VocabSize);
        Assert.AreEqual((0, 1, 2, 3, tokenizer.VocabSize - 1), (tokenizer.BosId, tokenizer.PadId, tokenizer.EosId, tokenizer.UnkId, tokenizer.MaskId));
        AssertMatches(tokenizer, expected, knownDifferences);
        Assert.IsTrue(expected.Ids.Any(ids => ids.Contains(3)), "some sentence has pieces the model does not know (<unk> = 3)");
        Assert.AreEqual("<mask>", tokenizer.IdToToken(tokenizer.MaskId));

        // The plain sentencepiece kind on the same model gives SentencePiece's own ids.
        var plain = SubwordTokenizer.FromSentencePiece(File.OpenRead(Path.Combine(Fixture(fixture), "sentencepiece.bpe.model")));
        Assert.AreEqual("sentencepiece", plain.Kind);
        for (int i = 0; i < expected.Sentences.Length; i++)
        {
            if (knownDifferences.Contains(i)) continue;
            CollectionAssert.AreEqual(expected.SpmIds![i], plain.EncodeToIds(expected.Sentences[i]), $"sentence {i}, SentencePiece ids");
        }
    }
}

using System.Diagnostics;
using MLNetForgetting.Prompts;
using MLNetForgetting.SelfTraining;
using MLNetForgetting.Tests.Pretraining;
using MLNetForgetting.Tests.Text;
using MLNetForgetting.Text;

namespace MLNetForgetting.Tests.Reliability;

/// <summary>
/// 100k random strings (random Unicode with unpaired surrogates, combining marks, controls, RTL, CJK,
/// emoji) through every tokenizer path the library has; no exception, invariants on every call, and
/// the round trip decode(encode(x)) = Normalize(x) where it is defined (byte-level BPE, tiktoken).
/// The 1M-string run is the <c>tokenizer-fuzz</c> benchmark.
/// </summary>
[TestClass]
public sealed class TokenizerFuzzTests
{
    public TestContext TestContext { get; set; } = null!;

    private const int Strings = 100_000;

    private static readonly Lazy<SubwordTokenizer> TrainedBpe = new(() =>
        BpeVocabularyTrainer.Train(LanguageModelTests.EnglishLines.Value, new BpeTrainerOptions { VocabSize = 600, RequiredTokens = [" great", " terrible"] }));

    private TokenizerFuzzReport Fuzz(SubwordTokenizer tokenizer, int count, int seed)
    {
        var watch = Stopwatch.StartNew();
        var report = TokenizerFuzzer.Run(tokenizer, count, seed);
        TestContext.WriteLine($"{tokenizer.Kind}: {report.Strings} strings, {report.Tokens} tokens, {report.RoundTripsChecked} round trips checked, {report.PairsRefused} impossible pair truncations refused, {watch.Elapsed.TotalSeconds:F1} s");
        Assert.AreEqual(count, report.Strings);
        Assert.IsEmpty(report.RoundTripFailures, "round trip differs for: " + string.Join(" | ", report.RoundTripFailures));
        return report;
    }

    [TestMethod]
    public void TrainedByteLevelBpeSurvives100kRandomStringsAndRoundTrips()
    {
        var report = Fuzz(TrainedBpe.Value, Strings, seed: 1);
        Assert.AreEqual(Strings, report.RoundTripsChecked);
        Assert.IsGreaterThan(0L, report.PairsRefused, "the fuzz should reach the OnlyFirst/OnlySecond refusal");
    }

    [TestMethod]
    public void TrainedBpeThroughItsFilesAndThePromptAndPretrainingEncoders()
    {
        // The same vocabulary reloaded from its files (Microsoft.ML.Tokenizers' BpeTokenizer), then the two
        // encoders built on top of the tokenizer: LiST prompts (template + truncation) and pretraining batches.
        var tokenizer = SubwordTokenizer.FromFiles(TrainedBpe.Value.ToFiles());
        Fuzz(tokenizer, Strings / 4, seed: 2);
        var random = new Random(3);
        var texts = Enumerable.Range(0, Strings / 4).Select(_ => TokenizerFuzzer.RandomString(random, 64)).ToList();
        var examples = texts.Select((t, i) => new FewShotExample([t, texts[(i + 1) % texts.Count]], null));
        foreach (var task in new[] { LiSTTasks.Sst2, LiSTTasks.Mnli })
        {
            var encoded = PromptEncoder.Encode(examples, task, tokenizer, 32);
            Assert.HasCount(texts.Count, encoded);
        }
        var stats = new CorpusStats();
        var sequences = Batching.Encode(texts, tokenizer, 16, stats).ToList();
        Assert.IsTrue(sequences.All(s => s.Length <= 16 && s[0] == tokenizer.BosId && s[^1] == tokenizer.EosId));
        Assert.AreEqual(texts.Count, stats.Rows);
    }

    [TestMethod]
    public void TiktokenBertAndSentencePieceSurviveRandomStrings()
    {
        // tiktoken is lossless (round trip checked); WordPiece and SentencePiece normalise lossily, so only
        // the absence of exceptions and the structural invariants are checked for them.
        var tiktoken = Fuzz(SubwordTokenizer.FromTiktoken("o200k_base"), Strings / 4, seed: 4);
        Assert.AreEqual(Strings / 4, tiktoken.RoundTripsChecked);
        Assert.AreEqual(0L, Fuzz(SubwordTokenizer.FromBertVocab(new MemoryStream(AlternativeTokenizerTests.BertVocab())), Strings / 4, seed: 5).RoundTripsChecked);
        Assert.AreEqual(0L, Fuzz(SubwordTokenizer.FromSentencePiece(new MemoryStream(AlternativeTokenizerTests.SentencePieceBpeModel())), Strings / 4, seed: 6).RoundTripsChecked);
    }

    [TestMethod]
    public void HuggingFaceTokenizerKindsSurviveRandomStrings()
    {
        // RoBERTa's and GPT-2's byte-level BPE are lossless (round trip checked); XLM-R's SentencePiece normalises lossily.
        foreach (var (fixture, seed) in new[] { ("roberta-bpe", 7), ("gpt2-bpe", 8) })
        {
            var report = Fuzz(MLNetForgetting.Interop.HuggingFaceImport.ImportTokenizer(HuggingFaceTokenizerVectorTests.Fixture(fixture)), Strings / 10, seed);
            Assert.AreEqual(Strings / 10, report.RoundTripsChecked, fixture);
        }
        foreach (var (fixture, seed) in new[] { ("xlmr-spm", 9), ("xlmr-spm-unigram", 10) })
            Assert.AreEqual(0L, Fuzz(MLNetForgetting.Interop.HuggingFaceImport.ImportTokenizer(HuggingFaceTokenizerVectorTests.Fixture(fixture)), Strings / 10, seed).RoundTripsChecked, fixture);
    }
}

using MLNetForgetting.Adaptation;
using MLNetForgetting.Modeling;
using MLNetForgetting.Tests.Training;
using MLNetForgetting.Training;
using TorchSharp;
using static TorchSharp.torch;
using static MLNetForgetting.Tests.Adaptation.AdaptationTestData;

namespace MLNetForgetting.Tests.Adaptation;

[TestClass]
public sealed class EmbeddingRelearningTests
{
    public TestContext TestContext { get; set; } = null!;

    private static RelearningSettings Settings(long steps) => new()
    {
        MaxSteps = steps, BatchSize = 16, MaxSequenceLength = 48, LearningRate = 3e-3, Seed = 4, LogInterval = 1000, BucketPoolBatches = 8,
    };

    private RelearningResult Relearn(RobertaForMaskedLM model, RelearningSettings s, Func<long, IReadOnlyDictionary<string, double>>? evaluate = null,
        IEnumerable<string>? corpus = null, IProgress<TrainingProgress>? progress = null) =>
        EmbeddingRelearning.Relearn(model, TargetTokenizer, () => corpus ?? TargetCorpus, s, CPU, evaluate, TestContext.WriteLine, progress);

    [TestMethod]
    public void OnlyTheEmbeddingsTrainAndEveryBodyParameterIsBitIdentical()
    {
        using var model = NewModel();
        var before = Snapshot(model);
        var flagsDuringTraining = new List<(string, bool)>();
        var progress = new SyncProgress<TrainingProgress>(p =>
        {
            if (p.Step == 1) flagsDuringTraining.AddRange(model.named_parameters().Select(x => (x.name, x.parameter.requires_grad)));
        });
        var result = Relearn(model, Settings(30) with { OutputBias = RelearnedOutputBias.ZeroFrozen }, progress: progress);

        Assert.AreEqual(TargetTokenizer.VocabSize, model.Config.VocabSize);
        Assert.AreEqual(TargetTokenizer.VocabSize, (int)model.TokenEmbeddings.shape[0]);
        foreach (var (name, p) in model.BodyParameters().Where(p => p.Name != "lm_head.bias"))
            Assert.IsTrue(TensorAssert.BitEqual(before[name], p), $"body parameter {name} changed during relearning");
        // E changed from its seeded fresh draw (same seed, same vocabulary size).
        using var fresh = NewModel();
        fresh.ReplaceTokenEmbeddings(TargetTokenizer.VocabSize, new Generator(4));
        Assert.IsFalse(fresh.TokenEmbeddings.allclose(model.TokenEmbeddings), "E did not train");
        Assert.AreEqual(0.0, model.LMHead.Bias.abs().sum().item<float>(), "the output bias must stay zero with ZeroFrozen");
        // During training only E requires gradients; afterwards the flags are as before.
        CollectionAssert.AreEquivalent(new[] { RobertaForMaskedLM.TokenEmbeddingsKey }, flagsDuringTraining.Where(f => f.Item2).Select(f => f.Item1).ToArray());
        Assert.IsTrue(model.parameters().All(p => p.requires_grad), "requires_grad flags were not restored");
        Assert.AreEqual(30, result.History.Steps.Count);
        Assert.IsTrue(result.History.Steps.All(s => s.LearningRates.Keys.SequenceEqual(new[] { EmbeddingRelearning.EmbeddingGroup })));
    }

    [TestMethod]
    public void ZeroTrainedTrainsTheResizedBiasToo()
    {
        using var model = NewModel();
        var before = Snapshot(model);
        Relearn(model, Settings(20) with { OutputBias = RelearnedOutputBias.ZeroTrained });
        Assert.AreEqual(TargetTokenizer.VocabSize, (int)model.LMHead.Bias.shape[0]);
        Assert.IsTrue(model.LMHead.Bias.abs().sum().item<float>() > 0, "the output bias did not train");
        foreach (var (name, p) in model.BodyParameters().Where(p => p.Name != "lm_head.bias"))
            Assert.IsTrue(TensorAssert.BitEqual(before[name], p), $"body parameter {name} changed");
    }

    [TestMethod]
    public void TheDefaultKeepsThePretrainedOutputBiasFrozenWhereIdsOverlapAndItsMeanBeyond()
    {
        using var model = NewModel();
        using (no_grad()) model.LMHead.Bias.copy_(arange(model.Config.VocabSize, dtype: float32) * 0.001f - 0.3f);
        using var english = model.LMHead.Bias.detach().clone();
        Relearn(model, Settings(10));
        var bias = model.LMHead.Bias;
        long n = Math.Min(english.shape[0], bias.shape[0]);
        Assert.AreEqual(TargetTokenizer.VocabSize, (int)bias.shape[0]);
        Assert.IsTrue(TensorAssert.BitEqual(english[TensorIndex.Slice(0, n)], bias[TensorIndex.Slice(0, n)]), "the overlapping part of the pretrained bias must be kept as it was");
        if (bias.shape[0] > n)
            Assert.AreEqual(english.mean().item<float>(), bias[TensorIndex.Slice(n, null)].mean().item<float>(), 1e-6, "new entries get the pretrained mean");
        Assert.IsTrue(model.parameters().All(p => p.requires_grad), "requires_grad flags were not restored");
    }

    [TestMethod]
    public void TheCorpusCapLimitsTheDistinctTokensSeenWhateverTheNumberOfUpdates()
    {
        // With a cap of ~1.5 lines, 40 updates (many epochs of the capped corpus) must see no token beyond
        // those lines; the cap counts tokens exactly.
        var lines = TargetCorpus.Take(40).ToArray();
        var first = lines.Select(l => TargetTokenizer.EncodeSingle(l, 48)).ToArray();
        long cap = first[0].Length + first[1].Length / 2;
        var capped = EmbeddingRelearning.CapTokens(first, cap, TargetTokenizer.EosId).ToArray();
        Assert.AreEqual(cap, capped.Sum(x => (long)x.Length), "the cap counts tokens exactly");
        Assert.AreEqual(TargetTokenizer.EosId, capped[^1][^1], "the cut sequence still ends with </s>");
        var allowed = capped.SelectMany(x => x).ToHashSet();
        var everything = first.SelectMany(x => x).ToHashSet();
        Assert.IsTrue(everything.Count > allowed.Count, "test data: the rest of the corpus must hold other tokens");

        // The run reads the capped stream: with a cap of half the first line and one sequence per batch, every
        // epoch is one update of exactly `half` tokens, so a budget of 30 capped corpora is 30 updates (the
        // 40 uncapped lines of unequal length would give another count); and the cap does not limit the
        // number of updates.
        long half = first[0].Length / 2;
        var s30 = Settings(1000) with { MaxSteps = null, MaxTokens = 30 * half, CorpusTokenCap = half, BatchSize = 1 };
        Assert.AreEqual(30, Relearn(NewModelOwned(), s30, corpus: lines).TotalSteps);
        Assert.AreEqual(40, Relearn(NewModelOwned(), Settings(40) with { CorpusTokenCap = cap, BatchSize = 2 }, corpus: lines).History.Steps.Count);
        var seen = EmbeddingRelearning.CapTokens(lines.Select(l => TargetTokenizer.EncodeSingle(l, 48)), cap, TargetTokenizer.EosId).SelectMany(x => x).ToHashSet();
        CollectionAssert.AreEquivalent(allowed.ToArray(), seen.ToArray(), "whatever is streamed after the cap is never read");
    }

    [TestMethod]
    public void KeepBestCheckpointReturnsTheWeightsWithTheLowestHeldOutLoss()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlnf-relearn-best-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var model = NewModel();
            // A rate high enough that the held-out loss rises after update 4 (3.45, 3.81, 3.79 when written), so keeping
            // the last weights instead of the best would fail.
            var s = Settings(12) with { LearningRate = 1e-1, EvaluationInterval = 4, KeepBestCheckpoint = true, CheckpointDirectory = dir };
            var result = EmbeddingRelearning.Relearn(model, TargetTokenizer, () => TargetCorpus.Skip(20), s, CPU, log: TestContext.WriteLine,
                heldOutCorpus: () => TargetCorpus.Take(20));
            var losses = result.History.Validations.Where(v => v.Step > 0).ToDictionary(v => v.Step, v => v.Metrics["loss"]);
            long best = losses.MinBy(kv => kv.Value).Key;
            Assert.AreNotEqual(losses.Keys.Max(), best, "test data: the lowest loss must come before the last update, or keeping the last weights would pass");
            Assert.AreEqual(best, result.BestStep, "the kept update must be the one with the lowest held-out loss");
            // The returned weights give that loss again (same held-out batches and masks).
            using var check = NewModel();
            var objective = new MaskedLmObjective(model, TargetTokenizer, CPU);
            var heldOut = MLNetForgetting.Text.Batching.LengthBucketed(MLNetForgetting.Text.Batching.Encode(TargetCorpus.Take(20), TargetTokenizer, 48, new()), 16, 1, new Random(0)).ToList();
            model.eval();
            using (no_grad())
                Assert.AreEqual(losses[best], objective.Evaluate(heldOut, s.Seed)["loss"], 1e-4, "the returned weights are not the best update's");
            Assert.ThrowsExactly<ArgumentException>(() => EmbeddingRelearning.Relearn(NewModelOwned(), TargetTokenizer, () => TargetCorpus, s, CPU));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void ATokenBudgetStopsAtTheDocumentedUpdate()
    {
        // 96 identical lines: every sequence has L tokens and every batch of 8 has 8L, 12 batches per epoch.
        string line = TargetCorpus[0];
        var corpus = Enumerable.Repeat(line, 96).ToArray();
        int L = TargetTokenizer.EncodeSingle(line, 48).Length;
        var s = Settings(1000) with { MaxSteps = null, BatchSize = 8 };
        // 2.5 epochs of tokens = 24 full batches + 6 more: the first update at which the budget is reached is 30.
        Assert.AreEqual(30, Relearn(NewModelOwned(), s with { MaxTokens = 240L * L }, corpus: corpus).TotalSteps);
        Assert.AreEqual(30, Relearn(NewModelOwned(), s with { MaxTokens = 240L * L - 1 }, corpus: corpus).TotalSteps);
        var over = Relearn(NewModelOwned(), s with { MaxTokens = 240L * L + 1 }, corpus: corpus);
        Assert.AreEqual(31, over.TotalSteps);
        Assert.AreEqual(31, over.History.Steps.Count, "training must stop at the budget's update");
        // With both limits the smaller wins.
        Assert.AreEqual(20, Relearn(NewModelOwned(), s with { MaxTokens = 240L * L, MaxSteps = 20 }, corpus: corpus).History.Steps.Count);
    }

    private readonly List<RobertaForMaskedLM> owned = new();
    private RobertaForMaskedLM NewModelOwned() { var m = NewModel(); owned.Add(m); return m; }
    [TestCleanup] public void DisposeModels() { foreach (var m in owned) m.Dispose(); owned.Clear(); }

    [TestMethod]
    public void TheAdaptationCurveHasTheLossOfEveryUpdateAndEvaluationsFromUpdateZero()
    {
        using var model = NewModel();
        var calls = new List<(long Step, bool Training, bool Grad)>();
        var result = Relearn(model, Settings(60) with { EvaluationInterval = 25, LearningRate = 1e-2 }, step =>
        {
            calls.Add((step, model.training, is_grad_enabled()));
            return new Dictionary<string, double> { ["probe"] = step * 2.0 };
        });
        CollectionAssert.AreEqual(new long[] { 0, 25, 50, 60 }, calls.Select(c => c.Step).ToArray());
        Assert.IsTrue(calls.All(c => !c.Training && !c.Grad), "evaluation must run in eval mode under no_grad");
        CollectionAssert.AreEqual(new long[] { 0, 25, 50, 60 }, result.History.Validations.Select(v => v.Step).ToArray());
        Assert.AreEqual(100.0, result.History.Validations[2].Metrics["probe"]);
        var losses = result.History.Steps.Select(r => r.Loss).ToArray();
        Assert.AreEqual(60, losses.Length);
        TestContext.WriteLine($"MLM loss: first 10 {losses.Take(10).Average():F3}, last 10 {losses.TakeLast(10).Average():F3}");
        Assert.IsTrue(losses.TakeLast(10).Average() < losses.Take(10).Average() - 0.5, "the MLM loss of relearning did not fall");
        Assert.IsTrue(model.training, "training mode not restored");
    }

    [TestMethod]
    public void ResumeContinuesTheCurveAndGivesTheSameEmbeddings()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlnf-relearn-" + Guid.NewGuid().ToString("N"));
        try
        {
            var s = Settings(24) with { EvaluationInterval = 10 };
            static IReadOnlyDictionary<string, double> Probe(long n) => new Dictionary<string, double> { ["n"] = n };
            using var a = NewModel();
            Relearn(a, s, Probe);
            using var interrupted = NewModel();
            using var cts = new CancellationTokenSource();
            var progress = new SyncProgress<TrainingProgress>(p => { if (p.Step == 13) cts.Cancel(); });
            Assert.ThrowsExactly<OperationCanceledException>(() =>
                EmbeddingRelearning.Relearn(interrupted, TargetTokenizer, () => TargetCorpus, s with { CheckpointDirectory = dir }, CPU, Probe, null, progress, cts.Token));
            using var resumed = NewModel();
            var r = Relearn(resumed, s with { CheckpointDirectory = dir, Resume = true }, Probe);
            Assert.AreEqual(13, r.ResumedFromStep);
            CollectionAssert.AreEqual(new long[] { 0, 10, 20, 24 }, r.History.Validations.Select(v => v.Step).ToArray());
            Assert.IsTrue(a.TokenEmbeddings.allclose(resumed.TokenEmbeddings, rtol: 0, atol: 1e-6), "resumed E differs");
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void ACorpusTooSmallForAVocabularyIsRejectedWithTheThreshold()
    {
        // 400 tokens need max(2000, 10 × 139) = 2000 characters; 20 short lines have fewer.
        var small = TargetCorpus.Take(20).ToArray();
        Assert.IsTrue(small.Sum(l => l.Length) < 2000);
        var e = Assert.ThrowsExactly<ArgumentException>(() => EmbeddingRelearning.TrainVocabulary(() => small, 400));
        StringAssert.Contains(e.Message, "too small");
        StringAssert.Contains(e.Message, "2000");
        Assert.AreEqual(2000, EmbeddingRelearning.MinimumVocabularyCorpusCharacters(400));
        Assert.AreEqual(10 * (1000 - 261), EmbeddingRelearning.MinimumVocabularyCorpusCharacters(1000));
        // Enough text trains a vocabulary that encodes the language.
        var tokenizer = EmbeddingRelearning.TrainVocabulary(() => TargetCorpus, 400);
        Assert.IsTrue(tokenizer.VocabSize is > 261 and <= 400);
        Assert.AreEqual(TargetCorpus[0], tokenizer.Decode(tokenizer.EncodeToIds(TargetCorpus[0])));
    }

    [TestMethod]
    public void InvalidSettingsNameTheOption()
    {
        Assert.AreEqual("MaxSteps", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new RelearningSettings().Validate()).ParamName);
        Assert.AreEqual("MaxTokens", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new RelearningSettings { MaxTokens = 0 }.Validate()).ParamName);
        Assert.AreEqual("LearningRate", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => (Settings(5) with { LearningRate = -1 }).Validate()).ParamName);
        Assert.AreEqual("WarmupFraction", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => (Settings(5) with { WarmupFraction = 1 }).Validate()).ParamName);
    }
}

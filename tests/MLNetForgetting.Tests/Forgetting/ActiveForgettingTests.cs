using MLNetForgetting.Forgetting;
using MLNetForgetting.Modeling;
using MLNetForgetting.Tests.Text;
using MLNetForgetting.Tests.Training;
using MLNetForgetting.Text;
using MLNetForgetting.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNetForgetting.Tests.Forgetting;

[TestClass]
public sealed class ActiveForgettingTests
{
    public TestContext TestContext { get; set; } = null!;

    private static readonly Lazy<(SubwordTokenizer Tokenizer, string[] Lines)> English = new(() =>
    {
        // A small real corpus: English lines from shared/data/raw/en, capped for speed.
        var lines = TextTestData.RawLines("en").Where(l => l.Length is > 20 and < 400).Take(1500).ToArray();
        var tokenizer = BpeVocabularyTrainer.Train(lines, new BpeTrainerOptions { VocabSize = 600 });
        return (tokenizer, lines);
    });

    private static RobertaForMaskedLM NewModel(int seed = 3)
    {
        var model = new RobertaForMaskedLM(RobertaConfig.Tiny(English.Value.Tokenizer.VocabSize) with { MaxSequenceLength = 48 });
        model.InitializeWeights(new Generator((ulong)seed));
        return model;
    }

    private static PretrainingSettings Settings(long steps, long k) => new()
    {
        MaxSteps = steps, ResetInterval = k, BatchSize = 16, MaxSequenceLength = 48, LearningRate = 3e-3,
        EmbeddingLearningRate = 3e-3, Seed = 5, BucketPoolBatches = 8, LogInterval = 1000,
    };

    private PretrainingResult Pretrain(RobertaForMaskedLM model, PretrainingSettings s, CancellationToken ct = default, IProgress<TrainingProgress>? progress = null) =>
        ActiveForgetting.Pretrain(model, English.Value.Tokenizer, () => English.Value.Lines, s, CPU, log: TestContext.WriteLine, progress: progress, cancellationToken: ct);

    [TestMethod]
    public void ResetsHappenExactlyAfterMultiplesOfKAndNeverAfterTheLastUpdate()
    {
        using var model = NewModel();
        var result = Pretrain(model, Settings(100, 20));
        CollectionAssert.AreEqual(new long[] { 20, 40, 60, 80 }, result.History.Events.Where(e => e.Kind == ActiveForgetting.ResetEvent).Select(e => e.Step).ToArray());
        using var standard = NewModel();
        Assert.IsEmpty(Pretrain(standard, Settings(40, 0)).History.Events);
    }

    [TestMethod]
    public void ResetRedrawsTheEmbeddingsAndRestartsOnlyTheirOptimizerState()
    {
        using var scope = NewDisposeScope();
        using var model = NewModel();
        var s = Settings(12, 0);
        using var optimizer = ActiveForgetting.CreateOptimizer(model, s);
        var objective = new MaskedLmObjective(model, English.Value.Tokenizer, CPU);
        var sequences = Batching.Encode(English.Value.Lines, English.Value.Tokenizer, 48, new CorpusStats()).Take(16 * 12).Chunk(16).ToList();
        new TrainingLoop<int[][]>(model, optimizer, new TrainingLoopOptions { MaxSteps = 12, Seed = 1 }).Run(_ => sequences, (b, c) => objective.Step(b, c));

        var e = model.TokenEmbeddings;
        var memory = TensorIdentity.Of(e);
        var eBefore = e.detach().clone();
        var body = model.BodyParameters().ToDictionary(p => p.Name, p => p.Parameter.detach().clone());
        var bodyMoments = optimizer.StateTensors().Where(kv => kv.Key.StartsWith("body.")).ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        Assert.IsTrue(optimizer.StateTensors().Any(kv => kv.Key.StartsWith("embeddings.")), "no embedding moments to reset");

        ActiveForgetting.Forget(model, optimizer, seed: 1, update: 12);

        Assert.AreEqual(memory, TensorIdentity.Of(model.TokenEmbeddings), "E must be redrawn in place (the decoder and optimizer keep pointing at it)");
        Assert.IsFalse(eBefore.allclose(model.TokenEmbeddings), "E did not change");
        Assert.AreEqual(0.0, model.TokenEmbeddings[1].abs().sum().item<float>(), "the padding row must be zero");
        var rows = model.TokenEmbeddings.index_select(0, arange(2, model.Config.VocabSize));
        Assert.AreEqual(0.0, rows.mean().item<float>(), 0.002);
        Assert.AreEqual(0.02, rows.std().item<float>(), 0.001);
        // The decoder is still tied: MLM logits are hidden · Eᵀ + bias with the new E.
        model.eval();
        using (no_grad())
        {
            var h = randn(3, model.Config.HiddenSize);
            var logits = model.MlmLogits(h);
            var viaNewE = model.LMHead.forward(h, model.TokenEmbeddings);
            Assert.IsTrue(TensorAssert.BitEqual(logits, viaNewE));
        }
        foreach (var (name, p) in model.BodyParameters())
            Assert.IsTrue(TensorAssert.BitEqual(body[name], p), $"body parameter {name} was touched by the reset");
        Assert.AreEqual(0, optimizer[ActiveForgetting.EmbeddingGroup].Step, "the embedding step counter t_e must restart");
        Assert.IsFalse(optimizer.StateTensors().Any(kv => kv.Key.StartsWith("embeddings.")), "embedding moments must be zero");
        Assert.AreEqual(12, optimizer[ActiveForgetting.BodyGroup].Step);
        foreach (var (key, m) in optimizer.StateTensors().Where(kv => kv.Key.StartsWith("body.")))
            Assert.IsTrue(TensorAssert.BitEqual(bodyMoments[key], m), $"body moment {key} changed");
    }

    [TestMethod]
    public void LearningRatesFollowTheEpisodicAndGlobalSchedules()
    {
        using var model = NewModel();
        var s = Settings(100, 20) with { LearningRate = 1e-3, EmbeddingLearningRate = 2e-3, WarmupFraction = 0.1 };
        var history = Pretrain(model, s).History;
        // S(n): warm-up over 10 updates, linear decay to 0 at 100. η_e(n) = S_e((n·⌊100/20⌋) mod 100).
        static double S(double peak, long n) => n <= 10 ? peak * n / 10 : peak * (100 - n) / 90.0;
        foreach (long n in new long[] { 1, 5, 10, 11, 20, 21, 33, 60, 99 })
        {
            var rates = history.Steps.Single(r => r.Step == n).LearningRates;
            Assert.AreEqual(S(1e-3, n), rates[ActiveForgetting.BodyGroup], 1e-12, $"body rate at update {n}");
            Assert.AreEqual(S(2e-3, n * 5 % 100), rates[ActiveForgetting.EmbeddingGroup], 1e-12, $"embedding rate at update {n}");
        }
    }

    [TestMethod]
    public void LossFallsInBothRunsAndForgettingRisesAtEachReset()
    {
        using var standardModel = NewModel();
        using var forgettingModel = NewModel();
        var standard = Pretrain(standardModel, Settings(240, 0)).History.Steps.Select(r => r.Loss).ToArray();
        var forgetting = Pretrain(forgettingModel, Settings(240, 60)).History.Steps.Select(r => r.Loss).ToArray();
        double Mean(double[] x, int from, int count) => x.Skip(from).Take(count).Average();
        TestContext.WriteLine($"standard: first 20 {Mean(standard, 0, 20):F3}, last 20 {Mean(standard, 220, 20):F3}");
        TestContext.WriteLine($"forgetting: first 20 {Mean(forgetting, 0, 20):F3}, last 20 {Mean(forgetting, 220, 20):F3}");
        Assert.IsTrue(Mean(standard, 220, 20) < Mean(standard, 0, 20) - 0.5, "standard MLM loss did not fall");
        Assert.IsTrue(Mean(forgetting, 220, 20) < Mean(forgetting, 0, 20) - 0.5, "forgetting MLM loss did not fall");
        foreach (int reset in new[] { 60, 120, 180 })
        {
            double before = Mean(forgetting, reset - 5, 5), after = Mean(forgetting, reset, 5); // updates reset-4..reset vs reset+1..reset+5
            TestContext.WriteLine($"reset after {reset}: loss {before:F3} -> {after:F3}");
            Assert.IsTrue(after > before + 0.2, $"no loss rise after the reset at update {reset}: {before:F3} -> {after:F3}");
        }
    }

    [TestMethod]
    public void SameSeedSameHistoryAndResumeAcrossAResetGivesTheSameWeights()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlnf-af-" + Guid.NewGuid().ToString("N"));
        try
        {
            var s = Settings(50, 20);
            using var a = NewModel();
            var historyA = Pretrain(a, s).History;
            using var b = NewModel();
            var historyB = Pretrain(b, s).History;
            CollectionAssert.AreEqual(historyA.Steps.Select(r => r.Loss).ToArray(), historyB.Steps.Select(r => r.Loss).ToArray());

            using var interrupted = NewModel();
            using var cts = new CancellationTokenSource();
            var progress = new SyncProgress<TrainingProgress>(p => { if (p.Step == 17) cts.Cancel(); });
            Assert.ThrowsExactly<OperationCanceledException>(() => Pretrain(interrupted, s with { CheckpointDirectory = dir }, cts.Token, progress));
            using var resumed = NewModel();
            var resumedResult = Pretrain(resumed, s with { CheckpointDirectory = dir, Resume = true });
            Assert.AreEqual(17, resumedResult.ResumedFromStep);
            CollectionAssert.AreEqual(new long[] { 20, 40 }, resumedResult.History.Events.Select(e => e.Step).ToArray());
            foreach (var (name, t) in a.NamedTensors())
                Assert.IsTrue(t.allclose(resumed.NamedTensors()[name], rtol: 0, atol: 1e-6), $"{name} differs after resuming across the reset at update 20");
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void InvalidOptionsNameTheOption()
    {
        Assert.AreEqual("ResetInterval", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Settings(10, -1).Validate()).ParamName);
        Assert.AreEqual("MaxSteps", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Settings(0, 5).Validate()).ParamName);
        Assert.AreEqual("LearningRate", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => (Settings(10, 5) with { LearningRate = double.NaN }).Validate()).ParamName);
    }
}

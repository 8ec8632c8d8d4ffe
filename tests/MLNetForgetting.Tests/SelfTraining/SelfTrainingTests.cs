using MLNetForgetting.Modeling.Adapters;
using MLNetForgetting.Prompts;
using MLNetForgetting.SelfTraining;
using MLNetForgetting.Tests.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNetForgetting.Tests.SelfTraining;

[TestClass]
public sealed class SelfTrainingTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>Tiny LiST: a few updates per phase, 2 rounds, meta re-weighting after half of phase A.</summary>
    private static SelfTrainingSettings Tiny => new()
    {
        Adapters = ListFixture.SmallAdapters, TeacherLearningRate = 1e-3, TeacherEpochs = 2, Rounds = 2, PhaseAUpdates = 6,
        KdWarmupFraction = 0.5, PhaseBEpochs = 1, StudentLearningRate = 1e-3, UnlabelledBatchSize = 8, Seed = 3, LogInterval = 1000,
    };

    private static List<FewShotExample> Pool(int rows = 48) =>
        FewShotData.LoadUnlabelledPool(TextTestData.DataRoot, "SST-2", ListFixture.Labelled(), rows);

    [TestMethod]
    public void TinyEndToEndLiSTOnSst2RunsComputesMetaWeightsAndReportsAccuracy()
    {
        var backbone = ListFixture.Backbone;
        var labelled = ListFixture.Labelled("SST-2", 30, 1);
        var test = FewShotData.LoadTest(TextTestData.DataRoot, "SST-2");
        var log = new List<string>();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var result = PromptSelfTrainer.TrainLiST(backbone, ListFixture.Tokenizer, LiSTTasks.Sst2, labelled, Pool(64), Tiny, CPU, log.Add);
        using var model = result.Model;
        double accuracy = model.Accuracy(ListFixture.Encode(test));
        TestContext.WriteLine($"LiST tiny SST-2 30-1: test accuracy {accuracy:P1} on {test.Count} rows in {watch.Elapsed.TotalSeconds:F1} s");
        foreach (var line in log) TestContext.WriteLine(line);

        Assert.IsFalse(result.SelfTrainingSkipped);
        Assert.HasCount(2, result.Rounds);
        Assert.AreEqual(2 * 3, result.MetaSteps, "updates 4..6 of each round use meta weights");
        foreach (var round in result.Rounds)
        {
            Assert.HasCount(6, round.PhaseA.Steps);
            Assert.HasCount(8, round.PhaseB!.Steps, "30 examples in batches of 4");
            Assert.IsTrue(round.PhaseA.Steps.Concat(round.PhaseB.Steps).All(s => double.IsFinite(s.Loss)));
            Assert.HasCount(8, round.Meta.LastWeights);
            Assert.IsTrue(round.Meta.LastWeights.All(w => w >= 0 && float.IsFinite(w)));
            // One optimizer per round, linear decay over phase A + B: phase B continues where A stopped.
            double lastA = round.PhaseA.Steps[^1].LearningRates.Single().Value, firstB = round.PhaseB.Steps[0].LearningRates.Single().Value;
            Assert.AreEqual(1e-3 * (14 - 6) / 14.0, lastA, 1e-12);
            Assert.AreEqual(1e-3 * (14 - 7) / 14.0, firstB, 1e-12);
        }
        Assert.HasCount(16, result.TeacherInit.Steps);
        Assert.IsTrue(accuracy is >= 0 and <= 1);
        var probabilities = model.PredictProbabilities(ListFixture.Encode(test.Take(5)));
        for (int i = 0; i < 5; i++) Assert.AreEqual(1.0, probabilities[i, 0] + probabilities[i, 1], 1e-5);
    }

    [TestMethod]
    public void OnlyAdapterAndHeadParametersChangeDuringTraining()
    {
        var backbone = ListFixture.Backbone;
        var before = ListFixture.BackboneTensors(backbone).ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        var settings = Tiny with { Rounds = 1, Seed = 21 };
        var result = PromptSelfTrainer.TrainLiST(backbone, ListFixture.Tokenizer, LiSTTasks.Sst2, ListFixture.Labelled(), Pool(32), settings, CPU);
        using var model = result.Model;
        foreach (var (name, t) in ListFixture.BackboneTensors(backbone))
            Assert.IsTrue(TensorAssert.BitEqual(before[name], t), $"backbone parameter {name} changed");
        Assert.AreEqual(before.Count, ListFixture.BackboneTensors(backbone).Count);

        // The round-1 student started from these adapters and the pretrained head: every one of its tensors moved.
        using var initial = PromptClassifier.Create(backbone, ListFixture.Tokenizer, LiSTTasks.Sst2, settings.Adapters, PromptSelfTrainer.Seeded(settings.Seed, 1));
        var start = initial.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in model.named_parameters())
            Assert.IsFalse(TensorAssert.BitEqual(start[name], p), $"trainable parameter {name} did not change");
        foreach (var p in before.Values) p.Dispose();
    }

    [TestMethod]
    public void AnEmptyUnlabelledSetSkipsSelfTrainingWithAWarning()
    {
        var log = new List<string>();
        var result = PromptSelfTrainer.TrainLiST(ListFixture.Backbone, ListFixture.Tokenizer, LiSTTasks.Sst2, ListFixture.Labelled(), [], Tiny, CPU, log.Add);
        using var model = result.Model;
        Assert.IsTrue(result.SelfTrainingSkipped);
        Assert.IsEmpty(result.Rounds);
        Assert.AreEqual(0, result.MetaSteps);
        Assert.IsTrue(log.Any(l => l.Contains("WARNING") && l.Contains("unlabelled set is empty")), string.Join("\n", log));
        Assert.HasCount(16, result.TeacherInit.Steps, "the teacher is still prompt-tuned");
    }

    [TestMethod]
    public void BadLabelledInputIsRejectedWithAClearMessage()
    {
        var labelled = ListFixture.Labelled();
        var one = Assert.ThrowsExactly<ArgumentException>(() =>
            PromptSelfTrainer.TrainLiST(ListFixture.Backbone, ListFixture.Tokenizer, LiSTTasks.Sst2, labelled.Take(1).ToList(), Pool(8), Tiny, CPU));
        StringAssert.Contains(one.Message, "1 labelled examples but 2 classes");

        var unknown = labelled.Select((e, i) => i == 3 ? e with { Label = "positive" } : e).ToList();
        var missing = Assert.ThrowsExactly<ArgumentException>(() =>
            PromptSelfTrainer.TrainLiST(ListFixture.Backbone, ListFixture.Tokenizer, LiSTTasks.Sst2, unknown, Pool(8), Tiny, CPU));
        StringAssert.Contains(missing.Message, "'positive'");

        Assert.AreEqual("Rounds", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => (Tiny with { Rounds = -1 }).Validate()).ParamName);
        Assert.AreEqual("KdWarmupFraction", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => (Tiny with { KdWarmupFraction = 1.5 }).Validate()).ParamName);
        Assert.AreEqual("BottleneckSize", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => (Tiny with { Adapters = new AdapterOptions { BottleneckSize = 0 } }).Validate()).ParamName);
    }

    [TestMethod]
    public void AdapterPackRoundTripsOntoTheSameBackboneAndIsRefusedByAnother()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlnf-list-" + Guid.NewGuid().ToString("N"));
        try
        {
            var backbone = ListFixture.Backbone;
            var (model, _) = PromptSelfTrainer.PromptTuneAdapters(backbone, ListFixture.Tokenizer, LiSTTasks.Sst2, ListFixture.Labelled(),
                Tiny with { TeacherEpochs = 1 }, CPU);
            using var trained = model;
            var test = ListFixture.Encode(FewShotData.LoadTest(TextTestData.DataRoot, "SST-2").Take(40));
            var expected = trained.PredictProbabilities(test);
            string path = Path.Combine(dir, "sst2.adapters.safetensors");
            AdapterPack.Save(path, trained, ListFixture.Tokenizer, "SST-2");
            Assert.IsFalse(Directory.GetFiles(dir).Any(f => f.EndsWith(".tmp")), "no temporary file left behind");

            using var loaded = AdapterPack.Load(path, backbone, ListFixture.Tokenizer);
            var actual = loaded.PredictProbabilities(test);
            for (int i = 0; i < test.Count; i++)
                for (int c = 0; c < 2; c++) Assert.AreEqual(expected[i, c], actual[i, c], 0f, $"row {i} class {c}");
            Assert.AreEqual(trained.Template.Text, loaded.Template.Text);
            CollectionAssert.AreEqual(trained.LabelWordIds, loaded.LabelWordIds);

            // A backbone that differs in one weight is refused, naming both fingerprints.
            using var other = ListFixture.CopyBackbone(backbone);
            using (no_grad()) other.named_parameters().First(p => p.name.Contains("layer.1.output.dense.weight")).parameter[0, 0].add_(1e-3f);
            var e = Assert.ThrowsExactly<BackboneMismatchException>(() => AdapterPack.Load(path, other, ListFixture.Tokenizer));
            StringAssert.Contains(e.Message, AdapterPack.BackboneFingerprint(backbone, ListFixture.Tokenizer));
            StringAssert.Contains(e.Message, AdapterPack.BackboneFingerprint(other, ListFixture.Tokenizer));
            Assert.AreNotEqual(e.Expected, e.Actual);
            // An identical copy is accepted: the fingerprint is about weights, not object identity.
            using var twin = ListFixture.CopyBackbone(backbone);
            using var onTwin = AdapterPack.Load(path, twin, ListFixture.Tokenizer);
            Assert.AreEqual(expected[0, 1], onTwin.PredictProbabilities(test.Take(1).ToList())[0, 1], 1e-6f);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void BaselinesRunOnTheSameApi()
    {
        var labelled = ListFixture.Labelled();
        var test = FewShotData.LoadTest(TextTestData.DataRoot, "SST-2").Take(40).ToList();
        var settings = Tiny with { TeacherEpochs = 1, FineTuningLearningRate = 1e-4 };

        using var forClassic = ListFixture.CopyBackbone(ListFixture.Backbone);
        var (classic, classicHistory) = PromptSelfTrainer.ClassicFineTune(forClassic, ListFixture.Tokenizer, LiSTTasks.Sst2, labelled, settings, CPU);
        double classicAccuracy = classic.Accuracy(test);
        Assert.HasCount(8, classicHistory.Steps);
        Assert.IsTrue(classicHistory.Steps.All(s => double.IsFinite(s.Loss)));

        using var forPrompt = ListFixture.CopyBackbone(ListFixture.Backbone);
        var embeddingBefore = forPrompt.TokenEmbeddings.detach().clone();
        var (prompt, promptHistory) = PromptSelfTrainer.PromptFineTuneAll(forPrompt, ListFixture.Tokenizer, LiSTTasks.Sst2, labelled, settings, CPU);
        using var _p = prompt;
        double promptAccuracy = prompt.Accuracy(ListFixture.Encode(test));
        Assert.IsFalse(TensorAssert.BitEqual(embeddingBefore, forPrompt.TokenEmbeddings), "prompt fine-tuning trains the whole backbone");
        Assert.IsTrue(prompt.ParameterReport().Percent > 99.0);
        TestContext.WriteLine($"classic {classicAccuracy:P1}, prompt FT {promptAccuracy:P1} (40 test rows, 1 epoch)");
        Assert.ThrowsExactly<ArgumentException>(() => AdapterPack.Save(Path.Combine(Path.GetTempPath(), "never.safetensors"), prompt, ListFixture.Tokenizer));
    }

    [TestMethod]
    public void FewShotDataLoadsSplitsAndDeduplicatesThePool()
    {
        string root = TextTestData.DataRoot;
        var sst = FewShotData.LoadLabelled(root, "SST-2", 30, 1);
        Assert.HasCount(30, sst);
        Assert.AreEqual(12, sst.Count(e => e.Label == "0"), "SST-2 30-1 has 12 negative and 18 positive (docs/methods.md §3.5)");
        var rte = FewShotData.LoadLabelled(root, "RTE", 10, 2);
        Assert.HasCount(10, rte);
        Assert.IsTrue(rte.All(e => e.Texts.Count == 2));
        Assert.HasCount(210, FewShotData.LoadTest(root, "mnli"));

        // The mpqa pool contains every labelled row (data/SOURCES.md): all of them must be gone.
        var mpqa = FewShotData.LoadLabelled(root, "mpqa", 30, 1);
        var pool = FewShotData.LoadUnlabelledPool(root, "mpqa", mpqa);
        var raw = FewShotData.ReadTsv(Path.Combine(root, "glue_pools", "mpqa", "train.tsv"));
        var labelledTexts = mpqa.Select(e => e.Texts[0].Trim()).ToHashSet();
        Assert.IsTrue(raw.Any(e => labelledTexts.Contains(e.Texts[0].Trim())), "precondition: the raw pool overlaps the labelled rows");
        Assert.IsFalse(pool.Any(e => labelledTexts.Contains(e.Texts[0].Trim())));
        Assert.IsTrue(pool.All(e => e.Label is null));
        Assert.AreEqual(raw.Count(e => !labelledTexts.Contains(e.Texts[0].Trim())), pool.Count);
        Assert.HasCount(5, FewShotData.LoadUnlabelledPool(root, "QQP", [], 5));

        var summary = SeedSummary.Of([0.8, 0.9, 1.0]);
        Assert.AreEqual(0.9, summary.Mean, 1e-12);
        Assert.AreEqual(Math.Sqrt(0.02 / 3), summary.Std, 1e-12);
        Assert.ThrowsExactly<DirectoryNotFoundException>(() => FewShotData.LoadTest(root, "CoLA"));
    }

    /// <summary>
    /// Cancelled during teacher initialisation (before any round boundary, so only the phase's own checkpoint
    /// exists): a resume with another teacher learning rate or seed is refused naming the field and both
    /// values, and one with the same settings runs only the remaining updates and ends with an uninterrupted
    /// run's weights.
    /// </summary>
    [TestMethod]
    public void ListResumedMidPhaseRefusesOtherSettingsNamingEachField()
    {
        var backbone = ListFixture.Backbone;
        var labelled = ListFixture.Labelled();
        var pool = Pool(32);
        var plain = Tiny with { Rounds = 1, Seed = 3 };
        var reference = PromptSelfTrainer.TrainLiST(backbone, ListFixture.Tokenizer, LiSTTasks.Sst2, labelled, pool, plain, CPU);
        using var expected = reference.Model;
        long total = reference.TeacherInit.Steps.Count + reference.Rounds.Sum(r => r.PhaseA.Steps.Count + r.PhaseB!.Steps.Count);

        using var dir = new MLNetForgetting.Tests.Infrastructure.TempDir();
        var settings = plain with { CheckpointDirectory = dir.Path, Resume = true };
        long cancelAt = 3, seen = 0;
        using var cts = new CancellationTokenSource();
        Assert.ThrowsExactly<OperationCanceledException>(() => PromptSelfTrainer.TrainLiST(backbone, ListFixture.Tokenizer, LiSTTasks.Sst2, labelled, pool, settings, CPU, null,
            MLNetForgetting.Tests.Training.SyncProgress.Of(_ => { if (++seen == cancelAt) cts.Cancel(); }), cts.Token));
        Assert.IsFalse(File.Exists(Path.Combine(dir.Path, "list-stage.safetensors")), "the premise is a run stopped before the first round boundary");
        Assert.IsTrue(File.Exists(Path.Combine(dir.Path, "teacher", "checkpoint.safetensors")));

        var e = Assert.ThrowsExactly<InvalidOperationException>(() =>
            PromptSelfTrainer.TrainLiST(backbone, ListFixture.Tokenizer, LiSTTasks.Sst2, labelled, pool, settings with { TeacherLearningRate = 2e-3 }, CPU));
        StringAssert.Contains(e.Message, "TeacherLearningRate: 0.001 in the checkpoint, 0.002 in this run");
        Assert.IsFalse(e.Message.Contains("Seed:"), e.Message);
        e = Assert.ThrowsExactly<InvalidOperationException>(() =>
            PromptSelfTrainer.TrainLiST(backbone, ListFixture.Tokenizer, LiSTTasks.Sst2, labelled, pool, settings with { Seed = 4 }, CPU));
        StringAssert.Contains(e.Message, "Seed: 3 in the checkpoint, 4 in this run");
        e = Assert.ThrowsExactly<InvalidOperationException>(() =>
            PromptSelfTrainer.TrainLiST(backbone, ListFixture.Tokenizer, LiSTTasks.Sst2, labelled.Skip(1).ToList(), pool, settings, CPU));
        StringAssert.Contains(e.Message, "Data: labelled");

        long resumedUpdates = 0;
        var resumed = PromptSelfTrainer.TrainLiST(backbone, ListFixture.Tokenizer, LiSTTasks.Sst2, labelled, pool, settings, CPU, null,
            MLNetForgetting.Tests.Training.SyncProgress.Of(_ => resumedUpdates++));
        using var actual = resumed.Model;
        Assert.AreEqual(total - cancelAt, resumedUpdates, "the resumed run should continue after update 3 of teacher initialisation");
        var want = expected.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in actual.named_parameters())
            Assert.IsTrue(p.allclose(want[name], rtol: 0, atol: 1e-6), $"{name} differs after cancel + resume");
    }

    /// <summary>
    /// Cancelled in round 2's phase A (after a round boundary, mid-phase), then resumed from the checkpoint
    /// folder: the final adapters and head equal an uninterrupted run's, the histories and meta statistics
    /// of the finished round come back from the stage file, and only the remaining updates run.
    /// </summary>
    [TestMethod]
    public void ListCancelledInTheSecondRoundResumesToTheUninterruptedWeights()
    {
        var backbone = ListFixture.Backbone;
        var labelled = ListFixture.Labelled();
        var pool = Pool(32);
        var plain = Tiny with { Seed = 8 };
        var reference = PromptSelfTrainer.TrainLiST(backbone, ListFixture.Tokenizer, LiSTTasks.Sst2, labelled, pool, plain, CPU);
        using var expected = reference.Model;
        long total = reference.TeacherInit.Steps.Count + reference.Rounds.Sum(r => r.PhaseA.Steps.Count + r.PhaseB!.Steps.Count);
        Assert.AreEqual(16 + 2 * (6 + 8), total);

        using var dir = new MLNetForgetting.Tests.Infrastructure.TempDir();
        var settings = plain with { CheckpointDirectory = dir.Path, CheckpointInterval = 2, Resume = true };
        // Round 2, phase A, update 5: after two meta steps (updates 4, 5), so the resumed run must restore the
        // phase's meta statistics from the checkpoint; cancellation writes a checkpoint there.
        long cancelAt = 16 + 14 + 5, seen = 0;
        using var cts = new CancellationTokenSource();
        var counting = MLNetForgetting.Tests.Training.SyncProgress.Of(_ => { if (++seen == cancelAt) cts.Cancel(); });
        Assert.ThrowsExactly<OperationCanceledException>(() =>
            PromptSelfTrainer.TrainLiST(backbone, ListFixture.Tokenizer, LiSTTasks.Sst2, labelled, pool, settings, CPU, null, counting, cts.Token));
        Assert.IsTrue(File.Exists(Path.Combine(dir.Path, "list-stage.safetensors")), "no round-boundary checkpoint");
        Assert.IsTrue(File.Exists(Path.Combine(dir.Path, "round-2-a", "checkpoint.safetensors")), string.Join(", ", Directory.GetFileSystemEntries(dir.Path)));

        // Other settings must not silently continue someone else's run.
        var mismatch = Assert.ThrowsExactly<InvalidOperationException>(() =>
            PromptSelfTrainer.TrainLiST(backbone, ListFixture.Tokenizer, LiSTTasks.Sst2, labelled, pool, settings with { StudentLearningRate = 2e-3 }, CPU));
        StringAssert.Contains(mismatch.Message, "StudentLearningRate: 0.001 in the checkpoint, 0.002 in this run");

        long resumedUpdates = 0;
        var log = new List<string>();
        var resumed = PromptSelfTrainer.TrainLiST(backbone, ListFixture.Tokenizer, LiSTTasks.Sst2, labelled, pool, settings, CPU, log.Add,
            MLNetForgetting.Tests.Training.SyncProgress.Of(_ => resumedUpdates++));
        using var actual = resumed.Model;
        TestContext.WriteLine(string.Join("\n", log.Where(l => l.Contains("resumed", StringComparison.Ordinal))));
        Assert.AreEqual(total - cancelAt, resumedUpdates, "the resumed run should run only the updates after the checkpoint (update 5 of round 2's phase A)");
        var want = expected.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in actual.named_parameters())
            Assert.IsTrue(p.allclose(want[name], rtol: 0, atol: 1e-6), $"{name} differs after cancel + resume by {(p - want[name]).abs().max().item<float>()}");
        Assert.HasCount(2, resumed.Rounds);
        Assert.AreEqual(reference.MetaSteps, resumed.MetaSteps, "meta statistics lost across the resume");
        CollectionAssert.AreEqual(reference.Rounds[0].PhaseA.Steps.Select(x => x.Loss).ToArray(), resumed.Rounds[0].PhaseA.Steps.Select(x => x.Loss).ToArray());
        CollectionAssert.AreEqual(reference.TeacherInit.Steps.Select(x => x.Loss).ToArray(), resumed.TeacherInit.Steps.Select(x => x.Loss).ToArray());

        PromptSelfTrainer.DeleteCheckpoints(dir.Path);
        Assert.IsFalse(Directory.Exists(dir.Path), "DeleteCheckpoints left files behind");
    }
}

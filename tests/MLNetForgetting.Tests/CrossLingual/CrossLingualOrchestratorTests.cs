using Microsoft.ML;
using MLNetForgetting.Adaptation;
using MLNetForgetting.MLNet.Classification;
using MLNetForgetting.MLNet.CrossLingual;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Synthetic;
using MLNetForgetting.Tests.Infrastructure;
using MLNetForgetting.Tests.Pretraining;
using MLNetForgetting.Training;

namespace MLNetForgetting.Tests.CrossLingual;

/// <summary>
/// The one cross-lingual orchestrator (<see cref="CrossLingualPipeline"/>) that the demo, examples/ZeroShotXnli
/// and the accuracy test run: its order, what it shares between models, its reports, and its hooks (a
/// model cache replays a run without fitting). Tiny sizes: mechanics, not accuracy (SyntheticTransferTests).
/// </summary>
[TestClass]
public sealed class CrossLingualOrchestratorTests
{
    /// <summary>Saves every model the pipeline makes; with <see cref="Replay"/>, loads fitted ones instead of fitting.</summary>
    private sealed class RecordingCache(MLContext ml, string folder) : CrossLingualPipeline.Hooks
    {
        public bool Replay { get; init; }
        public List<string> Steps { get; } = new();
        public int Fits { get; private set; }
        public Dictionary<(string Run, string Language), string> TokenizerFingerprints { get; } = new();

        private string Zip(CrossLingualPipeline.Step step) => Path.Combine(folder, $"{step.Stage}-{step.Run}-{step.Language}-{step.Budget?.ToString() ?? "steps"}.zip");

        public override T Fit<T>(CrossLingualPipeline.Step step, Func<IProgress<TrainingProgress>?, CancellationToken, T> fit)
        {
            Steps.Add($"{step.Stage} {step.Run} {step.Language} {step.Budget}");
            T model;
            if (Replay) model = (T)ml.Model.Load(Zip(step), out _);
            else
            {
                Fits++;
                model = fit(null, default);
                ml.Model.Save(model, step.InputSchema, Zip(step));
            }
            if (model is LanguageModelTransformer relearned) TokenizerFingerprints[(step.Run, step.Language)] = relearned.Tokenizer.Fingerprint;
            return model;
        }

        public override void Assembled(CrossLingualPipeline.Step step, SentencePairClassifierTransformer classifier)
        {
            Steps.Add($"{step.Stage} {step.Run} {step.Language} {step.Budget}");
            StringAssert.Contains(classifier.Description, $"assembled for {step.Language}");
        }
    }

    private static LanguageModelTransformer Pretrain(MLContext ml, long k)
    {
        var options = LanguageModelTests.TinyOptions(k);
        options.MaxSteps = 10; options.VocabularySize = 400; options.MaxSequenceLength = 32;
        var english = ml.Data.LoadFromEnumerable(new SyntheticTestbed().UnlabelledCorpus("en", 1500, seed: 0).Select(t => new TextRow { Text = t }).ToList());
        return ml.Transforms.Text.ActiveForgettingPretrainer(options).Fit(english);
    }

    private static CrossLingualPipeline.Options Options(CrossLingualPipeline.Hooks hooks) => new()
    {
        Seed = 1, TargetVocabularySize = 300, CurveDevExamples = 8, RelearningBudgets = [null, 50], Hooks = hooks,
        TaskAdaptation = new TaskAdaptationSettings { MaxSteps = 3, BatchSize = 8, MaxSequenceLength = 32, LearningRate = 1e-3 },
        Relearning = new RelearningSettings { MaxSteps = 4, BatchSize = 8, MaxSequenceLength = 32, LearningRate = 3e-3, EvaluationInterval = 2 },
    };

    [TestMethod]
    public void ItRunsEveryModelBudgetAndLanguageInOrderSharesTheVocabularyAndACacheReplaysIt()
    {
        var ml = new MLContext(3);
        var models = new List<CrossLingualPipeline.Pretrained> { new("standard", Pretrain(ml, 0)), new("forgetting", Pretrain(ml, 5)) };
        using var embeddingsBefore = models[0].LanguageModel.Model.TokenEmbeddings.clone();
        var inputs = CrossLingualInputs.FromSyntheticTestbed(new SyntheticTestbed(), ["xa", "xb"], new SyntheticInputOptions { TrainExamples = 64, DevExamples = 24, CorpusSentences = 1500 });
        using var dir = new TempDir();
        var cache = new RecordingCache(ml, dir.Path);
        var result = CrossLingualPipeline.Run(ml, models, inputs, Options(cache));

        // Task adaptation per model first; then per budget and language both models side by side.
        var expected = new List<string> { "TaskAdaptation standard en ", "TaskAdaptation forgetting en " };
        foreach (var budget in new long?[] { null, 50 })
            foreach (var code in new[] { "xa", "xb" })
                foreach (var run in new[] { "standard", "forgetting" })
                    expected.AddRange([$"Relearning {run} {code} {budget}", $"Assembly {run} {code} {budget}"]);
        CollectionAssert.AreEqual(expected, cache.Steps);
        Assert.AreEqual(2 + 2 * 2 * 2, cache.Fits);

        // One target vocabulary per language for both models (and every budget), so the pair differs only in pretraining.
        foreach (var code in new[] { "xa", "xb" })
        {
            Assert.AreEqual(cache.TokenizerFingerprints[("standard", code)], cache.TokenizerFingerprints[("forgetting", code)], code);
            Assert.AreEqual(result.TargetTokenizers[code].Fingerprint, cache.TokenizerFingerprints[("standard", code)], code);
        }
        Assert.AreNotEqual(result.TargetTokenizers["xa"].Fingerprint, result.TargetTokenizers["xb"].Fingerprint);

        // The budget run stops at its token budget; the curve is measured at 0 and every 2 updates.
        var full = result.Target("standard", "xa");
        Assert.AreEqual(4, full.Relearning.Steps.Count);
        CollectionAssert.AreEqual(new long[] { 0, 2, 4 }, full.Relearning.Validations.Select(v => v.Step).ToArray());
        foreach (var v in full.Relearning.Validations) Assert.IsTrue(v.Metrics[HistoryNames.ZeroShotAccuracy] is >= 0 and <= 1);
        Assert.IsTrue(result.Target("standard", "xa", 50).Relearning.Steps.Count is >= 1 and < 4, "a 50-token budget is fewer updates than 4 batches of 8 sequences");

        // Reports: the source row (the task model's, the same for every budget), then the targets.
        foreach (var run in new[] { "standard", "forgetting" })
            foreach (var budget in new long?[] { null, 50 })
            {
                var report = result.Report(run, budget);
                CollectionAssert.AreEqual(new[] { "en", "xa", "xb" }, report.Results.Select(r => r.Language).ToArray());
                Assert.AreEqual(result.TaskAdaptation(run).Source!.Accuracy, report["en"].Accuracy);
                Assert.AreEqual(result.Target(run, "xb", budget).Evaluation.Accuracy, report["xb"].Accuracy);
                Assert.AreEqual(24, report["xa"].Count);
            }
        Assert.IsTrue(TensorAssert.BitEqual(embeddingsBefore, models[0].LanguageModel.Model.TokenEmbeddings), "the pipeline changed a pretrained model");

        // A cache that loads every model instead of fitting reproduces every evaluation.
        var replay = new RecordingCache(ml, dir.Path) { Replay = true };
        var again = CrossLingualPipeline.Run(ml, models, inputs, Options(replay));
        Assert.AreEqual(0, replay.Fits);
        CollectionAssert.AreEqual(expected, replay.Steps);
        foreach (var t in result.Targets)
            Assert.AreEqual(t.Evaluation.Accuracy, again.Target(t.Run, t.Language, t.Budget).Evaluation.Accuracy, $"{t.Run} {t.Language} {t.Budget}");
    }

    [TestMethod]
    public void BadRunsAndOptionsFailBeforeAnyTraining()
    {
        var ml = new MLContext(1);
        var options = LanguageModelTests.TinyOptions(k: 0);
        options.MaxSteps = 2;
        var lm = LanguageModelTests.Fit(options: options).Model;
        var inputs = CrossLingualInputs.FromSyntheticTestbed(new SyntheticTestbed(), ["xa"], new SyntheticInputOptions { TrainExamples = 8, DevExamples = 4, CorpusSentences = 50 });
        var cache = new RecordingCache(ml, Path.GetTempPath());
        var twice = new List<CrossLingualPipeline.Pretrained> { new("a", lm), new("a", lm) };
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => CrossLingualPipeline.Run(ml, twice, inputs, Options(cache))).Message, "names must be unique");
        var badBudget = Options(cache);
        badBudget.RelearningBudgets = [0];
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => CrossLingualPipeline.Run(ml, lm, inputs, badBudget)).Message, "positive number of tokens");
        Assert.AreEqual(0, cache.Fits);
    }
}

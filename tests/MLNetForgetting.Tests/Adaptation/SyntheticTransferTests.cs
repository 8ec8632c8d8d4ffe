using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLNetForgetting.Adaptation;
using MLNetForgetting.Forgetting;
using MLNetForgetting.MLNet;
using MLNetForgetting.MLNet.CrossLingual;
using MLNetForgetting.Modeling;
using MLNetForgetting.Synthetic;
using MLNetForgetting.Tests.Infrastructure;
using MLNetForgetting.Text;
using MLNetForgetting.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNetForgetting.Tests.Adaptation;

/// <summary>
/// The whole pipeline on the synthetic testbed: pretrain en → task-adapt en (E frozen) → relearn E for
/// xa → assemble → zero-shot, through the one orchestrator (MLNet.CrossLingual.CrossLingualPipeline). Measured
/// before the pipeline moved onto the ML.NET estimators (same weights, seeds and settings; 2 CPU cores): en 0.664, xa 0.641, curve
/// 0.340 → 0.620 → 0.630 at updates 0/500/1000; ~70 s (pretrain 22 s, task 32 s, xa 14 s).
/// For reference, xb (SOV, adjectives after the noun) with the same settings reached only 0.341.
/// </summary>
[TestClass]
public sealed class SyntheticTransferTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [Timeout(240_000, CooperativeCancellation = true)]
    public void ZeroShotTransferToADerivedLanguageIsClearlyAboveChance()
    {
        var total = Stopwatch.StartNew();
        var testbed = new SyntheticTestbed();
        var englishCorpus = testbed.UnlabelledCorpus("en", 20_000, SyntheticTestbed.DatasetCorpusSeed).ToArray();
        var tokenizer = BpeVocabularyTrainer.Train(englishCorpus, new BpeTrainerOptions { VocabSize = 400 });
        var config = RobertaConfig.Tiny(tokenizer.VocabSize) with { HiddenSize = 64, NumAttentionHeads = 4, IntermediateSize = 128, MaxSequenceLength = 64 };
        using var model = new RobertaForMaskedLM(config);
        model.InitializeWeights(new Generator(11));
        var pretrain = ActiveForgetting.Pretrain(model, tokenizer, () => englishCorpus, new PretrainingSettings
        {
            ResetInterval = 0, MaxSteps = 1000, BatchSize = 32, MaxSequenceLength = 64, LearningRate = 2e-3, EmbeddingLearningRate = 2e-3,
            Seed = 1, LogInterval = 500,
        }, CPU, log: TestContext.WriteLine);
        var pretrainTime = total.Elapsed;

        var inputs = CrossLingualInputs.FromSyntheticTestbed(testbed, ["xa"], new SyntheticInputOptions { TrainExamples = 5000, DevExamples = 1000, CorpusSentences = 20_000 });
        var options = new CrossLingualPipeline.Options
        {
            Seed = 1, // task adaptation seed 2, relearning seed 3
            TaskAdaptation = new TaskAdaptationSettings { Epochs = 8, BatchSize = 32, LearningRate = 1e-3, MaxSequenceLength = 64, LogInterval = 200 },
            Relearning = new RelearningSettings { MaxSteps = 1000, BatchSize = 32, MaxSequenceLength = 64, LearningRate = 3e-3, EvaluationInterval = 500, LogInterval = 500 },
            TargetVocabularySize = 600,
            CurveDevExamples = 300,
        };
        var ml = new MLContext(1);
        ml.Log += (_, e) => { if (e.Source.StartsWith(LogSources.Prefix, StringComparison.Ordinal) && e.Kind >= ChannelMessageKind.Info) TestContext.WriteLine(e.RawMessage); };
        using var before = model.TokenEmbeddings.clone();
        var result = CrossLingualPipeline.Run(ml, AdaptationTestData.AsLanguageModel(ml, model, tokenizer), inputs, options);
        var report = result.Report("model");
        TestContext.WriteLine(report.ToMarkdown());
        var xaOutcome = result.Target("model", "xa");
        foreach (var v in xaOutcome.Relearning.Validations) TestContext.WriteLine($"curve xa {v.Step}: {v.Metrics[HistoryNames.ZeroShotAccuracy]:F3}");
        TestContext.WriteLine($"pretrain {pretrainTime.TotalSeconds:F0}s, task {result.TaskAdaptation("model").Time.TotalSeconds:F0}s, xa {xaOutcome.Time.TotalSeconds:F0}s, total {total.Elapsed.TotalSeconds:F0}s");
        Assert.IsTrue(TensorAssert.BitEqual(before, model.TokenEmbeddings), "the pipeline changed the pretrained model");
        Assert.AreEqual(report["en"].Accuracy, result.TaskAdaptation("model").Source!.Accuracy, "the report's English row is the task-adapted model's");
        double en = report["en"].Accuracy, xa = report["xa"].Accuracy;
        // Chance is 1/3 (balanced labels). With 1000 dev pairs a chance-level classifier has sd
        // sqrt(1/3·2/3/1000) = 0.0149, so 0.40 is chance + 4.5 sd (one-sided p < 1e-5).
        Assert.IsTrue(xa > 0.40, $"xa zero-shot accuracy {xa:F3} is not clearly above chance (0.40)");
        // xa differs from en only in its lexicon, so transfer is nearly lossless; the source language must still lead.
        Assert.IsTrue(en > xa, $"English accuracy {en:F3} should exceed the zero-shot {xa:F3}");
        // The adaptation curve starts at chance (random E) and rises as E is relearned.
        var curve = xaOutcome.Relearning.Validations;
        CollectionAssert.AreEqual(new long[] { 0, 500, 1000 }, curve.Select(v => v.Step).ToArray());
        Assert.IsTrue(curve[^1].Metrics[HistoryNames.ZeroShotAccuracy] > curve[0].Metrics[HistoryNames.ZeroShotAccuracy] + 0.1, "the adaptation curve did not rise");
        Assert.AreEqual(1000, xaOutcome.Relearning.Steps.Count);
    }
}

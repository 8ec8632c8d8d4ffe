using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLNetForgetting.MLNet;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Synthetic;
using MLNetForgetting.Tests.CrossLingual;
using MLNetForgetting.Tests.Pretraining;
using MLNetForgetting.Training;

namespace MLNetForgetting.Tests.MLNet;

/// <summary>Every simple overload reports progress in MLContext.Log under our source prefix and through IProgress; too-short runs warn there.</summary>
[TestClass]
public sealed class VisibilityTests
{
    private sealed class Collect : IProgress<TrainingProgress>
    {
        public readonly List<TrainingProgress> Reports = new();
        public void Report(TrainingProgress value) { lock (Reports) Reports.Add(value); }
    }

    [TestMethod]
    public void Simple_overloads_report_in_MLContext_Log_under_our_source_and_through_IProgress()
    {
        var ml = new MLContext(1);
        var ours = new List<LoggingEventArgs>();
        var sources = new HashSet<string>();
        ml.Log += (_, e) =>
        {
            lock (ours)
            {
                sources.Add(e.Source);
                if (e.Source.StartsWith(LogSources.Prefix, StringComparison.Ordinal)) ours.Add(e);
            }
        };
        var testbed = new SyntheticTestbed();
        var text = ml.Data.LoadFromEnumerable(testbed.UnlabelledCorpus("en", 200, 0).Select(t => new TextRow { Text = t }).ToList());

        var pretrainProgress = new Collect();
        // K = 8 with T = 10 updates: one reset, so a warning.
        var lm = ml.Transforms.Text.ActiveForgettingPretrainer(resetInterval: 8, maxSteps: 10, modelPreset: "Tiny", batchSize: 16, learningRate: 3e-3, progress: pretrainProgress).Fit(text);
        Assert.HasCount(10, pretrainProgress.Reports);
        Assert.IsTrue(ours.Any(e => e.Kind == ChannelMessageKind.Warning && e.Message.Contains("Fewer than two forgetting episodes")), "no short-run warning: " + string.Join("\n", ours.Select(e => e.Message)));
        Assert.IsTrue(ours.Any(e => e.Message.Contains("step 10/10")), "no progress line in the log");

        var relearnProgress = new Collect();
        var xa = ml.Data.LoadFromEnumerable(testbed.UnlabelledCorpus("xa", 600, 1).Select(t => new TextRow { Text = t }).ToList());
        int before = ours.Count;
        ml.Transforms.Text.EmbeddingRelearner(lm, maxSteps: 3, batchSize: 16, progress: relearnProgress, vocabularySize: 320).Fit(xa);
        Assert.HasCount(3, relearnProgress.Reports);
        Assert.IsTrue(ours.Skip(before).Any(e => e.Message.Contains("step 3/3")), "no relearning progress in the log");

        var pairs = ml.Data.LoadFromEnumerable(testbed.NliExamples("en", 32, 2).Select(e => new PairRow { Sentence1 = e.Premise, Sentence2 = e.Hypothesis, Label = e.Label }).ToList());
        var fineTuneProgress = new Collect();
        before = ours.Count;
        ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.SentencePairClassification(lm, maxEpochs: 1, batchSize: 16, progress: fineTuneProgress)).Fit(pairs);
        Assert.HasCount(2, fineTuneProgress.Reports);
        Assert.IsTrue(ours.Skip(before).Any(e => e.Message.Contains("step 2/2")), "no fine-tuning progress in the log");

        Assert.IsTrue(sources.Any(s => !s.StartsWith(LogSources.Prefix, StringComparison.Ordinal)), "ML.NET's own lines are there too, which is why the filter matters");
    }

    [TestMethod]
    public void Short_run_warnings_name_what_is_wrong()
    {
        Assert.IsEmpty(ActiveForgettingPretrainer.ShortRunWarnings(0, 100, 0.08), "standard pretraining has no episodes to warn about");
        Assert.IsEmpty(ActiveForgettingPretrainer.ShortRunWarnings(100, 20_000, 0.08));
        StringAssert.Contains(ActiveForgettingPretrainer.ShortRunWarnings(1000, 500, 0.08)[0], "so this run is standard pretraining");
        StringAssert.Contains(ActiveForgettingPretrainer.ShortRunWarnings(100, 500, 0.08)[0], "Only 5 forgetting episodes");
        var warm = ActiveForgettingPretrainer.ShortRunWarnings(10, 20_000, 0.08);
        Assert.IsTrue(warm.Any(w => w.Contains("shorter than one update of its warm-up")), string.Join("\n", warm));
    }
}

using MLNetForgetting.MLNet.Persistence;
using Microsoft.ML;
using MLNetForgetting.Adaptation;
using MLNetForgetting.MLNet.Classification;
using MLNetForgetting.MLNet.CrossLingual;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Persistence;
using MLNetForgetting.Synthetic;

namespace ConsumeModel;

/// <summary>
/// Makes a small sentence-pair classifier zip from the built-in synthetic testbed (English-like NLI with
/// an oracle), so the consumption and serving examples run without data or a prior `mlnf` run: a Tiny
/// model pretrained on synthetic English, then task-adapted on synthetic pairs, saved like
/// `mlnf finetune` saves its result.
/// </summary>
public static class SyntheticSampleModel
{
    /// <summary>How much to train: corpus size, pretraining updates, training pairs and fine-tuning updates.</summary>
    public sealed record Budget(int CorpusSentences, long PretrainSteps, int TrainPairs, long FineTuneSteps)
    {
        /// <summary>The example's default: clearly better than chance on the synthetic dev pairs.</summary>
        public static Budget Demo { get; } = new(10_000, 300, 2000, 300);

        /// <summary>Seconds, for tests: the mechanics without the accuracy.</summary>
        public static Budget Tiny { get; } = new(1500, 20, 200, 15);
    }

    /// <summary>Trains the classifier, writes it to <paramref name="zipPath"/> atomically and returns it.</summary>
    public static SentencePairClassifierTransformer Build(string zipPath, Budget budget, int seed = 1, Action<string>? log = null)
    {
        var ml = new MLContext(seed);
        var testbed = new SyntheticTestbed();
        var corpus = testbed.UnlabelledCorpus("en", budget.CorpusSentences, SyntheticTestbed.DatasetCorpusSeed).Select(t => new TextLine { Text = t }).ToList();
        log?.Invoke($"pretraining a Tiny model on {corpus.Count} synthetic English sentences ({budget.PretrainSteps} updates)");
        var languageModel = ml.Transforms.Text.ActiveForgettingPretrainer(new ActiveForgettingPretrainer.Options
        {
            ModelPreset = "Tiny", VocabularySize = 400, MaxSteps = budget.PretrainSteps, ResetInterval = 0, BatchSize = 32,
            MaxSequenceLength = 48, LearningRate = 2e-3, EmbeddingLearningRate = 2e-3, Seed = seed,
        }).Fit(ml.Data.LoadFromEnumerable(corpus));

        var pairs = ml.Data.LoadFromEnumerable(Pairs(testbed, budget.TrainPairs, SyntheticTestbed.DatasetTrainSeed));
        var labels = ml.Transforms.Conversion.MapValueToKey("Label").Fit(pairs);
        log?.Invoke($"fine-tuning on {budget.TrainPairs} synthetic NLI pairs ({budget.FineTuneSteps} updates)");
        var classifier = ml.MulticlassClassification.Trainers.SentencePairClassification(new SentencePairClassificationTrainer.Options
        {
            LanguageModel = languageModel, Seed = seed,
            Settings = new TaskAdaptationSettings { MaxSteps = budget.FineTuneSteps, BatchSize = 32, LearningRate = 1e-3, MaxSequenceLength = 48 },
        }).Fit(labels.Transform(pairs));
        ml.Model.SaveAtomic(classifier, pairs.Schema, zipPath);
        return classifier;
    }

    /// <summary>Synthetic English pairs with the oracle's label (dev pairs: <see cref="SyntheticTestbed.DatasetDevSeed"/>).</summary>
    public static List<SentencePairModel.ModelInput> Pairs(SyntheticTestbed testbed, int count, int seed) =>
        testbed.NliExamples("en", count, seed).Select(e => new SentencePairModel.ModelInput { Sentence1 = e.Premise, Sentence2 = e.Hypothesis, Label = e.Label }).ToList();

    private sealed class TextLine
    {
        public string Text { get; set; } = "";
    }
}

using Microsoft.ML;
using MLNetForgetting.MLNet.FewShot;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Prompts;
using MLNetForgetting.Synthetic;
using MLNetForgetting.Tests.CrossLingual;
using MLNetForgetting.Tests.Pretraining;

namespace MLNetForgetting.Tests.MLNet;

public sealed class FloatSentenceRow
{
    public string Sentence1 { get; set; } = "";
    public float Label { get; set; }
}

/// <summary>The simple catalog overloads: LiST label words come with the pretrained vocabulary, and the knobs of ML.NET's TextClassification reach training.</summary>
[TestClass]
public sealed class SimpleOverloadTests
{
    private static readonly SyntheticTestbed Testbed = new();

    private static LanguageModelTransformer Pretrain(MLContext ml, Action<ActiveForgettingPretrainer.Options>? change = null)
    {
        var o = LanguageModelTests.TinyOptions(k: 0);
        o.MaxSteps = 20; o.Seed = 2;
        change?.Invoke(o);
        return ml.Transforms.Text.ActiveForgettingPretrainer(o).Fit(ml.Data.LoadFromEnumerable(Testbed.UnlabelledCorpus("en", 600, 0).Select(t => new TextRow { Text = t }).ToList()));
    }

    [TestMethod]
    public void The_pretrained_vocabulary_holds_the_builtin_label_words_so_LiST_runs_with_float_labels()
    {
        var ml = new MLContext(1);
        var lm = Pretrain(ml);
        foreach (var task in LiSTTasks.All)
            Assert.HasCount(task.Verbalizer.Words.Count, task.Verbalizer.LabelWordIds(lm.Tokenizer), task.Name);

        // The README's first LiST step: float labels from a file, MapValueToKey, the simple overload, no unlabelled data.
        var rows = Testbed.NliExamples("en", 16, 3).Select((e, i) => new FloatSentenceRow { Sentence1 = e.Premise, Label = i % 2 }).ToList();
        var model = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.PromptAdapterSelfTrainer(lm, unlabelledData: null, task: "SST-2", maxEpochs: 1))
            .Fit(ml.Data.LoadFromEnumerable(rows));
        CollectionAssert.AreEquivalent(new[] { "0", "1" }, model.LastTransformer.LabelNames.ToArray());
    }

    [TestMethod]
    public void A_missing_label_word_names_the_pretrainer_option_that_adds_it()
    {
        var ml = new MLContext(1);
        var lm = Pretrain(ml, o => { o.RequiredTokens = []; o.MaxSteps = 2; });
        var e = Assert.ThrowsExactly<LabelWordException>(() => ml.MulticlassClassification.Trainers.PromptAdapterSelfTrainer(lm, null, task: "subj"));
        StringAssert.Contains(e.Message, "ActiveForgettingPretrainer.Options.RequiredTokens");
        // And the option takes words of one's own.
        lm = Pretrain(ml, o => { o.RequiredTokens = [.. ActiveForgettingPretrainer.Options.BuiltInLabelWords, " wonderful"]; o.MaxSteps = 2; });
        Assert.IsNotNull(lm.Tokenizer.SingleTokenId(" wonderful"));
    }

    [TestMethod]
    public void SentencePairClassification_takes_epochs_batch_size_and_learning_rate()
    {
        var ml = new MLContext(1);
        var lm = Pretrain(ml);
        var pairs = ml.Data.LoadFromEnumerable(Testbed.NliExamples("en", 96, 2).Select(e => new PairRow { Sentence1 = e.Premise, Sentence2 = e.Hypothesis, Label = e.Label }).ToList());
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(pairs).Transform(pairs);

        var knobs = ml.MulticlassClassification.Trainers.SentencePairClassification(lm, maxEpochs: 2, batchSize: 16, learningRate: 2e-3).Fit(keyed);
        Assert.HasCount(2 * 96 / 16, knobs.History.Steps, "2 epochs of 96 pairs in batches of 16");
        Assert.AreEqual(2e-3, knobs.History.Steps.Max(s => s.LearningRates.Values.Max()), 1e-9);

        // The defaults are sized for small models (10 epochs, batch 16, 1e-3), not the paper's batch 32 at 1e-5.
        var defaults = ml.MulticlassClassification.Trainers.SentencePairClassification(lm).Fit(keyed);
        Assert.HasCount(10 * 96 / 16, defaults.History.Steps, "10 epochs of 96 pairs in batches of 16");
        Assert.AreEqual(1e-3, defaults.History.Steps.Max(s => s.LearningRates.Values.Max()), 1e-9);
    }

    /// <summary>
    /// A small learnable pair task (is the second sentence negated?) on a Tiny model pretrained for 20 updates:
    /// the simple overload's defaults must beat the majority class clearly (halve its error). With the former
    /// defaults (3 epochs of batches of 32) the classifier stayed at the majority class.
    /// </summary>
    [TestMethod]
    public void The_simple_pair_classifier_defaults_learn_a_small_task_on_a_tiny_model()
    {
        var ml = new MLContext(1);
        var lm = Pretrain(ml);
        static PairRow Row(NliExample e) => new() { Sentence1 = e.Premise, Sentence2 = e.Hypothesis, Label = e.Hypothesis.Contains(" not ") ? "negated" : "affirmed" };
        var train = ml.Data.LoadFromEnumerable(Testbed.NliExamples("en", 400, 2).Select(Row).ToList());
        var devRows = Testbed.NliExamples("en", 300, 1).Select(Row).ToList();
        var labels = ml.Transforms.Conversion.MapValueToKey("Label").Fit(train);
        var classifier = ml.MulticlassClassification.Trainers.SentencePairClassification(lm).Fit(labels.Transform(train));
        var metrics = ml.MulticlassClassification.Evaluate(classifier.Transform(labels.Transform(ml.Data.LoadFromEnumerable(devRows))), "Label", "Score", "PredictedLabel");
        double majority = devRows.GroupBy(r => r.Label).Max(g => g.Count()) / (double)devRows.Count;
        Assert.IsTrue(majority < 0.95, $"the premise: a task with a majority class below 95% ({majority:P1})");
        Assert.IsTrue(metrics.MicroAccuracy > majority + (1 - majority) / 2,
            $"dev accuracy {metrics.MicroAccuracy:P1} does not clearly beat the majority class ({majority:P1}); losses {string.Join(", ", classifier.History.Steps.Where((_, i) => i % 25 == 0).Select(x => x.Loss.ToString("F3")))}");
    }
}

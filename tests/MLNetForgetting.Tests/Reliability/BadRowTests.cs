using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetForgetting.MLNet.Classification;
using MLNetForgetting.MLNet.FewShot;
using MLNetForgetting.Tests.Pretraining;
using MLNetForgetting.Text;

namespace MLNetForgetting.Tests.Reliability;

public sealed class EmbeddedWeightedRow
{
    public float Weight { get; set; }
    [VectorType] public float[] Features { get; set; } = Array.Empty<float>();
}

public sealed class ScoredWeightedRow
{
    public float Weight { get; set; }
    [VectorType] public float[] Score { get; set; } = Array.Empty<float>();
    public uint PredictedLabel { get; set; }
}

/// <summary>
/// Dirty rows (null, empty, whitespace-only, 1 MB, control characters, unpaired surrogates, mixed
/// scripts, right-to-left; unseen labels; NaN in a pass-through numeric column) in training and in
/// prediction for the pretrainer, the sentence-pair classifier and LiST. The behaviour asserted here is
/// the one docs/reliability.md documents.
/// </summary>
[TestClass]
public sealed class BadRowTests
{
    private static DirtyModels.Set Set => DirtyModels.Value;

    private static IEnumerable<(string Name, string? Text)> Cases => DirtyText.Cases;

    // ---- pretrainer ----

    [TestMethod]
    public void PretrainingSkipsBlankRowsAndTrainsOnEveryOtherDirtyRow()
    {
        // One epoch in batches of 16: the update count shows which rows were trained on.
        int expectedRows = 300 + Cases.Count(c => !DirtyText.IsBlank(c.Text));
        Assert.AreEqual(expectedRows, Set.PretrainRows);
        Assert.HasCount((expectedRows + 15) / 16, Set.LanguageModel.History.Steps, "null, empty and whitespace-only rows are skipped; every other row is one sequence");
        Assert.IsTrue(Set.LanguageModel.History.Steps.All(s => double.IsFinite(s.Loss)));
    }

    [TestMethod]
    public void LanguageModelEmbedsEveryDirtyRowAndPassesNaNThrough()
    {
        var lm = Set.LanguageModel;
        var rows = Cases.Select(c => new WeightedTextRow { Text = c.Text, Weight = float.NaN }).ToList();
        var viaTransform = Set.Ml.Data.CreateEnumerable<EmbeddedWeightedRow>(lm.Transform(Set.Ml.Data.LoadFromEnumerable(rows)), reuseRowObject: false).ToList();
        var engine = Set.Ml.Model.CreatePredictionEngine<WeightedTextRow, EmbeddedWeightedRow>(lm);
        var embeddings = lm.Embed(Cases.Select(c => c.Text).ToList());
        int i = 0;
        foreach (var (name, text) in Cases)
        {
            var viaEngine = engine.Predict(rows[i]);
            Assert.IsTrue(float.IsNaN(viaTransform[i].Weight) && float.IsNaN(viaEngine.Weight), $"{name}: the NaN pass-through column changed");
            Assert.HasCount(32, viaTransform[i].Features, name);
            Assert.IsTrue(viaTransform[i].Features.All(float.IsFinite), $"{name}: non-finite embedding");
            CollectionAssert.AreEqual(viaTransform[i].Features, viaEngine.Features, new FloatComparer(1e-5f), $"{name}: engine vs Transform");
            CollectionAssert.AreEqual(embeddings[i], viaTransform[i].Features, new FloatComparer(1e-5f), $"{name}: Embed vs Transform");
            i++;
        }
        // What each case means: null is empty text (<s></s>); control characters are dropped and
        // unpaired surrogates become U+FFFD (TextNormalization); 1 MB is truncated to MaxSequenceLength.
        string[] probes = ["", TextNormalization.Normalize(Cases.Single(c => c.Name == "control characters").Text),
            Cases.Single(c => c.Name == "unpaired surrogates").Text!.Replace('\ud800', '\uFFFD').Replace('\udc00', '\uFFFD').Replace('\udbff', '\uFFFD'),
            DirtyText.OneMegabyte[..2000]];
        var expected = lm.Embed(probes);
        AssertSame(expected[0], embeddings[0], "null = empty");
        AssertSame(expected[0], embeddings[1], "empty");
        AssertSame(expected[1], embeddings[4], "control characters are removed");
        Assert.AreNotEqual(Cases.Single(c => c.Name == "control characters").Text, probes[1]);
        AssertSame(expected[2], embeddings[5], "unpaired surrogates = U+FFFD");
        AssertSame(expected[3], embeddings[3], "1 MB is truncated to its first tokens");
    }

    private static void AssertSame(float[] expected, float[] actual, string what) =>
        CollectionAssert.AreEqual(expected, actual, new FloatComparer(1e-5f), what);

    // ---- sentence-pair classifier ----

    [TestMethod]
    public void PairClassifierTrainsOnDirtyPairs()
    {
        var classifier = ((TransformerChain<SentencePairClassifierTransformer>)Set.Classifier).LastTransformer;
        // Each dirty text was put in once as the premise and once as the hypothesis; pairs with a blank sentence are skipped.
        Assert.AreEqual(2 * Cases.Count(c => DirtyText.IsBlank(c.Text)), Set.PairRowsSkipped);
        Assert.HasCount(6, classifier.History.Steps);
        Assert.IsTrue(classifier.History.Steps.All(s => double.IsFinite(s.Loss)));
    }

    [TestMethod]
    public void PairClassifierScoresDirtyPairsUnseenLabelsAndPassesNaNThrough()
    {
        var rows = new List<WeightedPairRow>();
        foreach (var (_, text) in Cases)
        {
            rows.Add(new WeightedPairRow { Sentence1 = text, Sentence2 = "the house is big", Label = "entailment", Weight = float.NaN });
            rows.Add(new WeightedPairRow { Sentence1 = "the house is big", Sentence2 = text, Label = "never-seen-label", Weight = float.NaN });
            rows.Add(new WeightedPairRow { Sentence1 = text, Sentence2 = text, Label = "", Weight = float.NaN });
        }
        CheckScored(Set.Classifier, rows, classes: 3, labelledByChain: true);
        CheckScored(Set.Assembled, rows, classes: 3, labelledByChain: false);
    }

    // ---- LiST ----

    [TestMethod]
    public void ListTrainsOnDirtyRowsAndScoresThem()
    {
        var list = ((TransformerChain<PromptAdapterTransformer>)Set.List).LastTransformer;
        Assert.IsNotNull(list.Training);
        // Blank rows are skipped among the labelled and the unlabelled rows alike.
        Assert.AreEqual(2 * Cases.Count(c => DirtyText.IsBlank(c.Text)), Set.ListRowsSkipped);
        var rows = Cases.Select(c => new WeightedSentenceRow { Sentence1 = c.Text, Label = "1", Weight = float.NaN })
            .Append(new WeightedSentenceRow { Sentence1 = "a fine film", Label = "7", Weight = float.NaN }).ToList(); // "7": a label never seen in training
        CheckScored(Set.List, rows, classes: 2, labelledByChain: true);
    }

    [TestMethod]
    public void ListTrainingWithALabelOutsideTheVerbalizerNamesIt()
    {
        var rows = new[] { "0", "1", "neutral" }.Select(l => new WeightedSentenceRow { Sentence1 = "a film", Label = l, Weight = float.NaN });
        var lm = Set.LanguageModel;
        var ex = Assert.ThrowsExactly<ArgumentException>(() => Set.Ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(Set.Ml.MulticlassClassification.Trainers.PromptAdapterSelfTrainer(new PromptAdapterSelfTrainer.Options { LanguageModel = lm, Task = "SST-2" }))
            .Fit(Set.Ml.Data.LoadFromEnumerable(rows)));
        StringAssert.Contains(ex.Message, "'neutral'");
    }

    /// <summary>Transform and PredictionEngine agree, scores are probabilities, NaN passes through, unseen labels map to the missing key 0.</summary>
    private static void CheckScored<TIn>(ITransformer model, List<TIn> rows, int classes, bool labelledByChain) where TIn : class
    {
        var ml = Set.Ml;
        var scored = model.Transform(ml.Data.LoadFromEnumerable(rows));
        var viaTransform = ml.Data.CreateEnumerable<ScoredWeightedRow>(scored, reuseRowObject: false).ToList();
        var engine = ml.Model.CreatePredictionEngine<TIn, ScoredWeightedRow>(model);
        Assert.HasCount(rows.Count, viaTransform);
        for (int i = 0; i < rows.Count; i++)
        {
            var r = viaTransform[i];
            Assert.IsTrue(float.IsNaN(r.Weight), "the NaN pass-through column changed");
            Assert.HasCount(classes, r.Score);
            Assert.IsTrue(r.Score.All(float.IsFinite) && Math.Abs(r.Score.Sum() - 1) < 1e-4, $"row {i}: not a probability vector: {string.Join(", ", r.Score)}");
            Assert.IsTrue(r.PredictedLabel >= 1 && r.PredictedLabel <= classes);
            var one = engine.Predict(rows[i]);
            CollectionAssert.AreEqual(r.Score, one.Score, new FloatComparer(1e-5f), $"row {i}: engine vs Transform");
            Assert.IsTrue(float.IsNaN(one.Weight));
        }
        if (labelledByChain)
        {
            // Unseen (and empty) label values become the missing key 0; the prediction does not depend on the label.
            var labels = ml.Data.CreateEnumerable<LabelKeyRow>(scored, reuseRowObject: false).Select(r => r.Label).ToArray();
            Assert.IsTrue(labels.Contains(0u), "an unseen label should map to key 0 (missing)");
            var metrics = ml.MulticlassClassification.Evaluate(scored, "Label", "Score", "PredictedLabel");
            Assert.IsTrue(metrics.MicroAccuracy is >= 0 and <= 1, "the evaluator must cope with missing labels");
        }
    }
}

public sealed class LabelKeyRow
{
    public uint Label { get; set; }
}

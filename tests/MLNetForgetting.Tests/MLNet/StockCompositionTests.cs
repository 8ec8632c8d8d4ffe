using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetForgetting.Adaptation;
using MLNetForgetting.MLNet.CrossLingual;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Synthetic;
using MLNetForgetting.Tests.Infrastructure;
using MLNetForgetting.Tests.Pretraining;

namespace MLNetForgetting.Tests.MLNet;

/// <summary>Every column a chain below reads; Model Builder's ModelInput has the label too.</summary>
public sealed class ChainRow
{
    public string Text { get; set; } = "";
    public string Sentence1 { get; set; } = "";
    public string Sentence2 { get; set; } = "";
    public string Label { get; set; } = "";
}

/// <summary>Model Builder's ModelOutput: the predicted label as the label's own text.</summary>
public sealed class ChainPrediction
{
    [ColumnName("PredictedLabel")] public string PredictedLabel { get; set; } = "";
    [ColumnName("Score")] public float[] Score { get; set; } = Array.Empty<float>();
}

/// <summary>
/// One EstimatorChain per component, composed with stock ML.NET transforms and trainers exactly as a
/// user would write it; each is fitted, evaluated, saved, loaded in a new process and served through a
/// PredictionEngine whose output class binds <c>string PredictedLabel</c>. Tiny sizes: mechanics, not accuracy.
/// </summary>
[TestClass]
public sealed class StockCompositionTests
{
    private static readonly SyntheticTestbed Testbed = new();

    private static ChainRow[] Rows(int count, int seed) => Testbed.NliExamples("en", count, seed)
        .Select(e => new ChainRow { Text = e.Premise + " " + e.Hypothesis, Sentence1 = e.Premise, Sentence2 = e.Hypothesis, Label = e.Label }).ToArray();

    private static ActiveForgettingPretrainer.Options Tiny(string output = "Features")
    {
        var o = LanguageModelTests.TinyOptions(k: 5);
        o.MaxSteps = 10; o.OutputColumnName = output; o.Seed = 3;
        return o;
    }

    private static readonly Lazy<(MLContext Ml, LanguageModelTransformer Lm)> Pretrained = new(() =>
    {
        var ml = new MLContext(7);
        var text = ml.Data.LoadFromEnumerable(Testbed.UnlabelledCorpus("en", 800, seed: 0).Select(t => new TextRow { Text = t }).ToList());
        var o = Tiny(); o.MaxSteps = 20;
        return (ml, ml.Transforms.Text.ActiveForgettingPretrainer(o).Fit(text));
    });

    [TestMethod]
    public void Pretrainer_declares_a_known_size_Features_column()
    {
        var ml = new MLContext(1);
        var shape = SchemaShape.Create(ml.Data.LoadFromEnumerable(Rows(1, 0)).Schema);
        var output = ml.Transforms.Text.ActiveForgettingPretrainer(Tiny()).GetOutputSchema(shape);
        Assert.IsTrue(output.TryFindColumn("Features", out var features));
        Assert.AreEqual(SchemaShape.Column.VectorKind.Vector, features.Kind, "a variable-size vector stops NormalizeMinMax and every stock trainer");
        Assert.AreEqual(32, ml.Transforms.Text.ActiveForgettingPretrainer(Tiny()).EmbeddingWidth, "the Tiny preset is 32 wide");
    }

    [TestMethod]
    public void Pretrainer_NormalizeMinMax_LbfgsMaximumEntropy_in_one_chain()
    {
        var ml = new MLContext(1);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.Text.ActiveForgettingPretrainer(Tiny()))
            .Append(ml.Transforms.NormalizeMinMax("Features"))
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy())
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        FitEvaluateSaveAndServeInAChild(ml, pipeline, "lbfgs");
    }

    [TestMethod]
    public void FeaturizeText_beside_the_pretrainer_in_Concatenate_then_SdcaMaximumEntropy()
    {
        var ml = new MLContext(1);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.Text.FeaturizeText("Ngrams", "Text"))
            .Append(ml.Transforms.Text.ActiveForgettingPretrainer(Tiny("Embedding")))
            .Append(ml.Transforms.Concatenate("Features", "Ngrams", "Embedding"))
            .Append(ml.Transforms.NormalizeMinMax("Features"))
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(maximumNumberOfIterations: 5))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        FitEvaluateSaveAndServeInAChild(ml, pipeline, "sdca");
    }

    [TestMethod]
    public void Relearned_model_feeds_a_stock_trainer_in_one_chain()
    {
        var (_, lm) = Pretrained.Value;
        var ml = new MLContext(1);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.Text.EmbeddingRelearner(new EmbeddingRelearner.Options
            {
                LanguageModel = lm, VocabularySize = 400, Seed = 1, Settings = new RelearningSettings { MaxSteps = 5, BatchSize = 16 },
            }))
            .Append(ml.Transforms.NormalizeMinMax("Features"))
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy())
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        FitEvaluateSaveAndServeInAChild(ml, pipeline, "relearned");
    }

    [TestMethod]
    public void SentencePairClassification_then_MapKeyToValue_in_one_chain()
    {
        var (_, lm) = Pretrained.Value;
        var ml = new MLContext(1);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.SentencePairClassification(new SentencePairClassificationTrainer.Options
            {
                LanguageModel = lm, Seed = 1, Settings = new TaskAdaptationSettings { MaxSteps = 6, BatchSize = 16, LearningRate = 1e-3 },
            }))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        FitEvaluateSaveAndServeInAChild(ml, pipeline, "pair");
    }

    private static void FitEvaluateSaveAndServeInAChild(MLContext ml, IEstimator<ITransformer> pipeline, string name)
    {
        var train = ml.Data.LoadFromEnumerable(Rows(90, seed: 2));
        var test = ml.Data.LoadFromEnumerable(Rows(30, seed: 1));
        var model = pipeline.Fit(train);

        // Evaluate on the key-valued PredictedLabel, i.e. before the last step maps it back to text.
        var parts = ((IEnumerable<ITransformer>)model).ToArray();
        var beforeNames = new TransformerChain<ITransformer>(parts[..^1]);
        var metrics = ml.MulticlassClassification.Evaluate(beforeNames.Transform(test), "Label", "Score", "PredictedLabel");
        Assert.AreEqual(3, metrics.ConfusionMatrix.NumberOfClasses);
        Assert.IsTrue(metrics.MicroAccuracy is >= 0 and <= 1);

        using var dir = new TempDir();
        string zip = dir.File(name + ".zip");
        ml.Model.Save(model, train.Schema, zip);
        var rows = Rows(8, seed: 5);
        using var engine = ml.Model.CreatePredictionEngine<ChainRow, ChainPrediction>(model);
        var expected = rows.Select(r => engine.Predict(r)).ToArray();
        var labels = new HashSet<string> { "entailment", "neutral", "contradiction" };
        Assert.IsTrue(expected.All(p => labels.Contains(p.PredictedLabel)), "PredictedLabel is not the label's name: " + string.Join(", ", expected.Select(p => p.PredictedLabel)));

        File.WriteAllText(dir.File("in.json"), JsonSerializer.Serialize(rows));
        ChildProcess.RunChecked("predict-chain-zip", zip, dir.File("in.json"), dir.File("out.json"));
        var child = JsonSerializer.Deserialize<ChainPrediction[]>(File.ReadAllText(dir.File("out.json")))!;
        for (int i = 0; i < rows.Length; i++)
        {
            Assert.AreEqual(expected[i].PredictedLabel, child[i].PredictedLabel, $"row {i}");
            CollectionAssert.AreEqual(expected[i].Score, child[i].Score, new FloatComparer(1e-5f), $"row {i} scores");
        }
    }
}

public static class ChainZipChildActions
{
    /// <summary>Args: model zip, input JSON (ChainRow[]), output JSON (ChainPrediction[]). Loads with plain ML.NET and serves through a PredictionEngine.</summary>
    [ChildAction("predict-chain-zip")]
    public static int Predict(string[] args)
    {
        var ml = new MLContext();
        var model = ml.Model.Load(args[0], out _);
        using var engine = ml.Model.CreatePredictionEngine<ChainRow, ChainPrediction>(model);
        var rows = JsonSerializer.Deserialize<ChainRow[]>(File.ReadAllText(args[1]))!;
        File.WriteAllText(args[2], JsonSerializer.Serialize(rows.Select(r => engine.Predict(r)).ToArray()));
        return 0;
    }
}

using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetForgetting.Adaptation;
using MLNetForgetting.MLNet.Classification;
using MLNetForgetting.MLNet.CrossLingual;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Synthetic;
using MLNetForgetting.Tests.Infrastructure;
using MLNetForgetting.Tests.Pretraining;

namespace MLNetForgetting.Tests.CrossLingual;

public sealed class PairRow
{
    public string Sentence1 { get; set; } = "";
    public string Sentence2 { get; set; } = "";
    public string Label { get; set; } = "";
}

public sealed class PairPrediction
{
    [VectorType] public float[] Score { get; set; } = Array.Empty<float>();
}

/// <summary>The four stages through the public ML.NET API on the synthetic testbed (small: mechanics, not accuracy; the core test covers accuracy).</summary>
[TestClass]
public sealed class CrossLingualPipelineMLNetTests
{
    private static IDataView Pairs(MLContext ml, SyntheticTestbed testbed, string code, int count, int seed) =>
        ml.Data.LoadFromEnumerable(testbed.NliExamples(code, count, seed).Select(e => new PairRow { Sentence1 = e.Premise, Sentence2 = e.Hypothesis, Label = e.Label }).ToList());

    [TestMethod]
    public void FourStagesThroughMLNetAssembleEvaluateAndRoundTrip()
    {
        var ml = new MLContext(5);
        var testbed = new SyntheticTestbed();
        var english = ml.Data.LoadFromEnumerable(testbed.UnlabelledCorpus("en", 2000, seed: 0).Select(t => new TextRow { Text = t }).ToList());
        var options = LanguageModelTests.TinyOptions(k: 20);
        options.MaxSteps = 60; options.VocabularySize = 400;
        var pretrained = ml.Transforms.Text.ActiveForgettingPretrainer(options).Fit(english);

        // Stage 3: task adaptation on English pairs, token embeddings frozen.
        var mapLabel = ml.Transforms.Conversion.MapValueToKey("Label");
        var train = Pairs(ml, testbed, "en", 300, seed: 2);
        var labelMap = mapLabel.Fit(train);
        var trainer = ml.MulticlassClassification.Trainers.SentencePairClassification(new SentencePairClassificationTrainer.Options
        {
            LanguageModel = pretrained, Settings = new TaskAdaptationSettings { MaxSteps = 20, BatchSize = 16, LearningRate = 1e-3 },
        });
        var taskAdapted = trainer.Fit(labelMap.Transform(train));
        Assert.IsTrue(TensorAssert.BitEqual(pretrained.Model.TokenEmbeddings, taskAdapted.Model.TokenEmbeddings), "task adaptation changed the frozen token embeddings");
        Assert.IsFalse(TensorAssert.BitEqual(pretrained.Model.NamedTensors()["roberta.encoder.layer.0.output.dense.weight"], taskAdapted.Model.NamedTensors()["roberta.encoder.layer.0.output.dense.weight"]), "the body did not train");

        // Stage 2: relearn embeddings for xa; the pretrained model is left as it was.
        var before = pretrained.Model.NamedTensors().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var xaText = ml.Data.LoadFromEnumerable(testbed.UnlabelledCorpus("xa", 2000, seed: 1).Select(t => new TextRow { Text = t }).ToList());
        var relearner = ml.Transforms.Text.EmbeddingRelearner(new EmbeddingRelearner.Options
        {
            LanguageModel = pretrained, VocabularySize = 400, Settings = new RelearningSettings { MaxSteps = 30, BatchSize = 16, LearningRate = 3e-3, EvaluationInterval = 15 },
            Evaluate = (model, step) => new Dictionary<string, double> { ["embedding_norm"] = model.TokenEmbeddings.norm().item<float>() },
        });
        var relearned = relearner.Fit(xaText);
        foreach (var (name, t) in before) Assert.IsTrue(TensorAssert.BitEqual(t, pretrained.Model.NamedTensors()[name]), $"relearning changed the input model's {name}");
        foreach (var (name, t) in relearned.Model.BodyParameters())
            if (name != "lm_head.bias") Assert.IsTrue(TensorAssert.BitEqual(before[name], t), $"relearning changed body parameter {name}");
        CollectionAssert.AreEqual(new long[] { 0, 15, 30 }, relearned.History.Validations.Select(v => v.Step).ToArray(), "adaptation-curve evaluations");
        Assert.AreNotEqual(pretrained.Tokenizer.Fingerprint, relearned.Tokenizer.Fingerprint);

        // Stage 4: assemble and evaluate zero-shot on xa with ML.NET's evaluator.
        var assembled = taskAdapted.Assemble(relearned, ml, "xa");
        Assert.IsTrue(TensorAssert.BitEqual(relearned.Model.TokenEmbeddings, assembled.Model.TokenEmbeddings));
        Assert.IsTrue(TensorAssert.BitEqual(taskAdapted.Model.NamedTensors()["classifier.out_proj.weight"], assembled.Model.NamedTensors()["classifier.out_proj.weight"]));
        var xaDev = labelMap.Transform(Pairs(ml, testbed, "xa", 90, seed: 1));
        var metrics = ml.MulticlassClassification.Evaluate(assembled.Transform(xaDev), "Label", "Score", "PredictedLabel");
        Assert.IsTrue(metrics.MicroAccuracy is >= 0 and <= 1);
        Assert.AreEqual(3, metrics.ConfusionMatrix.NumberOfClasses);

        // The assembled model round-trips through a zip in a new process.
        using var dir = new TempDir();
        string zip = dir.File("assembled.zip");
        var chain = labelMap.Append(assembled);
        ml.Model.Save(chain, Pairs(ml, testbed, "xa", 1, 0).Schema, zip);
        var rows = testbed.NliExamples("xa", 10, seed: 7).Select(e => new[] { e.Premise, e.Hypothesis }).ToArray();
        File.WriteAllText(dir.File("in.json"), JsonSerializer.Serialize(rows));
        ChildProcess.RunChecked("score-pairs-zip", zip, dir.File("in.json"), dir.File("out.json"));
        var child = JsonSerializer.Deserialize<float[][]>(File.ReadAllText(dir.File("out.json")))!;
        var expected = assembled.PredictProbabilities(rows.Select(r => r[0]).ToList(), rows.Select(r => r[1]).ToList());
        for (int i = 0; i < rows.Length; i++) CollectionAssert.AreEqual(expected[i], child[i], new FloatComparer(1e-5f), $"row {i}");
    }

    [TestMethod]
    public void UnmappedLabelsFailWithAHint()
    {
        var ml = new MLContext(1);
        var options = LanguageModelTests.TinyOptions(k: 0);
        options.MaxSteps = 2;
        var lm = LanguageModelTests.Fit(options: options).Model;
        var data = ml.Data.LoadFromEnumerable(new[] { new PairRow { Sentence1 = "a", Sentence2 = "b", Label = "entailment" } });
        var ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.SentencePairClassification(lm).Fit(data));
        StringAssert.Contains(ex.Message, "'Label'");
    }
}

public static class PairZipChildActions
{
    /// <summary>Args: model zip, input JSON (string[][] premise/hypothesis), output JSON (float[][] scores).</summary>
    [ChildAction("score-pairs-zip")]
    public static int ScorePairs(string[] args)
    {
        var ml = new MLContext();
        var model = ml.Model.Load(args[0], out _);
        var pairs = JsonSerializer.Deserialize<string[][]>(File.ReadAllText(args[1]))!;
        var data = ml.Data.LoadFromEnumerable(pairs.Select(p => new PairRow { Sentence1 = p[0], Sentence2 = p[1], Label = "entailment" }));
        var scores = ml.Data.CreateEnumerable<PairPrediction>(model.Transform(data), reuseRowObject: false).Select(r => r.Score).ToArray();
        File.WriteAllText(args[2], JsonSerializer.Serialize(scores));
        return 0;
    }
}

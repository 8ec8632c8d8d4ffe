using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Tests.Infrastructure;
using MLNetForgetting.Tests.Text;
using MLNetForgetting.Training;

namespace MLNetForgetting.Tests.Pretraining;

public sealed class TextRow
{
    public string Text { get; set; } = "";
}

public sealed class EmbeddingRow
{
    public string Text { get; set; } = "";
    [VectorType] public float[] Features { get; set; } = Array.Empty<float>();
}

[TestClass]
public sealed class LanguageModelTests
{
    public TestContext TestContext { get; set; } = null!;

    internal static readonly Lazy<string[]> EnglishLines = new(() =>
        TextTestData.RawLines("en").Where(l => l.Length is > 20 and < 300).Take(600).ToArray());

    internal static ActiveForgettingPretrainer.Options TinyOptions(long k = 10) => new()
    {
        ModelPreset = "Tiny", VocabularySize = 400, MaxSteps = 30, ResetInterval = k, BatchSize = 16, MaxSequenceLength = 48, LearningRate = 3e-3, EmbeddingLearningRate = 3e-3,
    };

    internal static (MLContext Ml, LanguageModelTransformer Model, IDataView Data) Fit(int seed = 1, ActiveForgettingPretrainer.Options? options = null)
    {
        var ml = new MLContext(seed);
        var data = ml.Data.LoadFromEnumerable(EnglishLines.Value.Select(l => new TextRow { Text = l }));
        var model = ml.Transforms.Text.ActiveForgettingPretrainer(options ?? TinyOptions()).Fit(data);
        return (ml, model, data);
    }

    private static readonly string[] Probe = { "The house stood on a hill above the river.", "", "Music was played at the festival.", "Ελληνικά και 中文 mixed text" };

    [TestMethod]
    public void FitsAddsSentenceEmbeddingsAndKeepsTheHistory()
    {
        var (ml, model, data) = Fit();
        var schema = model.GetOutputSchema(data.Schema);
        Assert.AreEqual(32, schema["Features"].Type.GetValueCount());
        var rows = ml.Data.CreateEnumerable<EmbeddingRow>(model.Transform(ml.Data.LoadFromEnumerable(Probe.Select(t => new TextRow { Text = t }))), reuseRowObject: false).ToList();
        Assert.HasCount(Probe.Length, rows);
        Assert.IsTrue(rows.All(r => r.Features.Length == 32 && r.Features.All(float.IsFinite)));
        Assert.IsFalse(rows[0].Features.SequenceEqual(rows[2].Features), "different sentences gave the same embedding");
        Assert.HasCount(30, model.History.Steps);
        CollectionAssert.AreEqual(new long[] { 10, 20 }, model.History.Events.Select(e => e.Step).ToArray());
        Assert.AreEqual(10, model.ResetInterval);
        // The same rows through the prediction engine give the batched results.
        var engine = ml.Model.CreatePredictionEngine<TextRow, EmbeddingRow>(model);
        for (int i = 0; i < Probe.Length; i++)
            CollectionAssert.AreEqual(rows[i].Features, engine.Predict(new TextRow { Text = Probe[i] }).Features, new FloatComparer(1e-5f), $"row {i}");
        // History exports.
        using var dir = new TempDir();
        model.ExportHistory(dir.File("h.csv"));
        model.ExportHistory(dir.File("h.json"));
        var csv = File.ReadAllLines(dir.File("h.csv"));
        Assert.HasCount(31, csv);
        StringAssert.StartsWith(csv[0], "step,loss,tokens_per_second,lr_body,lr_embeddings,event");
        StringAssert.Contains(csv[10], ",reset");
        Assert.HasCount(30, TrainingHistory.FromJson(File.ReadAllText(dir.File("h.json"))).Steps);
    }

    [TestMethod]
    public void SameMLContextSeedGivesTheSameModel()
    {
        var a = Fit(seed: 7).Model;
        var b = Fit(seed: 7).Model;
        CollectionAssert.AreEqual(a.History.Steps.Select(s => s.Loss).ToArray(), b.History.Steps.Select(s => s.Loss).ToArray());
        CollectionAssert.AreEqual(a.Embed(Probe)[0], b.Embed(Probe)[0]);
    }

    [TestMethod]
    public void SavedZipLoadsInANewProcessWithTheSameEmbeddings()
    {
        var (ml, model, data) = Fit();
        using var dir = new TempDir();
        string zip = dir.File("lm.zip"), input = dir.File("in.json"), output = dir.File("out.json");
        ml.Model.Save(model, data.Schema, zip);
        File.WriteAllText(input, JsonSerializer.Serialize(Probe));
        ChildProcess.RunChecked("embed-zip", zip, input, output);
        var child = JsonSerializer.Deserialize<LanguageModelChildActions.Output>(File.ReadAllText(output))!;
        var expected = model.Embed(Probe);
        for (int i = 0; i < Probe.Length; i++)
        {
            CollectionAssert.AreEqual(expected[i], child.Transform[i], new FloatComparer(1e-5f), $"Transform row {i}");
            CollectionAssert.AreEqual(expected[i], child.Engine[i], new FloatComparer(1e-5f), $"PredictionEngine row {i}");
        }
        Assert.AreEqual(30, child.HistorySteps, "the history did not travel with the model");
        Assert.AreEqual(10, child.ResetInterval);
    }

    [TestMethod]
    public void WrongColumnTypeFailsAtSchemaTime()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(new[] { new { Text = 1.5f } });
        var estimator = ml.Transforms.Text.ActiveForgettingPretrainer(TinyOptions());
        var ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(SchemaShape.Create(data.Schema)));
        StringAssert.Contains(ex.Message, "'Text'");
        StringAssert.Contains(ex.Message, "expected String");
        ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => estimator.Fit(ml.Data.LoadFromEnumerable(new[] { new { Other = "x" } })));
        StringAssert.Contains(ex.Message, "Could not find input column 'Text'");
    }

    [TestMethod]
    public void EmptyOrBlankDataFailsAtFitWithCounts()
    {
        var ml = new MLContext(1);
        var estimator = ml.Transforms.Text.ActiveForgettingPretrainer(TinyOptions());
        var ex = Assert.ThrowsExactly<InvalidOperationException>(() => estimator.Fit(ml.Data.LoadFromEnumerable(Array.Empty<TextRow>())));
        StringAssert.Contains(ex.Message, "no non-empty text");
        ex = Assert.ThrowsExactly<InvalidOperationException>(() => estimator.Fit(ml.Data.LoadFromEnumerable(new[] { "", "  ", "\t" }.Select(t => new TextRow { Text = t }))));
        StringAssert.Contains(ex.Message, "3 rows read, 3 empty");
    }

    [TestMethod]
    public void BlankRowsAmongRealTextAreSkippedNotFatal()
    {
        var ml = new MLContext(1);
        var lines = EnglishLines.Value.Take(200).SelectMany(l => new[] { l, "", "   " }).Select(t => new TextRow { Text = t });
        var options = TinyOptions();
        options.MaxSteps = 0; options.MaxEpochs = 1;
        var model = ml.Transforms.Text.ActiveForgettingPretrainer(options).Fit(ml.Data.LoadFromEnumerable(lines));
        Assert.HasCount(13, model.History.Steps, "200 non-empty lines in batches of 16 is 13 updates per epoch");
    }

    [TestMethod]
    public void InvalidOptionsNameTheOption()
    {
        var ml = new MLContext(1);
        ActiveForgettingPretrainer.Options With(Action<ActiveForgettingPretrainer.Options> change) { var o = TinyOptions(); change(o); return o; }
        Assert.AreEqual("ResetInterval", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.Text.ActiveForgettingPretrainer(With(o => o.ResetInterval = -1))).ParamName);
        Assert.AreEqual("BatchSize", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.Text.ActiveForgettingPretrainer(With(o => o.BatchSize = 0))).ParamName);
        Assert.AreEqual("preset", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.Text.ActiveForgettingPretrainer(With(o => o.ModelPreset = "Huge"))).ParamName);
        Assert.AreEqual("MaxSteps", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.Text.ActiveForgettingPretrainer(With(o => o.MaxSteps = -5))).ParamName);
    }
}

internal sealed class FloatComparer(float tolerance) : System.Collections.IComparer
{
    public int Compare(object? x, object? y) => Math.Abs((float)x! - (float)y!) <= tolerance ? 0 : 1;
}

public static class LanguageModelChildActions
{
    public sealed record Output(float[][] Transform, float[][] Engine, int HistorySteps, long ResetInterval);

    /// <summary>Args: model zip, input JSON (string[]), output JSON path.</summary>
    [ChildAction("embed-zip")]
    public static int EmbedZip(string[] args)
    {
        var ml = new MLContext();
        var model = ml.Model.Load(args[0], out _);
        var texts = JsonSerializer.Deserialize<string[]>(File.ReadAllText(args[1]))!;
        var rows = texts.Select(t => new TextRow { Text = t }).ToArray();
        var viaTransform = ml.Data.CreateEnumerable<EmbeddingRow>(model.Transform(ml.Data.LoadFromEnumerable(rows)), reuseRowObject: false).Select(r => r.Features).ToArray();
        var engine = ml.Model.CreatePredictionEngine<TextRow, EmbeddingRow>(model);
        var viaEngine = rows.Select(r => engine.Predict(r).Features.ToArray()).ToArray();
        var lm = (LanguageModelTransformer)model;
        File.WriteAllText(args[2], JsonSerializer.Serialize(new Output(viaTransform, viaEngine, lm.History.Steps.Count, lm.ResetInterval)));
        return 0;
    }
}

[TestClass]
public sealed class PretrainerValidationTests
{
    [TestMethod]
    public void ValidationRecordsMaskedLmLossAndAccuracyAndKeepsTheBestWeights()
    {
        using var dir = new TempDir();
        var ml = new MLContext(3);
        var lines = LanguageModelTests.EnglishLines.Value;
        var train = ml.Data.LoadFromEnumerable(lines.Skip(100).Select(l => new TextRow { Text = l }));
        var heldOut = ml.Data.LoadFromEnumerable(lines.Take(100).Select(l => new TextRow { Text = l }));
        var options = LanguageModelTests.TinyOptions(k: 10);
        options.MaxSteps = 40;
        options.ValidationData = heldOut;
        options.ValidationInterval = 5;
        options.CheckpointDirectory = dir.Path;
        options.KeepBestCheckpoint = true;
        var model = ml.Transforms.Text.ActiveForgettingPretrainer(options).Fit(train);
        var validations = model.History.Validations;
        CollectionAssert.AreEqual(new long[] { 5, 10, 15, 20, 25, 30, 35, 40 }, validations.Select(v => v.Step).ToArray());
        Assert.IsTrue(validations.All(v => v.Metrics["loss"] > 0 && v.Metrics["accuracy"] is >= 0 and <= 1));
        Assert.IsTrue(validations[^1].Metrics["loss"] < validations[0].Metrics["loss"], "held-out MLM loss did not improve");
        // The kept weights are those of the best validation step, not the last update.
        var best = validations.MinBy(v => v.Metrics["loss"])!;
        Assert.IsTrue(File.Exists(Path.Combine(dir.Path, "best.safetensors")));
        var bestTensors = MLNetForgetting.Persistence.SafeTensors.Read(File.ReadAllBytes(Path.Combine(dir.Path, "best.safetensors")), out var meta);
        Assert.AreEqual(best.Step.ToString(System.Globalization.CultureInfo.InvariantCulture), meta["mlnf.step"]);
        foreach (var (name, t) in model.Model.NamedTensors())
            Assert.IsTrue(TensorAssert.BitEqual(t.cpu(), bestTensors[name]), $"{name} is not the best checkpoint's");
    }
}

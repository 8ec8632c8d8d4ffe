using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetForgetting.MLNet.FewShot;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Prompts;
using MLNetForgetting.SelfTraining;
using MLNetForgetting.Tests.Infrastructure;
using MLNetForgetting.Tests.Pretraining;
using MLNetForgetting.Tests.Text;
using MLNetForgetting.Text;

namespace MLNetForgetting.Tests.FewShot;

public sealed class SentenceRow
{
    public string Sentence1 { get; set; } = "";
    public string Label { get; set; } = "";
}

public sealed class ClassifiedRow
{
    [VectorType] public float[] Score { get; set; } = Array.Empty<float>();
    [KeyType(2)] public uint PredictedLabel { get; set; }
}

[TestClass]
public sealed class PromptAdapterSelfTrainerTests
{
    private static readonly Lazy<(MLContext Ml, LanguageModelTransformer Backbone)> Backbone = new(() => Pretrain(seed: 1));

    private static (MLContext, LanguageModelTransformer) Pretrain(int seed)
    {
        var lines = TextTestData.RawLines("en").Where(l => l.Length is > 20 and < 300).Take(400).ToArray();
        var tokenizer = BpeVocabularyTrainer.Train(lines, new BpeTrainerOptions { VocabSize = 500, RequiredTokens = [" great", " terrible"] });
        var options = LanguageModelTests.TinyOptions(k: 0);
        options.Tokenizer = tokenizer;
        options.MaxSteps = 20;
        options.Seed = seed;
        var ml = new MLContext(seed);
        var model = ml.Transforms.Text.ActiveForgettingPretrainer(options).Fit(ml.Data.LoadFromEnumerable(lines.Select(l => new TextRow { Text = l })));
        return (ml, model);
    }

    private static IDataView Sst2(MLContext ml, string file, int take)
    {
        var rows = FewShotData.ReadTsv(file).Take(take).Select(e => new SentenceRow { Sentence1 = e.Texts[0], Label = e.Label ?? "" });
        return ml.Data.LoadFromEnumerable(rows);
    }

    private static PromptAdapterSelfTrainer.Options Options(LanguageModelTransformer backbone, IDataView? unlabelled) => new()
    {
        LanguageModel = backbone, Task = "SST-2", UnlabelledData = unlabelled, Seed = 3,
        Settings = new SelfTrainingSettings
        {
            Adapters = new MLNetForgetting.Modeling.Adapters.AdapterOptions { BottleneckSize = 8 },
            TeacherEpochs = 2, Rounds = 1, PhaseAUpdates = 6, PhaseBEpochs = 1, TeacherLearningRate = 1e-3, StudentLearningRate = 1e-3,
        },
    };

    private static (MLContext Ml, TransformerChain<PromptAdapterTransformer> Model, IDataView Test) Fit()
    {
        var (ml, backbone) = Backbone.Value;
        string root = Path.Combine(TextTestData.DataRoot, "list", "SST-2");
        var train = Sst2(ml, Path.Combine(root, "30-1", "train.tsv"), 30);
        var unlabelled = Sst2(ml, Path.Combine(TextTestData.DataRoot, "glue_pools", "SST-2", "train.tsv"), 200);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.PromptAdapterSelfTrainer(Options(backbone, unlabelled)));
        var model = pipeline.Fit(train);
        var test = Sst2(ml, Path.Combine(root, "test_clue.tsv"), 60); // raw labels: the fitted pipeline maps them
        return (ml, model, test);
    }

    [TestMethod]
    public void FitsPredictsAndEvaluatesLikeAnMLNetClassifier()
    {
        var (ml, model, test) = Fit();
        var scored = model.Transform(test);
        var metrics = ml.MulticlassClassification.Evaluate(scored, "Label", "Score", "PredictedLabel");
        Assert.IsTrue(metrics.MacroAccuracy is >= 0 and <= 1);
        var rows = ml.Data.CreateEnumerable<ClassifiedRow>(scored, reuseRowObject: false).ToList();
        Assert.HasCount(60, rows);
        Assert.IsTrue(rows.All(r => Math.Abs(r.Score.Sum() - 1) < 1e-4 && r.PredictedLabel is 1 or 2));
        var list = model.LastTransformer;
        var report = list.ParameterReport;
        Assert.IsTrue(report.Trainable > 0 && report.Trainable < report.Total / 5, $"LiST should train a small part of the model: {report}");
        Assert.IsNotNull(list.Training);
        Assert.IsTrue(list.Training!.MetaSteps > 0, "no meta re-weighting step ran");
    }

    [TestMethod]
    public void ZipRoundTripInANewProcessAndAdapterPacks()
    {
        var (ml, model, test) = Fit();
        using var dir = new TempDir();
        string zip = dir.File("list.zip");
        ml.Model.Save(model, test.Schema, zip);
        var texts = ml.Data.CreateEnumerable<SentenceRow>(test, reuseRowObject: false).Select(r => r.Sentence1).Take(12).ToArray();
        File.WriteAllText(dir.File("in.json"), JsonSerializer.Serialize(texts));
        ChildProcess.RunChecked("score-zip", zip, dir.File("in.json"), dir.File("out.json"));
        var child = JsonSerializer.Deserialize<float[][]>(File.ReadAllText(dir.File("out.json")))!;
        var list = model.LastTransformer;
        var expected = list.PredictProbabilities(texts.Select(t => (IReadOnlyList<string>)new[] { t }).ToList());
        for (int i = 0; i < texts.Length; i++)
            CollectionAssert.AreEqual(expected[i], child[i], new FloatComparer(1e-5f), $"row {i}");

        // Adapter pack: onto the same backbone → the same predictions; onto another backbone → refused.
        string pack = dir.File("sst2.adapters");
        list.ExportAdapterPack(pack);
        Assert.IsTrue(new FileInfo(pack).Length < new FileInfo(zip).Length, "the adapter pack should be smaller than the whole model");
        var (_, backbone) = Backbone.Value;
        var reapplied = PromptAdapterTransformer.FromAdapterPack(ml, backbone, pack, list.LabelNames, taskName: "SST-2");
        var again = reapplied.PredictProbabilities(texts.Select(t => (IReadOnlyList<string>)new[] { t }).ToList());
        for (int i = 0; i < texts.Length; i++) CollectionAssert.AreEqual(expected[i], again[i], new FloatComparer(1e-6f));
        var (_, other) = Pretrain(seed: 2);
        var ex = Assert.ThrowsExactly<BackboneMismatchException>(() => PromptAdapterTransformer.FromAdapterPack(ml, other, pack, list.LabelNames));
        StringAssert.Contains(ex.Message, ex.Expected);
    }

    [TestMethod]
    public void ALabelMissingFromTheVerbalizerIsNamed()
    {
        var (ml, backbone) = Backbone.Value;
        var data = ml.Data.LoadFromEnumerable(new[] { "0", "1", "maybe" }.Select(l => new SentenceRow { Sentence1 = "a film", Label = l }));
        var ex = Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.PromptAdapterSelfTrainer(Options(backbone, null))).Fit(data));
        StringAssert.Contains(ex.Message, "'maybe'");
    }

    [TestMethod]
    public void ALabelWordThatIsNotOneTokenIsNamed()
    {
        var (ml, backbone) = Backbone.Value;
        var options = Options(backbone, null);
        options.Template = "*cls**sent_0*_It_was*mask*.*sep+*";
        options.LabelWords = new Dictionary<string, string> { ["0"] = "dreadfulnessly", ["1"] = "great" };
        var ex = Assert.ThrowsExactly<LabelWordException>(() => ml.MulticlassClassification.Trainers.PromptAdapterSelfTrainer(options));
        StringAssert.Contains(ex.Message, "dreadfulnessly");
    }
}

public static class ScoreZipChildActions
{
    /// <summary>Args: model zip, input JSON (string[] first sentences), output JSON (float[][] scores).</summary>
    [ChildAction("score-zip")]
    public static int ScoreZip(string[] args)
    {
        var ml = new MLContext();
        var model = ml.Model.Load(args[0], out _);
        var texts = JsonSerializer.Deserialize<string[]>(File.ReadAllText(args[1]))!;
        var data = ml.Data.LoadFromEnumerable(texts.Select(t => new SentenceRow { Sentence1 = t, Label = "0" }));
        var scores = ml.Data.CreateEnumerable<ClassifiedRow>(model.Transform(data), reuseRowObject: false).Select(r => r.Score).ToArray();
        File.WriteAllText(args[2], JsonSerializer.Serialize(scores));
        return 0;
    }
}

using Microsoft.ML;
using MLNetForgetting.Adaptation;
using CliModelFiles = MLNetForgetting.Cli.Infrastructure.ModelFiles;
using CliUsageException = MLNetForgetting.Cli.Infrastructure.CliUsageException;
using MLNetForgetting.MLNet.CrossLingual;
using MLNetForgetting.MLNet.Persistence;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Synthetic;
using MLNetForgetting.Tests.CrossLingual;
using MLNetForgetting.Tests.Infrastructure;
using MLNetForgetting.Tests.Pretraining;
using static MLNetForgetting.Tests.Infrastructure.ZipSurgery;

namespace MLNetForgetting.Tests.MLNet;

public sealed class FloatLabelPairRow
{
    public string Sentence1 { get; set; } = "";
    public string Sentence2 { get; set; } = "";
    public float Label { get; set; }
}

/// <summary>The mistakes a new user makes get a message that names the column, what was found and what to do.</summary>
[TestClass]
public sealed class UnderstandableErrorsTests
{
    private static readonly Lazy<LanguageModelTransformer> Lm = new(() =>
    {
        var ml = new MLContext(1);
        var o = LanguageModelTests.TinyOptions(k: 0);
        o.MaxSteps = 2;
        return ml.Transforms.Text.ActiveForgettingPretrainer(o).Fit(ml.Data.LoadFromEnumerable(new SyntheticTestbed().UnlabelledCorpus("en", 300, 0).Select(t => new TextRow { Text = t }).ToList()));
    });

    private static SentencePairClassificationTrainer Trainer(MLContext ml) => ml.MulticlassClassification.Trainers.SentencePairClassification(new SentencePairClassificationTrainer.Options
    {
        LanguageModel = Lm.Value, Seed = 1, Settings = new TaskAdaptationSettings { MaxSteps = 1, BatchSize = 8 },
    });

    [TestMethod]
    public void A_float_label_mapped_to_a_key_trains_with_its_numbers_as_label_names()
    {
        var ml = new MLContext(1);
        var rows = new SyntheticTestbed().NliExamples("en", 24, 2)
            .Select(e => new FloatLabelPairRow { Sentence1 = e.Premise, Sentence2 = e.Hypothesis, Label = e.Label == "entailment" ? 0 : e.Label == "neutral" ? 1 : 2 }).ToList();
        var model = ml.Transforms.Conversion.MapValueToKey("Label").Append(Trainer(ml)).Fit(ml.Data.LoadFromEnumerable(rows));
        CollectionAssert.AreEquivalent(new[] { "0", "1", "2" }, model.LastTransformer.LabelNames.ToArray());
    }

    [TestMethod]
    public void An_empty_training_set_says_it_is_empty()
    {
        var ml = new MLContext(1);
        var empty = ml.Data.LoadFromEnumerable(new List<PairRow>());
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => ml.Transforms.Conversion.MapValueToKey("Label").Append(Trainer(ml)).Fit(empty));
        StringAssert.Contains(e.Message, "The training data is empty (0 rows)");
    }

    [TestMethod]
    public void A_text_label_without_MapValueToKey_says_how_to_map_it_at_schema_time()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(new[] { new PairRow { Sentence1 = "a", Sentence2 = "b", Label = "entailment" } });
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Trainer(ml).GetOutputSchema(SchemaShape.Create(data.Schema)));
        StringAssert.Contains(e.Message, "'Label' (role: label): expected Key<UInt32>, got String. Map the values to keys first: mlContext.Transforms.Conversion.MapValueToKey(\"Label\")");
        Assert.IsFalse(e.Message.Contains("0-0"), e.Message);
        e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Trainer(ml).Fit(data));
        StringAssert.Contains(e.Message, "MapValueToKey(\"Label\")");
    }

    [TestMethod]
    public void Damaged_zips_name_the_entry_or_the_file_through_LoadChecked_and_the_command_line()
    {
        using var dir = new TempDir();
        var (ml, model, train) = ProjectionFixture.Fit();
        string good = dir.File("good.zip");
        ml.Model.Save(model, train.Schema, good);

        string missing = CopyAndBreak(good, dir.File("missing.zip"), z => z.GetEntry(ComponentDir(z) + "weights.safetensors")!.Delete());
        var cli = Assert.ThrowsExactly<CliUsageException>(() => CliModelFiles.LoadAny(ml, missing, "--model", out _));
        StringAssert.Contains(cli.Message, "entry 'weights.safetensors' is missing from the model zip");

        string truncated = dir.File("truncated.zip");
        byte[] bytes = File.ReadAllBytes(good);
        File.WriteAllBytes(truncated, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        var e = Assert.ThrowsExactly<ModelFormatException>(() => ml.Model.LoadChecked(truncated, out _));
        StringAssert.Contains(e.Message, truncated);
        using (var stream = File.OpenRead(truncated))
        {
            e = Assert.ThrowsExactly<ModelFormatException>(() => ml.Model.LoadChecked(stream, out _));
            StringAssert.Contains(e.Message, truncated);
        }
        cli = Assert.ThrowsExactly<CliUsageException>(() => CliModelFiles.LoadAny(ml, truncated, "--model", out _));
        StringAssert.Contains(cli.Message, "is not a readable zip archive (truncated or damaged)");
    }
}

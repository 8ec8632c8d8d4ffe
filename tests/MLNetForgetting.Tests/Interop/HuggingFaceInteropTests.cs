using System.Text.Json.Nodes;
using Microsoft.ML;
using MLNetForgetting.Adaptation;
using MLNetForgetting.Interop;
using MLNetForgetting.MLNet.Classification;
using MLNetForgetting.MLNet.CrossLingual;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Modeling;
using MLNetForgetting.Modeling.Adapters;
using MLNetForgetting.Persistence;
using MLNetForgetting.Tests.Adaptation;
using MLNetForgetting.Tests.CrossLingual;
using MLNetForgetting.Tests.Infrastructure;
using static TorchSharp.torch;

namespace MLNetForgetting.Tests.Interop;

[TestClass]
public sealed class HuggingFaceInteropTests
{
    private static void AssertRoundTrip(RobertaForMaskedLM model, ExportFormat format, bool withTokenizer = true)
    {
        using var dir = new TempDir();
        var tokenizer = AdaptationTestData.EnglishTokenizer;
        HuggingFaceExport.Export(model, withTokenizer ? tokenizer : null, dir.Path, format);
        foreach (var preferPyTorch in new[] { false, true })
        {
            if (preferPyTorch && (format & ExportFormat.PyTorch) == 0) continue;
            if (!preferPyTorch && (format & ExportFormat.Safetensors) == 0 && format != ExportFormat.PyTorch) continue;
            var (imported, importedTokenizer) = HuggingFaceImport.Import(dir.Path, new HuggingFaceImportOptions { PreferPyTorch = preferPyTorch });
            using (imported)
            {
                var expected = model.NamedTensors();
                var actual = imported.NamedTensors();
                CollectionAssert.AreEquivalent(expected.Keys.ToList(), actual.Keys.ToList(), "parameter names");
                foreach (var (name, t) in expected)
                    Assert.IsTrue(TensorAssert.BitEqual(t, actual[name]), $"{name} differs after {format} round trip (preferPyTorch={preferPyTorch})");
                Assert.AreEqual(model.Config with { HiddenDropout = 0, AttentionDropout = 0 }, imported.Config with { HiddenDropout = 0, AttentionDropout = 0 }, "config");
                Assert.AreEqual(model.Config, imported.Config);
                if (withTokenizer) Assert.AreEqual(tokenizer.Fingerprint, importedTokenizer!.Fingerprint, "tokenizer");
                else Assert.IsNull(importedTokenizer);
            }
        }
    }

    [TestMethod]
    [DataRow(ExportFormat.Safetensors)]
    [DataRow(ExportFormat.PyTorch)]
    [DataRow(ExportFormat.Both)]
    public void PretrainedModelRoundTripsBitExactly(ExportFormat format)
    {
        using var model = AdaptationTestData.NewModel(11);
        AssertRoundTrip(model, format);
    }

    [TestMethod]
    [DataRow(ExportFormat.Safetensors)]
    [DataRow(ExportFormat.PyTorch)]
    public void ModelWithClassifierRoundTripsBitExactly(ExportFormat format)
    {
        using var model = AdaptationTestData.NewModel(12);
        model.AddClassifier(3, new Generator(5));
        AssertRoundTrip(model, format, withTokenizer: false);
    }

    [TestMethod]
    [DataRow(ExportFormat.Safetensors)]
    [DataRow(ExportFormat.PyTorch)]
    public void ListBackboneWithAdaptersRoundTripsBitExactly(ExportFormat format)
    {
        using var model = AdaptationTestData.NewModel(13);
        var adapters = new AdapterSet(model.Config, new AdapterOptions { BottleneckSize = 8, InitStd = 0.05 }, new Generator(9));
        adapters.Install(model);
        Assert.IsTrue(model.NamedTensors().Keys.Any(AdapterSet.IsAdapterParameterName));
        AssertRoundTrip(model, format);
    }

    [TestMethod]
    public void ExportWritesHuggingFaceKeysAndConfig()
    {
        using var model = AdaptationTestData.NewModel(14);
        model.AddClassifier(3);
        using var dir = new TempDir();
        HuggingFaceExport.Export(model, AdaptationTestData.EnglishTokenizer, dir.Path, ExportFormat.Both, ["entailment", "neutral", "contradiction"]);
        foreach (var f in new[] { "model.safetensors", "pytorch_model.bin", "config.json", "vocab.json", "merges.txt", "tokenizer_config.json" })
            Assert.IsTrue(File.Exists(dir.File(f)), f);
        var weights = SafeTensors.Read(File.ReadAllBytes(dir.File("model.safetensors")), out _);
        Assert.IsTrue(TensorAssert.BitEqual(weights["lm_head.decoder.weight"], model.TokenEmbeddings));
        Assert.IsTrue(TensorAssert.BitEqual(weights["lm_head.decoder.bias"], weights["lm_head.bias"]));
        Assert.AreEqual(model.NamedTensors().Count + 2, weights.Count);
        var config = JsonNode.Parse(File.ReadAllText(dir.File("config.json")))!;
        Assert.AreEqual("roberta", (string?)config["model_type"]);
        Assert.AreEqual("gelu", (string?)config["hidden_act"]);
        Assert.AreEqual(model.Config.VocabSize, (int?)config["vocab_size"]);
        Assert.AreEqual(model.Config.MaxSequenceLength + 2, (int?)config["max_position_embeddings"]);
        Assert.AreEqual(1, (int?)config["type_vocab_size"]);
        Assert.AreEqual(3, (int?)config["num_labels"]);
        Assert.AreEqual("neutral", (string?)config["id2label"]!["1"]);
        Assert.AreEqual("RobertaForSequenceClassification", (string?)config["architectures"]![0]);
    }

    private static string ExportedDir(TempDir dir, Action<Dictionary<string, Tensor>>? editWeights = null, Func<JsonNode, JsonNode>? editConfig = null)
    {
        using var model = AdaptationTestData.NewModel(15);
        HuggingFaceExport.Export(model, AdaptationTestData.EnglishTokenizer, dir.Path);
        if (editWeights is not null)
        {
            var w = SafeTensors.Read(File.ReadAllBytes(dir.File("model.safetensors")), out _);
            editWeights(w);
            File.WriteAllBytes(dir.File("model.safetensors"), SafeTensors.ToBytes(w));
        }
        if (editConfig is not null)
            File.WriteAllText(dir.File("config.json"), editConfig(JsonNode.Parse(File.ReadAllText(dir.File("config.json")))!).ToJsonString());
        return dir.Path;
    }

    [TestMethod]
    public void MissingLayerIsListed()
    {
        using var dir = new TempDir();
        ExportedDir(dir, w => { foreach (var k in w.Keys.Where(k => k.StartsWith("roberta.encoder.layer.1.", StringComparison.Ordinal)).ToList()) w.Remove(k); });
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => HuggingFaceImport.Import(dir.Path));
        StringAssert.Contains(ex.Message, "missing: ");
        StringAssert.Contains(ex.Message, "roberta.encoder.layer.1.attention.self.query.weight");
        StringAssert.Contains(ex.Message, "roberta.encoder.layer.1.output.LayerNorm.bias");
    }

    [TestMethod]
    public void WrongHiddenSizeListsMisShapedParameters()
    {
        using var dir = new TempDir();
        ExportedDir(dir, editConfig: c => { c["hidden_size"] = 64; c["num_attention_heads"] = 2; return c; });
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => HuggingFaceImport.Import(dir.Path));
        StringAssert.Contains(ex.Message, "mis-shaped: ");
        StringAssert.Contains(ex.Message, "roberta.embeddings.word_embeddings.weight (expected [");
        StringAssert.Contains(ex.Message, "roberta.encoder.layer.0.attention.self.query.weight");
    }

    [TestMethod]
    public void ExtraKeysAreListed()
    {
        using var dir = new TempDir();
        ExportedDir(dir, w => { w["roberta.encoder.layer.2.output.dense.weight"] = zeros(4, 4); w["something.else"] = zeros(2); w["roberta.embeddings.position_ids"] = arange(50L).unsqueeze(0); });
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => HuggingFaceImport.Import(dir.Path));
        StringAssert.Contains(ex.Message, "unexpected: roberta.encoder.layer.2.output.dense.weight, something.else");
        Assert.IsFalse(ex.Message.Contains("position_ids", StringComparison.Ordinal), "HF buffers are ignored");
    }

    [TestMethod]
    public void UntiedDecoderIsRejected()
    {
        using var dir = new TempDir();
        ExportedDir(dir, w => w["lm_head.decoder.weight"] = w["lm_head.decoder.weight"] + 1);
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => HuggingFaceImport.Import(dir.Path));
        StringAssert.Contains(ex.Message, "lm_head.decoder.weight");
    }

    [TestMethod]
    public void ImportedModelIsTheBodyOfSentencePairClassification()
    {
        using var dir = new TempDir();
        using (var model = AdaptationTestData.NewModel(16)) HuggingFaceExport.Export(model, AdaptationTestData.EnglishTokenizer, dir.Path, ExportFormat.PyTorch);
        var ml = new MLContext(3);
        var lm = LanguageModelTransformer.FromHuggingFace(ml, dir.Path);
        Assert.AreEqual(AdaptationTestData.EnglishTokenizer.Fingerprint, lm.Tokenizer.Fingerprint);
        var rows = AdaptationTestData.Testbed.NliExamples("en", 64, 2).Select(e => new PairRow { Sentence1 = e.Premise, Sentence2 = e.Hypothesis, Label = e.Label }).ToList();
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(ml.Data.LoadFromEnumerable(rows)).Transform(ml.Data.LoadFromEnumerable(rows));
        var trainer = ml.MulticlassClassification.Trainers.SentencePairClassification(new SentencePairClassificationTrainer.Options
        {
            LanguageModel = lm, Settings = new TaskAdaptationSettings { MaxSteps = 4, BatchSize = 8, LearningRate = 1e-3 },
        });
        var taskAdapted = trainer.Fit(data);
        var scored = ml.Data.CreateEnumerable<PairPrediction>(taskAdapted.Transform(data), reuseRowObject: false).ToList();
        Assert.AreEqual(64, scored.Count);
        Assert.IsTrue(scored.All(s => s.Score.Length == 3 && s.Score.All(float.IsFinite)));

        // ... and the task-adapted model exports and imports back exactly, label names included.
        using var dir2 = new TempDir();
        taskAdapted.ExportHuggingFace(dir2.Path, ExportFormat.Both);
        var (back, _) = HuggingFaceImport.Import(dir2.Path);
        using (back)
            foreach (var (name, t) in taskAdapted.Model.NamedTensors()) Assert.IsTrue(TensorAssert.BitEqual(t, back.NamedTensors()[name]), name);
        StringAssert.Contains(File.ReadAllText(dir2.File("config.json")), taskAdapted.LabelNames[0]);
    }
}

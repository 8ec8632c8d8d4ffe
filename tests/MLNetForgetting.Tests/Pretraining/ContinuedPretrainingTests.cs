using System.Text.Json;
using Microsoft.ML;
using MLNetForgetting.Modeling;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Synthetic;
using MLNetForgetting.Tests.Infrastructure;
using static TorchSharp.torch;

namespace MLNetForgetting.Tests.Pretraining;

/// <summary>
/// Continued pretraining (<see cref="ActiveForgettingPretrainer.Options.InitialModel"/>): active forgetting as a
/// phase added to a model one already has, on the built-in synthetic English (no real data needed).
/// </summary>
[TestClass]
public sealed class ContinuedPretrainingTests
{
    private static readonly Lazy<string[]> Lines = new(() => new SyntheticTestbed().UnlabelledCorpus("en", 300, seed: 0).ToArray());
    private static readonly Lazy<LanguageModelTransformer> Base = new(() => Fit(new MLContext(3), Tiny(k: 0, steps: 6)));

    private static ActiveForgettingPretrainer.Options Tiny(long k, long steps) => new()
    {
        ModelPreset = "Tiny", VocabularySize = 400, MaxSteps = steps, ResetInterval = k, BatchSize = 16, MaxSequenceLength = 48,
        LearningRate = 3e-3, EmbeddingLearningRate = 3e-3, Seed = 5,
    };

    private static LanguageModelTransformer Fit(MLContext ml, ActiveForgettingPretrainer.Options options) =>
        ml.Transforms.Text.ActiveForgettingPretrainer(options).Fit(ml.Data.LoadFromEnumerable(Lines.Value.Select(l => new TextRow { Text = l })));

    private static Dictionary<string, Tensor> Weights(RobertaForMaskedLM m) => m.NamedTensors().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

    [TestMethod]
    public void ContinuingStartsFromBitIdenticalWeightsKeepsTheTokenizerAndLeavesTheSourceAlone()
    {
        var source = Base.Value;
        var before = Weights(source.Model);
        var options = Tiny(k: 0, steps: 3);
        options.InitialModel = source;
        options.VocabularySize = 300; // ignored: the model's tokenizer is kept

        // Update 0: the model training starts from is the source, tensor for tensor.
        using (var start = ActiveForgettingPretrainer.InitialWeights(options, source.Tokenizer, 48, seed: 99))
        {
            var w = start.NamedTensors();
            CollectionAssert.AreEquivalent(before.Keys.ToArray(), w.Keys.ToArray());
            foreach (var (name, t) in before) Assert.IsTrue(TensorAssert.BitEqual(t, w[name]), $"{name} differs at update 0");
        }

        var continued = Fit(new MLContext(1), options);
        Assert.AreEqual(source.Tokenizer.Fingerprint, continued.Tokenizer.Fingerprint, "the tokenizer must be the source's");
        Assert.AreEqual(source.Model.Config with { }, continued.Model.Config, "the configuration must be the source's");
        Assert.HasCount(3, continued.History.Steps);
        Assert.IsFalse(TensorAssert.BitEqual(before["roberta.encoder.layer.0.attention.self.query.weight"],
            continued.Model.NamedTensors()["roberta.encoder.layer.0.attention.self.query.weight"]), "the body did not train");
        foreach (var (name, t) in source.Model.NamedTensors()) Assert.IsTrue(TensorAssert.BitEqual(before[name], t), $"the source's {name} changed");
    }

    [TestMethod]
    public void ResetsDuringContinuedPretrainingRedrawOnlyTheTokenEmbeddings()
    {
        var source = Base.Value;
        var before = Weights(source.Model);
        const double lr = 1e-4;
        var options = Tiny(k: 2, steps: 3);
        options.InitialModel = source;
        options.LearningRate = lr; options.EmbeddingLearningRate = lr; options.WarmupFraction = 0;
        var continued = Fit(new MLContext(1), options);

        Assert.AreEqual(1, continued.History.Events.Count(e => e.Kind == "reset"), "one reset, after update 2");
        using var scope = NewDisposeScope(); // the differences below are temporaries
        var after = continued.Model.NamedTensors();
        // E was redrawn from N(0, 0.02²): far from the source's E. Every other tensor moved by three Adam
        // steps of rate 1e-4 at most (|m̂/√v̂| is about 1, so 1.5 × 3 × lr bounds it), never redrawn.
        string e = RobertaForMaskedLM.TokenEmbeddingsKey;
        double eShift = (after[e] - before[e]).abs().mean().item<float>();
        Assert.IsTrue(eShift > 0.005, $"E moved by {eShift:E2} on average: it was not redrawn");
        foreach (var (name, t) in before.Where(kv => kv.Key != e && kv.Key != "lm_head.decoder.weight"))
        {
            double shift = (after[name] - t).abs().max().item<float>();
            Assert.IsTrue(shift <= 1.5 * 3 * lr, $"{name} moved by {shift:E2}: more than three small Adam steps");
        }
    }

    [TestMethod]
    public void TheContinuedModelSavesLoadsInANewProcessAndPredictsIdentically()
    {
        using var dir = new TempDir();
        var ml = new MLContext(1);
        var options = Tiny(k: 2, steps: 4);
        options.InitialModel = Base.Value;
        var continued = Fit(ml, options);
        var data = ml.Data.LoadFromEnumerable(Lines.Value.Take(8).Select(l => new TextRow { Text = l }));
        ml.Model.Save(continued, data.Schema, dir.File("continued.zip"));
        var here = ml.Data.CreateEnumerable<EmbeddingRow>(continued.Transform(data), reuseRowObject: false).Select(r => r.Features).ToArray();

        File.WriteAllText(dir.File("in.json"), JsonSerializer.Serialize(Lines.Value.Take(8).ToArray()));
        ChildProcess.RunChecked("lm-features", dir.File("continued.zip"), dir.File("in.json"), dir.File("out.json"));
        var there = JsonSerializer.Deserialize<float[][]>(File.ReadAllText(dir.File("out.json")))!;
        Assert.HasCount(here.Length, there);
        for (int i = 0; i < here.Length; i++)
            for (int j = 0; j < here[i].Length; j++)
                Assert.AreEqual(here[i][j], there[i][j], 1e-5, $"row {i}, feature {j}");
    }

    [TestMethod]
    public void SizeOptionsBesideAnInitialModelAreRefusedNamingThem()
    {
        var options = Tiny(k: 0, steps: 1);
        options.InitialModel = Base.Value;
        options.HiddenSize = 64; options.NumLayers = 1;
        var ex = Assert.ThrowsExactly<ArgumentException>(() => new MLContext(0).Transforms.Text.ActiveForgettingPretrainer(options));
        StringAssert.Contains(ex.Message, "HiddenSize, NumLayers");
    }

    [TestMethod]
    public void MlmHeadWarmUpTrainsOnlyTheHeadAndReportsTheHeldOutLossBeforeAndAfter()
    {
        var source = Base.Value;
        var before = Weights(source.Model);
        var ml = new MLContext(1);
        var options = Tiny(k: 0, steps: 12);
        options.InitialModel = source;
        options.MlmHeadOnly = true;
        options.ValidationData = ml.Data.LoadFromEnumerable(Lines.Value.Skip(250).Select(l => new TextRow { Text = l }));
        var warmed = Fit(ml, options);

        var after = warmed.Model.NamedTensors();
        foreach (var (name, t) in before)
        {
            bool head = name.StartsWith("lm_head.", StringComparison.Ordinal);
            Assert.AreEqual(!head, TensorAssert.BitEqual(t, after[name]), head ? $"{name} did not train" : $"{name} changed: only the MLM head may train");
        }
        var validations = warmed.History.Validations;
        Assert.AreEqual(0L, validations[0].Step, "the held-out loss before update 1 is recorded");
        Assert.AreEqual(12L, validations[^1].Step);
        Assert.IsLessThan(validations[0].Metrics["loss"], validations[^1].Metrics["loss"], "the warm-up lowers the held-out masked-LM loss");
        foreach (var p in warmed.Model.parameters()) Assert.IsTrue(p.requires_grad, "the frozen parameters are trainable again after the warm-up");
    }

    [TestMethod]
    public void MlmHeadWarmUpNeedsAnInitialModelAndNoResets()
    {
        var noModel = Tiny(k: 0, steps: 1);
        noModel.MlmHeadOnly = true;
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new MLContext(0).Transforms.Text.ActiveForgettingPretrainer(noModel)).Message, "InitialModel");
        var resets = Tiny(k: 5, steps: 1);
        resets.MlmHeadOnly = true;
        resets.InitialModel = Base.Value;
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new MLContext(0).Transforms.Text.ActiveForgettingPretrainer(resets)).Message, "ResetInterval = 0");
    }

    /// <summary>Args: language model zip, input JSON (string[]), output JSON (float[][] Features).</summary>
    [ChildAction("lm-features")]
    public static int LmFeatures(string[] args)
    {
        var ml = new MLContext();
        var model = ml.Model.Load(args[0], out _);
        var texts = JsonSerializer.Deserialize<string[]>(File.ReadAllText(args[1]))!;
        var rows = ml.Data.CreateEnumerable<EmbeddingRow>(model.Transform(ml.Data.LoadFromEnumerable(texts.Select(t => new TextRow { Text = t }))), reuseRowObject: false);
        File.WriteAllText(args[2], JsonSerializer.Serialize(rows.Select(r => r.Features).ToArray()));
        return 0;
    }
}

using MLNetForgetting.Modeling;
using MLNetForgetting.Synthetic;
using MLNetForgetting.Text;
using TorchSharp;

namespace MLNetForgetting.Tests.Adaptation;

/// <summary>Small synthetic inputs shared by the adaptation mechanics tests (built once).</summary>
internal static class AdaptationTestData
{
    public static readonly SyntheticTestbed Testbed = new();

    private static readonly Lazy<(SubwordTokenizer En, SubwordTokenizer Xa, string[] EnCorpus, string[] XaCorpus)> Data = new(() =>
    {
        var en = Testbed.UnlabelledCorpus("en", 3000, 0).ToArray();
        var xa = Testbed.UnlabelledCorpus("xa", 3000, 0).ToArray();
        return (BpeVocabularyTrainer.Train(en, new BpeTrainerOptions { VocabSize = 400 }), BpeVocabularyTrainer.Train(xa, new BpeTrainerOptions { VocabSize = 500 }), en, xa);
    });

    public static SubwordTokenizer EnglishTokenizer => Data.Value.En;
    public static SubwordTokenizer TargetTokenizer => Data.Value.Xa;
    public static string[] EnglishCorpus => Data.Value.EnCorpus;
    public static string[] TargetCorpus => Data.Value.XaCorpus;

    public static IReadOnlyList<(string Premise, string Hypothesis, int Label)> Pairs(string code, int n, int seed) =>
        Testbed.NliExamples(code, n, seed).Select(e => (e.Premise, e.Hypothesis, Array.IndexOf(NliLabels.All, e.Label))).ToArray();

    /// <summary>A low-level model and its tokenizer as the ML.NET language model the estimators and the cross-lingual pipeline take (the model is not copied).</summary>
    public static MLNetForgetting.MLNet.Pretraining.LanguageModelTransformer AsLanguageModel(Microsoft.ML.MLContext ml, RobertaForMaskedLM model, SubwordTokenizer tokenizer) =>
        new(ml, model, tokenizer, null, new MLNetForgetting.MLNet.Pretraining.LanguageModelTransformer.Settings(
            "Text", "Features", model.Config.MaxSequenceLength, 32, 0, 0, MLNetForgetting.Runtime.DeviceOption.Cpu));

    /// <summary>A freshly initialised tiny model over the English vocabulary.</summary>
    public static RobertaForMaskedLM NewModel(int seed = 3)
    {
        var model = new RobertaForMaskedLM(RobertaConfig.Tiny(EnglishTokenizer.VocabSize) with { MaxSequenceLength = 48 });
        model.InitializeWeights(new TorchSharp.torch.Generator((ulong)seed));
        return model;
    }

    private static readonly Lazy<Dictionary<string, TorchSharp.torch.Tensor>> PretrainedWeights = new(() =>
    {
        using var model = NewModel(8);
        MLNetForgetting.Forgetting.ActiveForgetting.Pretrain(model, EnglishTokenizer, () => EnglishCorpus, new MLNetForgetting.Forgetting.PretrainingSettings
        {
            ResetInterval = 0, MaxSteps = 400, BatchSize = 32, MaxSequenceLength = 48, LearningRate = 3e-3, EmbeddingLearningRate = 3e-3, Seed = 8, LogInterval = 1000,
        }, TorchSharp.torch.CPU);
        return Snapshot(model);
    });

    /// <summary>A tiny model after 400 MLM updates on the English synthetic corpus (trained once, copied per call).</summary>
    public static RobertaForMaskedLM NewPretrainedModel()
    {
        var model = NewModel();
        model.LoadNamedTensors(PretrainedWeights.Value);
        return model;
    }

    public static Dictionary<string, TorchSharp.torch.Tensor> Snapshot(RobertaForMaskedLM model) =>
        model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
}

using MLNetForgetting.Forgetting;
using MLNetForgetting.Modeling;
using MLNetForgetting.Modeling.Adapters;
using MLNetForgetting.Prompts;
using MLNetForgetting.SelfTraining;
using MLNetForgetting.Tests.Text;
using MLNetForgetting.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNetForgetting.Tests.SelfTraining;

/// <summary>
/// Shared tiny setting for the LiST tests: a BPE vocabulary trained on real English with every LiST
/// label word forced to one token, and a Tiny backbone pretrained for a few hundred MLM updates.
/// Built once per test run; tests never change the backbone's weights (copy it with <see cref="CopyBackbone"/>).
/// </summary>
internal static class ListFixture
{
    public static readonly string[] LabelWords = [" No", " Yes", " Maybe", " terrible", " great", " subjective", " objective"];

    // Built on its own thread: dispose scopes and grad mode are per thread, so a test that first
    // touches the fixture inside NewDisposeScope()/no_grad() can neither dispose the shared backbone
    // at its end nor switch off the gradients pretraining needs.
    private static readonly Lazy<(SubwordTokenizer Tokenizer, RobertaForMaskedLM Backbone)> Shared =
        new(() => Task.Factory.StartNew(Build, TaskCreationOptions.LongRunning).GetAwaiter().GetResult());

    public static SubwordTokenizer Tokenizer => Shared.Value.Tokenizer;

    /// <summary>The pretrained tiny backbone (do not train it; its adapter slots may be occupied by any test's adapters).</summary>
    public static RobertaForMaskedLM Backbone => Shared.Value.Backbone;

    public const int PretrainSteps = 300;

    private static (SubwordTokenizer, RobertaForMaskedLM) Build()
    {
        // Raw English plus SST-2 pool sentences so the review vocabulary is not all bytes.
        var lines = TextTestData.RawLines("en").Where(l => l.Length is > 20 and < 400).Take(1500)
            .Concat(FewShotData.ReadTsv(Path.Combine(TextTestData.DataRoot, "glue_pools", "SST-2", "train.tsv")).Take(1500).Select(e => e.Texts[0]))
            .ToArray();
        var tokenizer = BpeVocabularyTrainer.Train(lines, new BpeTrainerOptions { VocabSize = 800, RequiredTokens = LabelWords });
        var model = new RobertaForMaskedLM(RobertaConfig.Tiny(tokenizer.VocabSize) with { MaxSequenceLength = 64 });
        model.InitializeWeights(new Generator(11));
        ActiveForgetting.Pretrain(model, tokenizer, () => lines, new PretrainingSettings
        {
            ResetInterval = 0, MaxSteps = PretrainSteps, BatchSize = 16, MaxSequenceLength = 64, LearningRate = 3e-3,
            EmbeddingLearningRate = 3e-3, Seed = 7, BucketPoolBatches = 8, LogInterval = 10_000,
        }, CPU);
        return (tokenizer, model);
    }

    /// <summary>A fresh backbone with the same weights (adapter slots empty).</summary>
    public static RobertaForMaskedLM CopyBackbone(RobertaForMaskedLM source)
    {
        var copy = new RobertaForMaskedLM(source.Config);
        copy.LoadNamedTensors(BackboneTensors(source));
        return copy;
    }

    /// <summary>The backbone's own tensors, without installed adapters.</summary>
    public static Dictionary<string, Tensor> BackboneTensors(RobertaForMaskedLM model) =>
        model.NamedTensors().Where(kv => !AdapterSet.IsAdapterParameterName(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);

    public static List<FewShotExample> Labelled(string task = "SST-2", int k = 30, int seed = 1) =>
        FewShotData.LoadLabelled(TextTestData.DataRoot, task, k, seed);

    public static List<PromptExample> Encode(IEnumerable<FewShotExample> examples, PromptTask? task = null) =>
        PromptEncoder.Encode(examples, task ?? LiSTTasks.Sst2, Tokenizer, Backbone.Config.MaxSequenceLength);

    public static AdapterOptions SmallAdapters => new() { BottleneckSize = 8 };
}

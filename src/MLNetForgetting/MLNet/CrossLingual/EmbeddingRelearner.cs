using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLNetForgetting.Adaptation;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Modeling;
using MLNetForgetting.Runtime;
using MLNetForgetting.Text;
using MLNetForgetting.Training;
using TorchSharp;

namespace MLNetForgetting.MLNet.CrossLingual;

/// <summary>
/// Stage 2 of the cross-lingual pipeline (methods.md §2): learns a new vocabulary for the target
/// language from a text column, gives the pretrained model fresh token embeddings for it, and trains
/// only those embeddings by masked-LM while every other parameter stays frozen. The input
/// <see cref="Options.LanguageModel"/> is not modified; the result is a new
/// <see cref="LanguageModelTransformer"/> in the target language whose history is the adaptation curve.
/// </summary>
public sealed class EmbeddingRelearner : TorchRowEstimator<LanguageModelTransformer>
{
    /// <summary>Settings of <see cref="EmbeddingRelearner"/>.</summary>
    public sealed class Options
    {
        /// <summary>The pretrained model whose body is kept (required; copied, never changed).</summary>
        public LanguageModelTransformer? LanguageModel;
        /// <summary>Target-language text (role "text").</summary>
        public string InputColumnName = "Text";
        /// <summary>Output sentence-embedding column of the relearned model.</summary>
        public string OutputColumnName = "Features";
        /// <summary>The target tokenizer; when null a byte-level BPE vocabulary of <see cref="VocabularySize"/> is trained on the input text.</summary>
        public SubwordTokenizer? Tokenizer;
        /// <summary>Vocabulary size trained when <see cref="Tokenizer"/> is null.</summary>
        public int VocabularySize = 8000;
        /// <summary>Steps, token budget, learning rate, checkpointing (the paper: 5M tokens, LR 7e-4). <c>Seed</c> here is replaced by <see cref="Seed"/>.</summary>
        public RelearningSettings Settings = new();
        /// <summary>Called at update 0, every <c>Settings.EvaluationInterval</c> updates and at the end with the model being trained (e.g. splice it into a task model and measure zero-shot accuracy); its metrics go into the history.</summary>
        public Func<RobertaForMaskedLM, long, IReadOnlyDictionary<string, double>>? Evaluate;
        /// <summary>Seed; null takes one from the MLContext's seeded random.</summary>
        public int? Seed;
        /// <summary>Device; CUDA falls back to the CPU with a warning.</summary>
        public DeviceOption Device = DeviceOption.Cpu;
        /// <summary>Receives training progress.</summary>
        public IProgress<TrainingProgress>? Progress;
        /// <summary>Stops training (after writing a checkpoint when a folder is set).</summary>
        public CancellationToken CancellationToken;
        /// <summary>Rows per forward pass when the relearned model transforms data.</summary>
        public int InferenceBatchSize = 32;
    }

    internal const string RegistrationName = "EmbeddingRelearner";
    private readonly Options _options;

    internal EmbeddingRelearner(IHostEnvironment env, Options options) : base(env, RegistrationName)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.LanguageModel is null) throw new ArgumentException("Options.LanguageModel (the pretrained model) is required.", nameof(options));
        ArgumentException.ThrowIfNullOrWhiteSpace(options.InputColumnName, nameof(options.InputColumnName));
        if (options.Tokenizer is null && options.VocabularySize < 300)
            throw new ArgumentOutOfRangeException(nameof(options.VocabularySize), options.VocabularySize, "VocabularySize must be at least 300.");
        options.Settings.Validate();
        _options = options;
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<ColumnSpec> InputColumns => new[] { ColumnSpec.Text(_options.InputColumnName, "text") };

    /// <inheritdoc/>
    protected override IReadOnlyList<ColumnSpec> OutputColumns => new[] { ColumnSpec.SingleVector(_options.OutputColumnName, "sentence embedding", _options.LanguageModel!.Model.Config.HiddenSize) };

    /// <inheritdoc/>
    protected override LanguageModelTransformer FitCore(IDataView input)
    {
        TorchRuntime.EnsureInitialized();
        using var ch = Host.Start("Relearning");
        var o = _options;
        var source = o.LanguageModel!;
        var device = TorchDevices.Resolve(o.Device, msg => ch.Warning(msg));
        int seed = o.Seed ?? Host.Rand.Next();
        IEnumerable<string?> Corpus() => DataViewText.Read(input, o.InputColumnName);
        var tokenizer = o.Tokenizer ?? EmbeddingRelearning.TrainVocabulary(Corpus, o.VocabularySize);
        var model = ModelAssembly.Clone(source.Model);
        model.to(device);
        var settings = o.Settings with { Seed = seed, MaxSequenceLength = Math.Min(o.Settings.MaxSequenceLength, model.Config.MaxSequenceLength) };
        ch.Info($"Relearning token embeddings for a vocabulary of {tokenizer.VocabSize} (body frozen), seed {seed}");
        var result = EmbeddingRelearning.Relearn(model, tokenizer, Corpus, settings, device,
            o.Evaluate is null ? null : n => o.Evaluate(model, n), msg => ch.Info(msg), o.Progress, o.CancellationToken);
        model.eval();
        return new LanguageModelTransformer(Host, model, tokenizer, result.History, new LanguageModelTransformer.Settings(
            o.InputColumnName, o.OutputColumnName, settings.MaxSequenceLength, o.InferenceBatchSize, source.ResetInterval, seed, o.Device, source.PretrainedBodyFingerprint));
    }
}

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
/// Stage 2 of the cross-lingual pipeline (docs/methods.md §2): learns a new vocabulary for the target
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
        /// <summary>Steps, token budget, learning rate, checkpointing (the paper: a corpus of 5M tokens, <c>CorpusTokenCap</c>, trained for many updates; LR 7e-4). <c>Seed</c> here is replaced by <see cref="Seed"/>.</summary>
        public RelearningSettings Settings = new();
        /// <summary>Called at update 0, every <c>Settings.EvaluationInterval</c> updates and at the end with the model being trained (e.g. splice it into a task model and measure zero-shot accuracy); its metrics go into the history.</summary>
        public Func<RobertaForMaskedLM, long, IReadOnlyDictionary<string, double>>? Evaluate;
        /// <summary>
        /// Held-out target-language text (same column name) for the masked-LM loss and accuracy every
        /// <c>Settings.EvaluationInterval</c> updates; with <c>Settings.KeepBestCheckpoint</c> the weights with the
        /// lowest held-out loss are returned. Keep it disjoint from the training text.
        /// </summary>
        public IDataView? ValidationData;
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
        if (options.Settings.KeepBestCheckpoint && options.ValidationData is null)
            throw new ArgumentException("Settings.KeepBestCheckpoint needs ValidationData (held-out target-language text).", nameof(options));
        if (options.ValidationData is not null)
            SchemaChecks.RequireAll(options.ValidationData.Schema, new[] { ColumnSpec.Text(options.InputColumnName, "validation text") });
        _options = options;
    }

    /// <inheritdoc/>
    private protected override IReadOnlyList<ColumnSpec> InputColumns => new[] { ColumnSpec.Text(_options.InputColumnName, "text") };

    /// <inheritdoc/>
    private protected override IReadOnlyList<ColumnSpec> OutputColumns => new[] { ColumnSpec.SingleVector(_options.OutputColumnName, "sentence embedding", _options.LanguageModel!.Model.Config.HiddenSize) };

    /// <inheritdoc/>
    private protected override LanguageModelTransformer FitCore(IDataView input)
    {
        TorchRuntime.EnsureInitialized();
        using var ch = Host.Start("Relearning");
        var o = _options;
        var source = o.LanguageModel!;
        var device = TorchDevices.Resolve(o.Device, msg => ch.Warning(msg));
        int seed = o.Seed ?? Host.Rand.Next();
        IEnumerable<string?> Corpus() => DataViewText.Read(input, o.InputColumnName);
        var tokenizer = o.Tokenizer ?? TrainCappedVocabulary(Corpus, o.VocabularySize, o.Settings.CorpusTokenCap, o.Settings.MaxSequenceLength, ch);
        Func<IEnumerable<string?>>? heldOut = o.ValidationData is { } v ? () => DataViewText.Read(v, o.InputColumnName) : null;
        var model = ModelAssembly.Clone(source.Model);
        model.to(device);
        var settings = o.Settings with { Seed = seed, MaxSequenceLength = Math.Min(o.Settings.MaxSequenceLength, model.Config.MaxSequenceLength) };
        ch.Info($"Relearning token embeddings for a vocabulary of {tokenizer.VocabSize} (body frozen), seed {seed}");
        var result = EmbeddingRelearning.Relearn(model, tokenizer, Corpus, settings, device,
            o.Evaluate is null ? null : n => o.Evaluate(model, n), msg => ch.Info(msg), o.Progress, o.CancellationToken, heldOut);
        model.eval();
        return new LanguageModelTransformer(Host, model, tokenizer, result.History, new LanguageModelTransformer.Settings(
            o.InputColumnName, o.OutputColumnName, settings.MaxSequenceLength, o.InferenceBatchSize, source.ResetInterval, seed, o.Device, source.PretrainedBodyFingerprint));
    }

    /// <summary>
    /// The target vocabulary, trained on the capped corpus when there is a cap: on the shortest prefix of
    /// lines that holds at least <paramref name="cap"/> tokens under the vocabulary trained on it (first
    /// guess 4 characters a token, then rescaled by the measured ratio), so the vocabulary sees the
    /// relearning text and not much more (but never less than <see cref="EmbeddingRelearning.MinimumVocabularyCorpusCharacters"/>).
    /// </summary>
    private static SubwordTokenizer TrainCappedVocabulary(Func<IEnumerable<string?>> corpus, int vocabSize, long? cap, int maxLength, IChannel ch)
    {
        if (cap is not long budget) return EmbeddingRelearning.TrainVocabulary(corpus, vocabSize);
        double charsPerToken = 4.0;
        SubwordTokenizer tokenizer = null!;
        for (int attempt = 0; attempt < 4; attempt++)
        {
            // Never below the vocabulary trainer's floor: a tiny cap still needs enough text for the vocabulary.
            long characters = Math.Max(EmbeddingRelearning.MinimumVocabularyCorpusCharacters(vocabSize), (long)Math.Ceiling(budget * charsPerToken * (attempt == 0 ? 1.0 : 1.05)));
            IEnumerable<string?> Prefix() => TakeCharacters(corpus(), characters);
            tokenizer = EmbeddingRelearning.TrainVocabulary(Prefix, vocabSize);
            // One pass for both counts: the prefix's tokens under the new vocabulary and its characters.
            long tokens = 0, available = 0;
            foreach (var line in Prefix())
            {
                if (string.IsNullOrWhiteSpace(line)) continue;
                available += line.Trim().Length;
                tokens += tokenizer.EncodeSingle(line, maxLength).Length;
            }
            ch.Info($"relearn: target vocabulary trained on the first {available:N0} characters ({tokens:N0} tokens; corpus cap {budget:N0} tokens)");
            if (tokens >= budget || available < characters) break;  // covers the cap, or the corpus is smaller than the cap
            charsPerToken = (double)available / Math.Max(1, tokens);
        }
        return tokenizer;
    }

    private static IEnumerable<string?> TakeCharacters(IEnumerable<string?> lines, long characters)
    {
        long seen = 0;
        foreach (var line in lines)
        {
            if (seen >= characters) yield break;
            if (!string.IsNullOrWhiteSpace(line)) seen += line.Trim().Length;
            yield return line;
        }
    }
}

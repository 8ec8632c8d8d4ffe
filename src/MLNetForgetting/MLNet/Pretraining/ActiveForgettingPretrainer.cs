using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLNetForgetting.Forgetting;
using MLNetForgetting.Modeling;
using MLNetForgetting.Runtime;
using MLNetForgetting.Text;
using MLNetForgetting.Training;
using TorchSharp;

namespace MLNetForgetting.MLNet.Pretraining;

/// <summary>
/// Pretrains a RoBERTa-style masked language model on a text column, with active forgetting
/// (Chen et al. 2023): the token embeddings are reset every <see cref="Options.ResetInterval"/>
/// updates so that the body learns to work with embeddings it has never seen. ResetInterval = 0 is
/// standard pretraining on identical code. Trains a byte-level BPE vocabulary first when no
/// tokenizer is given. The fitted <see cref="LanguageModelTransformer"/> adds a mean-pooled sentence
/// embedding column.
/// </summary>
public sealed class ActiveForgettingPretrainer : TorchRowEstimator<LanguageModelTransformer>
{
    /// <summary>Settings of <see cref="ActiveForgettingPretrainer"/>. Defaults follow the paper where it applies at CPU scale (docs/methods.md §1.3, §1.5).</summary>
    public sealed class Options
    {
        /// <summary>Input: a String column of raw text (role "text"). Null, empty and whitespace-only rows are skipped in training and counted in the log.</summary>
        public string InputColumnName = "Text";
        /// <summary>Output: the sentence embedding, a vector of Single of the model width (mean of the last hidden states over real tokens).</summary>
        public string OutputColumnName = "Features";
        /// <summary>
        /// Continued pretraining: start from this model (a fitted or imported language model) instead of a fresh
        /// one, keeping its weights, its tokenizer and its maximum length; with <see cref="ResetInterval"/> &gt; 0
        /// its token embeddings are reset every K updates as in pretraining from scratch. The model is copied,
        /// never changed. The size options, <see cref="Tokenizer"/> and <see cref="VocabularySize"/> must be left
        /// at their defaults: the model fixes them.
        /// </summary>
        public LanguageModelTransformer? InitialModel;
        /// <summary>Model size preset: "Tiny" (tests), "Small" (CPU experiments), "Base" (RoBERTa-base dimensions).</summary>
        public string ModelPreset = "Small";
        /// <summary>Overrides the preset's hidden size when set.</summary>
        public int? HiddenSize;
        /// <summary>Overrides the preset's number of layers when set.</summary>
        public int? NumLayers;
        /// <summary>Overrides the preset's number of attention heads when set.</summary>
        public int? NumAttentionHeads;
        /// <summary>Overrides the preset's feed-forward width when set.</summary>
        public int? IntermediateSize;
        /// <summary>The tokenizer to use; when null a byte-level BPE vocabulary of <see cref="VocabularySize"/> is trained on the input text.</summary>
        public SubwordTokenizer? Tokenizer;
        /// <summary>Size of the vocabulary trained when <see cref="Tokenizer"/> is null (at least 320: special tokens, bytes and <see cref="RequiredTokens"/>).</summary>
        public int VocabularySize = 8000;
        /// <summary>
        /// Tokens the trained vocabulary must hold as single tokens, with their leading space. The default,
        /// <see cref="BuiltInLabelWords"/>, is the label words of the built-in LiST tasks, so a model pretrained
        /// here can back <c>PromptAdapterSelfTrainer</c> on them; for a prompt of your own add its words:
        /// <c>RequiredTokens = [.. Options.BuiltInLabelWords, " positive", " negative"]</c>. Ignored when
        /// <see cref="Tokenizer"/> is given.
        /// </summary>
        public IReadOnlyList<string> RequiredTokens = BuiltInLabelWords;

        /// <summary>The label words of the built-in LiST tasks (MNLI, RTE, QQP, SST-2, mpqa, subj) with their leading space.</summary>
        public static IReadOnlyList<string> BuiltInLabelWords { get; } =
            Prompts.LiSTTasks.All.SelectMany(t => t.Verbalizer.Words).Distinct(StringComparer.Ordinal).Select(w => " " + w).ToArray();
        /// <summary>K: reset the token embeddings after every K updates; 0 = standard pretraining. Paper: 1000.</summary>
        public long ResetInterval = 1000;
        /// <summary>
        /// Warm up the MLM head only: with <see cref="InitialModel"/> set and <see cref="ResetInterval"/> = 0, train
        /// the head's dense layer, LayerNorm and output bias with the body and the token embeddings frozen. A
        /// sentence encoder imported without an MLM head (all-MiniLM-L6-v2) gets a fresh head at import; this makes
        /// it predict masked tokens before relearning or continued pretraining uses its masked-LM loss.
        /// </summary>
        public bool MlmHeadOnly;
        /// <summary>Total updates T. When 0, T comes from <see cref="TokenBudget"/> or else <see cref="MaxEpochs"/>.</summary>
        public long MaxSteps;
        /// <summary>Train on about this many (non-padding) tokens: T = ⌈budget / mean tokens per batch⌉, measured in one pass over the data.</summary>
        public long TokenBudget;
        /// <summary>Epochs over the data when neither <see cref="MaxSteps"/> nor <see cref="TokenBudget"/> is set.</summary>
        public int MaxEpochs = 1;
        /// <summary>Sequences per update.</summary>
        public int BatchSize = 32;
        /// <summary>Longest sequence in tokens, including &lt;s&gt; and &lt;/s&gt;; longer text is truncated.</summary>
        public int MaxSequenceLength = 128;
        /// <summary>Peak learning rate of the body.</summary>
        public double LearningRate = 7e-4;
        /// <summary>Peak learning rate of the token embeddings; its warm-up and decay restart every episode.</summary>
        public double EmbeddingLearningRate = 7e-4;
        /// <summary>Warm-up as a fraction of T.</summary>
        public double WarmupFraction = 0.08;
        /// <summary>Decoupled weight decay.</summary>
        public double WeightDecay = 0.01;
        /// <summary>Global gradient-norm clipping (0.5 as in the paper's forgetting run; applied to standard runs too so a pair differs only in K). Null disables.</summary>
        public double? ClipNorm = 0.5;
        /// <summary>Seed of initialisation, data order, masking and dropout; null takes one from the MLContext's seeded random.</summary>
        public int? Seed;
        /// <summary>Where training and inference run; CUDA falls back to the CPU with a warning.</summary>
        public DeviceOption Device = DeviceOption.Cpu;
        /// <summary>Folder for the training checkpoint (written atomically); null for none.</summary>
        public string? CheckpointDirectory;
        /// <summary>Write a checkpoint every this many updates (0: at the end and on cancellation only).</summary>
        public long CheckpointInterval;
        /// <summary>Continue from the checkpoint in <see cref="CheckpointDirectory"/> if there is one (same seed and data required).</summary>
        public bool Resume;
        /// <summary>Held-out text (same column name) for masked-LM loss and accuracy at <see cref="ValidationInterval"/>.</summary>
        public IDataView? ValidationData;
        /// <summary>Evaluate on <see cref="ValidationData"/> every this many updates (0: at the end only).</summary>
        public long ValidationInterval;
        /// <summary>Keep the weights with the lowest validation loss (as the paper does for forgetting runs); needs <see cref="ValidationData"/> and <see cref="CheckpointDirectory"/>.</summary>
        public bool KeepBestCheckpoint;
        /// <summary>Locate the first NaN/Inf (slow): autograd anomaly mode plus a finite check of every parameter after each update; the <see cref="Training.TrainingDivergedException"/> names the update and the parameter or autograd function.</summary>
        public bool DetectAnomaly;
        /// <summary>bfloat16 matrix products during training (faster on CPUs with AVX-512 BF16 or AMX; docs/benchmarks.md). Float32 by default.</summary>
        public Runtime.MatmulPrecision MatmulPrecision;
        /// <summary>Receives progress after every update (step, loss, tokens/s, ETA).</summary>
        public IProgress<TrainingProgress>? Progress;
        /// <summary>Stops training after writing a checkpoint (when a folder is set) and throws <see cref="OperationCanceledException"/>.</summary>
        public CancellationToken CancellationToken;
        /// <summary>Rows per forward pass when the fitted model transforms data.</summary>
        public int InferenceBatchSize = 32;
    }

    internal const string RegistrationName = "ActiveForgettingPretrainer";

    /// <summary>The smallest <see cref="Options.VocabularySize"/> accepted.</summary>
    public const int MinimumVocabularySize = 320;
    private readonly Options _options;

    internal ActiveForgettingPretrainer(IHostEnvironment env, Options options) : base(env, RegistrationName)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.InputColumnName, nameof(options.InputColumnName));
        ArgumentException.ThrowIfNullOrWhiteSpace(options.OutputColumnName, nameof(options.OutputColumnName));
        _ = RobertaConfig.FromPreset(options.ModelPreset, 100); // unknown preset → ArgumentOutOfRangeException
        if (options.MlmHeadOnly && options.InitialModel is null)
            throw new ArgumentException("Options.MlmHeadOnly warms up the MLM head of an existing model: set Options.InitialModel.", nameof(options));
        if (options.MlmHeadOnly && options.ResetInterval != 0)
            throw new ArgumentException($"Options.MlmHeadOnly trains the MLM head with the token embeddings frozen, so there is nothing to reset: set ResetInterval = 0 (it is {options.ResetInterval}).", nameof(options));
        if (options.Tokenizer is null && options.InitialModel is null && options.VocabularySize < MinimumVocabularySize)
            throw new ArgumentOutOfRangeException(nameof(options.VocabularySize), options.VocabularySize, $"VocabularySize must be at least {MinimumVocabularySize} (5 special tokens + 256 bytes + the required label words + merges).");
        if (options.MaxSteps < 0) throw new ArgumentOutOfRangeException(nameof(options.MaxSteps), options.MaxSteps, "MaxSteps must be >= 0.");
        if (options.TokenBudget < 0) throw new ArgumentOutOfRangeException(nameof(options.TokenBudget), options.TokenBudget, "TokenBudget must be >= 0.");
        if (options.MaxEpochs < 1) throw new ArgumentOutOfRangeException(nameof(options.MaxEpochs), options.MaxEpochs, "MaxEpochs must be >= 1.");
        if (options.InferenceBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options.InferenceBatchSize), options.InferenceBatchSize, "InferenceBatchSize must be >= 1.");
        if (options.KeepBestCheckpoint && (options.ValidationData is null || options.CheckpointDirectory is null))
            throw new ArgumentException("KeepBestCheckpoint needs ValidationData and a CheckpointDirectory.", nameof(options));
        if (options.InitialModel is { } initial)
        {
            // The model fixes its size and vocabulary: a knob set beside it would be silently ignored.
            var set = new List<string>();
            if (options.HiddenSize is not null) set.Add(nameof(options.HiddenSize));
            if (options.NumLayers is not null) set.Add(nameof(options.NumLayers));
            if (options.NumAttentionHeads is not null) set.Add(nameof(options.NumAttentionHeads));
            if (options.IntermediateSize is not null) set.Add(nameof(options.IntermediateSize));
            if (options.Tokenizer is not null && options.Tokenizer.Fingerprint != initial.Tokenizer.Fingerprint) set.Add(nameof(options.Tokenizer));
            if (set.Count > 0)
                throw new ArgumentException($"Options.InitialModel fixes the model's size and tokenizer; leave {string.Join(", ", set)} unset (the initial model is {initial.Model.Config.HiddenSize} wide, {initial.Model.Config.NumHiddenLayers} layers, vocabulary {initial.Tokenizer.VocabSize}).", nameof(options));
        }
        Settings(options, steps: 1, seed: 0).Validate(); // every other option, named in the exception
        if (options.ValidationData is not null)
            SchemaChecks.RequireAll(options.ValidationData.Schema, new[] { ColumnSpec.Text(options.InputColumnName, "validation text") });
        _options = options;
    }

    /// <inheritdoc/>
    private protected override IReadOnlyList<ColumnSpec> InputColumns => new[] { ColumnSpec.Text(_options.InputColumnName, "text") };

    /// <inheritdoc/>
    private protected override IReadOnlyList<ColumnSpec> OutputColumns => new[] { ColumnSpec.SingleVector(_options.OutputColumnName, "sentence embedding", EmbeddingWidth) };

    /// <summary>The width of the output column, known before training: the initial model's, else the preset's hidden size unless <see cref="Options.HiddenSize"/> overrides it.</summary>
    public int EmbeddingWidth => _options.InitialModel?.Model.Config.HiddenSize ?? _options.HiddenSize ?? RobertaConfig.FromPreset(_options.ModelPreset, 100).HiddenSize;

    private static PretrainingSettings Settings(Options o, long steps, int seed) => new()
    {
        ResetInterval = o.ResetInterval, MaxSteps = steps, BatchSize = o.BatchSize, MaxSequenceLength = o.MaxSequenceLength,
        LearningRate = o.LearningRate, EmbeddingLearningRate = o.EmbeddingLearningRate, WarmupFraction = o.WarmupFraction,
        WeightDecay = o.WeightDecay, ClipNorm = o.ClipNorm, Seed = seed, CheckpointDirectory = o.CheckpointDirectory,
        CheckpointInterval = o.CheckpointInterval, Resume = o.Resume, ValidationInterval = o.ValidationInterval > 0 ? o.ValidationInterval : steps,
        KeepBestCheckpoint = o.KeepBestCheckpoint, DetectAnomaly = o.DetectAnomaly, MatmulPrecision = o.MatmulPrecision,
        MlmHeadOnly = o.MlmHeadOnly, ValidateAtStart = o.InitialModel is not null,
    };

    /// <inheritdoc/>
    private protected override LanguageModelTransformer FitCore(IDataView input)
    {
        TorchRuntime.EnsureInitialized();
        using var ch = Host.Start("Pretraining");
        var o = _options;
        var device = TorchDevices.Resolve(o.Device, msg => ch.Warning(msg));
        if (CpuFeatures.Warning(o.MatmulPrecision) is { } slow && device.type == DeviceType.CPU) ch.Warning(slow);
        int seed = o.Seed ?? Host.Rand.Next();
        IEnumerable<string?> Corpus() => DataViewText.Read(input, o.InputColumnName);

        var tokenizer = o.InitialModel?.Tokenizer ?? o.Tokenizer;
        if (tokenizer is null)
        {
            RequireSomeText(Corpus(), o.InputColumnName);
            ch.Info($"Training a byte-level BPE vocabulary of {o.VocabularySize} on column '{o.InputColumnName}'");
            tokenizer = BpeVocabularyTrainer.Train(Corpus(), new BpeTrainerOptions { VocabSize = o.VocabularySize, RequiredTokens = o.RequiredTokens ?? [] });
        }
        int maxLength = o.InitialModel is { } start ? Math.Min(o.MaxSequenceLength, start.Model.Config.MaxSequenceLength) : o.MaxSequenceLength;
        long steps = ResolveSteps(Corpus(), tokenizer, maxLength, ch);
        foreach (var warning in ShortRunWarnings(o.ResetInterval, steps, o.WarmupFraction)) ch.Warning(warning);

        var model = InitialWeights(o, tokenizer, maxLength, seed);
        var config = model.Config;
        model.to(device);

        Func<IEnumerable<string?>>? validation = o.ValidationData is null ? null : () => DataViewText.Read(o.ValidationData, o.InputColumnName);
        var settings = Settings(o, steps, seed);
        ch.Info($"{(o.MlmHeadOnly ? "Warming up the MLM head (body and embeddings frozen)" : "Pretraining")} {(o.ResetInterval > 0 ? $"with active forgetting (K = {o.ResetInterval})" : "(standard)")}: {steps} updates of {o.BatchSize} sequences, model {config.HiddenSize}x{config.NumHiddenLayers}, vocabulary {tokenizer.VocabSize}, seed {seed}");
        var result = ActiveForgetting.Pretrain(model, tokenizer, Corpus, settings, device, validation, msg => ch.Info(msg), o.Progress, o.CancellationToken);
        model.eval();
        return new LanguageModelTransformer(Host, model, tokenizer, result.History, new LanguageModelTransformer.Settings(
            o.InputColumnName, o.OutputColumnName, maxLength, o.InferenceBatchSize, o.ResetInterval, seed, o.Device));
    }

    /// <summary>
    /// The model training starts from: a copy of <see cref="Options.InitialModel"/> (bit-identical weights), or a
    /// fresh model of the preset and size options, initialised from <paramref name="seed"/>.
    /// </summary>
    internal static RobertaForMaskedLM InitialWeights(Options o, SubwordTokenizer tokenizer, int maxLength, int seed)
    {
        if (o.InitialModel is { } start) return Adaptation.ModelAssembly.Clone(start.Model);
        var config = RobertaConfig.FromPreset(o.ModelPreset, tokenizer.VocabSize) with
        {
            MaxSequenceLength = maxLength, PadTokenId = tokenizer.PadId,
        };
        config = config with
        {
            HiddenSize = o.HiddenSize ?? config.HiddenSize, NumHiddenLayers = o.NumLayers ?? config.NumHiddenLayers,
            NumAttentionHeads = o.NumAttentionHeads ?? config.NumAttentionHeads, IntermediateSize = o.IntermediateSize ?? config.IntermediateSize,
        };
        var model = new RobertaForMaskedLM(config);
        model.InitializeWeights(new torch.Generator((ulong)(uint)seed));
        return model;
    }

    /// <summary>What is wrong with a run of <paramref name="steps"/> updates at this K and warm-up, one sentence each (empty when nothing is).</summary>
    internal static IReadOnlyList<string> ShortRunWarnings(long resetInterval, long steps, double warmupFraction)
    {
        var warnings = new List<string>();
        if (resetInterval <= 0) return warnings;
        long episodes = steps / resetInterval;
        if (episodes < 2)
            warnings.Add($"Fewer than two forgetting episodes: T = {steps} updates at K = {resetInterval} gives {episodes} reset(s){(steps <= resetInterval ? ", so this run is standard pretraining" : "")}. Lower ResetInterval or train longer.");
        else if (episodes < 20)
            warnings.Add($"Only {episodes} forgetting episodes (T = {steps}, K = {resetInterval}); the method needs many (the paper has 125; about 20 or more).");
        // Each episode replays the embedding schedule compressed into K updates, warm-up included.
        if (warmupFraction > 0 && warmupFraction * Math.Min(resetInterval, steps) < 1)
            warnings.Add($"An episode of K = {resetInterval} updates is shorter than one update of its warm-up ({warmupFraction:P0} of the episode): the embedding learning rate starts every episode at its peak. Raise ResetInterval or WarmupFraction.");
        return warnings;
    }

    private long ResolveSteps(IEnumerable<string?> corpus, SubwordTokenizer tokenizer, int maxLength, IChannel ch)
    {
        var o = _options;
        if (o.MaxSteps > 0)
        {
            RequireSomeText(corpus, o.InputColumnName);
            return o.MaxSteps;
        }
        // One pass to size the run: sequences and tokens after skipping empty rows and truncation.
        var stats = new CorpusStats();
        long sequences = Batching.Encode(corpus, tokenizer, maxLength, stats).LongCount();
        if (sequences == 0) throw NoText(o.InputColumnName, stats.Rows, stats.SkippedEmpty);
        long batchesPerEpoch = (sequences + o.BatchSize - 1) / o.BatchSize;
        long steps = o.TokenBudget > 0
            ? Math.Max(1, (long)Math.Ceiling(o.TokenBudget / ((double)stats.Tokens / batchesPerEpoch)))
            : o.MaxEpochs * batchesPerEpoch;
        ch.Info($"Corpus: {stats}; {batchesPerEpoch} batches per epoch → {steps} updates" + (o.TokenBudget > 0 ? $" for a budget of {o.TokenBudget} tokens" : $" for {o.MaxEpochs} epoch(s)"));
        return steps;
    }

    private static void RequireSomeText(IEnumerable<string?> corpus, string column)
    {
        long rows = 0, empty = 0;
        foreach (var text in corpus)
        {
            rows++;
            if (!string.IsNullOrWhiteSpace(text)) return;
            empty++;
        }
        throw NoText(column, rows, empty);
    }

    private static InvalidOperationException NoText(string column, long rows, long empty) =>
        new($"Column '{column}' has no non-empty text to train on ({rows} rows read, {empty} empty or whitespace-only).");
}

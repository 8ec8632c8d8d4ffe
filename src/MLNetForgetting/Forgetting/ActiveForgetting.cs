using MLNetForgetting.Modeling;
using MLNetForgetting.Text;
using MLNetForgetting.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNetForgetting.Forgetting;

/// <summary>
/// Settings of masked-LM pretraining with active forgetting ([AF], docs/methods.md §1). With
/// <see cref="ResetInterval"/> = 0 the same code is standard pretraining, so the two are compared
/// on identical code, seed and data order.
/// </summary>
public sealed record PretrainingSettings
{
    /// <summary>K: reset the token embeddings after every K updates; 0 = standard pretraining. Paper: 1000.</summary>
    public long ResetInterval { get; init; } = 1000;
    /// <summary>T: total number of updates.</summary>
    public long MaxSteps { get; init; } = 10_000;
    public int BatchSize { get; init; } = 32;
    /// <summary>Longest sequence in tokens including &lt;s&gt; and &lt;/s&gt;; longer text is truncated.</summary>
    public int MaxSequenceLength { get; init; } = 128;
    /// <summary>Peak learning rate of the body (paper: 7e-4).</summary>
    public double LearningRate { get; init; } = 7e-4;
    /// <summary>Peak learning rate η_e of the token embeddings (paper: 7e-4); its schedule restarts every episode.</summary>
    public double EmbeddingLearningRate { get; init; } = 7e-4;
    /// <summary>Warm-up as a fraction of T (paper: 10k of 125k updates = 8%).</summary>
    public double WarmupFraction { get; init; } = 0.08;
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>Global gradient-norm clipping (paper: 0.5 for forgetting). We clip both runs at 0.5 by default so a pair differs only in K; null disables.</summary>
    public double? ClipNorm { get; init; } = 0.5;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.98;
    public double Epsilon { get; init; } = 1e-6;
    public double MaskProbability { get; init; } = 0.15;
    /// <summary>Sequences sorted together for length bucketing, in batches.</summary>
    public int BucketPoolBatches { get; init; } = 50;
    public int Seed { get; init; }
    public string? CheckpointDirectory { get; init; }
    public long CheckpointInterval { get; init; }
    public bool Resume { get; init; }
    public long ValidationInterval { get; init; }
    /// <summary>Keep the weights with the best validation loss ([AF] keeps the best checkpoint of forgetting runs).</summary>
    public bool KeepBestCheckpoint { get; init; }
    public bool DetectAnomaly { get; init; }
    public long LogInterval { get; init; } = 50;
    /// <summary>bfloat16 matrix products in training (<see cref="Runtime.MatmulPrecision"/>); float32 by default.</summary>
    public Runtime.MatmulPrecision MatmulPrecision { get; init; }
    /// <summary>
    /// Train only the MLM head (dense, LayerNorm, output bias) with the body and E frozen: the warm-up a
    /// checkpoint without an MLM head (a sentence encoder) needs before its masked-LM loss means anything.
    /// Needs <see cref="ResetInterval"/> = 0. The learning rate is <see cref="LearningRate"/>.
    /// </summary>
    public bool MlmHeadOnly { get; init; }
    /// <summary>Validate once before the first update (update 0) as well: the "before" figure of continued pretraining.</summary>
    public bool ValidateAtStart { get; init; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        static void Check(bool ok, string name, object? value, string rule) { if (!ok) throw new ArgumentOutOfRangeException(name, value, $"{name} {rule}."); }
        Check(ResetInterval >= 0, nameof(ResetInterval), ResetInterval, "must be 0 (standard pretraining) or positive");
        Check(MaxSteps > 0, nameof(MaxSteps), MaxSteps, "must be positive");
        Check(BatchSize > 0, nameof(BatchSize), BatchSize, "must be positive");
        Check(MaxSequenceLength >= 3, nameof(MaxSequenceLength), MaxSequenceLength, "must be at least 3 (<s> token </s>)");
        Check(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "must be positive and finite");
        Check(EmbeddingLearningRate > 0 && double.IsFinite(EmbeddingLearningRate), nameof(EmbeddingLearningRate), EmbeddingLearningRate, "must be positive and finite");
        Check(WarmupFraction is >= 0 and < 1, nameof(WarmupFraction), WarmupFraction, "must be in [0, 1)");
        Check(WeightDecay >= 0, nameof(WeightDecay), WeightDecay, "must be >= 0");
        Check(ClipNorm is null or > 0, nameof(ClipNorm), ClipNorm, "must be positive or null");
        Check(MaskProbability is > 0 and < 1, nameof(MaskProbability), MaskProbability, "must be in (0, 1)");
        Check(BucketPoolBatches > 0, nameof(BucketPoolBatches), BucketPoolBatches, "must be positive");
        Check(CheckpointInterval >= 0, nameof(CheckpointInterval), CheckpointInterval, "must be >= 0");
        Check(ValidationInterval >= 0, nameof(ValidationInterval), ValidationInterval, "must be >= 0");
        Check(!MlmHeadOnly || ResetInterval == 0, nameof(ResetInterval), ResetInterval, "must be 0 when only the MLM head trains (MlmHeadOnly)");
    }
}

/// <summary>The outcome of a pretraining run.</summary>
internal sealed record PretrainingResult(TrainingHistory History, CorpusStats Corpus, long ResumedFromStep, long? BestStep);

/// <summary>
/// Masked-LM pretraining with active forgetting: every K updates the token embeddings E (and with
/// them the tied MLM decoder) are redrawn in place from N(0, 0.02²) with the padding row zero, and
/// the embeddings' Adam moments and bias-correction step restart (AdamEF). The embeddings have their
/// own learning rate whose warm-up and decay replay every episode; the body follows one global
/// schedule. Positions, LayerNorms and the body are never reset; there is no reset after the last update.
/// </summary>
internal static class ActiveForgetting
{
    public const string BodyGroup = "body";
    public const string EmbeddingGroup = "embeddings";
    public const string ResetEvent = HistoryNames.ResetEvent;
    public const string MlmHeadGroup = "mlm-head";

    /// <summary>
    /// The settings that shape the run (reset interval, schedule, learning rates, optimiser, masking,
    /// batch and sequence sizes, seed), the tokenizer's fingerprint and a SHA-256 of the corpus lines
    /// (one extra pass over the text, made only when checkpoints are written).
    /// </summary>
    internal static IReadOnlyDictionary<string, string> ResumeConfiguration(PretrainingSettings s, SubwordTokenizer tokenizer, Func<IEnumerable<string?>> corpus)
    {
        static string F(double v) => TrainingConfiguration.Format(v);
        return new Dictionary<string, string>
        {
            [nameof(s.ResetInterval)] = s.ResetInterval.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [nameof(s.MaxSteps)] = s.MaxSteps.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [nameof(s.WarmupFraction)] = F(s.WarmupFraction),
            [nameof(s.LearningRate)] = F(s.LearningRate),
            [nameof(s.EmbeddingLearningRate)] = F(s.EmbeddingLearningRate),
            [nameof(s.WeightDecay)] = F(s.WeightDecay),
            [nameof(s.ClipNorm)] = s.ClipNorm is { } c ? F(c) : "none",
            ["Adam"] = $"{F(s.Beta1)}/{F(s.Beta2)}/{F(s.Epsilon)}",
            [nameof(s.MaskProbability)] = F(s.MaskProbability),
            [nameof(s.BatchSize)] = s.BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [nameof(s.MaxSequenceLength)] = s.MaxSequenceLength.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [nameof(s.Seed)] = s.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Tokenizer"] = tokenizer.Fingerprint[..16],
            ["Data"] = TrainingConfiguration.Fingerprint(corpus()),
        };
    }

    /// <summary>The body schedule S(n) and the embedding schedule η_e(n) for these settings.</summary>
    public static (LearningRateSchedule Body, LearningRateSchedule Embeddings) Schedules(PretrainingSettings s)
    {
        long warmup = (long)Math.Round(s.WarmupFraction * s.MaxSteps);
        var body = new WarmupPolynomialDecaySchedule(s.LearningRate, warmup, s.MaxSteps);
        var embeddingCurve = new WarmupPolynomialDecaySchedule(s.EmbeddingLearningRate, warmup, s.MaxSteps);
        LearningRateSchedule embeddings = s.ResetInterval > 0 ? new EpisodicSchedule(embeddingCurve, s.MaxSteps, s.ResetInterval) : embeddingCurve;
        return (body, embeddings);
    }

    /// <summary>The optimizer: the body group and the embedding group (E only), each with its own schedule and state.</summary>
    public static AdamEF CreateOptimizer(RobertaForMaskedLM model, PretrainingSettings s)
    {
        var (bodySchedule, embeddingSchedule) = Schedules(s);
        if (s.MlmHeadOnly)
            return new AdamEF(new[] { new ParameterGroup(MlmHeadGroup, model.LMHead.parameters(), bodySchedule, s.WeightDecay) }, s.Beta1, s.Beta2, s.Epsilon);
        return new AdamEF(new[]
        {
            new ParameterGroup(BodyGroup, model.BodyParameters().Select(p => p.Parameter), bodySchedule, s.WeightDecay),
            new ParameterGroup(EmbeddingGroup, new[] { model.TokenEmbeddings }, embeddingSchedule, s.WeightDecay),
        }, s.Beta1, s.Beta2, s.Epsilon);
    }

    /// <summary>Whether update <paramref name="update"/> (from 1) is followed by a reset: n mod K = 0 and n &lt; T.</summary>
    public static bool ResetsAfter(long update, long resetInterval, long totalUpdates) =>
        resetInterval > 0 && update % resetInterval == 0 && update < totalUpdates;

    /// <summary>The reset itself: E redrawn in place (seeded by run seed and update), and the embedding group's Adam state restarted.</summary>
    public static void Forget(RobertaForMaskedLM model, AdamEF optimizer, int seed, long update)
    {
        using var generator = new Generator((ulong)TrainingLoop.StepSeed(seed ^ 0x5EED, update));
        model.ResetTokenEmbeddings(generator);
        optimizer.ResetState(EmbeddingGroup);
    }

    /// <summary>
    /// Pretrains <paramref name="model"/> in place on <paramref name="corpus"/> (re-enumerated once
    /// per epoch, so it can stream from disk). Null, empty and whitespace-only lines are skipped and
    /// counted; longer lines are truncated to <see cref="PretrainingSettings.MaxSequenceLength"/>.
    /// </summary>
    public static PretrainingResult Pretrain(
        RobertaForMaskedLM model,
        SubwordTokenizer tokenizer,
        Func<IEnumerable<string?>> corpus,
        PretrainingSettings settings,
        Device device,
        Func<IEnumerable<string?>>? validationCorpus = null,
        Action<string>? log = null,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        settings.Validate();
        if (tokenizer.VocabSize != model.Config.VocabSize)
            throw new ArgumentException($"The tokenizer has {tokenizer.VocabSize} ids but the model's vocabulary is {model.Config.VocabSize}.", nameof(tokenizer));
        int maxLength = Math.Min(settings.MaxSequenceLength, model.Config.MaxSequenceLength);
        var objective = new MaskedLmObjective(model, tokenizer, device, settings.MaskProbability);
        var stats = new CorpusStats();
        using var optimizer = CreateOptimizer(model, settings);

        List<IReadOnlyList<int[]>>? validationBatches = null;
        if (validationCorpus is not null)
        {
            var validationStats = new CorpusStats();
            validationBatches = Batching.LengthBucketed(Batching.Encode(validationCorpus(), tokenizer, maxLength, validationStats),
                settings.BatchSize, settings.BucketPoolBatches, new Random(settings.Seed)).ToList();
            if (validationBatches.Count == 0) throw new ArgumentException("The validation text has no non-empty line.", nameof(validationCorpus));
        }

        // What a checkpoint must have been written with for Resume to continue it: another K, schedule,
        // learning rate, seed or corpus would silently give a model of neither configuration.
        // The loop stores it in checkpoints and refuses to resume one written with another configuration.
        IReadOnlyDictionary<string, string>? configuration = settings.CheckpointDirectory is null ? null : ResumeConfiguration(settings, tokenizer, corpus);

        var loop = new TrainingLoop<IReadOnlyList<int[]>>(model, optimizer, new TrainingLoopOptions
        {
            MaxSteps = settings.MaxSteps, Seed = settings.Seed, ClipNorm = settings.ClipNorm,
            CheckpointDirectory = settings.CheckpointDirectory, CheckpointInterval = settings.CheckpointInterval, Resume = settings.Resume,
            ValidationInterval = validationBatches is null ? 0 : settings.ValidationInterval, KeepBestCheckpoint = settings.KeepBestCheckpoint,
            DetectAnomaly = settings.DetectAnomaly, LogInterval = settings.LogInterval, MatmulPrecision = settings.MatmulPrecision,
            Configuration = configuration,
            Phase = settings.MlmHeadOnly ? "MLM head warm-up" : settings.ResetInterval > 0 ? $"pretrain (forgetting, K={settings.ResetInterval})" : "pretrain (standard)",
        })
        {
            Log = log,
            Progress = progress,
            AfterUpdate = update =>
            {
                if (!ResetsAfter(update.Update, settings.ResetInterval, settings.MaxSteps)) return;
                Forget(model, optimizer, settings.Seed, update.Update);
                update.RecordEvent(ResetEvent, $"episode {update.Update / settings.ResetInterval} ended; token embeddings redrawn");
            },
            Validate = validationBatches is null ? null : _ => objective.Evaluate(validationBatches, settings.Seed),
        };

        // Epoch e: stream the corpus, tokenize, bucket by length; the shuffle depends only on (seed, e).
        IEnumerable<IReadOnlyList<int[]>> Epoch(int epoch)
        {
            var epochStats = epoch == 0 ? stats : new CorpusStats();
            return Batching.LengthBucketed(Batching.Encode(corpus(), tokenizer, maxLength, epochStats),
                settings.BatchSize, settings.BucketPoolBatches, new Random(TrainingLoop.StepSeed(settings.Seed, -1 - epoch)));
        }

        if (settings.ValidateAtStart && validationBatches is not null && !(settings.Resume && settings.CheckpointDirectory is { } resumeDir && File.Exists(Path.Combine(resumeDir, TrainingLoop.CheckpointFile))))
        {
            model.eval();
            IReadOnlyDictionary<string, double> before;
            using (NewDisposeScope())
            using (no_grad())
                before = objective.Evaluate(validationBatches, settings.Seed);
            model.train();
            loop.History.Validations.Add(new ValidationRecord(0, before));
            log?.Invoke($"{(settings.MlmHeadOnly ? "MLM head warm-up" : "pretrain")}: validation before update 1: " + string.Join(", ", before.Select(kv => $"{kv.Key} {kv.Value:F4}")));
        }

        // A head warm-up freezes everything else, so autograd stops at the head and the body costs one forward pass.
        var frozen = settings.MlmHeadOnly
            ? model.parameters().Except(model.LMHead.parameters(), ReferenceEqualityComparer.Instance).Cast<TorchSharp.Modules.Parameter>().Where(p => p.requires_grad).ToList()
            : new List<TorchSharp.Modules.Parameter>();
        foreach (var p in frozen) p.requires_grad = false;
        TrainingHistory history;
        try { history = loop.Run(Epoch, objective.Step, cancellationToken); }
        finally { foreach (var p in frozen) p.requires_grad = true; }
        if (stats.SkippedEmpty > 0 || stats.Truncated > 0)
            log?.Invoke($"pretrain: corpus {stats} (empty lines skipped, long lines truncated to {maxLength} tokens)");
        if (settings.KeepBestCheckpoint && loop.LoadBestWeights())
            log?.Invoke($"pretrain: kept the weights with the best validation loss (update {loop.BestStep})");
        return new PretrainingResult(history, stats, loop.ResumedFromStep, loop.BestStep);
    }
}

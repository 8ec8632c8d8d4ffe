using MLNetForgetting.Modeling;
using MLNetForgetting.Text;
using MLNetForgetting.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNetForgetting.Adaptation;

/// <summary>
/// Settings of task adaptation (docs/methods.md §2 stage 3): fine-tune the body and a new classifier on
/// English sentence pairs with the token embeddings frozen.
/// </summary>
public sealed record TaskAdaptationSettings
{
    /// <summary>Passes over the examples (paper: 10). T = Epochs × ⌈examples / BatchSize⌉ unless <see cref="MaxSteps"/> is set.</summary>
    public int Epochs { get; init; } = 10;
    /// <summary>Number of updates; overrides <see cref="Epochs"/> when set.</summary>
    public long? MaxSteps { get; init; }
    public int BatchSize { get; init; } = 32;
    /// <summary>Pair length in tokens including the 4 special tokens (also capped by the model's); longer pairs are truncated longest-first.</summary>
    public int MaxSequenceLength { get; init; } = 128;
    /// <summary>Peak learning rate. The paper uses 1e-5 for RoBERTa-base; tiny models trained for a few hundred updates need far more (~1e-3).</summary>
    public double LearningRate { get; init; } = 1e-5;
    /// <summary>Linear warm-up as a fraction of T (paper: 0, a constant rate).</summary>
    public double WarmupFraction { get; init; }
    /// <summary>Decay the rate linearly to 0 at T after warm-up (paper: false, constant).</summary>
    public bool LinearDecay { get; init; }
    public double WeightDecay { get; init; } = 0.01;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.98;
    public double Epsilon { get; init; } = 1e-6;
    /// <summary>Global gradient-norm clipping; null (default) for none.</summary>
    public double? ClipNorm { get; init; }
    /// <summary>
    /// Keep E frozen (paper setting, true): the body learns the task on top of English embeddings that
    /// a relearned E can later replace. False fine-tunes E as well (the MLM head stays out either way:
    /// the classification loss does not reach it).
    /// </summary>
    public bool FreezeTokenEmbeddings { get; init; } = true;
    /// <summary>Seeds the classifier initialisation, dropout and the data order.</summary>
    public int Seed { get; init; }
    public string? CheckpointDirectory { get; init; }
    public long CheckpointInterval { get; init; }
    public bool Resume { get; init; }
    /// <summary>Evaluate on the validation pairs every this many updates and at the end (0: never).</summary>
    public long ValidationInterval { get; init; }
    /// <summary>Keep the weights with the best validation accuracy (needs a checkpoint directory).</summary>
    public bool KeepBestCheckpoint { get; init; }
    public long LogInterval { get; init; } = 50;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        static void Check(bool ok, string name, object? value, string rule) { if (!ok) throw new ArgumentOutOfRangeException(name, value, $"{name} {rule}."); }
        Check(Epochs > 0, nameof(Epochs), Epochs, "must be positive");
        Check(MaxSteps is null or > 0, nameof(MaxSteps), MaxSteps, "must be positive");
        Check(BatchSize > 0, nameof(BatchSize), BatchSize, "must be positive");
        Check(MaxSequenceLength >= 6, nameof(MaxSequenceLength), MaxSequenceLength, "must be at least 6 (4 special tokens and one token per segment)");
        Check(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "must be positive and finite");
        Check(WarmupFraction is >= 0 and < 1, nameof(WarmupFraction), WarmupFraction, "must be in [0, 1)");
        Check(WeightDecay >= 0, nameof(WeightDecay), WeightDecay, "must be >= 0");
        Check(ClipNorm is null or > 0, nameof(ClipNorm), ClipNorm, "must be positive or null");
        Check(CheckpointInterval >= 0, nameof(CheckpointInterval), CheckpointInterval, "must be >= 0");
        Check(ValidationInterval >= 0, nameof(ValidationInterval), ValidationInterval, "must be >= 0");
        Check(LogInterval > 0, nameof(LogInterval), LogInterval, "must be positive");
    }
}

/// <summary>The outcome of task adaptation; validation accuracy ("accuracy", which picks the best checkpoint) is in the history.</summary>
internal sealed record TaskAdaptationResult(TrainingHistory History, long TotalSteps, long TruncatedPairs, long ResumedFromStep, long? BestStep);

/// <summary>
/// Sentence-pair classification fine-tuning ([AF], docs/methods.md §2 stage 3, fairseq's RoBERTa head on &lt;s&gt;)
/// and batched inference.
/// </summary>
internal static class TaskAdaptation
{
    public const string BodyGroup = "body";
    public const string EmbeddingGroup = "embeddings";

    /// <summary>One batch of encoded pairs and their labels.</summary>
    public sealed record PairBatch(int[][] Sequences, long[] Labels);

    /// <summary>Checks labels and texts; the messages name the example index.</summary>
    public static void ValidateExamples(IReadOnlyList<(string Premise, string Hypothesis, int Label)> examples, int numLabels, string what = "examples")
    {
        ArgumentNullException.ThrowIfNull(examples);
        if (examples.Count == 0) throw new ArgumentException($"No {what}.", nameof(examples));
        for (int i = 0; i < examples.Count; i++)
        {
            var (p, h, label) = examples[i];
            if (string.IsNullOrWhiteSpace(p)) throw new ArgumentException($"{what}[{i}]: the premise is missing or blank.", nameof(examples));
            if (string.IsNullOrWhiteSpace(h)) throw new ArgumentException($"{what}[{i}]: the hypothesis is missing or blank.", nameof(examples));
            if ((uint)label >= (uint)numLabels) throw new ArgumentException($"{what}[{i}]: label {label} is not in the label set 0..{numLabels - 1}.", nameof(examples));
        }
    }

    /// <summary>
    /// The parameters fine-tuning trains: every parameter except the MLM head (dense, LayerNorm,
    /// bias) and, with <paramref name="freezeTokenEmbeddings"/>, E.
    /// </summary>
    public static IReadOnlyList<(string Name, Parameter Parameter)> TrainableParameters(RobertaForMaskedLM model, bool freezeTokenEmbeddings) =>
        model.named_parameters()
            .Where(p => !p.name.StartsWith("lm_head.", StringComparison.Ordinal))
            .Where(p => !(freezeTokenEmbeddings && p.name == RobertaForMaskedLM.TokenEmbeddingsKey))
            .Select(p => (p.name, p.parameter)).ToList();

    /// <summary>
    /// Fine-tunes <paramref name="model"/> in place on labelled pairs with cross-entropy. Adds a fresh
    /// classifier with <paramref name="numLabels"/> classes if the model has none (or one of another
    /// size). During the call the frozen parameters (E, the MLM head) have requires_grad = false;
    /// the previous flags are restored on return. The model ends in training mode.
    /// </summary>
    /// <remarks><paramref name="validation"/>: optional held-out pairs (e.g. XNLI English dev) evaluated every <see cref="TaskAdaptationSettings.ValidationInterval"/> updates.</remarks>
    /// <exception cref="ArgumentException">An example has a blank premise or hypothesis or a label outside 0..numLabels−1 (the message names the index), or the tokenizer does not match the model.</exception>
    public static TaskAdaptationResult FineTune(
        RobertaForMaskedLM model,
        SubwordTokenizer tokenizer,
        IReadOnlyList<(string Premise, string Hypothesis, int Label)> examples,
        int numLabels,
        TaskAdaptationSettings settings,
        Device device,
        IReadOnlyList<(string Premise, string Hypothesis, int Label)>? validation = null,
        Action<string>? log = null,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        settings.Validate();
        if (numLabels < 2) throw new ArgumentOutOfRangeException(nameof(numLabels), numLabels, "A classifier needs at least 2 classes.");
        CheckTokenizer(model, tokenizer);
        ValidateExamples(examples, numLabels);
        if (validation is not null) ValidateExamples(validation, numLabels, nameof(validation));
        int maxLength = Math.Min(settings.MaxSequenceLength, model.Config.MaxSequenceLength);

        // What a checkpoint must have been written with (read before a head is added: the model it starts from).
        var configuration = settings.CheckpointDirectory is null ? null : ResumeConfiguration(settings, model, tokenizer, examples, numLabels);

        if (model.Classifier is null || model.Config.NumLabels != numLabels)
            model.AddClassifier(numLabels, new Generator((ulong)(uint)TrainingLoop.StepSeed(settings.Seed, -7)));

        long truncated = 0;
        var encoded = new int[examples.Count][];
        for (int i = 0; i < examples.Count; i++)
        {
            encoded[i] = tokenizer.EncodePair(examples[i].Premise, examples[i].Hypothesis, maxLength);
            if (encoded[i].Length == maxLength && tokenizer.EncodeToIds(examples[i].Premise).Length + tokenizer.EncodeToIds(examples[i].Hypothesis).Length + tokenizer.PairSpecialTokenCount > maxLength) truncated++;
        }
        if (truncated > 0) log?.Invoke($"task adaptation: {truncated} of {examples.Count} pairs truncated to {maxLength} tokens");
        long batchesPerEpoch = (examples.Count + settings.BatchSize - 1) / settings.BatchSize;
        long totalSteps = settings.MaxSteps ?? checked(settings.Epochs * batchesPerEpoch);

        // Epoch e: a permutation that depends only on (seed, e), so resume replays it exactly.
        IEnumerable<PairBatch> Epoch(int epoch)
        {
            var order = Enumerable.Range(0, encoded.Length).ToArray();
            new Random(TrainingLoop.StepSeed(settings.Seed, -1 - epoch)).Shuffle(order);
            foreach (var chunk in order.Chunk(settings.BatchSize))
                yield return new PairBatch(chunk.Select(i => encoded[i]).ToArray(), chunk.Select(i => (long)examples[i].Label).ToArray());
        }

        var trainable = TrainableParameters(model, settings.FreezeTokenEmbeddings);
        var trainableIds = trainable.Select(p => TensorIdentity.Of(p.Parameter)).ToHashSet();
        var savedFlags = model.named_parameters().Select(p => (p.parameter, p.parameter.requires_grad)).ToList();
        try
        {
            foreach (var (p, _) in savedFlags) p.requires_grad = trainableIds.Contains(TensorIdentity.Of(p));

            long warmup = (long)Math.Round(settings.WarmupFraction * totalSteps);
            LearningRateSchedule schedule = settings.LinearDecay ? new WarmupPolynomialDecaySchedule(settings.LearningRate, warmup, totalSteps)
                : warmup > 0 ? new WarmupPolynomialDecaySchedule(settings.LearningRate, warmup, totalSteps, EndRate: settings.LearningRate)
                : new ConstantSchedule(settings.LearningRate);
            var groups = new List<ParameterGroup>
            {
                new(BodyGroup, trainable.Where(p => p.Name != RobertaForMaskedLM.TokenEmbeddingsKey).Select(p => p.Parameter), schedule, settings.WeightDecay),
            };
            if (!settings.FreezeTokenEmbeddings) groups.Add(new ParameterGroup(EmbeddingGroup, new[] { model.TokenEmbeddings }, schedule, settings.WeightDecay));
            using var optimizer = new AdamEF(groups, settings.Beta1, settings.Beta2, settings.Epsilon);

            var loop = new TrainingLoop<PairBatch>(model, optimizer, new TrainingLoopOptions
            {
                MaxSteps = totalSteps, Seed = settings.Seed, ClipNorm = settings.ClipNorm,
                CheckpointDirectory = settings.CheckpointDirectory, CheckpointInterval = settings.CheckpointInterval, Resume = settings.Resume,
                ValidationInterval = validation is null ? 0 : settings.ValidationInterval, KeepBestCheckpoint = settings.KeepBestCheckpoint,
                LogInterval = settings.LogInterval, Phase = "task adaptation", Configuration = configuration,
                BestMetric = "accuracy", HigherIsBetter = true,
            })
            {
                Log = log,
                Progress = progress,
                Validate = validation is null ? null : _ =>
                    new Dictionary<string, double> { ["accuracy"] = Accuracy(model, tokenizer, validation, settings.BatchSize, maxLength) },
            };
            var history = loop.Run(Epoch, (batch, _) => Step(model, batch, tokenizer.PadId, device), cancellationToken);
            if (settings.KeepBestCheckpoint && loop.LoadBestWeights())
                log?.Invoke($"task adaptation: kept the weights with the best validation accuracy (update {loop.BestStep})");
            return new TaskAdaptationResult(history, totalSteps, truncated, loop.ResumedFromStep, loop.BestStep);
        }
        finally
        {
            foreach (var (p, flag) in savedFlags) p.requires_grad = flag;
        }
    }

    /// <summary>
    /// What a fine-tuning checkpoint must have been written with for <see cref="TaskAdaptationSettings.Resume"/>
    /// to continue it: every setting that shapes the run (epochs or updates, batch, learning rate and schedule,
    /// optimiser, clipping, freezing, seed; not where checkpoints go, how often, or validation), the number of
    /// classes, the tokenizer's fingerprint, the starting model's body and a SHA-256 of the labelled pairs.
    /// </summary>
    internal static IReadOnlyDictionary<string, string> ResumeConfiguration(TaskAdaptationSettings s, RobertaForMaskedLM model, SubwordTokenizer tokenizer,
        IReadOnlyList<(string Premise, string Hypothesis, int Label)> examples, int numLabels)
    {
        var c = TrainingConfiguration.Describe(s, nameof(s.CheckpointDirectory), nameof(s.CheckpointInterval), nameof(s.Resume), nameof(s.LogInterval),
            nameof(s.ValidationInterval), nameof(s.KeepBestCheckpoint));
        c["Classes"] = numLabels.ToString(System.Globalization.CultureInfo.InvariantCulture);
        c["Tokenizer"] = tokenizer.Fingerprint[..16];
        c["Body"] = ModelAssembly.BodyFingerprint(model)[..16];
        c["Data"] = TrainingConfiguration.Fingerprint(examples.Select(e => $"{e.Premise}\t{e.Hypothesis}\t{e.Label}"));
        return c;
    }

    /// <summary>Cross-entropy of one batch (tensors belong to the caller's dispose scope).</summary>
    public static StepOutput Step(RobertaForMaskedLM model, PairBatch batch, int padId, Device device)
    {
        var (ids, mask, tokens) = Pad(batch.Sequences, padId, device);
        var labels = torch.tensor(batch.Labels, ScalarType.Int64, device);
        var logits = model.ClassifierLogits(ids, mask);
        return new StepOutput(nn.functional.cross_entropy(logits, labels), tokens);
    }

    /// <summary>
    /// Class probabilities for each pair, in input order: eval mode (dropout off), no_grad, one
    /// dispose scope per batch; pairs are length-sorted into batches to cut padding. The model's
    /// training/eval mode is restored afterwards.
    /// </summary>
    public static float[][] Predict(RobertaForMaskedLM model, SubwordTokenizer tokenizer, IReadOnlyList<(string Premise, string Hypothesis)> pairs, int batchSize = 64, int? maxSequenceLength = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(pairs);
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be positive.");
        if (model.Classifier is null) throw new InvalidOperationException("The model has no classification head; fine-tune it first (TaskAdaptation.FineTune).");
        CheckTokenizer(model, tokenizer);
        int maxLength = Math.Min(maxSequenceLength ?? model.Config.MaxSequenceLength, model.Config.MaxSequenceLength);
        var encoded = new int[pairs.Count][];
        for (int i = 0; i < pairs.Count; i++)
        {
            var (p, h) = pairs[i];
            if (p is null || h is null) throw new ArgumentException($"pairs[{i}]: the {(p is null ? "premise" : "hypothesis")} is missing.", nameof(pairs));
            encoded[i] = tokenizer.EncodePair(p, h, maxLength);
        }
        var device = model.TokenEmbeddings.device;
        var result = new float[pairs.Count][];
        var order = Enumerable.Range(0, encoded.Length).OrderBy(i => encoded[i].Length).ToArray();
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            foreach (var chunk in order.Chunk(batchSize))
            {
                using var scope = NewDisposeScope();
                var (ids, mask, _) = Pad(chunk.Select(i => encoded[i]).ToArray(), tokenizer.PadId, device);
                var probabilities = model.ClassifierLogits(ids, mask).softmax(-1).to(ScalarType.Float32).cpu();
                var flat = probabilities.data<float>().ToArray();
                int k = (int)probabilities.shape[1];
                for (int r = 0; r < chunk.Length; r++) result[chunk[r]] = flat.AsSpan(r * k, k).ToArray();
            }
        }
        finally { model.train(wasTraining); }
        return result;
    }

    /// <summary>Accuracy of argmax predictions on labelled pairs.</summary>
    public static double Accuracy(RobertaForMaskedLM model, SubwordTokenizer tokenizer, IReadOnlyList<(string Premise, string Hypothesis, int Label)> examples, int batchSize = 64, int? maxSequenceLength = null)
    {
        ArgumentNullException.ThrowIfNull(examples);
        if (examples.Count == 0) throw new ArgumentException("No examples to evaluate.", nameof(examples));
        var probabilities = Predict(model, tokenizer, examples.Select(e => (e.Premise, e.Hypothesis)).ToArray(), batchSize, maxSequenceLength);
        int correct = 0;
        for (int i = 0; i < examples.Count; i++) if (Evaluation.ClassificationReport.ArgMax(probabilities[i]) == examples[i].Label) correct++;
        return (double)correct / examples.Count;
    }

    private static (Tensor Ids, Tensor Mask, long Tokens) Pad(int[][] sequences, int padId, Device device)
    {
        int width = sequences.Max(s => s.Length);
        var ids = new long[sequences.Length * width];
        var mask = new long[ids.Length];
        Array.Fill(ids, padId);
        long tokens = 0;
        for (int r = 0; r < sequences.Length; r++)
            for (int t = 0; t < sequences[r].Length; t++) { ids[r * width + t] = sequences[r][t]; mask[r * width + t] = 1; tokens++; }
        long[] shape = [sequences.Length, width];
        return (torch.tensor(ids, shape, ScalarType.Int64, device), torch.tensor(mask, shape, ScalarType.Int64, device), tokens);
    }

    private static void CheckTokenizer(RobertaForMaskedLM model, SubwordTokenizer tokenizer)
    {
        if (tokenizer.VocabSize != model.Config.VocabSize)
            throw new ArgumentException($"The tokenizer has {tokenizer.VocabSize} ids but the model's vocabulary is {model.Config.VocabSize}; use the tokenizer the embeddings were trained with.", nameof(tokenizer));
        if (tokenizer.PadId != model.Config.PadTokenId)
            throw new ArgumentException($"The tokenizer pads with id {tokenizer.PadId} but the model with {model.Config.PadTokenId}.", nameof(tokenizer));
    }
}

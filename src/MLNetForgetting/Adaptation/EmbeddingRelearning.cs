using MLNetForgetting.Modeling;
using MLNetForgetting.Text;
using MLNetForgetting.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNetForgetting.Adaptation;

/// <summary>
/// Settings of language adaptation by embedding relearning (docs/methods.md §2 stage 2): fresh token
/// embeddings for the target vocabulary, trained by masked LM with everything else frozen.
/// </summary>
public sealed record RelearningSettings
{
    /// <summary>
    /// Training budget in tokens the model reads (special tokens included, padding excluded, repeats
    /// across epochs counted again). It is converted to a number of updates before training, exactly:
    /// T is the first update at which the tokens of the batches consumed so far, in the run's own
    /// deterministic batch order, reach <see cref="MaxTokens"/> (see <see cref="EmbeddingRelearning.StepsForTokenBudget"/>).
    /// Note: the paper's "5M tokens" is the size of the adaptation corpus, trained for up to 125k
    /// updates; to reproduce that, cap the corpus and set <see cref="MaxSteps"/>.
    /// </summary>
    public long? MaxTokens { get; init; }
    /// <summary>Maximum number of updates. With <see cref="MaxTokens"/> too, the smaller of the two wins. At least one must be set.</summary>
    public long? MaxSteps { get; init; }
    public int BatchSize { get; init; } = 32;
    /// <summary>Longest sequence in tokens including &lt;s&gt; and &lt;/s&gt; (also capped by the model's); longer lines are truncated.</summary>
    public int MaxSequenceLength { get; init; } = 128;
    /// <summary>Peak learning rate (paper: 7e-4).</summary>
    public double LearningRate { get; init; } = 7e-4;
    /// <summary>Linear warm-up as a fraction of T, then linear decay to 0 (paper: 10k warm-up, polynomial decay, power 1).</summary>
    public double WarmupFraction { get; init; } = 0.08;
    /// <summary>Decoupled weight decay of E (fairseq default of the reference sweep: 0.01).</summary>
    public double WeightDecay { get; init; } = 0.01;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.98;
    public double Epsilon { get; init; } = 1e-6;
    public double MaskProbability { get; init; } = 0.15;
    /// <summary>
    /// What happens to the MLM output bias when E is replaced. Default <see cref="RelearnedOutputBias.KeepFrozen"/>,
    /// as the authors' code does: the pretrained bias is kept and frozen, so only E (and its tied output
    /// weight) moves. See <see cref="RelearnedOutputBias"/> for the other choices.
    /// </summary>
    public RelearnedOutputBias OutputBias { get; init; } = RelearnedOutputBias.KeepFrozen;
    /// <summary>
    /// Corpus cap: relearn on the first N tokens of the target text only (in corpus order, under the
    /// target tokenizer; the sequence that crosses the cap is cut to fit). This is the paper's "5M tokens":
    /// the size of the adaptation corpus, independent of how many updates or epochs are run over it
    /// (<see cref="MaxSteps"/>, <see cref="MaxTokens"/>). Null: the whole corpus.
    /// </summary>
    public long? CorpusTokenCap { get; init; }
    /// <summary>
    /// Keep the weights with the lowest held-out target-language MLM loss (evaluated every
    /// <see cref="EvaluationInterval"/> updates) and return them; needs a held-out corpus and a
    /// <see cref="CheckpointDirectory"/>. The paper keeps the best checkpoint of a long run.
    /// </summary>
    public bool KeepBestCheckpoint { get; init; }
    /// <summary>Sequences sorted together for length bucketing, in batches.</summary>
    public int BucketPoolBatches { get; init; } = 50;
    /// <summary>Seeds the new E (the reference uses seed 0), dropout, masking and data order.</summary>
    public int Seed { get; init; }
    public string? CheckpointDirectory { get; init; }
    public long CheckpointInterval { get; init; }
    public bool Resume { get; init; }
    /// <summary>Call the evaluation callback every this many updates, at the last update, and once before training (update 0). 0: never. The paper splices and evaluates every 500 updates.</summary>
    public long EvaluationInterval { get; init; }
    public long LogInterval { get; init; } = 50;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        static void Check(bool ok, string name, object? value, string rule) { if (!ok) throw new ArgumentOutOfRangeException(name, value, $"{name} {rule}."); }
        Check(MaxTokens is not null || MaxSteps is not null, nameof(MaxSteps), MaxSteps, "or MaxTokens must be set (the training budget)");
        Check(MaxTokens is null or > 0, nameof(MaxTokens), MaxTokens, "must be positive");
        Check(MaxSteps is null or > 0, nameof(MaxSteps), MaxSteps, "must be positive");
        Check(BatchSize > 0, nameof(BatchSize), BatchSize, "must be positive");
        Check(MaxSequenceLength >= 3, nameof(MaxSequenceLength), MaxSequenceLength, "must be at least 3 (<s> token </s>)");
        Check(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "must be positive and finite");
        Check(WarmupFraction is >= 0 and < 1, nameof(WarmupFraction), WarmupFraction, "must be in [0, 1)");
        Check(WeightDecay >= 0, nameof(WeightDecay), WeightDecay, "must be >= 0");
        Check(MaskProbability is > 0 and < 1, nameof(MaskProbability), MaskProbability, "must be in (0, 1)");
        Check(BucketPoolBatches > 0, nameof(BucketPoolBatches), BucketPoolBatches, "must be positive");
        Check(CheckpointInterval >= 0, nameof(CheckpointInterval), CheckpointInterval, "must be >= 0");
        Check(EvaluationInterval >= 0, nameof(EvaluationInterval), EvaluationInterval, "must be >= 0");
        Check(LogInterval > 0, nameof(LogInterval), LogInterval, "must be positive");
        Check(CorpusTokenCap is null or >= 3, nameof(CorpusTokenCap), CorpusTokenCap, "must be at least 3 (one sequence <s> token </s>)");
        Check(!KeepBestCheckpoint || (CheckpointDirectory is not null && EvaluationInterval > 0), nameof(KeepBestCheckpoint), KeepBestCheckpoint,
            "needs a CheckpointDirectory and an EvaluationInterval > 0 (and a held-out corpus)");
    }
}

/// <summary>What relearning does with the MLM output bias (one entry per vocabulary item) when E is replaced.</summary>
public enum RelearnedOutputBias
{
    /// <summary>
    /// The authors' behaviour: keep the pretrained bias and freeze it. With a target vocabulary of another
    /// size, the first min(old, new) entries are kept and new entries get the mean of the old bias (a
    /// neutral prior: ids of different vocabularies do not correspond anyway).
    /// </summary>
    KeepFrozen,
    /// <summary>Zero the bias and freeze it: only E moves.</summary>
    ZeroFrozen,
    /// <summary>Zero the bias and train it with E (no weight decay; it is 1-D).</summary>
    ZeroTrained,
}

/// <summary>
/// The outcome of relearning. <see cref="History"/> is the adaptation curve: MLM loss per update in
/// <see cref="TrainingHistory.Steps"/> and the evaluation callback's metrics (from update 0 on) in
/// <see cref="TrainingHistory.Validations"/>.
/// </summary>
/// <see cref="BestStep"/> is the update whose weights were kept when <see cref="RelearningSettings.KeepBestCheckpoint"/> is set.
internal sealed record RelearningResult(TrainingHistory History, long TotalSteps, CorpusStats Corpus, long ResumedFromStep, long? BestStep = null);

/// <summary>
/// Language adaptation by relearning token embeddings ([AF], docs/methods.md §2 stage 2, following [ART]): a new E
/// for the target vocabulary, drawn from N(0, 0.02²) with the padding row 0; every other parameter
/// frozen; masked LM on target-language text with a fresh optimizer over E only (plus the output
/// bias with <see cref="RelearnedOutputBias.ZeroTrained"/>), warm-up and linear decay, no
/// resets, no clipping, dropout on.
/// </summary>
internal static class EmbeddingRelearning
{
    public const string EmbeddingGroup = "embeddings";
    public const string OutputBiasGroup = "output-bias";

    /// <summary>Fewest characters of text accepted for a vocabulary of any size (see <see cref="MinimumVocabularyCorpusCharacters"/>).</summary>
    public const long MinVocabularyCorpusCharacters = 2_000;
    /// <summary>Characters of text required per learned BPE piece (see <see cref="MinimumVocabularyCorpusCharacters"/>).</summary>
    public const int VocabularyCorpusCharactersPerPiece = 10;

    /// <summary>
    /// The least text <see cref="TrainVocabulary"/> accepts: max(2,000, 10 × (vocabSize − 261))
    /// characters, 261 being the special tokens plus the byte alphabet, which need no data.
    /// Why: a BPE piece is only learned from pairs seen at least twice, and at about 10 characters of
    /// text per learned piece the last merges are already fitted to single words of the sample rather
    /// than to the language; relearning then trains embeddings for pieces it almost never sees.
    /// Below 2,000 characters (a few hundred words) a corpus covers too little of any language
    /// for masked-LM relearning to be meaningful. This is a sanity floor, not a quality guarantee.
    /// </summary>
    public static long MinimumVocabularyCorpusCharacters(int vocabSize) =>
        Math.Max(MinVocabularyCorpusCharacters, (long)VocabularyCorpusCharactersPerPiece * Math.Max(0, vocabSize - 261));

    /// <summary>
    /// Trains the target-language tokenizer (byte-level BPE) on <paramref name="corpus"/>, enumerated
    /// twice: once to check its size, once to train.
    /// </summary>
    /// <exception cref="ArgumentException">The corpus has fewer than <see cref="MinimumVocabularyCorpusCharacters"/> characters of non-blank text; the message gives both numbers.</exception>
    public static SubwordTokenizer TrainVocabulary(Func<IEnumerable<string?>> corpus, int vocabSize, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        long needed = MinimumVocabularyCorpusCharacters(vocabSize);
        long characters = 0;
        foreach (var line in corpus())
        {
            if (!string.IsNullOrWhiteSpace(line)) characters += line.Trim().Length;
            if (characters >= needed) break;
        }
        if (characters < needed)
            throw new ArgumentException($"The target-language corpus is too small to train a {vocabSize}-token vocabulary: it has {characters} characters of non-blank text, and at least {needed} are required (max({MinVocabularyCorpusCharacters}, {VocabularyCorpusCharactersPerPiece} per learned piece)). Provide more text or a smaller vocabulary.", nameof(corpus));
        return BpeVocabularyTrainer.Train(corpus(), new BpeTrainerOptions { VocabSize = vocabSize }, progress);
    }

    /// <summary>
    /// T for a token budget: walks the run's batches in training order (epoch e's order depends
    /// only on the seed and e) and returns the first update n at which the batches 1..n contain at
    /// least <paramref name="maxTokens"/> tokens. Whole epochs are counted from the per-epoch
    /// total, so only the last, partial epoch is enumerated.
    /// </summary>
    public static long StepsForTokenBudget(long maxTokens, Func<int, IEnumerable<IReadOnlyList<int[]>>> epochs)
    {
        long epochTokens = 0, epochBatches = 0;
        foreach (var batch in epochs(0)) { epochTokens += batch.Sum(s => (long)s.Length); epochBatches++; }
        if (epochBatches == 0) throw new ArgumentException("The target-language corpus has no non-empty line.");
        long fullEpochs = (maxTokens - 1) / epochTokens; // epochs consumed entirely before the budget is reached
        long remaining = maxTokens - fullEpochs * epochTokens, steps = fullEpochs * epochBatches;
        foreach (var batch in epochs(checked((int)fullEpochs)))
        {
            steps++;
            remaining -= batch.Sum(s => (long)s.Length);
            if (remaining <= 0) return steps;
        }
        throw new InvalidOperationException("Epochs differ in their token count; the corpus must yield the same lines every time it is enumerated.");
    }

    /// <summary>
    /// Relearns <paramref name="model"/>'s token embeddings for <paramref name="targetTokenizer"/>,
    /// in place: E is replaced by a fresh table of the target vocabulary size and the MLM output bias
    /// is resized and zeroed; nothing else changes. During the call every other parameter has
    /// requires_grad = false; the previous flags are restored on return (E stays trainable).
    /// </summary>
    /// <remarks>
    /// <paramref name="model"/>: the pretrained model, on <paramref name="device"/>; clone it first (<see cref="ModelAssembly.Clone"/>) to keep the original.
    /// <paramref name="corpus"/>: target-language text, re-enumerated once per epoch (and once more for a token budget); blank lines are skipped.
    /// <paramref name="evaluate"/>: adaptation-curve probe, e.g. zero-shot accuracy of <c>ModelAssembly.Assemble(taskModel, model)</c>; called under no_grad in eval mode, at update 0 and every <see cref="RelearningSettings.EvaluationInterval"/> updates. Its metrics go to <see cref="TrainingHistory.Validations"/>.
    /// </remarks>
    public static RelearningResult Relearn(
        RobertaForMaskedLM model,
        SubwordTokenizer targetTokenizer,
        Func<IEnumerable<string?>> corpus,
        RelearningSettings settings,
        Device device,
        Func<long, IReadOnlyDictionary<string, double>>? evaluate = null,
        Action<string>? log = null,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default,
        Func<IEnumerable<string?>>? heldOutCorpus = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(targetTokenizer);
        ArgumentNullException.ThrowIfNull(corpus);
        settings.Validate();
        if (settings.KeepBestCheckpoint && heldOutCorpus is null)
            throw new ArgumentException("RelearningSettings.KeepBestCheckpoint needs a held-out target-language corpus (heldOutCorpus).", nameof(heldOutCorpus));
        // A BERT-type body (positions from 0) takes the target vocabulary's own padding and separator ids;
        // a RoBERTa-type position table is offset by the padding id it was trained with.
        if (targetTokenizer.PadId != model.Config.PadTokenId && !model.Config.IsBert)
            throw new ArgumentException($"The target tokenizer pads with id {targetTokenizer.PadId} but the model with {model.Config.PadTokenId} (a RoBERTa-type model's positions are offset by its padding id).", nameof(targetTokenizer));
        int maxLength = Math.Min(settings.MaxSequenceLength, model.Config.MaxSequenceLength);
        var stats = new CorpusStats();

        // Epoch e: stream, tokenize, bucket by length; the order depends only on (seed, e), so resume and the token budget can replay it.
        IEnumerable<IReadOnlyList<int[]>> Batches(int epoch, CorpusStats counters) =>
            Batching.LengthBucketed(CapTokens(Batching.Encode(corpus(), targetTokenizer, maxLength, counters), settings.CorpusTokenCap, targetTokenizer.EosId),
                settings.BatchSize, settings.BucketPoolBatches, new Random(TrainingLoop.StepSeed(settings.Seed, -1 - epoch)));
        IEnumerable<IReadOnlyList<int[]>> Epoch(int epoch) => Batches(epoch, epoch == 0 ? stats : new CorpusStats());

        long totalSteps = settings.MaxSteps ?? long.MaxValue;
        if (settings.MaxTokens is { } budget)
        {
            long budgetSteps = StepsForTokenBudget(budget, e => Batches(e, new CorpusStats()));
            totalSteps = Math.Min(totalSteps, budgetSteps);
            log?.Invoke($"relearn: token budget {budget} = {budgetSteps} updates of batch {settings.BatchSize}; training {totalSteps} updates");
        }

        // What a checkpoint must have been written with (read before E is replaced: the body it relearns against).
        var configuration = settings.CheckpointDirectory is null ? null : ResumeConfiguration(settings, model, targetTokenizer, corpus, totalSteps);

        // Stage 2: fresh E (seeded, pad row 0) and a resized output bias (kept or zeroed); body tensors untouched.
        using (var englishBias = model.LMHead.Bias.detach().clone())
        {
            model.ReplaceTokenEmbeddings(targetTokenizer.VocabSize, targetTokenizer.PadId, targetTokenizer.EosId, new Generator((ulong)(uint)settings.Seed));
            if (settings.OutputBias == RelearnedOutputBias.KeepFrozen) KeepBias(model.LMHead.Bias, englishBias);
        }
        bool trainBias = settings.OutputBias == RelearnedOutputBias.ZeroTrained;
        var trainable = new List<Parameter> { model.TokenEmbeddings };
        if (trainBias) trainable.Add(model.LMHead.Bias);
        var trainableIds = trainable.Select(TensorIdentity.Of).ToHashSet();
        var savedFlags = model.named_parameters().Where(p => !trainableIds.Contains(TensorIdentity.Of(p.parameter)))
            .Select(p => (p.parameter, p.parameter.requires_grad)).ToList();
        try
        {
            foreach (var (p, _) in savedFlags) p.requires_grad = false;
            foreach (var p in trainable) p.requires_grad = true;

            long warmup = (long)Math.Round(settings.WarmupFraction * totalSteps);
            var schedule = new WarmupPolynomialDecaySchedule(settings.LearningRate, warmup, totalSteps);
            var groups = new List<ParameterGroup> { new(EmbeddingGroup, new[] { model.TokenEmbeddings }, schedule, settings.WeightDecay) };
            if (trainBias) groups.Add(new ParameterGroup(OutputBiasGroup, new[] { model.LMHead.Bias }, schedule, 0.0));
            using var optimizer = new AdamEF(groups, settings.Beta1, settings.Beta2, settings.Epsilon);
            var objective = new MaskedLmObjective(model, targetTokenizer, device, settings.MaskProbability);
            // Held-out MLM loss ("loss", which picks the best checkpoint) beside the caller's metrics;
            // the held-out batches are fixed (no shuffling) and so are their masks (seeded per run).
            var heldOut = heldOutCorpus is null ? null
                : Batching.LengthBucketed(Batching.Encode(heldOutCorpus(), targetTokenizer, maxLength, new CorpusStats()), settings.BatchSize, 1, new Random(0)).ToList();
            if (heldOut is { Count: 0 }) throw new ArgumentException("The held-out target-language corpus has no non-empty line.", nameof(heldOutCorpus));
            Func<long, IReadOnlyDictionary<string, double>>? validate = heldOut is null ? evaluate : step =>
            {
                var metrics = new Dictionary<string, double>(objective.Evaluate(heldOut, settings.Seed));
                if (evaluate is not null) foreach (var (k, v) in evaluate(step)) metrics[k] = v;
                return metrics;
            };

            var loop = new TrainingLoop<IReadOnlyList<int[]>>(model, optimizer, new TrainingLoopOptions
            {
                MaxSteps = totalSteps, Seed = settings.Seed, ClipNorm = null, // the reference adapts without clipping
                CheckpointDirectory = settings.CheckpointDirectory, CheckpointInterval = settings.CheckpointInterval, Resume = settings.Resume,
                ValidationInterval = validate is null ? 0 : settings.EvaluationInterval, LogInterval = settings.LogInterval,
                KeepBestCheckpoint = settings.KeepBestCheckpoint, Configuration = configuration,
                Phase = "relearn embeddings",
            })
            {
                Log = log,
                Progress = progress,
                Validate = validate,
            };

            bool resuming = settings.Resume && settings.CheckpointDirectory is { } dir && File.Exists(Path.Combine(dir, TrainingLoop.CheckpointFile));
            if (validate is not null && settings.EvaluationInterval > 0 && !resuming)
            {
                // Update 0 anchors the curve (fresh random E); a resumed run has it in the checkpoint's history.
                var metrics = EvaluateNow(model, validate, 0);
                loop.History.Validations.Add(new ValidationRecord(0, metrics));
                log?.Invoke("relearn embeddings: evaluation before training: " + string.Join(", ", metrics.Select(kv => $"{kv.Key} {kv.Value:F4}")));
            }
            var history = loop.Run(Epoch, objective.Step, cancellationToken);
            if (stats.SkippedEmpty > 0 || stats.Truncated > 0)
                log?.Invoke($"relearn embeddings: corpus {stats} (blank lines skipped, long lines truncated to {maxLength} tokens)");
            long? bestStep = null;
            if (settings.KeepBestCheckpoint && loop.LoadBestWeights())
            {
                bestStep = loop.BestStep; // restored from the checkpoint on resume
                log?.Invoke($"relearn embeddings: kept the weights of update {bestStep} (lowest held-out MLM loss)");
            }
            return new RelearningResult(history, totalSteps, stats, loop.ResumedFromStep, bestStep);
        }
        finally
        {
            foreach (var (p, flag) in savedFlags) p.requires_grad = flag;
        }
    }

    /// <summary>
    /// What a relearning checkpoint must have been written with for <see cref="RelearningSettings.Resume"/> to
    /// continue it: every setting that shapes the run (budget, batch, learning rate and schedule, optimiser,
    /// masking, output bias, corpus cap, seed; not where checkpoints go, how often, or evaluation), the number
    /// of updates, the target tokenizer's fingerprint, the pretrained body's and a SHA-256 of the corpus lines
    /// (one extra pass over the text, made only when checkpoints are written).
    /// </summary>
    internal static IReadOnlyDictionary<string, string> ResumeConfiguration(RelearningSettings s, RobertaForMaskedLM model, SubwordTokenizer targetTokenizer,
        Func<IEnumerable<string?>> corpus, long totalSteps)
    {
        var c = TrainingConfiguration.Describe(s, nameof(s.CheckpointDirectory), nameof(s.CheckpointInterval), nameof(s.Resume), nameof(s.LogInterval),
            nameof(s.EvaluationInterval), nameof(s.KeepBestCheckpoint));
        c["Updates"] = totalSteps.ToString(System.Globalization.CultureInfo.InvariantCulture);
        c["Tokenizer"] = targetTokenizer.Fingerprint[..16];
        c["Body"] = ModelAssembly.BodyFingerprint(model)[..16];
        c["Data"] = TrainingConfiguration.Fingerprint(corpus());
        return c;
    }

    /// <summary>
    /// The first <paramref name="cap"/> tokens of a stream of encoded sequences: whole sequences while
    /// they fit, then the crossing one cut to the remaining room (ending with &lt;/s&gt;), then nothing.
    /// </summary>
    internal static IEnumerable<int[]> CapTokens(IEnumerable<int[]> sequences, long? cap, int eosId)
    {
        if (cap is not long budget) { foreach (var s in sequences) yield return s; yield break; }
        long used = 0;
        foreach (var s in sequences)
        {
            long room = budget - used;
            if (room < 3) yield break;          // not even <s> token </s>
            if (s.Length <= room) { used += s.Length; yield return s; continue; }
            var cut = s[..(int)room];
            cut[^1] = eosId;
            used += cut.Length;
            yield return cut;
            yield break;
        }
    }

    // The pretrained bias where ids overlap, its mean for ids beyond the old vocabulary.
    private static void KeepBias(Parameter bias, Tensor english)
    {
        using var scope = NewDisposeScope(); // the mean and the slice views are temporaries
        using var _ = no_grad();
        long n = Math.Min(bias.shape[0], english.shape[0]);
        bias.fill_(english.mean().item<float>());
        bias[TensorIndex.Slice(0, n)].copy_(english[TensorIndex.Slice(0, n)]);
    }

    private static IReadOnlyDictionary<string, double> EvaluateNow(RobertaForMaskedLM model, Func<long, IReadOnlyDictionary<string, double>> evaluate, long step)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            return evaluate(step);
        }
        finally { model.train(wasTraining); }
    }
}

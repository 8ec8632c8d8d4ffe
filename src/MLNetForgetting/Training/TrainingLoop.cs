using System.Diagnostics;
using System.Text.Json;
using MLNetForgetting.Persistence;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNetForgetting.Training;

/// <summary>Settings of one run of <see cref="TrainingLoop{TBatch}"/>.</summary>
internal sealed record TrainingLoopOptions
{
    /// <summary>Total number of updates T.</summary>
    public long MaxSteps { get; init; } = 1000;
    /// <summary>Seeds dropout and the per-step <see cref="Random"/> (masking, sampling): update n always draws the same numbers, so runs repeat and resume exactly.</summary>
    public int Seed { get; init; }
    /// <summary>Global gradient-norm clipping threshold; null for none.</summary>
    public double? ClipNorm { get; init; }
    /// <summary>Folder for <c>checkpoint.safetensors</c> (and <c>best.safetensors</c>); null for no checkpoints.</summary>
    public string? CheckpointDirectory { get; init; }
    /// <summary>Write a checkpoint every this many updates (0: only at the end and on cancellation).</summary>
    public long CheckpointInterval { get; init; }
    /// <summary>Continue from the checkpoint in <see cref="CheckpointDirectory"/> when there is one.</summary>
    public bool Resume { get; init; }
    /// <summary>Log a progress line every this many updates.</summary>
    public long LogInterval { get; init; } = 50;
    /// <summary>Run validation every this many updates (0: never).</summary>
    public long ValidationInterval { get; init; }
    /// <summary>Keep the weights with the best validation <see cref="BestMetric"/> in <c>best.safetensors</c> (the authors of [AF] keep the best forgetting checkpoint: docs/methods.md §1.4).</summary>
    public bool KeepBestCheckpoint { get; init; }
    /// <summary>The validation metric that picks the best checkpoint: "loss" (masked-LM loss) by default, "accuracy" for classifiers.</summary>
    public string BestMetric { get; init; } = "loss";
    /// <summary>Whether a larger <see cref="BestMetric"/> is better (accuracy) or a smaller one (loss, the default).</summary>
    public bool HigherIsBetter { get; init; }
    /// <summary>
    /// Find the first non-finite value (slow): torch's autograd anomaly mode names the backward function
    /// that produced NaN/Inf, and after every update each parameter is checked so the update that first
    /// makes one non-finite stops the run, naming the parameter (<see cref="TrainingDivergedException.Culprit"/>).
    /// </summary>
    public bool DetectAnomaly { get; init; }
    /// <summary>Name shown in progress and logs.</summary>
    public string Phase { get; init; } = "train";
    /// <summary>
    /// Precision of the matrix products in each step's forward pass (<see cref="Modeling.Autocast"/>); the
    /// backward follows it. Weights, gradients and optimizer state stay float32.
    /// </summary>
    public Runtime.MatmulPrecision MatmulPrecision { get; init; }
    /// <summary>
    /// Give the C heap's free pages back to the operating system (<see cref="Runtime.NativeHeap.Trim"/>,
    /// glibc <c>malloc_trim</c>) after every this many updates, so the resident set stays flat over long
    /// runs; 0 never. Null (the default) takes <see cref="Runtime.NativeHeap.DefaultTrimInterval"/>
    /// (100 updates, or the <c>MLNF_MALLOC_TRIM_INTERVAL</c> environment variable). No-op where the C
    /// library is not glibc. See docs/benchmarks.md, "Memory over a long run", for its effect and cost.
    /// </summary>
    public long? TrimNativeMemoryInterval { get; init; }
    /// <summary>
    /// What a checkpoint must have been written with to be resumed: setting name → value, plus tokenizer and
    /// data fingerprints (see the trainers' <c>ResumeConfiguration</c>). Stored in every checkpoint; on
    /// <see cref="Resume"/> a checkpoint whose configuration differs is refused before anything is loaded,
    /// the message naming each differing field with its value in the checkpoint and in this run. Null: not
    /// recorded or checked (only the seed is).
    /// </summary>
    public IReadOnlyDictionary<string, string>? Configuration { get; init; }

    public void Validate()
    {
        if (MaxSteps <= 0) throw new ArgumentOutOfRangeException(nameof(MaxSteps), MaxSteps, "MaxSteps must be positive.");
        if (ClipNorm is <= 0) throw new ArgumentOutOfRangeException(nameof(ClipNorm), ClipNorm, "ClipNorm must be positive or null.");
        if (CheckpointInterval < 0) throw new ArgumentOutOfRangeException(nameof(CheckpointInterval), CheckpointInterval, "CheckpointInterval must be >= 0.");
        if (LogInterval <= 0) throw new ArgumentOutOfRangeException(nameof(LogInterval), LogInterval, "LogInterval must be positive.");
        if (ValidationInterval < 0) throw new ArgumentOutOfRangeException(nameof(ValidationInterval), ValidationInterval, "ValidationInterval must be >= 0.");
        if (TrimNativeMemoryInterval < 0) throw new ArgumentOutOfRangeException(nameof(TrimNativeMemoryInterval), TrimNativeMemoryInterval, "TrimNativeMemoryInterval must be >= 0 (0: never) or null (the process default).");
    }
}

/// <summary>What one update gives the loop: the loss to minimise and how many tokens it covered.</summary>
internal readonly record struct StepOutput(Tensor Loss, long Tokens);

/// <summary>What the loop gives a step: the update number and generators seeded from (seed, update).</summary>
internal sealed record StepContext(long Step, Random Random);

/// <summary>
/// The one training loop that every trainer parameterises: which parameters train (the
/// <see cref="AdamEF"/> groups), which loss applies (the step function), and what happens after an
/// update (a hook; active forgetting resets the embeddings there). Each update runs in its own
/// dispose scope; losses and gradients are checked for NaN/Inf before anything is applied;
/// checkpoints are single files written atomically and resume exactly.
/// </summary>
internal sealed class TrainingLoop<TBatch>
{
    private const string ModelPrefix = "model.";
    private const string OptimizerPrefix = "optim.";

    private readonly nn.Module model;
    private readonly AdamEF optimizer;
    private readonly TrainingLoopOptions options;
    private double bestValidationLoss = double.PositiveInfinity;
    private string? configurationJson;

    public TrainingLoop(nn.Module model, AdamEF optimizer, TrainingLoopOptions options)
    {
        options.Validate();
        this.model = model;
        this.optimizer = optimizer;
        this.options = options;
    }

    public TrainingHistory History { get; private set; } = new();
    /// <summary>Receives one line every <see cref="TrainingLoopOptions.LogInterval"/> updates and on notable events.</summary>
    public Action<string>? Log { get; init; }
    public IProgress<TrainingProgress>? Progress { get; init; }
    /// <summary>Called after update n has been applied and validated (inside no_grad), before its checkpoint is written.</summary>
    public Action<UpdateContext>? AfterUpdate { get; init; }
    /// <summary>Held-out evaluation, called in eval mode under no_grad; its <see cref="TrainingLoopOptions.BestMetric"/> entry drives best-checkpoint keeping.</summary>
    public Func<long, IReadOnlyDictionary<string, double>>? Validate { get; init; }
    /// <summary>Extra strings stored in checkpoints (e.g. the trainer's configuration).</summary>
    public Func<IReadOnlyDictionary<string, string>>? CheckpointMetadata { get; init; }
    /// <summary>
    /// On resume, receives the checkpoint's path and metadata before anything is loaded into the model;
    /// throwing refuses the checkpoint (a trainer checks there that the run's configuration is unchanged).
    /// </summary>
    public Action<string, IReadOnlyDictionary<string, string>>? CheckCheckpoint { get; init; }
    /// <summary>On resume, receives the metadata of the checkpoint being loaded (what <see cref="CheckpointMetadata"/> stored), before the first update.</summary>
    public Action<IReadOnlyDictionary<string, string>>? RestoreMetadata { get; init; }
    /// <summary>The update the run resumed from (0 for a fresh run).</summary>
    public long ResumedFromStep { get; private set; }
    /// <summary>Step of the weights in <c>best.safetensors</c>, if any.</summary>
    public long? BestStep { get; private set; }
    /// <summary>How many times this loop gave free native memory back (<see cref="TrainingLoopOptions.TrimNativeMemoryInterval"/>).</summary>
    public int NativeMemoryTrims { get; private set; }

    public void RecordEvent(long step, string kind, string? detail = null)
    {
        History.Events.Add(new TrainingEvent(step, kind, detail));
        Log?.Invoke($"{options.Phase}: {kind} after update {step}{(detail is null ? "" : ": " + detail)}");
    }

    /// <summary>
    /// Runs updates until <see cref="TrainingLoopOptions.MaxSteps"/>, drawing batches from
    /// <paramref name="epochs"/> (epoch e must always yield the same sequence, so resume can skip to
    /// where the checkpoint stopped).
    /// </summary>
    public TrainingHistory Run(Func<int, IEnumerable<TBatch>> epochs, Func<TBatch, StepContext, StepOutput> step, CancellationToken cancellationToken = default)
    {
        long n = 0; int epoch = 0; long batchInEpoch = 0;
        if (options.CheckpointDirectory is { } folder)
        {
            // A run killed while writing a checkpoint leaves its temporary file behind; clear it before resuming.
            int stale = AtomicFile.RemoveStaleTemporaries(Path.Combine(folder, TrainingLoop.CheckpointFile)) + AtomicFile.RemoveStaleTemporaries(Path.Combine(folder, TrainingLoop.BestFile));
            if (stale > 0) Log?.Invoke($"{options.Phase}: removed {stale} temporary file(s) left by an interrupted checkpoint write");
        }
        if (options.Resume && options.CheckpointDirectory is { } dir && File.Exists(Path.Combine(dir, TrainingLoop.CheckpointFile)))
        {
            (n, epoch, batchInEpoch) = LoadCheckpoint(Path.Combine(dir, TrainingLoop.CheckpointFile));
            ResumedFromStep = n;
            Log?.Invoke($"{options.Phase}: resumed from update {n} (epoch {epoch}, batch {batchInEpoch})");
        }

        long trimInterval = options.TrimNativeMemoryInterval ?? Runtime.NativeHeap.DefaultTrimInterval;
        var watch = Stopwatch.StartNew();
        double smoothedStepSeconds = 0, smoothedTokensPerSecond = 0;
        long startStep = n;
        model.train();
        using var anomaly = options.DetectAnomaly ? autograd.detect_anomaly(true) : null;
        while (n < options.MaxSteps)
        {
            long yielded = 0, toSkip = batchInEpoch; // non-zero only when resuming mid-epoch
            foreach (var batch in epochs(epoch))
            {
                yielded++;
                if (yielded <= toSkip) continue; // resume: replay the epoch up to where the checkpoint stopped
                if (cancellationToken.IsCancellationRequested)
                {
                    SaveCheckpointIfConfigured(n, epoch, batchInEpoch);
                    Log?.Invoke($"{options.Phase}: cancelled after update {n}; checkpoint written");
                    cancellationToken.ThrowIfCancellationRequested();
                }

                long update = n + 1;
                var stepWatch = Stopwatch.StartNew();
                double loss; long tokens;
                using (var scope = NewDisposeScope())
                {
                    int stepSeed = TrainingLoop.StepSeed(options.Seed, update);
                    manual_seed(stepSeed); // dropout masks depend only on (seed, update)
                    StepOutput output;
                    using (Modeling.Autocast.Enable(options.MatmulPrecision))
                        output = step(batch, new StepContext(update, new Random(stepSeed)));
                    loss = output.Loss.item<float>();
                    tokens = output.Tokens;
                    if (!double.IsFinite(loss))
                    {
                        if (options.DetectAnomaly)
                        {
                            // Every parameter is finite (checked after each update), so the forward pass overflowed;
                            // a backward pass in anomaly mode names the autograd function where NaN/Inf shows.
                            try { output.Loss.backward(); }
                            catch (System.Runtime.InteropServices.ExternalException e)
                            {
                                throw Diverged(update, $"the loss is {loss} although every parameter is finite (the forward pass overflowed); autograd anomaly detection: {e.Message.Split('\n')[0].Trim()}", inner: e);
                            }
                        }
                        throw Diverged(update, $"the loss is {loss}");
                    }
                    optimizer.ZeroGrad();
                    try { output.Loss.backward(); }
                    catch (System.Runtime.InteropServices.ExternalException e) when (options.DetectAnomaly)
                    {
                        string first = e.Message.Split('\n')[0].Trim();
                        throw Diverged(update, $"autograd anomaly detection stopped the backward pass: {first}", inner: e);
                    }
                    double norm = nn.utils.clip_grad_norm_(optimizer.AllParameters, options.ClipNorm ?? double.PositiveInfinity);
                    if (!double.IsFinite(norm))
                        throw Diverged(update, $"the gradient norm is {norm}{NonFiniteGradients()}");
                    optimizer.Step(update);
                    if (options.DetectAnomaly && FirstNonFiniteParameter() is { } bad)
                        throw Diverged(update, $"this update made parameter '{bad}' non-finite", applied: true, culprit: bad);
                    n = update;
                    batchInEpoch++;
                }

                // After the step's tensors went back to malloc: hand its free pages back to the kernel.
                if (trimInterval > 0 && n % trimInterval == 0 && Runtime.NativeHeap.IsGlibc)
                {
                    Runtime.NativeHeap.Trim();
                    NativeMemoryTrims++;
                }
                double seconds = stepWatch.Elapsed.TotalSeconds;
                smoothedStepSeconds = smoothedStepSeconds == 0 ? seconds : 0.9 * smoothedStepSeconds + 0.1 * seconds;
                double tps = tokens / Math.Max(seconds, 1e-9);
                smoothedTokensPerSecond = smoothedTokensPerSecond == 0 ? tps : 0.9 * smoothedTokensPerSecond + 0.1 * tps;
                var rates = optimizer.Groups.ToDictionary(g => g.Name, g => g.LearningRate);
                History.Steps.Add(new StepRecord(n, loss, tps, rates));
                var eta = TimeSpan.FromSeconds(smoothedStepSeconds * (options.MaxSteps - n));
                var progress = new TrainingProgress(options.Phase, n, options.MaxSteps, loss, smoothedTokensPerSecond, watch.Elapsed, eta, rates);
                Progress?.Report(progress);
                if (n % options.LogInterval == 0 || n == options.MaxSteps || n == startStep + 1) Log?.Invoke(progress.ToString());

                if (options.ValidationInterval > 0 && Validate is not null && (n % options.ValidationInterval == 0 || n == options.MaxSteps))
                    RunValidation(n);
                // After validation: validation (and the best checkpoint) sees the weights update n produced, not what a
                // hook makes of them (a forgetting reset would otherwise be validated with freshly drawn embeddings).
                if (AfterUpdate is not null)
                {
                    using var hookScope = NewDisposeScope();
                    using var _ = no_grad();
                    AfterUpdate(new UpdateContext(n, RecordEvent));
                }
                if (options.CheckpointInterval > 0 && n % options.CheckpointInterval == 0 && n < options.MaxSteps)
                    SaveCheckpointIfConfigured(n, epoch, batchInEpoch);
                if (n >= options.MaxSteps) break;
            }
            if (n >= options.MaxSteps) break;
            if (yielded == 0) throw new InvalidOperationException($"{options.Phase}: the training data yielded no batch (epoch {epoch}); check that the input has non-empty text.");
            epoch++;
            batchInEpoch = 0;
        }
        SaveCheckpointIfConfigured(n, epoch, batchInEpoch);
        model.train();
        return History;
    }

    private void RunValidation(long n)
    {
        IReadOnlyDictionary<string, double> metrics;
        model.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            metrics = Validate!(n);
        }
        finally { model.train(); }
        History.Validations.Add(new ValidationRecord(n, metrics));
        Log?.Invoke($"{options.Phase}: validation after update {n}: " + string.Join(", ", metrics.Select(kv => $"{kv.Key} {kv.Value:F4}")));
        // The best score is kept as a value to minimise (an accuracy negated), so checkpoints store one number either way.
        if (options.KeepBestCheckpoint && options.CheckpointDirectory is { } dir && metrics.TryGetValue(options.BestMetric, out var value)
            && (options.HigherIsBetter ? -value : value) < bestValidationLoss)
        {
            bestValidationLoss = options.HigherIsBetter ? -value : value;
            BestStep = n;
            var meta = new Dictionary<string, string> { ["mlnf.kind"] = "best-weights", ["mlnf.step"] = n.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            AtomicFile.Write(Path.Combine(dir, TrainingLoop.BestFile), s => SafeTensors.Write(s, ModelTensors(), meta));
        }
    }

    /// <summary>Copies the weights kept in <c>best.safetensors</c> into the model; false when there are none.</summary>
    public bool LoadBestWeights()
    {
        if (options.CheckpointDirectory is not { } dir || !File.Exists(Path.Combine(dir, TrainingLoop.BestFile))) return false;
        var tensors = SafeTensors.Read(File.ReadAllBytes(Path.Combine(dir, TrainingLoop.BestFile)), out _, TrainingLoop.BestFile);
        try { CopyIntoModel(tensors, ""); }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
        return true;
    }

    private TrainingDivergedException Diverged(long update, string what, bool applied = false, string? culprit = null, Exception? inner = null)
    {
        string kept = options.CheckpointDirectory is { } dir && File.Exists(Path.Combine(dir, TrainingLoop.CheckpointFile))
            ? $" The last good checkpoint is kept at {Path.Combine(dir, TrainingLoop.CheckpointFile)}." : "";
        string state = applied ? " The model in memory holds this update; the checkpoint does not." : " Nothing from this update was applied.";
        string hint = options.DetectAnomaly ? " Lower the learning rate or enable clipping." : " Lower the learning rate, enable clipping, or set DetectAnomaly to find the first non-finite value.";
        culprit ??= inner is null ? null : AutogradFunction(what);
        return new TrainingDivergedException(update, $"{options.Phase}: training diverged at update {update}: {what}.{state}{kept}{hint}", inner) { Culprit = culprit };
    }

    // torch's anomaly report reads "Function 'MulBackward0' returned nan values in its 0th output."
    private static string? AutogradFunction(string message)
    {
        int at = message.IndexOf("Function '", StringComparison.Ordinal);
        if (at < 0) return null;
        int end = message.IndexOf('\'', at + 10);
        return end < 0 ? null : message[(at + 10)..end];
    }

    private string? FirstNonFiniteParameter()
    {
        using var _ = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            using var finite = p.isfinite().all();
            if (!finite.item<bool>()) return name;
        }
        return null;
    }

    private string NonFiniteGradients()
    {
        var names = new List<string>();
        foreach (var (name, p) in model.named_parameters())
        {
            var g = p.grad;
            if (g is null) continue;
            using var finite = g.isfinite().all();
            if (!finite.item<bool>()) names.Add(name);
            if (names.Count == 5) break;
        }
        return names.Count == 0 ? "" : " (non-finite gradients in " + string.Join(", ", names) + ")";
    }

    private IEnumerable<KeyValuePair<string, Tensor>> ModelTensors() =>
        model.named_parameters().Select(p => new KeyValuePair<string, Tensor>(p.name, p.parameter));

    private static readonly JsonSerializerOptions StateJson = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private sealed record LoopState(long Step, int Epoch, long BatchInEpoch, int Seed, Dictionary<string, long> GroupSteps, double BestValidationLoss, long? BestStep, TrainingHistory History);

    private void SaveCheckpointIfConfigured(long n, int epoch, long batchInEpoch)
    {
        if (options.CheckpointDirectory is not { } dir || n == 0) return;
        var state = new LoopState(n, epoch, batchInEpoch, options.Seed, optimizer.StepCounts(), bestValidationLoss, BestStep, History);
        var meta = new Dictionary<string, string>
        {
            ["mlnf.kind"] = "training-checkpoint",
            ["mlnf.loop"] = JsonSerializer.Serialize(state, StateJson),
        };
        if (options.Configuration is { } configuration) meta[TrainingConfiguration.MetadataKey] = configurationJson ??= TrainingConfiguration.Serialize(configuration);
        if (CheckpointMetadata?.Invoke() is { } extra) foreach (var kv in extra) meta[kv.Key] = kv.Value;
        var tensors = ModelTensors().Select(kv => new KeyValuePair<string, Tensor>(ModelPrefix + kv.Key, kv.Value))
            .Concat(optimizer.StateTensors().Select(kv => new KeyValuePair<string, Tensor>(OptimizerPrefix + kv.Key, kv.Value)));
        AtomicFile.Write(Path.Combine(dir, TrainingLoop.CheckpointFile), s => SafeTensors.Write(s, tensors, meta));
    }

    private (long Step, int Epoch, long BatchInEpoch) LoadCheckpoint(string path)
    {
        var tensors = SafeTensors.Read(File.ReadAllBytes(path), out var meta, path);
        try
        {
            if (!meta.TryGetValue("mlnf.loop", out var json) || JsonSerializer.Deserialize<LoopState>(json, StateJson) is not { } state)
                throw new InvalidDataException($"{path} is not a training checkpoint (no loop state).");
            // First: the configuration check names every differing setting, the seed among them.
            if (options.Configuration is { } configuration) TrainingConfiguration.Check(path, meta, configuration, Log, options.Phase);
            CheckCheckpoint?.Invoke(path, meta);
            if (state.Seed != options.Seed)
                throw new InvalidOperationException($"The checkpoint in {path} was written by a run with seed {state.Seed}; this run has seed {options.Seed}. Resume with the same seed or start a new checkpoint folder.");
            CopyIntoModel(tensors, ModelPrefix);
            RestoreMetadata?.Invoke(meta);
            var optimizerState = tensors.Where(kv => kv.Key.StartsWith(OptimizerPrefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key[OptimizerPrefix.Length..], kv => kv.Value);
            optimizer.LoadState(optimizerState, state.GroupSteps);
            History = state.History;
            bestValidationLoss = state.BestValidationLoss;
            BestStep = state.BestStep;
            return (state.Step, state.Epoch, state.BatchInEpoch);
        }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
    }

    private void CopyIntoModel(IReadOnlyDictionary<string, Tensor> tensors, string prefix) => TrainingLoop.CopyParameters(model, tensors, prefix);

}

/// <summary>
/// What every training loop shares, whatever its batch type: the per-update seed and the checkpoint files.
/// </summary>
internal static class TrainingLoop
{
    public const string CheckpointFile = "checkpoint.safetensors";
    public const string BestFile = "best.safetensors";

    /// <summary>Mixes the run seed and the update number into one 32-bit seed.</summary>
    public static int StepSeed(int seed, long step)
    {
        ulong x = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ (ulong)step * 0xBF58476D1CE4E5B9UL;
        x ^= x >> 31; x *= 0x94D049BB133111EBUL; x ^= x >> 29;
        return (int)(x & 0x7FFFFFFF);
    }

    /// <summary>Reads the metadata strings of a checkpoint without loading it.</summary>
    public static IReadOnlyDictionary<string, string> ReadCheckpointMetadata(string path)
    {
        var tensors = SafeTensors.Read(File.ReadAllBytes(path), out var meta, path);
        foreach (var t in tensors.Values) t.Dispose();
        return meta;
    }

    /// <summary>
    /// Copies <paramref name="tensors"/> (named <paramref name="prefix"/> + parameter name) into every parameter of
    /// <paramref name="module"/>; throws <see cref="InvalidDataException"/> naming a missing or misshapen one.
    /// </summary>
    internal static void CopyParameters(nn.Module module, IReadOnlyDictionary<string, Tensor> tensors, string prefix)
    {
        using var _ = no_grad();
        foreach (var (name, p) in module.named_parameters())
        {
            if (!tensors.TryGetValue(prefix + name, out var t))
                throw new InvalidDataException($"The checkpoint has no tensor for parameter '{name}'; it was written for another model.");
            if (!t.shape.SequenceEqual(p.shape))
                throw new InvalidDataException($"The checkpoint's '{name}' has shape [{string.Join(",", t.shape)}]; the model needs [{string.Join(",", p.shape)}].");
            p.copy_(t);
        }
    }

    /// <summary>Deletes the files a loop writes (<see cref="CheckpointFile"/>, <see cref="BestFile"/>) from <paramref name="folder"/>, and the folder when it is then empty; anything else stays.</summary>
    public static void DeleteCheckpoints(string folder)
    {
        if (!Directory.Exists(folder)) return;
        foreach (var name in new[] { CheckpointFile, BestFile }) File.Delete(Path.Combine(folder, name));
        if (!Directory.EnumerateFileSystemEntries(folder).Any()) Directory.Delete(folder);
    }
}

/// <summary>What an after-update hook sees: the update just applied (from 1) and the run's event record.</summary>
internal sealed class UpdateContext
{
    private readonly Action<long, string, string?> record;

    internal UpdateContext(long update, Action<long, string, string?> record)
    {
        Update = update;
        this.record = record;
    }

    /// <summary>The number of the update just applied, from 1.</summary>
    public long Update { get; }

    /// <summary>Adds an event (e.g. an embedding reset) after this update to the run's history and log.</summary>
    public void RecordEvent(string kind, string? detail = null) => record(Update, kind, detail);
}

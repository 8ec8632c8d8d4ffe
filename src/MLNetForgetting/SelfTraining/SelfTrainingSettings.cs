using MLNetForgetting.Modeling.Adapters;
using MLNetForgetting.Training;

namespace MLNetForgetting.SelfTraining;

/// <summary>
/// Hyperparameters of LiST (docs/methods.md §3.3–3.4) and of its baselines. Defaults are the paper's;
/// tests use tiny values.
/// </summary>
public sealed record SelfTrainingSettings
{
    /// <summary>Adapter shape and placement (r = 128, N(0, 2e-4), attention and FFN outputs of every layer).</summary>
    public AdapterOptions Adapters { get; init; } = new();
    /// <summary>Peak rate of teacher initialisation, i.e. prompt tuning of adapters + head on the labelled set (5e-6); linear decay to 0.</summary>
    public double TeacherLearningRate { get; init; } = 5e-6;
    /// <summary>Epochs of teacher initialisation over the labelled set (50).</summary>
    public int TeacherEpochs { get; init; } = 50;
    /// <summary>Labelled batch size (4).</summary>
    public int LabelledBatchSize { get; init; } = 4;
    /// <summary>Unlabelled batch size of phase A (16).</summary>
    public int UnlabelledBatchSize { get; init; } = 16;
    /// <summary>Labelled examples drawn from the training set for each meta step (4).</summary>
    public int MetaBatchSize { get; init; } = 4;
    /// <summary>Batch size of teacher and test predictions (16).</summary>
    public int EvalBatchSize { get; init; } = 16;
    /// <summary>M, self-training rounds (6).</summary>
    public int Rounds { get; init; } = 6;
    /// <summary>Updates of phase A (knowledge distillation on unlabelled batches) per round (1000).</summary>
    public long PhaseAUpdates { get; init; } = 1000;
    /// <summary>Share of phase A with uniform weights before meta re-weighting starts (0.6: updates 1..600 of 1000).</summary>
    public double KdWarmupFraction { get; init; } = 0.6;
    /// <summary>Epochs of phase B (cross-entropy on the labelled set) per round (50).</summary>
    public int PhaseBEpochs { get; init; } = 50;
    /// <summary>Peak rate of each round (1e-4), no warm-up, linear decay to 0 over phase A + phase B.</summary>
    public double StudentLearningRate { get; init; } = 1e-4;
    /// <summary>Use meta re-weighting after the warm-up; false keeps uniform weights throughout (an ablation).</summary>
    public bool MetaReweighting { get; init; } = true;
    /// <summary>α of the virtual SGD step (5e-6). Only its sign affects the weights (docs/methods.md §3.3).</summary>
    public double MetaStepSize { get; init; } = 5e-6;
    /// <summary>Global gradient-norm clipping in every phase (1.0); null disables.</summary>
    public double? ClipNorm { get; init; } = 1.0;
    /// <summary>Decoupled weight decay (0).</summary>
    public double WeightDecay { get; init; }
    /// <summary>AdamW β₁ (Hugging Face default 0.9).</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>AdamW β₂ (Hugging Face default 0.999).</summary>
    public double Beta2 { get; init; } = 0.999;
    /// <summary>AdamW ε (Hugging Face default 1e-8).</summary>
    public double Epsilon { get; init; } = 1e-8;
    /// <summary>Peak rate of the full-model baselines (prompt fine-tuning and classic fine-tuning; LM-BFF: 1e-5).</summary>
    public double FineTuningLearningRate { get; init; } = 1e-5;
    /// <summary>
    /// Dropout inside the frozen backbone while adapters and head train (true: LiST's code, whole model in
    /// training mode). False runs the frozen backbone in evaluation mode (<see cref="PromptClassifier.BackboneDropout"/>);
    /// the full-model baselines always train with dropout.
    /// </summary>
    public bool BackboneDropout { get; init; } = true;
    /// <summary>Seeds adapter initialisation, shuffling, dropout and meta batches.</summary>
    public int Seed { get; init; }
    /// <summary>Cap on rendered prompt length besides the template's own and the backbone's; null for none.</summary>
    public int? MaxSequenceLength { get; init; }
    /// <summary>Log a progress line every this many updates.</summary>
    public long LogInterval { get; init; } = 50;
    /// <summary>
    /// Folder for checkpoints (null: none). Each phase checkpoints into a subfolder and the model at each
    /// round boundary is kept, so a killed run resumed with <see cref="Resume"/> and the same settings ends
    /// with the weights of an uninterrupted run.
    /// </summary>
    public string? CheckpointDirectory { get; init; }
    /// <summary>Write a checkpoint every this many updates within a phase (0: only at the end of each phase and on cancellation).</summary>
    public long CheckpointInterval { get; init; }
    /// <summary>Continue from the checkpoints in <see cref="CheckpointDirectory"/> when there are any.</summary>
    public bool Resume { get; init; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        static void Check(bool ok, string name, object? value, string rule) { if (!ok) throw new ArgumentOutOfRangeException(name, value, $"{name} {rule}."); }
        static bool Rate(double r) => r > 0 && double.IsFinite(r);
        ArgumentNullException.ThrowIfNull(Adapters, nameof(Adapters));
        Adapters.Validate();
        Check(Rate(TeacherLearningRate), nameof(TeacherLearningRate), TeacherLearningRate, "must be positive and finite");
        Check(TeacherEpochs > 0, nameof(TeacherEpochs), TeacherEpochs, "must be positive");
        Check(LabelledBatchSize > 0, nameof(LabelledBatchSize), LabelledBatchSize, "must be positive");
        Check(UnlabelledBatchSize > 0, nameof(UnlabelledBatchSize), UnlabelledBatchSize, "must be positive");
        Check(MetaBatchSize > 0, nameof(MetaBatchSize), MetaBatchSize, "must be positive");
        Check(EvalBatchSize > 0, nameof(EvalBatchSize), EvalBatchSize, "must be positive");
        Check(Rounds >= 0, nameof(Rounds), Rounds, "must be >= 0");
        Check(PhaseAUpdates > 0, nameof(PhaseAUpdates), PhaseAUpdates, "must be positive");
        Check(KdWarmupFraction is >= 0 and <= 1, nameof(KdWarmupFraction), KdWarmupFraction, "must be in [0, 1]");
        Check(PhaseBEpochs >= 0, nameof(PhaseBEpochs), PhaseBEpochs, "must be >= 0");
        Check(Rate(StudentLearningRate), nameof(StudentLearningRate), StudentLearningRate, "must be positive and finite");
        Check(Rate(MetaStepSize), nameof(MetaStepSize), MetaStepSize, "must be positive and finite");
        Check(ClipNorm is null or > 0, nameof(ClipNorm), ClipNorm, "must be positive or null");
        Check(WeightDecay >= 0 && double.IsFinite(WeightDecay), nameof(WeightDecay), WeightDecay, "must be >= 0");
        Check(Beta1 is >= 0 and < 1, nameof(Beta1), Beta1, "must be in [0, 1)");
        Check(Beta2 is >= 0 and < 1, nameof(Beta2), Beta2, "must be in [0, 1)");
        Check(Rate(Epsilon), nameof(Epsilon), Epsilon, "must be positive and finite");
        Check(Rate(FineTuningLearningRate), nameof(FineTuningLearningRate), FineTuningLearningRate, "must be positive and finite");
        Check(MaxSequenceLength is null or >= 3, nameof(MaxSequenceLength), MaxSequenceLength, "must be at least 3 or null");
        Check(LogInterval > 0, nameof(LogInterval), LogInterval, "must be positive");
        Check(CheckpointInterval >= 0, nameof(CheckpointInterval), CheckpointInterval, "must be >= 0");
    }

    /// <summary>Updates of phase A that use uniform weights: round(warm-up fraction × updates).</summary>
    public long KdWarmupUpdates => (long)Math.Round(KdWarmupFraction * PhaseAUpdates);
}

/// <summary>Meta re-weighting statistics of one round.</summary>
/// <param name="Steps">Updates whose weights came from a meta step.</param>
/// <param name="AllZeroSteps">Meta steps where no example had a positive weight (the update then changes nothing but Adam's moments).</param>
/// <param name="MeanMaxWeight">Mean over meta steps of the largest weight (1/N when uniform-like, 1 when one example dominates).</param>
/// <param name="LastWeights">Weights of the last meta step (empty if none).</param>
internal sealed record MetaWeightStats(long Steps, long AllZeroSteps, double MeanMaxWeight, float[] LastWeights);

/// <summary>One self-training round.</summary>
/// <param name="Round">1-based round number.</param>
/// <param name="PhaseA">Distillation history (loss = weighted KL).</param>
/// <param name="PhaseB">Labelled cross-entropy history (null when <see cref="SelfTrainingSettings.PhaseBEpochs"/> is 0).</param>
/// <param name="Meta">Meta re-weighting statistics.</param>
internal sealed record SelfTrainingRound(int Round, TrainingHistory PhaseA, TrainingHistory? PhaseB, MetaWeightStats Meta);

/// <summary>The outcome of LiST.</summary>
/// <param name="Model">The last student (adapters + head on the shared backbone); the caller owns and disposes it.</param>
/// <param name="TeacherInit">History of teacher initialisation.</param>
/// <param name="Rounds">Per-round histories and meta statistics.</param>
/// <param name="SelfTrainingSkipped">True when the unlabelled set was empty: <see cref="Model"/> is the prompt-tuned teacher.</param>
internal sealed record SelfTrainingResult(PromptClassifier Model, TrainingHistory TeacherInit, IReadOnlyList<SelfTrainingRound> Rounds, bool SelfTrainingSkipped)
{
    /// <summary>Meta steps over all rounds.</summary>
    public long MetaSteps => Rounds.Sum(r => r.Meta.Steps);
}

namespace MLNetForgetting.Training;

/// <summary>Progress of a training run, reported after every update through <see cref="IProgress{T}"/>.</summary>
public sealed record TrainingProgress(
    string Phase,
    long Step,
    long TotalSteps,
    double Loss,
    double TokensPerSecond,
    TimeSpan Elapsed,
    TimeSpan EstimatedRemaining,
    IReadOnlyDictionary<string, double> LearningRates)
{
    public double Fraction => TotalSteps <= 0 ? 0 : (double)Step / TotalSteps;

    public override string ToString() =>
        $"{Phase} step {Step}/{TotalSteps} loss {Loss:F4} {TokensPerSecond:F0} tok/s elapsed {Elapsed:hh\\:mm\\:ss} ETA {EstimatedRemaining:hh\\:mm\\:ss}";
}

/// <summary>Training stopped because the loss or a gradient became NaN or infinite.</summary>
public sealed class TrainingDivergedException : Exception
{
    public TrainingDivergedException(long step, string message) : base(message) => Step = step;

    /// <summary>The update at which a non-finite value appeared; nothing from it was applied.</summary>
    public long Step { get; }
}

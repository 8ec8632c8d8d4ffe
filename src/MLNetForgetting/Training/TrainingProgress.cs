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

    /// <summary>Creates the exception with the error that revealed the fault (e.g. torch's anomaly report).</summary>
    public TrainingDivergedException(long step, string message, Exception? inner) : base(message, inner) => Step = step;

    /// <summary>The update at which a non-finite value appeared (with DetectAnomaly, a non-finite parameter after the update is reported at that update).</summary>
    public long Step { get; }

    /// <summary>With DetectAnomaly: the first parameter (Hugging Face name) or autograd function where a non-finite value was found; otherwise null.</summary>
    public string? Culprit { get; init; }
}

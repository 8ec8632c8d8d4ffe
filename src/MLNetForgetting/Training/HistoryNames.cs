namespace MLNetForgetting.Training;

/// <summary>
/// Names that training histories carry and that reports, plots and examples look up: defined here
/// once, so a writer and its readers cannot drift apart.
/// </summary>
public static class HistoryNames
{
    /// <summary>Event kind of an embedding reset during active-forgetting pretraining (<see cref="TrainingHistory.Events"/>).</summary>
    public const string ResetEvent = "reset";

    /// <summary>
    /// Validation metric of the adaptation curve: zero-shot accuracy of the task model with the embeddings
    /// being relearned spliced in, on the target language's dev pairs (<see cref="TrainingHistory.Validations"/>;
    /// the CSV column is <c>val_zero_shot_accuracy</c>).
    /// </summary>
    public const string ZeroShotAccuracy = "zero_shot_accuracy";
}

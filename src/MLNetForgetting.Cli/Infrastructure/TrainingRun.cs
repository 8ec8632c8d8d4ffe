using MLNetForgetting.Training;

namespace MLNetForgetting.Cli.Infrastructure;

/// <summary>
/// Progress display and cancellation of one long library call (pretraining, relearning, task
/// adaptation, LiST), shared by every training command and the demo: <see cref="Progress"/> and
/// <see cref="CancellationToken"/> go into the library's Options, <see cref="Execute{T}"/> runs the fit
/// under the display and turns cancellation into <see cref="CliCancelledException"/> naming the
/// checkpoint and --resume. No training logic lives here.
/// </summary>
public sealed class TrainingRun : IDisposable
{
    private readonly CliContext _context;
    private readonly CancellationTokenSource _cancellation;
    private readonly ProgressTracker _tracker;

    /// <summary>Links to the command's token; <paramref name="stopAfterSteps"/> &gt; 0 is the hidden test hook --stop-after-steps.</summary>
    public TrainingRun(CliContext context, long stopAfterSteps = 0)
    {
        _context = context;
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        _tracker = new ProgressTracker(_cancellation, stopAfterSteps);
    }

    /// <summary>The progress sink for the library's Options.</summary>
    public IProgress<TrainingProgress> Progress => _tracker;

    /// <summary>The token for the library's Options (Ctrl+C, or the test hook).</summary>
    public CancellationToken CancellationToken => _cancellation.Token;

    /// <summary>
    /// Runs <paramref name="fit"/> under a progress display titled <paramref name="title"/>.
    /// <paramref name="checkpointDirectory"/> is where the library writes its checkpoint (null: the run has none).
    /// </summary>
    public T Execute<T>(string title, string? checkpointDirectory, bool resume, Func<T> fit)
    {
        if (resume && !HasCheckpoint(checkpointDirectory))
            _context.Warning($"--resume: no checkpoint in '{checkpointDirectory}'; starting from the first update");
        else if (resume)
            _context.WriteLine($"Resuming from {Describe(checkpointDirectory!)}");
        try
        {
            return ProgressDisplay.Run(_context, title, progress =>
            {
                _tracker.Target = progress;
                return fit();
            });
        }
        catch (OperationCanceledException e) when (_cancellation.IsCancellationRequested)
        {
            string where = _tracker.Last is { } last ? $"after update {last.Step} of {last.TotalSteps}" : "before the first update";
            throw new CliCancelledException(HasCheckpoint(checkpointDirectory)
                ? $"cancelled {where}; checkpoint written to '{Describe(checkpointDirectory!)}'. Rerun the same command with --resume to continue"
                : $"cancelled {where}; no checkpoint was written, so the run has to start again", e);
        }
    }

    // A folder holds the loop's single checkpoint file, or (LiST) per-phase checkpoints in subfolders.
    private static bool HasCheckpoint(string? folder) =>
        folder is not null && Directory.Exists(folder) && Directory.EnumerateFiles(folder, "*.safetensors", SearchOption.AllDirectories).Any(f => Path.GetFileName(f) != TrainingLoop.BestFile);

    private static string Describe(string folder) =>
        Path.Combine(folder, TrainingLoop.CheckpointFile) is var file && File.Exists(file) ? file : folder;

    /// <summary>Removes the files the training loop writes from a scratch checkpoint folder, and the folder when it is then empty.</summary>
    public static void DeleteCheckpointFolder(string folder) => TrainingLoop.DeleteCheckpoints(folder);

    /// <inheritdoc/>
    public void Dispose() => _cancellation.Dispose();
}

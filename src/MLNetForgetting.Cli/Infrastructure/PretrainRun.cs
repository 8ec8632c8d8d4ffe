using Microsoft.ML;
using MLNetForgetting.MLNet.Persistence;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Training;

namespace MLNetForgetting.Cli.Infrastructure;

/// <summary>One pretraining run as the CLI performs it (for <c>pretrain</c> and the demo).</summary>
/// <param name="Title">Label of the progress display, e.g. "forgetting K=1000".</param>
/// <param name="Input">The training text.</param>
/// <param name="Options">Library options; <c>Progress</c> and <c>CancellationToken</c> are set by <see cref="PretrainRun.Execute"/>.</param>
/// <param name="ModelPath">Where the ML.NET zip goes (checked writable).</param>
/// <param name="HistoryPath">Where the history goes (.csv or .json; checked writable).</param>
/// <param name="DeleteCheckpointOnSuccess">True when the checkpoint folder was the default scratch folder: it is removed after a successful run.</param>
/// <param name="StopAfterSteps">Hidden test hook: cancel after this many updates (0: never).</param>
public sealed record PretrainJob(
    string Title, TextSource Input, ActiveForgettingPretrainer.Options Options, string ModelPath, string HistoryPath,
    bool DeleteCheckpointOnSuccess = false, long StopAfterSteps = 0);

/// <summary>
/// Runs a <see cref="PretrainJob"/>: the library's ActiveForgettingPretrainer with a progress display
/// and cancellation, then saves the zip atomically and exports the history. No training logic lives here.
/// </summary>
public static class PretrainRun
{
    /// <summary>Fits, saves and returns the model. Cancellation becomes <see cref="CliCancelledException"/> naming the checkpoint and --resume.</summary>
    public static LanguageModelTransformer Execute(CliContext context, MLContext ml, PretrainJob job)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        var tracker = new ProgressTracker(cancellation, job.StopAfterSteps);
        var options = job.Options;
        options.Progress = tracker;
        options.CancellationToken = cancellation.Token;
        // Building the estimator validates every option (ArgumentException → exit code 2) before the progress display starts.
        var estimator = ml.Transforms.Text.ActiveForgettingPretrainer(options);
        string? checkpoint = options.CheckpointDirectory is { } dir ? Path.Combine(dir, TrainingLoop<object>.CheckpointFile) : null;
        if (options.Resume && (checkpoint is null || !File.Exists(checkpoint)))
            context.Warning($"--resume: no checkpoint in '{options.CheckpointDirectory}'; starting from the first update");
        else if (options.Resume)
            context.WriteLine($"Resuming from {checkpoint}");

        LanguageModelTransformer model;
        try
        {
            model = ProgressDisplay.Run(context, job.Title, progress =>
            {
                tracker.Target = progress;
                return estimator.Fit(job.Input.Data);
            });
        }
        catch (OperationCanceledException e) when (cancellation.IsCancellationRequested)
        {
            string where = tracker.Last is { } last ? $"after update {last.Step} of {last.TotalSteps}" : "before the first update";
            throw new CliCancelledException(checkpoint is not null && File.Exists(checkpoint)
                ? $"cancelled {where}; checkpoint written to '{checkpoint}'. Rerun the same command with --resume to continue"
                : $"cancelled {where}; no checkpoint was written, so the run has to start again", e);
        }

        SaveModel(ml, model, job.Input.Data.Schema, job.ModelPath);
        model.ExportHistory(job.HistoryPath);
        if (job.DeleteCheckpointOnSuccess && options.CheckpointDirectory is { } scratch) DeleteCheckpointFolder(scratch);
        return model;
    }

    /// <summary>Saves through a temporary file and a rename (<see cref="ModelFiles.SaveAtomic"/>), so an interrupted save never leaves a truncated zip under the real name.</summary>
    public static void SaveModel(MLContext ml, ITransformer model, DataViewSchema inputSchema, string path) =>
        ml.Model.SaveAtomic(model, inputSchema, path);

    // Only the files the training loop writes; a folder holding anything else is left alone.
    private static void DeleteCheckpointFolder(string folder)
    {
        foreach (var name in new[] { TrainingLoop<object>.CheckpointFile, TrainingLoop<object>.BestFile })
        {
            string file = Path.Combine(folder, name);
            if (File.Exists(file)) File.Delete(file);
        }
        if (Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any()) Directory.Delete(folder);
    }
}

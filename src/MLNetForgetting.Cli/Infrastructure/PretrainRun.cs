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
        using var run = new TrainingRun(context, job.StopAfterSteps);
        var options = job.Options;
        options.Progress = run.Progress;
        options.CancellationToken = run.CancellationToken;
        // Building the estimator validates every option (ArgumentException → exit code 2) before the progress display starts.
        var estimator = ml.Transforms.Text.ActiveForgettingPretrainer(options);
        var model = run.Execute(job.Title, options.CheckpointDirectory, options.Resume, () => estimator.Fit(job.Input.Data));
        SaveModel(ml, model, job.Input.Data.Schema, job.ModelPath);
        model.ExportHistory(job.HistoryPath);
        if (job.DeleteCheckpointOnSuccess && options.CheckpointDirectory is { } scratch) TrainingRun.DeleteCheckpointFolder(scratch);
        return model;
    }

    /// <summary>Saves through a temporary file and a rename (<see cref="MLNetForgetting.MLNet.Persistence.ModelFiles.SaveAtomic"/>), so an interrupted save never leaves a truncated zip under the real name.</summary>
    public static void SaveModel(MLContext ml, ITransformer model, DataViewSchema inputSchema, string path) =>
        ml.Model.SaveAtomic(model, inputSchema, path);
}

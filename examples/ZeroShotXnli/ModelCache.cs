using Microsoft.ML;
using MLNetForgetting.MLNet.CrossLingual;
using MLNetForgetting.MLNet.Persistence;
using MLNetForgetting.Training;

namespace ZeroShotXnli;

/// <summary>
/// The example's part of the cross-lingual pipeline: every fit shows a one-line progress display, and with
/// a cache folder (--runs) each model is loaded from its zip when present, else fitted and saved atomically.
/// </summary>
internal sealed class ModelCache(MLContext ml, Func<CrossLingualPipeline.Step, string?> path, Func<CrossLingualPipeline.Step, string> title) : CrossLingualPipeline.Hooks
{
    public override T Fit<T>(CrossLingualPipeline.Step step, Func<IProgress<TrainingProgress>?, CancellationToken, T> fit) =>
        LoadOrFit(ml, path(step), step.InputSchema, () => fit(new ConsoleProgress(title(step)), default));

    /// <summary>Loads the transformer cached at <paramref name="path"/>, or fits it and caches it (atomically) when a cache is in use.</summary>
    public static T LoadOrFit<T>(MLContext ml, string? path, DataViewSchema schema, Func<T> fit) where T : class, ITransformer
    {
        if (path is not null && File.Exists(path))
        {
            Console.WriteLine($"   loaded {path}");
            return ml.Model.LoadChecked(path, out _) as T ?? throw new InvalidDataException($"{path} does not hold a {typeof(T).Name}; delete it or use another --runs folder");
        }
        var model = fit();
        if (path is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            ml.Model.SaveAtomic(model, schema, path);
        }
        return model;
    }
}

/// <summary>A one-line progress display on the console (phase, step, loss, ETA).</summary>
internal sealed class ConsoleProgress(string name) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress p)
    {
        if (p.Step % 25 != 0 && p.Step != p.TotalSteps) return;
        Console.Write($"\r   {name}: {p.Step}/{p.TotalSteps} loss {p.Loss:F3} {p.TokensPerSecond:F0} tok/s ETA {p.EstimatedRemaining:mm\\:ss}      ");
    }
}

using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Text;
using MLNetForgetting.Training;

namespace MLNetForgetting.Benchmarks;

/// <summary>
/// Memory over a long run: pretrains the Small preset (K = 100) through the ML.NET estimator for
/// N updates and samples the resident set size after every update. Prints a line every 50 updates
/// (so a run stopped early still says what it reached) and the RSS at update 100, at the end, and
/// the peak (VmHWM).
///
///   dotnet run -c Release --project benchmarks/MLNetForgetting.Benchmarks -- long-run-memory
///       [--data ../shared/data/raw/en] [--steps 1000] [--batch 32] [--max-length 128]
/// </summary>
internal static class LongRunMemory
{
    public sealed class Row { public string Text { get; set; } = ""; }

    private sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    public static int Run(string[] args)
    {
        var o = Bench.Options(args, "data", "steps", "batch", "max-length", "results");
        string data = o.GetValueOrDefault("data", "../shared/data/raw/en");
        long steps = long.Parse(o.GetValueOrDefault("steps", "1000"), CultureInfo.InvariantCulture);
        int batch = int.Parse(o.GetValueOrDefault("batch", "32"), CultureInfo.InvariantCulture);
        int maxLength = int.Parse(o.GetValueOrDefault("max-length", "128"), CultureInfo.InvariantCulture);
        if (!Directory.Exists(data)) throw new ArgumentException($"Data folder '{data}' not found (use --data).");
        var lines = Directory.GetFiles(data, "*.txt").Order(StringComparer.Ordinal).SelectMany(File.ReadLines)
            .Where(l => l.Length > 20).Take(40_000).ToList();

        var ml = new MLContext(1);
        var tokenizer = BpeVocabularyTrainer.Train(lines.Take(20_000), new BpeTrainerOptions { VocabSize = 8000 });
        var rss = new long[steps + 1];
        var watch = Stopwatch.StartNew();
        var progress = new SyncProgress(p =>
        {
            long now = Rss.Current();
            if (p.Step <= steps) rss[p.Step] = now;
            if (p.Step % 50 == 0 || p.Step == 1)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"step {p.Step}/{p.TotalSteps} loss {p.Loss:F3} rss {now / 1e6:F1} MB peak {Rss.Peak() / 1e6:F1} MB elapsed {watch.Elapsed.TotalSeconds:F0} s"));
        });
        ml.Transforms.Text.ActiveForgettingPretrainer(new ActiveForgettingPretrainer.Options
        {
            ModelPreset = "Small", Tokenizer = tokenizer, MaxSteps = steps, ResetInterval = 100, BatchSize = batch,
            MaxSequenceLength = maxLength, Seed = 1, Progress = progress,
        }).Fit(ml.Data.LoadFromEnumerable(lines.Select(l => new Row { Text = l })));

        long at100 = rss[Math.Min(100, steps)], atEnd = rss[steps], peak = Rss.Peak();
        double growth = (double)atEnd / at100 - 1;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"LongRunMemory: Small preset, {steps} updates of {batch}x{maxLength} in {watch.Elapsed.TotalSeconds:F0} s: RSS at update 100 {at100 / 1e6:F1} MB, at update {steps} {atEnd / 1e6:F1} MB ({growth:+0.0%;-0.0%}), peak {peak / 1e6:F1} MB"));
        Bench.Append(o.GetValueOrDefault("results", Bench.DefaultResults), "LongRunMemory", new Dictionary<string, object>
        {
            ["preset"] = "Small", ["steps"] = steps, ["batch"] = batch, ["max_length"] = maxLength, ["seconds"] = Math.Round(watch.Elapsed.TotalSeconds, 1),
            ["rss_mb_at_100"] = Math.Round(at100 / 1e6, 1), ["rss_mb_at_end"] = Math.Round(atEnd / 1e6, 1), ["rss_growth"] = Math.Round(growth, 4),
            ["peak_rss_mb"] = Math.Round(peak / 1e6, 1),
        });
        return 0;
    }
}

/// <summary>Resident set size of this process, from /proc/self/status (Linux).</summary>
internal static class Rss
{
    public static long Current() => Read("VmRSS:");

    /// <summary>Peak resident set size (VmHWM).</summary>
    public static long Peak() => Read("VmHWM:");

    private static long Read(string field)
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field, StringComparison.Ordinal))
                return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        return Environment.WorkingSet;
    }
}

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
/// the peak (VmHWM), the highest RSS over updates 101-200 and over the last 100 updates, and the
/// wall-clock and CPU time per update after update 100. <c>--trace file.csv</c> writes one line per
/// update with the managed heap and glibc malloc's counters (what makes up the RSS). The training loop
/// trims the C heap every 100 updates unless <c>MLNF_MALLOC_TRIM_INTERVAL</c> says otherwise.
///
///   dotnet run -c Release --project benchmarks/MLNetForgetting.Benchmarks -- long-run-memory
///       [--data ../shared/data/raw/en] [--steps 1000] [--batch 32] [--max-length 128] [--trace file.csv]
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
        var o = Bench.Options(args, "data", "steps", "batch", "max-length", "results", "trace");
        string? tracePath = o.GetValueOrDefault("trace");
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
        using var trace = tracePath is null ? null : new StreamWriter(tracePath);
        trace?.WriteLine("step,seconds,cpu_seconds,rss_mb,gc_heap_mb,gc_committed_mb,malloc_arena_mb,malloc_mmapped_mb,malloc_in_use_mb,malloc_free_mb");
        var self = Process.GetCurrentProcess();
        double lastCpu = self.TotalProcessorTime.TotalSeconds, cpuAt100 = lastCpu;
        double wallAt100 = 0;
        double lastSeconds = 0;
        var watch = Stopwatch.StartNew();
        var progress = new SyncProgress(p =>
        {
            long now = Rss.Current();
            if (trace is not null)
            {
                double s = watch.Elapsed.TotalSeconds;
                self.Refresh();
                double cpu = self.TotalProcessorTime.TotalSeconds;
                var h = MLNetForgetting.Runtime.NativeHeap.HeapInfo() ?? default;
                trace.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{p.Step},{s - lastSeconds:F4},{cpu - lastCpu:F4},{now / 1e6:F1},{GC.GetTotalMemory(false) / 1e6:F1},{GC.GetGCMemoryInfo().TotalCommittedBytes / 1e6:F1},{h.Arena / 1e6:F1},{h.Mmapped / 1e6:F1},{h.InUse / 1e6:F1},{h.Free / 1e6:F1}"));
                lastSeconds = s; lastCpu = cpu;
            }
            if (p.Step == Math.Min(100, steps)) { self.Refresh(); cpuAt100 = self.TotalProcessorTime.TotalSeconds; wallAt100 = watch.Elapsed.TotalSeconds; }
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
        // The two samples can fall on different points of a sawtooth (a trim, a reset), so also compare the
        // highest RSS over updates 101-200 with the highest over the last 100 updates.
        long maxEarly = rss.Skip(101).Take((int)Math.Min(100, Math.Max(0, steps - 100))).DefaultIfEmpty(at100).Max();
        long maxLate = rss.Skip((int)Math.Max(1, steps - 99)).DefaultIfEmpty(atEnd).Max();
        double windowGrowth = (double)maxLate / maxEarly - 1;
        double seconds = watch.Elapsed.TotalSeconds;
        self.Refresh();
        // Time per update after update 100, wall clock and CPU (user + system, every thread of the
        // process): on a shared machine the CPU time is the steadier measure of what an option costs.
        long later = Math.Max(1, steps - Math.Min(100, steps));
        double wallMs = (seconds - wallAt100) * 1000 / later, cpuMs = (self.TotalProcessorTime.TotalSeconds - cpuAt100) * 1000 / later;
        string trimNote = $"trim every {MLNetForgetting.Runtime.NativeHeap.DefaultTrimInterval} updates{(MLNetForgetting.Runtime.NativeHeap.IsGlibc ? "" : " (not glibc: off)")}";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"LongRunMemory: Small preset, {steps} updates of {batch}x{maxLength} in {seconds:F0} s ({trimNote}; after update 100: {wallMs:F1} ms wall, {cpuMs:F1} ms CPU per update): RSS at update 100 {at100 / 1e6:F1} MB, at update {steps} {atEnd / 1e6:F1} MB ({growth:+0.0%;-0.0%}); max over updates 101-200 {maxEarly / 1e6:F1} MB, over the last 100 {maxLate / 1e6:F1} MB ({windowGrowth:+0.0%;-0.0%}); peak {peak / 1e6:F1} MB"));
        Bench.Append(o.GetValueOrDefault("results", Bench.DefaultResults), "LongRunMemory", new Dictionary<string, object>
        {
            ["preset"] = "Small", ["steps"] = steps, ["batch"] = batch, ["max_length"] = maxLength, ["seconds"] = Math.Round(seconds, 1),
            ["ms_per_update_after_100"] = Math.Round(wallMs, 1), ["cpu_ms_per_update_after_100"] = Math.Round(cpuMs, 1),
            ["trim_interval"] = MLNetForgetting.Runtime.NativeHeap.IsGlibc ? MLNetForgetting.Runtime.NativeHeap.DefaultTrimInterval : 0,
            ["rss_mb_at_100"] = Math.Round(at100 / 1e6, 1), ["rss_mb_at_end"] = Math.Round(atEnd / 1e6, 1), ["rss_growth"] = Math.Round(growth, 4),
            ["rss_mb_max_101_200"] = Math.Round(maxEarly / 1e6, 1), ["rss_mb_max_last_100"] = Math.Round(maxLate / 1e6, 1), ["rss_window_growth"] = Math.Round(windowGrowth, 4),
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

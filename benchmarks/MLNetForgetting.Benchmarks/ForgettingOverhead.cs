using System.Diagnostics;
using System.Globalization;
using MLNetForgetting.Forgetting;
using MLNetForgetting.Modeling;
using MLNetForgetting.Text;
using TorchSharp;

namespace MLNetForgetting.Benchmarks;

/// <summary>
/// Time per update of a forgetting run against a standard run of the same configuration, measured
/// in one process, alternating, so that the ratio is robust to machine noise. The wall time of whole
/// runs is compared (it includes the resets), and the median over rounds is reported.
///
///   dotnet run -c Release --project benchmarks/MLNetForgetting.Benchmarks -- forgetting-overhead
///       [--data ../shared/data/raw/en] [--preset small] [--steps 60] [--k 20] [--rounds 3] [--batch 16] [--seq 128]
/// </summary>
internal static class ForgettingOverhead
{
    public static int Run(string[] args)
    {
        var o = Bench.Options(args, "data", "preset", "steps", "k", "rounds", "batch", "seq", "vocab", "results");
        string data = o.GetValueOrDefault("data", "../shared/data/raw/en");
        string preset = o.GetValueOrDefault("preset", "small");
        long steps = long.Parse(o.GetValueOrDefault("steps", "60"), CultureInfo.InvariantCulture);
        long k = long.Parse(o.GetValueOrDefault("k", "20"), CultureInfo.InvariantCulture);
        int rounds = int.Parse(o.GetValueOrDefault("rounds", "3"), CultureInfo.InvariantCulture);
        int batch = int.Parse(o.GetValueOrDefault("batch", "16"), CultureInfo.InvariantCulture);
        int seq = int.Parse(o.GetValueOrDefault("seq", "128"), CultureInfo.InvariantCulture);
        int vocab = int.Parse(o.GetValueOrDefault("vocab", "8192"), CultureInfo.InvariantCulture);
        if (!Directory.Exists(data)) throw new ArgumentException($"Data folder '{data}' not found (use --data).");

        var lines = Directory.GetFiles(data, "*.txt").Order(StringComparer.Ordinal)
            .SelectMany(File.ReadLines).Where(l => !string.IsNullOrWhiteSpace(l)).Take(20_000).ToList();
        var tokenizer = BpeVocabularyTrainer.Train(lines, new BpeTrainerOptions { VocabSize = vocab });
        var config = RobertaConfig.FromPreset(preset, tokenizer.VocabSize) with { MaxSequenceLength = seq };

        double TimeRun(long resetInterval)
        {
            using var model = new RobertaForMaskedLM(config);
            model.InitializeWeights(new torch.Generator(1));
            var settings = new PretrainingSettings { MaxSteps = steps, ResetInterval = resetInterval, BatchSize = batch, MaxSequenceLength = seq, Seed = 1, LogInterval = 1_000_000 };
            var watch = Stopwatch.StartNew();
            ActiveForgetting.Pretrain(model, tokenizer, () => lines, settings, torch.CPU);
            return watch.Elapsed.TotalSeconds / steps;
        }

        TimeRun(0); // warm-up: first torch calls, allocator, tokenizer cache
        var standard = new List<double>(); var forgetting = new List<double>();
        for (int r = 0; r < rounds; r++)
        {
            standard.Add(TimeRun(0));
            forgetting.Add(TimeRun(k));
        }
        double s = Bench.Median(standard), f = Bench.Median(forgetting), ratio = Bench.Median(standard.Zip(forgetting, (a, b) => b / a));

        // The reset itself, timed directly (robust to machine noise): redraw E in place + restart the embedding group's Adam state.
        double resetMs;
        using (var model = new RobertaForMaskedLM(config))
        {
            var settings = new PretrainingSettings { MaxSteps = 1000, ResetInterval = k };
            using var optimizer = ActiveForgetting.CreateOptimizer(model, settings);
            var resets = new List<double>();
            for (int i = 0; i < 25; i++)
            {
                var watch = Stopwatch.StartNew();
                using (torch.no_grad()) ActiveForgetting.Forget(model, optimizer, seed: 1, update: i + 1);
                resets.Add(watch.Elapsed.TotalMilliseconds);
            }
            resetMs = Bench.Median(resets.Skip(5));
        }
        double amortisedAtK = resetMs / k / (s * 1000), amortisedAt1000 = resetMs / 1000 / (s * 1000);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ForgettingOverhead: preset {preset}, batch {batch}x{seq}, {steps} updates, K={k} ({(steps - 1) / k} resets): standard {s * 1000:F1} ms/update, forgetting {f * 1000:F1} ms/update, ratio {ratio:F4} (median of {rounds} alternating rounds); one reset {resetMs:F2} ms = {amortisedAtK * 100:F3}% per update at K={k}, {amortisedAt1000 * 100:F4}% at K=1000"));
        Bench.Append(o.GetValueOrDefault("results", Bench.DefaultResults), "ForgettingOverhead", new Dictionary<string, object>
        {
            ["preset"] = preset, ["batch"] = batch, ["seq"] = seq, ["steps"] = steps, ["k"] = k, ["rounds"] = rounds,
            ["standard_ms_per_update"] = Math.Round(s * 1000, 2), ["forgetting_ms_per_update"] = Math.Round(f * 1000, 2),
            ["ratio_median"] = Math.Round(ratio, 4), ["torch_threads"] = torch.get_num_threads(),
            ["reset_ms_median"] = Math.Round(resetMs, 3), ["amortised_overhead_at_k"] = Math.Round(amortisedAtK, 6), ["amortised_overhead_at_k1000"] = Math.Round(amortisedAt1000, 7),
            ["standard_runs_ms"] = standard.Select(x => Math.Round(x * 1000, 1)).ToArray(), ["forgetting_runs_ms"] = forgetting.Select(x => Math.Round(x * 1000, 1)).ToArray(),
        });
        return 0;
    }
}

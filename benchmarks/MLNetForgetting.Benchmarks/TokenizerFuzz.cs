using System.Diagnostics;
using System.Globalization;
using MLNetForgetting.Text;

namespace MLNetForgetting.Benchmarks;

/// <summary>
/// The long tokenizer fuzz: N random Unicode strings (unpaired surrogates, combining marks, controls,
/// RTL, CJK, emoji) through every path of a byte-level BPE vocabulary trained on English, with the
/// round trip checked; the CI test (TokenizerFuzzTests) runs 100k.
///
///   dotnet run -c Release --project benchmarks/MLNetForgetting.Benchmarks -- tokenizer-fuzz
///       [--data ../shared/data/raw/en] [--strings 1000000] [--seed 1]
/// </summary>
internal static class TokenizerFuzz
{
    public static int Run(string[] args)
    {
        var o = Bench.Options(args, "data", "strings", "seed", "results");
        string data = o.GetValueOrDefault("data", "../shared/data/raw/en");
        int strings = int.Parse(o.GetValueOrDefault("strings", "1000000"), CultureInfo.InvariantCulture);
        int seed = int.Parse(o.GetValueOrDefault("seed", "1"), CultureInfo.InvariantCulture);
        if (!Directory.Exists(data)) throw new ArgumentException($"Data folder '{data}' not found (use --data).");
        var lines = Directory.GetFiles(data, "*.txt").Order(StringComparer.Ordinal).SelectMany(File.ReadLines).Where(l => l.Length > 20).Take(5000).ToList();
        var tokenizer = BpeVocabularyTrainer.Train(lines, new BpeTrainerOptions { VocabSize = 8000 });

        var watch = Stopwatch.StartNew();
        var report = TokenizerFuzzer.Run(tokenizer, strings, seed);
        double seconds = watch.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"TokenizerFuzz: {report.Strings} random strings through byte-level BPE (vocabulary 8000) in {seconds:F1} s ({report.Strings / seconds:F0} strings/s): {report.RoundTripsChecked} round trips checked, {report.RoundTripFailures.Count} failures, {report.PairsRefused} impossible pair truncations refused, {report.Tokens} tokens"));
        foreach (var failure in report.RoundTripFailures) Console.WriteLine("  round trip differs: " + failure);
        Bench.Append(o.GetValueOrDefault("results", Bench.DefaultResults), "TokenizerFuzz", new Dictionary<string, object>
        {
            ["tokenizer"] = "bpe-8000", ["strings"] = report.Strings, ["seed"] = seed, ["seconds"] = Math.Round(seconds, 1),
            ["strings_per_s"] = Math.Round(report.Strings / seconds), ["round_trips_checked"] = report.RoundTripsChecked,
            ["round_trip_failures"] = report.RoundTripFailures.Count, ["tokens"] = report.Tokens,
        });
        return report.RoundTripFailures.Count == 0 ? 0 : 1;
    }
}

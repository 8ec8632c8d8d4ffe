// Tokenizer throughput: trains a byte-level BPE vocabulary on English raw text and measures
// training and encoding speed (median of N timed runs after one warm-up run).
//
//   dotnet run -c Release --project benchmarks/MLNetForgetting.Benchmarks -- tokenizer [--data ../shared/data/raw/en]
//       [--max-mb 5] [--vocab 8000] [--runs 5] [--results benchmarks/results/results.jsonl]
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MLNetForgetting.Text;


namespace MLNetForgetting.Benchmarks;

internal static class TokenizerThroughput
{
    public static int Run(string[] args)
    {
        var options = ParseArguments(args);
        if (!Directory.Exists(options.Data))
        {
            Console.Error.WriteLine($"Data folder '{options.Data}' not found (use --data).");
            return 2;
        }

        List<string> lines = ReadLines(options.Data, (long)(options.MaxMb * 1_000_000));
        double megabytes = lines.Sum(l => (long)Encoding.UTF8.GetByteCount(l)) / 1e6;
        var trainerOptions = new BpeTrainerOptions { VocabSize = options.Vocab };

        SubwordTokenizer tokenizer = BpeVocabularyTrainer.Train(lines, trainerOptions);   // warm-up
        var trainSeconds = new List<double>();
        for (int run = 0; run < options.Runs; run++)
        {
            var watch = Stopwatch.StartNew();
            tokenizer = BpeVocabularyTrainer.Train(lines, trainerOptions);
            trainSeconds.Add(watch.Elapsed.TotalSeconds);
        }

        long tokens = 0;
        foreach (string line in lines) tokens += tokenizer.EncodeToIds(line).Length;   // warm-up (fills the BPE cache)
        var encodeSeconds = new List<double>();
        for (int run = 0; run < options.Runs; run++)
        {
            var watch = Stopwatch.StartNew();
            long count = 0;
            foreach (string line in lines) count += tokenizer.EncodeToIds(line).Length;
            encodeSeconds.Add(watch.Elapsed.TotalSeconds);
            if (count != tokens) throw new InvalidOperationException("Encoding is not deterministic.");
        }

        double trainMedian = Bench.Median(trainSeconds), encodeMedian = Bench.Median(encodeSeconds);
        var result = new Dictionary<string, object>
        {
            ["benchmark"] = "TokenizerThroughput",
            ["date_utc"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["cpu"] = Bench.CpuModel(),
            ["logical_cores"] = Environment.ProcessorCount,
            ["data"] = Path.GetFullPath(options.Data),
            ["data_mb"] = Math.Round(megabytes, 3),
            ["lines"] = lines.Count,
            ["vocab_size_requested"] = options.Vocab,
            ["vocab_size"] = tokenizer.VocabSize,
            ["tokens"] = tokens,
            ["bytes_per_token"] = Math.Round(megabytes * 1e6 / tokens, 3),
            ["runs"] = options.Runs,
            ["train_seconds_median"] = Math.Round(trainMedian, 3),
            ["train_mb_per_s"] = Math.Round(megabytes / trainMedian, 3),
            ["encode_seconds_median"] = Math.Round(encodeMedian, 3),
            ["encode_mb_per_s"] = Math.Round(megabytes / encodeMedian, 3),
            ["fingerprint"] = tokenizer.Fingerprint,
        };
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"TokenizerThroughput: {megabytes:F2} MB, vocab {tokenizer.VocabSize}: train {megabytes / trainMedian:F2} MB/s ({trainMedian:F2} s), encode {megabytes / encodeMedian:F2} MB/s ({encodeMedian:F2} s), {megabytes * 1e6 / tokens:F2} bytes/token, median of {options.Runs}"));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.Results))!);
        File.AppendAllText(options.Results, JsonSerializer.Serialize(result) + "\n");
        return 0;

        static List<string> ReadLines(string folder, long maxBytes)
        {
            var lines = new List<string>();
            long bytes = 0;
            foreach (string file in Directory.GetFiles(folder, "*.txt").Order(StringComparer.Ordinal))
            {
                foreach (string line in File.ReadLines(file))
                {
                    if (string.IsNullOrWhiteSpace(line)) continue;
                    lines.Add(line);
                    bytes += Encoding.UTF8.GetByteCount(line);
                    if (bytes >= maxBytes) return lines;
                }
            }
            return lines;
        }


        static TokenizerOptions ParseArguments(string[] args)
        {
            var a = Bench.Options(args, "data", "max-mb", "vocab", "runs", "results");
            var o = new TokenizerOptions();
            if (a.TryGetValue("data", out var data)) o = o with { Data = data };
            if (a.TryGetValue("max-mb", out var mb)) o = o with { MaxMb = double.Parse(mb, CultureInfo.InvariantCulture) };
            if (a.TryGetValue("vocab", out var vocab)) o = o with { Vocab = int.Parse(vocab, CultureInfo.InvariantCulture) };
            if (a.TryGetValue("runs", out var runs)) o = o with { Runs = int.Parse(runs, CultureInfo.InvariantCulture) };
            if (a.TryGetValue("results", out var results)) o = o with { Results = results };
            if (o.Runs < 1) throw new ArgumentException("--runs must be at least 1.");
            return o;
        }
    }
}

internal sealed record TokenizerOptions
{
    public string Data { get; init; } = "../shared/data/raw/en";
    public double MaxMb { get; init; } = 5;
    public int Vocab { get; init; } = 8000;
    public int Runs { get; init; } = 5;
    public string Results { get; init; } = "benchmarks/results/results.jsonl";
}

using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Text;

namespace MLNetForgetting.Benchmarks;

/// <summary>
/// Sentences per second of one fitted language model through three paths, same model and data,
/// alternating rounds: the raw batched forward (tokenize, pad, forward in batches, no ML.NET),
/// <c>Transform</c> + a cursor reading the embedding column (our batched cursor), and
/// <c>PredictionEngine</c> (one row at a time).
///
///   dotnet run -c Release --project benchmarks/MLNetForgetting.Benchmarks -- mlnet-overhead
///       [--data ../shared/data/raw/en] [--preset small] [--sentences 2000] [--batch 32] [--rounds 3]
/// </summary>
internal static class MLNetOverhead
{
    public sealed class Row { public string Text { get; set; } = ""; }

    public static int Run(string[] args)
    {
        var o = Bench.Options(args, "data", "preset", "sentences", "batch", "rounds", "results");
        string data = o.GetValueOrDefault("data", "../shared/data/raw/en");
        string preset = o.GetValueOrDefault("preset", "small");
        int sentences = int.Parse(o.GetValueOrDefault("sentences", "2000"), CultureInfo.InvariantCulture);
        int batch = int.Parse(o.GetValueOrDefault("batch", "32"), CultureInfo.InvariantCulture);
        int rounds = int.Parse(o.GetValueOrDefault("rounds", "3"), CultureInfo.InvariantCulture);
        if (!Directory.Exists(data)) throw new ArgumentException($"Data folder '{data}' not found (use --data).");
        var lines = Directory.GetFiles(data, "*.txt").Order(StringComparer.Ordinal).SelectMany(File.ReadLines)
            .Where(l => !string.IsNullOrWhiteSpace(l)).Take(Math.Max(sentences, 5000)).ToList();

        var ml = new MLContext(1);
        var train = ml.Data.LoadFromEnumerable(lines.Select(l => new Row { Text = l }));
        var tokenizer = BpeVocabularyTrainer.Train(lines, new BpeTrainerOptions { VocabSize = 8192 });
        var lm = ml.Transforms.Text.ActiveForgettingPretrainer(new ActiveForgettingPretrainer.Options
        {
            ModelPreset = preset, Tokenizer = tokenizer, MaxSteps = 1, ResetInterval = 0, InferenceBatchSize = batch, MaxSequenceLength = 128,
        }).Fit(train); // one update: throughput does not depend on the weights
        var texts = lines.Take(sentences).ToList();
        var input = ml.Data.LoadFromEnumerable(texts.Select(t => new Row { Text = t }).ToList());

        double Raw() { var w = Stopwatch.StartNew(); lm.Embed(texts); return texts.Count / w.Elapsed.TotalSeconds; }
        // Transform + a cursor reading one column: the embedding column (our batched forward) or, to
        // measure the cursor's own cost, the text column (rows pass straight through, nothing computed).
        double ReadColumn<T>(string name)
        {
            var w = Stopwatch.StartNew();
            var view = lm.Transform(input);
            var column = view.Schema[name];
            using var cursor = view.GetRowCursor(new[] { column });
            var getter = cursor.GetGetter<T>(column);
            T value = default!;
            long n = 0;
            while (cursor.MoveNext()) { getter(ref value); n++; }
            return n / w.Elapsed.TotalSeconds;
        }
        double ViaTransform() => ReadColumn<VBuffer<float>>("Features");
        double PassThrough() => ReadColumn<ReadOnlyMemory<char>>("Text");
        double ViaEngine()
        {
            var engine = ml.Model.CreatePredictionEngine<Row, Output>(lm);
            int n = Math.Min(texts.Count, 300); // one row per forward: slow, so fewer rows
            var w = Stopwatch.StartNew();
            for (int i = 0; i < n; i++) engine.Predict(new Row { Text = texts[i] });
            return n / w.Elapsed.TotalSeconds;
        }

        Raw(); ViaTransform(); ViaEngine(); // warm-up
        var raw = new List<double>(); var transform = new List<double>(); var engine = new List<double>(); var pass = new List<double>();
        var paths = new (List<double> Into, Func<double> Measure)[] { (raw, Raw), (transform, ViaTransform), (engine, ViaEngine) };
        for (int r = 0; r < rounds; r++)
        {
            // Rotate the order each round: no path always runs first, or right after another.
            for (int i = 0; i < paths.Length; i++) { var (into, measure) = paths[(i + r) % paths.Length]; into.Add(measure()); }
            pass.Add(PassThrough());
        }
        double ratio = Bench.Median(transform.Zip(raw, (t, x) => t / x));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"MLNetOverhead: preset {preset}, {texts.Count} sentences, batch {batch}: raw {Bench.Median(raw):F1} sent/s, Transform+cursor {Bench.Median(transform):F1} sent/s (ratio {ratio:F3}), PredictionEngine {Bench.Median(engine):F1} sent/s (median of {rounds} rounds); cursor without the model column {Bench.Median(pass):F0} rows/s; per-round ratios {string.Join(" ", transform.Zip(raw, (t, x) => (t / x).ToString("F3", CultureInfo.InvariantCulture)))}"));
        Bench.Append(o.GetValueOrDefault("results", Bench.DefaultResults), "MLNetOverhead", new Dictionary<string, object>
        {
            ["preset"] = preset, ["sentences"] = texts.Count, ["batch"] = batch, ["rounds"] = rounds,
            ["raw_sentences_per_s"] = Math.Round(Bench.Median(raw), 1), ["transform_sentences_per_s"] = Math.Round(Bench.Median(transform), 1),
            ["engine_sentences_per_s"] = Math.Round(Bench.Median(engine), 1), ["transform_over_raw"] = Math.Round(ratio, 4),
            ["transform_over_raw_rounds"] = transform.Zip(raw, (t, x) => Math.Round(t / x, 4)).ToArray(), ["passthrough_rows_per_s"] = Math.Round(Bench.Median(pass)),
        });
        return 0;
    }

    public sealed class Output { [VectorType] public float[] Features { get; set; } = Array.Empty<float>(); }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Text;

namespace MLNetForgetting.Benchmarks;

/// <summary>
/// Serving load on a shared model (a Tiny language model loaded from its zip, sentence embeddings of
/// real English lines), T threads × N rows in three phases: pooled prediction engines, then
/// <c>Transform</c>, then "mixed" (each thread alternates blocks of its rows between the two). Every
/// result is compared with the single-threaded one. RSS is sampled every 100 ms and the mean of the
/// first quarter of the samples is compared with the last quarter, within each phase and over the whole
/// run. The mixed phase is the stationary load on which flatness is judged: over the whole run the
/// first quarter falls in the engine phase and the last in other workloads with a larger working set
/// (batched tensors). Before the clock starts, every thread serves <c>--warmup</c> rows through both
/// paths, as a service does in its first minutes; <c>--warmup 0</c> measures from a cold start.
/// <c>--trace file.csv</c> also logs the managed heap and glibc malloc's counters with every sample.
///
///   dotnet run -c Release --project benchmarks/MLNetForgetting.Benchmarks -- concurrency
///       [--data ../shared/data/raw/en] [--threads 8] [--predictions 10000] [--warmup 500] [--preset tiny]
/// </summary>
internal static class ConcurrentServing
{
    public sealed class Row { public string Text { get; set; } = ""; }
    public sealed class Output { [VectorType] public float[] Features { get; set; } = Array.Empty<float>(); }

    public static int Run(string[] args)
    {
        var o = Bench.Options(args, "data", "threads", "predictions", "preset", "results", "trace", "warmup");
        string? tracePath = o.GetValueOrDefault("trace");
        string data = o.GetValueOrDefault("data", "../shared/data/raw/en");
        int threads = int.Parse(o.GetValueOrDefault("threads", "8"), CultureInfo.InvariantCulture);
        int perThread = int.Parse(o.GetValueOrDefault("predictions", "10000"), CultureInfo.InvariantCulture);
        int warmup = int.Parse(o.GetValueOrDefault("warmup", "500"), CultureInfo.InvariantCulture);
        string preset = o.GetValueOrDefault("preset", "tiny");
        if (!Directory.Exists(data)) throw new ArgumentException($"Data folder '{data}' not found (use --data).");
        var lines = Directory.GetFiles(data, "*.txt").Order(StringComparer.Ordinal).SelectMany(File.ReadLines)
            .Where(l => l.Length > 20).Select(l => l.Length > 300 ? l[..300] : l).Take(3000).ToList();

        // A small fitted model, saved and loaded back as a service would.
        var ml = new MLContext(1);
        var train = ml.Data.LoadFromEnumerable(lines.Select(l => new Row { Text = l }));
        var lm = ml.Transforms.Text.ActiveForgettingPretrainer(new ActiveForgettingPretrainer.Options
        {
            ModelPreset = preset, Tokenizer = BpeVocabularyTrainer.Train(lines, new BpeTrainerOptions { VocabSize = 2000 }),
            MaxSteps = 20, ResetInterval = 0, BatchSize = 16, MaxSequenceLength = 64, Seed = 1,
        }).Fit(train);
        string zip = Path.Combine(Path.GetTempPath(), $"mlnf-concurrency-{Environment.ProcessId}.zip");
        ml.Model.Save(lm, train.Schema, zip);
        var model = ml.Model.Load(zip, out _);
        File.Delete(zip);

        const int distinct = 1000;
        var inputs = lines.Take(distinct).Select(l => new Row { Text = l }).ToList();
        var single = ml.Model.CreatePredictionEngine<Row, Output>(model);
        var expected = inputs.Select(r => single.Predict(r).Features.ToArray()).ToArray();
        var rowsOf = Enumerable.Range(0, threads).Select(t => Enumerable.Range(0, perThread).Select(j => inputs[(t * 53 + j) % distinct]).ToList()).ToArray();
        // Transform pads per batch, so its reference is thread t's rows transformed on this thread.
        var expectedTransform = rowsOf.Select(rows => Embed(ml, model, rows)).ToArray();

        var pool = new ConcurrentBag<PredictionEngine<Row, Output>>();
        PredictionEngine<Row, Output> Rent() => pool.TryTake(out var engine) ? engine : ml.Model.CreatePredictionEngine<Row, Output>(model);
        long mismatches = 0;
        // Thread t's row j through an engine, compared with the single-threaded result.
        void PredictAndCheck(PredictionEngine<Row, Output> engine, int t, int j)
        {
            if (!engine.Predict(rowsOf[t][j]).Features.AsSpan().SequenceEqual(expected[(t * 53 + j) % distinct])) Interlocked.Increment(ref mismatches);
        }
        // Thread t's rows [start, start + count) through Transform, each result compared as it streams
        // out, as a service would pass it on (the benchmark keeps no result vectors alive).
        void TransformAndCheck(int t, int start, int count)
        {
            int j = start;
            foreach (var r in ml.Data.CreateEnumerable<Output>(model.Transform(ml.Data.LoadFromEnumerable(rowsOf[t].GetRange(start, count))), reuseRowObject: true))
            {
                if (j >= start + count || !r.Features.AsSpan().SequenceEqual(expectedTransform[t][j])) Interlocked.Increment(ref mismatches);
                j++;
            }
            if (j != start + count) Interlocked.Increment(ref mismatches);
        }

        if (warmup > 0)
        {
            // Both workloads on every thread; not timed, not sampled, and not checked (a warm-up of
            // any length ends in a partial Transform batch, padded unlike its reference batch).
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                var rows = rowsOf[t].Take(warmup).ToList();
                var engine = Rent();
                foreach (var r in rows) engine.Predict(r);
                pool.Add(engine);
                _ = ml.Data.CreateEnumerable<Output>(model.Transform(ml.Data.LoadFromEnumerable(rows)), reuseRowObject: true).Count();
            });
        }

        var samples = new ConcurrentQueue<(double Seconds, long Rss, string Phase)>();
        using var trace = tracePath is null ? null : new StreamWriter(tracePath);
        trace?.WriteLine("seconds,phase,rss_mb,gc_heap_mb,gc_committed_mb,malloc_arena_mb,malloc_mmapped_mb,malloc_in_use_mb,malloc_free_mb");
        string phase = "engines";
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                long now = Rss.Current();
                samples.Enqueue((clock.Elapsed.TotalSeconds, now, phase));
                if (trace is not null)
                {
                    var h = MLNetForgetting.Runtime.NativeHeap.HeapInfo() ?? default;
                    trace.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{clock.Elapsed.TotalSeconds:F2},{phase},{now / 1e6:F1},{GC.GetTotalMemory(false) / 1e6:F1},{GC.GetGCMemoryInfo().TotalCommittedBytes / 1e6:F1},{h.Arena / 1e6:F1},{h.Mmapped / 1e6:F1},{h.InUse / 1e6:F1},{h.Free / 1e6:F1}"));
                }
                await Task.Delay(100);
            }
        });

        var engineWatch = Stopwatch.StartNew();
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            for (int j = 0; j < perThread; j++)
            {
                var engine = Rent(); // one engine per prediction: the pool itself is under load
                PredictAndCheck(engine, t, j);
                pool.Add(engine);
            }
        });
        double engineSeconds = engineWatch.Elapsed.TotalSeconds;

        phase = "transform";
        var transformWatch = Stopwatch.StartNew();
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t => TransformAndCheck(t, 0, perThread));
        double transformSeconds = transformWatch.Elapsed.TotalSeconds;

        // Mixed serving: every thread alternates blocks of its rows between a pooled engine and a
        // Transform, so the load is the same from the first sample to the last and the quarters
        // compare like with like (in the phases above the quarters fall in different workloads with
        // different working sets). Blocks are a multiple of the Transform batch (32), so each
        // Transform batch holds the rows of the reference batch and must match it exactly.
        phase = "mixed";
        const int block = 256;
        var mixedWatch = Stopwatch.StartNew();
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            for (int start = 0, b = 0; start < perThread; start += block, b++)
            {
                int count = Math.Min(block, perThread - start);
                if (b % 2 == 0)
                {
                    var engine = Rent();
                    for (int j = start; j < start + count; j++) PredictAndCheck(engine, t, j);
                    pool.Add(engine);
                }
                else TransformAndCheck(t, start, count);
            }
        });
        double mixedSeconds = mixedWatch.Elapsed.TotalSeconds;
        stop.Cancel();
        sampler.Wait();

        var rss = samples.Select(s => s.Rss).ToArray();
        var (first, last, drift) = Quarters(rss);
        // The first quarter falls in the engine phase and the last in the Transform phase (batched
        // tensors of other shapes), so also compare the quarters within each phase.
        var (engineFirst, engineLast, engineDrift) = Quarters(samples.Where(s => s.Phase == "engines").Select(s => s.Rss).ToArray());
        var (transformFirst, transformLast, transformDrift) = Quarters(samples.Where(s => s.Phase == "transform").Select(s => s.Rss).ToArray());
        var (mixedFirst, mixedLast, mixedDrift) = Quarters(samples.Where(s => s.Phase == "mixed").Select(s => s.Rss).ToArray());
        long total = (long)threads * perThread;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ConcurrentServing: {threads} threads x {perThread} predictions ({warmup} warm-up rows per thread), {preset} model: pooled engines {total / engineSeconds:F0} predictions/s ({engineSeconds:F1} s, {pool.Count} engines), Transform {total / transformSeconds:F0} rows/s ({transformSeconds:F1} s); {mismatches} results differ from single-threaded; RSS first quarter {first / 1e6:F1} MB, last quarter {last / 1e6:F1} MB ({drift:+0.0%;-0.0%}), {rss.Length} samples, max {rss.Max() / 1e6:F1} MB; within the engine phase {engineFirst / 1e6:F1} -> {engineLast / 1e6:F1} MB ({engineDrift:+0.0%;-0.0%}), within the Transform phase {transformFirst / 1e6:F1} -> {transformLast / 1e6:F1} MB ({transformDrift:+0.0%;-0.0%}); mixed serving {total / mixedSeconds:F0} rows/s ({mixedSeconds:F1} s), RSS first quarter {mixedFirst / 1e6:F1} MB, last quarter {mixedLast / 1e6:F1} MB ({mixedDrift:+0.0%;-0.0%})"));
        Bench.Append(o.GetValueOrDefault("results", Bench.DefaultResults), "ConcurrentServing", new Dictionary<string, object>
        {
            ["preset"] = preset, ["threads"] = threads, ["predictions_per_thread"] = perThread, ["warmup_rows_per_thread"] = warmup,
            ["engine_predictions_per_s"] = Math.Round(total / engineSeconds, 1), ["transform_rows_per_s"] = Math.Round(total / transformSeconds, 1),
            ["mismatches"] = mismatches, ["engines_created"] = pool.Count,
            ["rss_mb_first_quarter"] = Math.Round(first / 1e6, 1), ["rss_mb_last_quarter"] = Math.Round(last / 1e6, 1), ["rss_drift"] = Math.Round(drift, 4),
            ["rss_mb_max"] = Math.Round(rss.Max() / 1e6, 1),
            ["rss_mb_engines_first_quarter"] = Math.Round(engineFirst / 1e6, 1), ["rss_mb_engines_last_quarter"] = Math.Round(engineLast / 1e6, 1), ["rss_drift_engines"] = Math.Round(engineDrift, 4),
            ["rss_mb_transform_first_quarter"] = Math.Round(transformFirst / 1e6, 1), ["rss_mb_transform_last_quarter"] = Math.Round(transformLast / 1e6, 1), ["rss_drift_transform"] = Math.Round(transformDrift, 4),
            ["mixed_rows_per_s"] = Math.Round(total / mixedSeconds, 1),
            ["rss_mb_mixed_first_quarter"] = Math.Round(mixedFirst / 1e6, 1), ["rss_mb_mixed_last_quarter"] = Math.Round(mixedLast / 1e6, 1), ["rss_drift_mixed"] = Math.Round(mixedDrift, 4),
        });
        return mismatches == 0 ? 0 : 1;
    }

    /// <summary>Mean of the first and of the last quarter of the samples, and the relative change.</summary>
    private static (double First, double Last, double Drift) Quarters(long[] rss)
    {
        if (rss.Length == 0) return (double.NaN, double.NaN, double.NaN);
        int quarter = Math.Max(1, rss.Length / 4);
        double first = rss.Take(quarter).Average(), last = rss.Skip(rss.Length - quarter).Average();
        return (first, last, last / first - 1);
    }

    private static float[][] Embed(MLContext ml, ITransformer model, List<Row> rows) =>
        ml.Data.CreateEnumerable<Output>(model.Transform(ml.Data.LoadFromEnumerable(rows)), reuseRowObject: false).Select(r => r.Features).ToArray();
}

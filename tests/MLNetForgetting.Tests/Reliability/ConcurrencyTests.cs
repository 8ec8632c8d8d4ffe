using System.Collections.Concurrent;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetForgetting.Tests.Reliability;

/// <summary>
/// Serving from many threads: 8 threads × 1,000 predictions through pooled prediction engines and
/// through <c>Transform</c> on one shared model loaded from its zip; no exception, and every result
/// bit-identical to the single-threaded one. The 8 × 10k run with RSS sampling is the
/// <c>concurrency</c> benchmark.
/// </summary>
[TestClass]
public sealed class ConcurrencyTests
{
    private const int Threads = 8, PerThread = 1000, Distinct = 250;

    public sealed class Scored { [VectorType] public float[] Score { get; set; } = Array.Empty<float>(); }

    [TestMethod]
    public void EightThreadsThroughPooledEnginesAndASharedTransformMatchSingleThreaded()
    {
        var set = DirtyModels.Value;
        var ml = new MLContext(1);
        var model = ml.Model.Load(set.Zips["classifier"], out _);
        var source = ml.Data.CreateEnumerable<WeightedPairRow>(set.PairTrain, reuseRowObject: false).ToList();
        var inputs = Enumerable.Range(0, Distinct).Select(i => source[i * 7 % source.Count]).ToList();

        // Single-threaded references: one engine, and one Transform pass.
        var single = ml.Model.CreatePredictionEngine<WeightedPairRow, Scored>(model);
        var expected = inputs.Select(r => single.Predict(r).Score.ToArray()).ToArray();
        // Transform pads rows per batch, so its reference is the same rows scored on one thread.
        var transformRows = Enumerable.Range(0, Threads).Select(t => Enumerable.Range(0, PerThread).Select(j => inputs[(t * 53 + j) % Distinct]).ToList()).ToArray();
        var expectedTransform = transformRows.Select(rows => Score(ml, model, rows)).ToArray();

        // Pooled engines: a thread rents an engine (or makes one), predicts, and returns it.
        var pool = new ConcurrentBag<PredictionEngine<WeightedPairRow, Scored>>();
        var mismatches = new ConcurrentQueue<string>();
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t =>
        {
            for (int j = 0; j < PerThread; j++)
            {
                int k = (t * 37 + j) % Distinct;
                if (!pool.TryTake(out var engine)) engine = ml.Model.CreatePredictionEngine<WeightedPairRow, Scored>(model);
                float[] score = engine.Predict(inputs[k]).Score.ToArray();
                pool.Add(engine);
                if (!score.AsSpan().SequenceEqual(expected[k])) mismatches.Enqueue($"engine thread {t} row {k}");
            }
        });
        Assert.IsEmpty(mismatches, string.Join(", ", mismatches.Take(5)));
        Assert.IsLessThanOrEqualTo(Threads, pool.Count);

        // Transform on the shared model: each thread scores its own 1,000-row view.
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t =>
        {
            var scores = Score(ml, model, transformRows[t]);
            for (int j = 0; j < PerThread; j++)
                if (!scores[j].AsSpan().SequenceEqual(expectedTransform[t][j])) mismatches.Enqueue($"Transform thread {t} row {j}");
        });
        Assert.IsEmpty(mismatches, string.Join(", ", mismatches.Take(5)));
    }

    private static float[][] Score(MLContext ml, ITransformer model, List<WeightedPairRow> rows) =>
        ml.Data.CreateEnumerable<Scored>(model.Transform(ml.Data.LoadFromEnumerable(rows)), reuseRowObject: false).Select(s => s.Score).ToArray();
}

using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetForgetting.MLNet;

namespace MLNetForgetting.Tests.MLNet;

[TestClass]
public sealed class TransformAndEngineTests
{
    [TestMethod]
    public void Transform_computes_in_batches_and_passes_other_columns_through_in_order()
    {
        var (ml, model, _) = ProjectionFixture.Fit(batchSize: 32);
        var projection = (TorchProjectionTransformer)((IEnumerable<ITransformer>)model).Last();
        var rows = ProjectionFixture.Rows(100, seed: 5);
        var output = model.Transform(ml.Data.LoadFromEnumerable(rows));

        long before = projection.ComputeBatchCalls;
        var results = ml.Data.CreateEnumerable<ProjectionRow>(output, reuseRowObject: false).ToArray();
        Assert.AreEqual(4, projection.ComputeBatchCalls - before, "100 rows at batch size 32 should take 4 forward passes");
        CollectionAssert.AreEqual(rows.Select(r => r.Id).ToArray(), results.Select(r => r.Id).ToArray());

        // Reading only pass-through columns runs no forward pass at all.
        before = projection.ComputeBatchCalls;
        var ids = output.GetColumn<ReadOnlyMemory<char>>("Id").Select(m => m.ToString()).ToArray();
        Assert.AreEqual(0, projection.ComputeBatchCalls - before);
        Assert.HasCount(100, ids);

        // Batched and one-row results agree (the prediction engine uses batch size 1).
        using var engine = ml.Model.CreatePredictionEngine<FeatureRow, ProjectionRow>(model);
        var single = rows.Select(r => engine.Predict(r).Projection.ToArray()).ToArray();
        ProjectionFixture.AssertClose(results.Select(r => r.Projection).ToArray(), single, 1e-5, "batched vs engine");
        foreach (var p in single) Assert.IsTrue(p.All(v => v > -1 && v < 1 && float.IsFinite(v)), "tanh output out of range");
    }

    [TestMethod]
    public void Normalized_features_pass_through_unchanged_beside_the_projection()
    {
        var (ml, model, _) = ProjectionFixture.Fit(batchSize: 7);
        var rows = ProjectionFixture.Rows(30, seed: 6);
        var normalizer = ((IEnumerable<ITransformer>)model).First();
        var expected = normalizer.Transform(ml.Data.LoadFromEnumerable(rows)).GetColumn<float[]>("Features").ToArray();
        var actual = model.Transform(ml.Data.LoadFromEnumerable(rows)).GetColumn<float[]>("Features").ToArray();
        ProjectionFixture.AssertClose(expected, actual, 0, "pass-through vector column");
    }

    [TestMethod]
    public void Prediction_engines_on_four_threads_match_single_threaded_results()
    {
        var (ml, model, _) = ProjectionFixture.Fit();
        var rows = ProjectionFixture.Rows(200, seed: 8);
        float[][] reference;
        // This engine is disposed (and, by ML.NET's default, disposes the model it owns) before the
        // others start: our transformer must survive that.
        using (var engine = ml.Model.CreatePredictionEngine<FeatureRow, ProjectionRow>(model))
            reference = rows.Select(r => engine.Predict(r).Projection.ToArray()).ToArray();

        var results = new float[4][][];
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
        {
            // One engine per thread (PredictionEngine itself is not thread-safe); the transformer is shared.
            using var engine = ml.Model.CreatePredictionEngine<FeatureRow, ProjectionRow>(model);
            var mine = new float[rows.Length][];
            // Each thread walks the rows from a different start so calls interleave differently.
            for (int k = 0; k < rows.Length; k++)
            {
                int i = (k + t * 50) % rows.Length;
                mine[i] = engine.Predict(rows[i]).Projection.ToArray();
            }
            results[t] = mine;
        });
        for (int t = 0; t < 4; t++)
            for (int i = 0; i < rows.Length; i++)
                CollectionAssert.AreEqual(reference[i], results[t][i], $"thread {t}, row {i}");
    }

    [TestMethod]
    public void Same_seed_gives_same_weights_and_other_seed_differs()
    {
        var rows = ProjectionFixture.Rows(10, seed: 3);
        var a = ProjectionFixture.Fit(seed: 1);
        var b = ProjectionFixture.Fit(seed: 1);
        var c = ProjectionFixture.Fit(seed: 2);
        static TorchProjectionTransformer Last(ITransformer m) => (TorchProjectionTransformer)((IEnumerable<ITransformer>)m).Last();
        Assert.AreEqual(Last(a.Model).TrainingSeed, Last(b.Model).TrainingSeed, "the MLContext seed should fix the host seed");
        CollectionAssert.AreEqual(Last(a.Model).TrainingLosses.ToArray(), Last(b.Model).TrainingLosses.ToArray(), "same seed, same training run");
        var pa = ProjectionFixture.Project(a.Ml, a.Model, rows);
        ProjectionFixture.AssertClose(pa, ProjectionFixture.Project(b.Ml, b.Model, rows), 1e-6, "same seed");
        var pc = ProjectionFixture.Project(c.Ml, c.Model, rows);
        Assert.IsTrue(pa.Zip(pc).Any(x => x.First.Zip(x.Second).Any(y => Math.Abs(y.First - y.Second) > 1e-3)), "another seed should give other weights");
    }

    [TestMethod]
    public void Cuda_option_falls_back_to_cpu_with_a_warning_in_the_mlcontext_log()
    {
        var ml = new MLContext(seed: 1);
        var warnings = new List<string>();
        ml.Log += (_, e) => { if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning) lock (warnings) warnings.Add(e.Message); };
        var data = ml.Data.LoadFromEnumerable(ProjectionFixture.Rows(32, seed: 1));
        var model = ml.Transforms.TorchProjection(new TorchProjectionEstimator.Options { OutputSize = 2, TrainingSteps = 2, Device = MLNetForgetting.Runtime.DeviceOption.Cuda }).Fit(data);
        Assert.IsNotNull(model);
        Assert.IsTrue(warnings.Any(w => w.Contains("CUDA is not available")), string.Join("\n", warnings));
    }
}

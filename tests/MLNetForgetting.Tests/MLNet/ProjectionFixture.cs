using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetForgetting.MLNet;

namespace MLNetForgetting.Tests.MLNet;

public sealed class FeatureRow
{
    public string Id { get; set; } = "";
    [VectorType(ProjectionFixture.InputSize)]
    public float[] Features { get; set; } = Array.Empty<float>();
}

public sealed class ProjectionRow
{
    public string Id { get; set; } = "";
    [VectorType(ProjectionFixture.OutputSize)]
    public float[] Projection { get; set; } = Array.Empty<float>();
}

/// <summary>Data and the reference pipeline: NormalizeMinMax (built-in) → TorchProjection (ours).</summary>
public static class ProjectionFixture
{
    public const int InputSize = 6;
    public const int OutputSize = 3;

    /// <summary>Rank-2 data plus a little noise, so a 3-wide projection has something to learn.</summary>
    public static FeatureRow[] Rows(int count, int seed)
    {
        var rng = new Random(seed);
        var rows = new FeatureRow[count];
        for (int i = 0; i < count; i++)
        {
            double z1 = Gaussian(rng), z2 = Gaussian(rng);
            var f = new float[InputSize];
            for (int j = 0; j < InputSize; j++)
                f[j] = (float)((j + 1) * 0.5 * z1 + (j % 2 == 0 ? 1 : -1) * z2 + 0.05 * Gaussian(rng) + j);
            rows[i] = new FeatureRow { Id = $"row{i}", Features = f };
        }
        return rows;
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    public static IEstimator<ITransformer> Pipeline(MLContext ml, int batchSize = 64, int steps = 60) =>
        ml.Transforms.NormalizeMinMax("Features")
            .Append(ml.Transforms.TorchProjection(new TorchProjectionEstimator.Options
            {
                InputColumnName = "Features",
                OutputColumnName = "Projection",
                OutputSize = OutputSize,
                TrainingSteps = steps,
                LearningRate = 0.02,
                BatchSize = batchSize,
            }));

    public static (MLContext Ml, ITransformer Model, IDataView Train) Fit(int batchSize = 64, int seed = 1)
    {
        var ml = new MLContext(seed: seed);
        var train = ml.Data.LoadFromEnumerable(Rows(256, seed: 11));
        var model = Pipeline(ml, batchSize).Fit(train);
        return (ml, model, train);
    }

    public static float[][] Project(MLContext ml, ITransformer model, IEnumerable<FeatureRow> rows) =>
        ml.Data.CreateEnumerable<ProjectionRow>(model.Transform(ml.Data.LoadFromEnumerable(rows)), reuseRowObject: false)
            .Select(r => r.Projection).ToArray();

    public static void AssertClose(float[][] expected, float[][] actual, double tolerance, string what)
    {
        Assert.HasCount(expected.Length, actual, what);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.HasCount(expected[i].Length, actual[i], $"{what}: row {i}");
            for (int j = 0; j < expected[i].Length; j++)
                Assert.AreEqual(expected[i][j], actual[i][j], tolerance, $"{what}: row {i}, slot {j}");
        }
    }
}

using Microsoft.ML;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Persistence;
using MLNetForgetting.Tests.Infrastructure;
using MLNetForgetting.Tests.Pretraining;
using MLNetForgetting.Training;

namespace MLNetForgetting.Tests.Reliability;

/// <summary>
/// A learning rate that makes the loss explode, through the ML.NET estimator: training stops with a
/// <see cref="TrainingDivergedException"/> naming the update, the last good checkpoint stays, and
/// DetectAnomaly names where the first non-finite value appeared.
/// </summary>
[TestClass]
public sealed class NumericalFaultTests
{
    public TestContext TestContext { get; set; } = null!;

    private static ActiveForgettingPretrainer.Options Exploding(string checkpoints, double rate, bool detect)
    {
        var o = LanguageModelTests.TinyOptions(k: 0);
        o.MaxSteps = 30; o.Seed = 9; o.LearningRate = rate; o.EmbeddingLearningRate = rate; o.WarmupFraction = 0; o.ClipNorm = null;
        o.CheckpointDirectory = checkpoints; o.CheckpointInterval = 1; o.DetectAnomaly = detect;
        return o;
    }

    private static TrainingDivergedException Diverge(ActiveForgettingPretrainer.Options o)
    {
        var ml = new MLContext(9);
        var data = ml.Data.LoadFromEnumerable(LanguageModelTests.EnglishLines.Value.Take(200).Select(l => new TextRow { Text = l }));
        return Assert.ThrowsExactly<TrainingDivergedException>(() => ml.Transforms.Text.ActiveForgettingPretrainer(o).Fit(data));
    }

    [TestMethod]
    public void ExplodingLearningRateStopsNamingTheUpdateAndKeepsTheLastGoodCheckpoint()
    {
        using var dir = new TempDir();
        var e = Diverge(Exploding(dir.Path, 1e18, detect: false));
        TestContext.WriteLine(e.Message);
        StringAssert.Contains(e.Message, $"diverged at update {e.Step}:");
        Assert.IsGreaterThan(1L, e.Step, "the first update is finite; the blow-up comes after");
        string checkpoint = Path.Combine(dir.Path, TrainingLoop<object>.CheckpointFile);
        StringAssert.Contains(e.Message, $"The last good checkpoint is kept at {checkpoint}");
        var meta = TrainingLoop<object>.ReadCheckpointMetadata(checkpoint);
        StringAssert.Contains(meta["mlnf.loop"], $"\"Step\":{e.Step - 1},");
        var weights = SafeTensors.Read(File.ReadAllBytes(checkpoint), out _);
        foreach (var (name, t) in weights) Assert.IsTrue(t.isfinite().all().item<bool>(), $"the kept checkpoint has a non-finite {name}");
        Assert.IsNull(e.Culprit, "without DetectAnomaly there is no culprit");
    }

    [TestMethod]
    public void DetectAnomalyNamesWhereTheFirstNonFiniteValueAppeared()
    {
        using var dir = new TempDir();
        var e = Diverge(Exploding(dir.Path, 1e18, detect: true));
        TestContext.WriteLine(e.Message);
        Assert.IsNotNull(e.Culprit, e.Message);
        StringAssert.Contains(e.Message, $"Function '{e.Culprit}' returned nan values");
        StringAssert.Contains(e.Message, "every parameter is finite");
        StringAssert.Contains(e.Message, $"diverged at update {e.Step}:");
    }
}

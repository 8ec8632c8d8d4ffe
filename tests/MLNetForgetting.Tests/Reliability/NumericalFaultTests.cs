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
        string checkpoint = Path.Combine(dir.Path, TrainingLoop.CheckpointFile);
        StringAssert.Contains(e.Message, $"The last good checkpoint is kept at {checkpoint}");
        var meta = TrainingLoop.ReadCheckpointMetadata(checkpoint);
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

    /// <summary>One parameter at 3.4e38 (near float's maximum) and a loss that pushes it up: everything is finite until the first update overflows it to +inf.</summary>
    private sealed class NearOverflow : TorchSharp.torch.nn.Module
    {
#pragma warning disable IDE1006 // the parameter's name in messages
        public readonly TorchSharp.Modules.Parameter weight = new(TorchSharp.torch.full(new long[] { 3 }, 3.4e38f));
#pragma warning restore IDE1006
        public NearOverflow() : base("near_overflow") => RegisterComponents();
    }

    private static TrainingDivergedException RunNearOverflow(bool detect)
    {
        var model = new NearOverflow();
        // Adam's first step moves each weight by lr (its step size lr / (1 - β1) = 1e38 still fits a float):
        // 3.4e38 + 1e37 overflows to +inf.
        using var optimizer = new AdamEF(new[] { new ParameterGroup("all", model.parameters(), new ConstantSchedule(1e37), weightDecay: 0) });
        var loop = new TrainingLoop<int>(model, optimizer, new TrainingLoopOptions { MaxSteps = 5, DetectAnomaly = detect, Phase = "overflow" });
        return Assert.ThrowsExactly<TrainingDivergedException>(() =>
            loop.Run(_ => Enumerable.Range(0, 5), (_, _) => new StepOutput((model.weight * -1e-2f).sum(), 1)));
    }

    [TestMethod]
    public void DetectAnomalyStopsAtTheUpdateThatMadeAParameterNonFiniteAndNamesIt()
    {
        // Loss (-1e37) and gradient (-0.01) are finite; only the parameter check after the update can see the overflow.
        var detected = RunNearOverflow(detect: true);
        TestContext.WriteLine(detected.Message);
        Assert.AreEqual(1L, detected.Step);
        Assert.AreEqual("weight", detected.Culprit);
        StringAssert.Contains(detected.Message, "this update made parameter 'weight' non-finite");
        StringAssert.Contains(detected.Message, "The model in memory holds this update");

        // Without it the run only stops one update later, when the infinite weight reaches the loss.
        var late = RunNearOverflow(detect: false);
        Assert.AreEqual(2L, late.Step, late.Message);
        Assert.IsNull(late.Culprit);
        StringAssert.Contains(late.Message, "the loss is");
    }
}

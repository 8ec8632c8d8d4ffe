using Microsoft.ML;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Modeling;
using MLNetForgetting.Runtime;
using MLNetForgetting.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNetForgetting.Tests.Modeling;

/// <summary>bfloat16 matrix products (<see cref="Autocast"/>, <see cref="MatmulPrecision.BFloat16"/>).</summary>
[TestClass]
public sealed class AutocastTests
{
    private static (Tensor Ids, Tensor Mask) Batch()
    {
        var ids = tensor(new long[,] { { 0, 7, 8, 9, 10, 2 }, { 0, 11, 12, 2, 1, 1 } });
        return (ids, ids.ne(1).to(ScalarType.Int64));
    }

    [TestMethod]
    public void ScopesNestAndRestoreAndOnlyReducedTypesAreAccepted()
    {
        Assert.IsNull(Autocast.Current);
        using (Autocast.Enable(MatmulPrecision.BFloat16))
        {
            Assert.AreEqual(ScalarType.BFloat16, Autocast.Current);
            using (Autocast.Enable(MatmulPrecision.Float32)) Assert.IsNull(Autocast.Current);
            Assert.AreEqual(ScalarType.BFloat16, Autocast.Current);
            // Thread-local: another thread sees float32.
            ScalarType? other = ScalarType.Float16;
            var thread = new Thread(() => other = Autocast.Current);
            thread.Start(); thread.Join();
            Assert.IsNull(other);
        }
        Assert.IsNull(Autocast.Current);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Autocast.Enable(ScalarType.Float64));
    }

    [TestMethod]
    public void BFloat16ForwardIsCloseToFloat32AndReturnsFloat32()
    {
        using var scope = NewDisposeScope();
        using var model = RobertaModelTests.TinyModel();
        model.eval();
        var (ids, mask) = Batch();
        Tensor exact, reduced;
        using (no_grad())
        {
            exact = model.MeanPooled(ids, mask);
            using (Autocast.Enable(MatmulPrecision.BFloat16)) reduced = model.MeanPooled(ids, mask);
        }
        Assert.AreEqual(ScalarType.Float32, reduced.dtype);
        double diff = (exact - reduced).abs().max().item<float>();
        double size = exact.abs().max().item<float>();
        // bf16 keeps 8 bits of mantissa: errors of a few parts in a thousand, never zero (or it did not run in bf16).
        Assert.IsLessThan(0.05 * size, diff, $"bf16 forward differs by {diff} (values up to {size})");
        Assert.IsGreaterThan(0.0, diff, "the bf16 forward gave exactly the float32 result: autocast did not apply");
    }

    [TestMethod]
    public void TrainingInBFloat16KeepsFloat32WeightsAndLearns()
    {
        using var model = RobertaModelTests.TinyModel(seed: 4);
        using var optimizer = new AdamEF(new[] { new ParameterGroup("all", model.parameters(), new ConstantSchedule(1e-2)) });
        var loop = new TrainingLoop<int>(model, optimizer, new TrainingLoopOptions { MaxSteps = 12, Seed = 2, MatmulPrecision = MatmulPrecision.BFloat16, LogInterval = 1000 });
        var history = loop.Run(_ => Enumerable.Range(0, 12), (_, ctx) =>
        {
            Assert.AreEqual(ScalarType.BFloat16, Autocast.Current, "the step runs inside the loop's autocast scope");
            var (ids, mask) = Batch();
            var labels = ids.clone();
            return new StepOutput(model.MaskedLmLoss(ids, mask, labels).Loss, ids.numel());
        });
        Assert.IsNull(Autocast.Current, "the scope closes after each step");
        Assert.IsTrue(model.parameters().All(p => p.dtype == ScalarType.Float32 && p.isfinite().all().item<bool>()));
        double first = history.Steps.Take(3).Average(s => s.Loss), last = history.Steps.TakeLast(3).Average(s => s.Loss);
        Assert.IsLessThan(first * 0.5, last, $"loss {first:F3} -> {last:F3}: bf16 training did not learn to copy the input");
    }

    [TestMethod]
    public void AFittedModelCanPredictInBFloat16()
    {
        var o = MLNetForgetting.Tests.Pretraining.LanguageModelTests.TinyOptions(k: 0);
        o.MaxSteps = 2; o.Seed = 3;
        var ml = new Microsoft.ML.MLContext(3);
        var lm = ml.Transforms.Text.ActiveForgettingPretrainer(o).Fit(ml.Data.LoadFromEnumerable(
            MLNetForgetting.Tests.Pretraining.LanguageModelTests.EnglishLines.Value.Take(100).Select(l => new MLNetForgetting.Tests.Pretraining.TextRow { Text = l })));
        string[] text = ["The weather was fine.", "A second, longer sentence about nothing in particular."];
        Assert.AreEqual(MatmulPrecision.Float32, lm.InferencePrecision);
        var exact = lm.Embed(text);
        lm.InferencePrecision = MatmulPrecision.BFloat16;
        var reduced = lm.Embed(text);
        for (int i = 0; i < text.Length; i++)
        {
            double diff = exact[i].Zip(reduced[i], (a, b) => Math.Abs(a - b)).Max(), size = exact[i].Max(Math.Abs);
            Assert.IsTrue(diff > 0 && diff < 0.05 * size, $"row {i}: bf16 differs by {diff} (values up to {size})");
        }
        Assert.IsNull(Autocast.Current, "the transformer's scope does not leak to the caller's thread");
    }
}

using System.Diagnostics;
using MLNetForgetting.Modeling;
using MLNetForgetting.Tests.Modeling;
using MLNetForgetting.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNetForgetting.Tests.Training;

[TestClass]
public sealed class TrainingLoopTests
{
    public TestContext TestContext { get; set; } = null!;

    // A toy language that a tiny model can learn: each sequence counts up from a random start (mod 40, offset past special ids).
    internal static IEnumerable<long[][]> ToyEpochs(int epoch, int batches = 12, int batchSize = 8)
    {
        var rng = new Random(1000 + epoch);
        for (int b = 0; b < batches; b++)
            yield return Enumerable.Range(0, batchSize).Select(_ =>
            {
                int start = rng.Next(40), len = 6 + rng.Next(8);
                return new long[] { 0 }.Concat(Enumerable.Range(0, len).Select(i => (long)(5 + (start + i) % 40))).Append(2).ToArray();
            }).ToArray();
    }

    internal static StepOutput ToyMlmStep(RobertaForMaskedLM model, long[][] batch, StepContext ctx)
    {
        int t = batch.Max(s => s.Length);
        var ids = new long[batch.Length, t]; var labels = new long[batch.Length, t];
        for (int i = 0; i < batch.Length; i++)
            for (int j = 0; j < t; j++)
            {
                long id = j < batch[i].Length ? batch[i][j] : 1;
                bool mask = id >= 5 && ctx.Random.NextDouble() < 0.15;
                ids[i, j] = mask ? 4 : id;
                labels[i, j] = mask ? id : -100;
            }
        var input = tensor(ids);
        var (loss, _, _) = model.MaskedLmLoss(input, input.ne(1).to(ScalarType.Int64), tensor(labels));
        return new StepOutput(loss, batch.Sum(s => s.Length));
    }

    private static (RobertaForMaskedLM Model, AdamEF Optimizer) Setup(double lr = 1e-2, long total = 60)
    {
        var model = RobertaModelTests.TinyModel(vocab: 50, seed: 7);
        var opt = new AdamEF(new[] { new ParameterGroup("all", model.parameters(), new WarmupPolynomialDecaySchedule(lr, total / 10, total)) });
        return (model, opt);
    }

    private static List<double> Train(long steps, string? dir = null, bool resume = false, long checkpointInterval = 0, CancellationToken ct = default, Action<RobertaForMaskedLM>? inspect = null, double lr = 1e-2)
    {
        var (model, opt) = Setup(lr, steps);
        using (model) using (opt)
        {
            var loop = new TrainingLoop<long[][]>(model, opt, new TrainingLoopOptions { MaxSteps = steps, Seed = 11, CheckpointDirectory = dir, Resume = resume, CheckpointInterval = checkpointInterval });
            var history = loop.Run(e => ToyEpochs(e), (b, c) => ToyMlmStep(model, b, c), ct);
            inspect?.Invoke(model);
            return history.Steps.Select(s => s.Loss).ToList();
        }
    }

    [TestMethod]
    public void LossFallsAndRunsRepeat()
    {
        var a = Train(150);
        var b = Train(150);
        CollectionAssert.AreEqual(a, b, "same seed gave a different loss curve");
        double first = a.Take(10).Average(), last = a.Skip(140).Average();
        TestContext.WriteLine($"mean loss of updates 1-10: {first:F3}, of updates 141-150: {last:F3}");
        Assert.IsTrue(last < first * 0.97, $"loss did not fall: {first:F3} -> {last:F3}");
    }

    [TestMethod]
    public void ResumeEndsWithTheSameWeightsAsAnUninterruptedRun()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlnf-resume-" + Guid.NewGuid().ToString("N"));
        try
        {
            Dictionary<string, Tensor>? uninterrupted = null, resumed = null;
            Train(30, inspect: m => uninterrupted = m.NamedTensors().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone()));
            using var cts = new CancellationTokenSource();
            int steps = 0;
            var (model, opt) = Setup(total: 30);
            using (model) using (opt)
            {
                var loop = new TrainingLoop<long[][]>(model, opt, new TrainingLoopOptions { MaxSteps = 30, Seed = 11, CheckpointDirectory = dir })
                { Progress = new SyncProgress<TrainingProgress>(p => { if (++steps == 13) cts.Cancel(); }) };
                Assert.ThrowsExactly<OperationCanceledException>(() => loop.Run(e => ToyEpochs(e), (b, c) => ToyMlmStep(model, b, c), cts.Token));
            }
            Assert.IsTrue(File.Exists(Path.Combine(dir, TrainingLoop.CheckpointFile)), "cancellation wrote no checkpoint");
            // 13 updates run before cancellation is seen; 30 = 2 epochs of 12 + 6, so resume crosses an epoch boundary.
            Train(30, dir, resume: true, inspect: m => resumed = m.NamedTensors().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone()));
            foreach (var (name, t) in uninterrupted!)
                Assert.IsTrue(t.allclose(resumed![name], rtol: 0, atol: 1e-6), $"{name} differs after resume by {(t - resumed[name]).abs().max().item<float>()}");
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void NonFiniteLossStopsWithTheStepAndKeepsTheLastGoodCheckpoint()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlnf-nan-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (model, opt) = Setup();
            using (model) using (opt)
            {
                var loop = new TrainingLoop<long[][]>(model, opt, new TrainingLoopOptions { MaxSteps = 40, Seed = 11, CheckpointDirectory = dir, CheckpointInterval = 5 });
                var ex = Assert.ThrowsExactly<TrainingDivergedException>(() => loop.Run(e => ToyEpochs(e), (b, c) =>
                {
                    var output = ToyMlmStep(model, b, c);
                    return c.Step == 13 ? new StepOutput(output.Loss * double.NaN, output.Tokens) : output;
                }));
                Assert.AreEqual(13, ex.Step);
                StringAssert.Contains(ex.Message, "update 13");
                StringAssert.Contains(ex.Message, "checkpoint");
                var meta = TrainingLoop.ReadCheckpointMetadata(Path.Combine(dir, TrainingLoop.CheckpointFile));
                StringAssert.Contains(meta["mlnf.loop"], "\"Step\":10,");
                foreach (var (_, p) in model.named_parameters())
                    Assert.IsTrue(p.isfinite().all().item<bool>(), "a non-finite update was applied");
            }
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void ValidationSeesTheUpdatesWeightsBeforeTheAfterUpdateHookChangesThem()
    {
        // A forgetting reset is such a hook: validating after it would score freshly drawn embeddings.
        var (model, opt) = Setup(total: 6);
        using (model) using (opt)
        {
            var seen = new List<(long Step, double Norm)>();
            var loop = new TrainingLoop<long[][]>(model, opt, new TrainingLoopOptions { MaxSteps = 6, Seed = 1, ValidationInterval = 2 })
            {
                AfterUpdate = u => { if (u.Update % 2 == 0) model.TokenEmbeddings.zero_(); },
                Validate = n => { double norm = model.TokenEmbeddings.abs().sum().item<float>(); seen.Add((n, norm)); return new Dictionary<string, double> { ["loss"] = norm }; },
            };
            loop.Run(e => ToyEpochs(e), (b, c) => ToyMlmStep(model, b, c));
            CollectionAssert.AreEqual(new long[] { 2, 4, 6 }, seen.Select(v => v.Step).ToArray());
            foreach (var (step, norm) in seen) Assert.IsGreaterThan(0.0, norm, $"validation after update {step} saw the hook's zeroed embeddings");
            Assert.AreEqual(0f, model.TokenEmbeddings.abs().sum().item<float>(), "the hook ran after the last validation");
        }
    }

    [TestMethod]
    [DataRow(true, 4L)]   // accuracy: the highest value wins
    [DataRow(false, 2L)]  // a loss: the lowest value wins
    public void TheBestCheckpointFollowsTheChosenMetricAndDirection(bool higherIsBetter, long expectedBest)
    {
        using var dir = new MLNetForgetting.Tests.Infrastructure.TempDir();
        var (model, opt) = Setup(total: 6);
        using (model) using (opt)
        {
            var scores = new Dictionary<long, double> { [2] = 0.2, [4] = 0.9, [6] = 0.5 };
            var loop = new TrainingLoop<long[][]>(model, opt, new TrainingLoopOptions
            {
                MaxSteps = 6, Seed = 1, ValidationInterval = 2, KeepBestCheckpoint = true, CheckpointDirectory = dir.Path,
                BestMetric = "accuracy", HigherIsBetter = higherIsBetter,
            })
            {
                // "loss" is present too and points the other way: only the chosen metric may decide.
                Validate = n => new Dictionary<string, double> { ["accuracy"] = scores[n], ["loss"] = higherIsBetter ? scores[n] : 1 - scores[n] },
            };
            loop.Run(e => ToyEpochs(e), (b, c) => ToyMlmStep(model, b, c));
            Assert.AreEqual(expectedBest, loop.BestStep);
        }
    }

    [TestMethod]
    public void ExplodingLearningRateIsCaught()
    {
        var (model, _) = Setup();
        using (model)
        {
            // An absurd rate drives weights to overflow within a few updates; the loop must stop, not continue with NaN.
            using var opt = new AdamEF(new[] { new ParameterGroup("all", model.parameters(), new ConstantSchedule(1e4)) });
            var loop = new TrainingLoop<long[][]>(model, opt, new TrainingLoopOptions { MaxSteps = 50, Seed = 1 });
            var ex = Assert.ThrowsExactly<TrainingDivergedException>(() => loop.Run(e => ToyEpochs(e), (b, c) => ToyMlmStep(model, b, c)));
            Assert.IsTrue(ex.Step is > 1 and <= 50);
        }
    }

    [TestMethod]
    public void MemoryStaysFlatOver300Steps()
    {
        var (model, opt) = Setup(total: 300);
        using (model) using (opt)
        {
            var rss = new List<long>();
            var loop = new TrainingLoop<long[][]>(model, opt, new TrainingLoopOptions { MaxSteps = 300, Seed = 3 })
            {
                Progress = new SyncProgress<TrainingProgress>(p =>
                {
                    if (p.Step % 25 != 0) return;
                    // Garbage is not a leak: collect it first, so only what the loop retains is measured (without
                    // this the managed heap's growth between collections, which depends on the tests that ran
                    // before and on machine load, made this test flaky in the full suite).
                    GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
                    Process.GetCurrentProcess().Refresh();
                    rss.Add(Process.GetCurrentProcess().WorkingSet64);
                })
            };
            loop.Run(e => ToyEpochs(e, batches: 1000), (b, c) => ToyMlmStep(model, b, c));
            // Compare after warm-up (step 100) with the end: allocator caches settle in the first steps.
            long at100 = rss[3], atEnd = rss[^1];
            TestContext.WriteLine($"RSS at step 100: {at100 / 1e6:F1} MB, at step 300: {atEnd / 1e6:F1} MB");
            Assert.IsTrue(atEnd <= at100 * 1.05, $"RSS grew from {at100 / 1e6:F1} MB to {atEnd / 1e6:F1} MB");
        }
    }

    [TestMethod]
    public void NativeMemoryIsTrimmedEveryNUpdatesAndNeverWithZero()
    {
        if (!MLNetForgetting.Runtime.NativeHeap.IsGlibc) Assert.Inconclusive("malloc_trim is glibc only.");
        foreach (var (interval, expected) in new[] { (5L, 4), (0L, 0), (7L, 2) })
        {
            var (model, opt) = Setup(total: 20);
            using (model) using (opt)
            {
                var loop = new TrainingLoop<long[][]>(model, opt, new TrainingLoopOptions { MaxSteps = 20, Seed = 3, TrimNativeMemoryInterval = interval });
                loop.Run(e => ToyEpochs(e, batches: 20, batchSize: 2), (b, c) => ToyMlmStep(model, b, c));
                Assert.AreEqual(expected, loop.NativeMemoryTrims, $"interval {interval}");
            }
        }
    }

    [TestMethod]
    public void InvalidOptionsNameTheOption()
    {
        var (model, opt) = Setup();
        using (model) using (opt)
        {
            var ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new TrainingLoop<long[][]>(model, opt, new TrainingLoopOptions { MaxSteps = 0 }));
            Assert.AreEqual("MaxSteps", ex.ParamName);
            ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new TrainingLoop<long[][]>(model, opt, new TrainingLoopOptions { ClipNorm = -1 }));
            Assert.AreEqual("ClipNorm", ex.ParamName);
            ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new TrainingLoop<long[][]>(model, opt, new TrainingLoopOptions { TrimNativeMemoryInterval = -1 }));
            Assert.AreEqual("TrimNativeMemoryInterval", ex.ParamName);
        }
    }
}

/// <summary>IProgress that reports synchronously on the training thread (Progress&lt;T&gt; posts to the thread pool).</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

internal static class SyncProgress
{
    public static SyncProgress<TrainingProgress> Of(Action<TrainingProgress> report) => new(report);
}

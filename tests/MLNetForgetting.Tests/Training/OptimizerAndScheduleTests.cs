using MLNetForgetting.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNetForgetting.Tests.Training;

[TestClass]
public sealed class OptimizerAndScheduleTests
{
    [TestMethod]
    public void AdamWMatchesTorchAdamW()
    {
        using var scope = NewDisposeScope();
        var init = randn(new long[] { 4, 3 }, generator: new Generator(3));
        var ours = new Parameter(init.clone());
        var theirs = new Parameter(init.clone());
        using var opt = new AdamEF(new[] { new ParameterGroup("w", new[] { ours }, new ConstantSchedule(0.01), weightDecay: 0.1) }, 0.9, 0.98, 1e-6);
        var reference = optim.AdamW(new[] { theirs }, lr: 0.01, beta1: 0.9, beta2: 0.98, eps: 1e-6, weight_decay: 0.1);
        for (int step = 1; step <= 6; step++)
        {
            var target = randn(new long[] { 4, 3 }, generator: new Generator((ulong)step));
            opt.ZeroGrad(); reference.zero_grad();
            (ours - target).pow(2).sum().backward();
            (theirs - target).pow(2).sum().backward();
            opt.Step(step);
            reference.step();
        }
        Assert.IsTrue(ours.allclose(theirs, rtol: 1e-5, atol: 1e-6), "AdamEF differs from torch.optim.AdamW");
    }

    [TestMethod]
    public void ResetStateZeroesOneGroupAndRestartsItsStep()
    {
        using var scope = NewDisposeScope();
        var a = new Parameter(ones(3, 3)); var b = new Parameter(ones(3, 3));
        using var opt = new AdamEF(new[]
        {
            new ParameterGroup("body", new[] { a }, new ConstantSchedule(0.1)),
            new ParameterGroup("embeddings", new[] { b }, new ConstantSchedule(0.1)),
        });
        for (int i = 1; i <= 3; i++) { opt.ZeroGrad(); (a.sum() + (b * b).sum()).backward(); opt.Step(i); }
        var bodyMoment = opt.StateTensors().First(kv => kv.Key == "body.0.exp_avg").Value.clone();
        var embeddingMoment = MLNetForgetting.Modeling.TensorIdentity.Of(opt.StateTensors().First(kv => kv.Key == "embeddings.0.exp_avg").Value);
        opt.ResetState("embeddings");
        Assert.AreEqual(0, opt["embeddings"].Step);
        Assert.AreEqual(3, opt["body"].Step);
        Assert.IsFalse(opt.StateTensors().Any(kv => kv.Key.StartsWith("embeddings.")), "embedding moments not zeroed");
        Assert.IsTrue(TensorAssert.BitEqual(bodyMoment, opt.StateTensors().First(kv => kv.Key == "body.0.exp_avg").Value));
        // After the reset the embedding group takes a full-size first Adam step again: |Δ| = lr (bias correction with t_e = 1).
        var before = b.detach().clone();
        opt.ZeroGrad(); (a.sum() + (b * b).sum()).backward(); opt.Step(4);
        var delta = (b.detach() - before * (1 - 0.1 * 0.01)).abs();
        Assert.IsTrue(delta.allclose(full_like(delta, 0.1), rtol: 1e-3), "first step after reset is not full-size");
        // The moments were zeroed in place, not freed and allocated again (keeps the C heap from fragmenting).
        Assert.AreEqual(embeddingMoment, MLNetForgetting.Modeling.TensorIdentity.Of(opt.StateTensors().First(kv => kv.Key == "embeddings.0.exp_avg").Value));
    }

    [TestMethod]
    public void RejectsATensorRegisteredTwice()
    {
        var p = new Parameter(ones(2));
        Assert.ThrowsExactly<ArgumentException>(() => new AdamEF(new[]
        {
            new ParameterGroup("x", new[] { p }, new ConstantSchedule(0.1)),
            new ParameterGroup("y", new[] { p }, new ConstantSchedule(0.1)),
        }));
    }

    [TestMethod]
    public void WarmupPolynomialDecayFollowsTheFormula()
    {
        var s = new WarmupPolynomialDecaySchedule(7e-4, WarmupUpdates: 80, TotalUpdates: 1000);
        Assert.AreEqual(7e-4 * 1 / 80, s.At(1), 1e-12);
        Assert.AreEqual(7e-4 * 40 / 80, s.At(40), 1e-12);
        Assert.AreEqual(7e-4, s.At(80), 1e-12);
        Assert.AreEqual(7e-4 * (1000 - 540) / 920.0, s.At(540), 1e-12);
        Assert.AreEqual(0.0, s.At(1000), 1e-12);
    }

    [TestMethod]
    public void EpisodicScheduleReplaysTheCurveEveryEpisode()
    {
        // T = 1000, K = 100: η_e(n) = S((n·10) mod 1000); each episode warms up over 8 updates.
        var body = new WarmupPolynomialDecaySchedule(1e-3, WarmupUpdates: 80, TotalUpdates: 1000);
        var e = new EpisodicSchedule(body, TotalUpdates: 1000, ResetInterval: 100);
        Assert.AreEqual(body.At(10), e.At(1), 1e-15);
        Assert.AreEqual(body.At(80), e.At(8), 1e-15);      // peak at the 8th update of the episode
        Assert.AreEqual(body.At(0), e.At(100), 1e-15);     // the episode's last update
        Assert.AreEqual(body.At(10), e.At(101), 1e-15);    // the next episode starts over
        Assert.AreEqual(body.At(500), e.At(350), 1e-15);
        Assert.AreEqual(e.At(37), e.At(537), 1e-15);
    }
}

using MLNetForgetting.Prompts;
using MLNetForgetting.Modeling.Adapters;
using MLNetForgetting.SelfTraining;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNetForgetting.Tests.SelfTraining;

[TestClass]
public sealed class MetaReweightingTests
{
    public TestContext TestContext { get; set; } = null!;

    private static List<PromptExample> Examples => ListFixture.Encode(ListFixture.Labelled());

    private static PromptBatch Collate(IEnumerable<PromptExample> e) => PromptBatch.Collate(e.ToList(), ListFixture.Backbone.Config.PadTokenId, CPU);

    [TestMethod]
    public void GradientAlignmentMatchesThePerExampleOracle()
    {
        using var scope = NewDisposeScope();
        using var model = PromptClassifier.Create(ListFixture.Backbone, ListFixture.Tokenizer, LiSTTasks.Sst2, ListFixture.SmallAdapters with { InitStd = 0.05 }, new Generator(3));
        var theta = model.FreezeBackbone();
        var u = Collate(Examples.Take(10));
        var meta = Collate(Examples.Skip(10).Take(4));
        var teacher = nn.functional.softmax(randn(10, 2, generator: new Generator(4)) * 2, -1);
        model.train();
        var b = MetaReweighting.GradientAlignment(model, theta, u, teacher, meta, 5e-6);
        Assert.IsTrue(model.training, "the student's mode must be restored after the eval-mode meta step");
        var c = MetaReweighting.PerExampleOracle(model, theta, u, teacher, meta, 5e-6);
        var gb = b.EpsilonGradient.data<float>().ToArray();
        var gc = c.EpsilonGradient.data<float>().ToArray();
        TestContext.WriteLine("B: " + string.Join(" ", gb.Select(x => x.ToString("E4"))));
        TestContext.WriteLine("C: " + string.Join(" ", gc.Select(x => x.ToString("E4"))));
        double scale = gc.Max(Math.Abs);
        Assert.IsGreaterThan(0.0, scale);
        for (int i = 0; i < gb.Length; i++) Assert.AreEqual(gc[i], gb[i], 1e-4 * scale, $"g[{i}]");
        Assert.IsTrue(b.Weights.allclose(c.Weights, rtol: 1e-3, atol: 1e-5));
        // α only scales g (the weights then change only through the 1e-6 in the denominator).
        var b2 = MetaReweighting.GradientAlignment(model, theta, u, teacher, meta, 1e-2);
        Assert.IsTrue(b2.EpsilonGradient.allclose(b.EpsilonGradient * (1e-2 / 5e-6), rtol: 1e-3, atol: 1e-9));
    }

    [TestMethod]
    public void WeightsAreNonNegativeAndSumToOneOrAreAllZero()
    {
        using var scope = NewDisposeScope();
        var g = tensor(new float[] { -3, 1, -1, 0, 2 });
        var w = MetaReweighting.Normalize(g).data<float>().ToArray();
        CollectionAssert.AreEqual(new float[] { 3 / (4 + 1e-6f), 0, 1 / (4 + 1e-6f), 0, 0 }, w);
        Assert.IsTrue(MetaReweighting.Normalize(tensor(new float[] { 1, 2, 0 })).data<float>().ToArray().All(x => x == 0));

        using var model = PromptClassifier.Create(ListFixture.Backbone, ListFixture.Tokenizer, LiSTTasks.Sst2, ListFixture.SmallAdapters, new Generator(8));
        var theta = model.FreezeBackbone();
        for (int trial = 0; trial < 3; trial++)
        {
            var u = Collate(Examples.Skip(trial * 8).Take(8));
            var teacher = nn.functional.softmax(randn(8, 2, generator: new Generator((ulong)(10 + trial))) * 3, -1);
            var result = MetaReweighting.GradientAlignment(model, theta, u, teacher, Collate(Examples.Skip(24).Take(4)), 5e-6);
            var weights = result.Weights.data<float>().ToArray();
            Assert.IsTrue(weights.All(x => x >= 0), string.Join(" ", weights));
            // Σw = S/(S + 1e-6) with S = Σ max(−g, 0): 1 up to the stabiliser (with α = 5e-6, S is small, so
            // the stabiliser shows), exactly 0 when no example helps.
            double s = result.EpsilonGradient.data<float>().ToArray().Sum(x => Math.Max(-(double)x, 0));
            double sum = weights.Sum();
            TestContext.WriteLine($"S = {s:E3}, sum of weights = {sum:F6}");
            Assert.IsGreaterThan(0.0, s, "this case should have helpful examples");
            Assert.AreEqual(s / (s + 1e-6), sum, 1e-5);
            Assert.IsLessThanOrEqualTo(1.0 + 1e-6, sum);
        }
    }

    [TestMethod]
    public void DeliberatelyWrongPseudoLabelsGetLowerWeight()
    {
        using var scope = NewDisposeScope();
        using var model = PromptClassifier.Create(ListFixture.Backbone, ListFixture.Tokenizer, LiSTTasks.Sst2, ListFixture.SmallAdapters, new Generator(9));
        var theta = model.FreezeBackbone();
        // Constructed case: make the model undecided (both label-word rows and biases set to their
        // mean, so p_S = (½, ½) for every input) and put every input in the batch twice, once with its
        // true label and once with the flipped one, as confident pseudo-labels. Then the wrong copy's
        // gradient is exactly minus the right copy's, and with the meta set = these inputs with their
        // true labels, Σᵢ v·∇ℓᵢ(right) = |v|²·n > 0: at most one copy of each input gets weight, and the
        // right copies must get more of it in total. Wrong signs anywhere would hand it to the wrong copies.
        var head = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using (no_grad())
        {
            head["head.decoder"].copy_(head["head.decoder"].mean([0], keepdim: true).expand(2, -1));
            head["head.bias"].fill_(head["head.bias"].mean().item<float>());
        }
        var inputs = Examples.Take(8).ToList();
        var doubled = inputs.Concat(inputs).ToList();
        var pseudo = inputs.Select(e => (long)e.Label).Concat(inputs.Select(e => (long)(1 - e.Label))).ToArray();
        var teacher = nn.functional.one_hot(tensor(pseudo), 2).to(ScalarType.Float32) * 0.96f + 0.02f;
        var result = MetaReweighting.GradientAlignment(model, theta, Collate(doubled), teacher, Collate(inputs), 5e-6);
        var oracle = MetaReweighting.PerExampleOracle(model, theta, Collate(doubled), teacher, Collate(inputs), 5e-6);
        var w = result.Weights.data<float>().ToArray();
        TestContext.WriteLine("right: " + string.Join(" ", w.Take(8).Select(x => x.ToString("F3"))));
        TestContext.WriteLine("wrong: " + string.Join(" ", w.Skip(8).Select(x => x.ToString("F3"))));
        Assert.IsTrue(result.Weights.allclose(oracle.Weights, rtol: 1e-3, atol: 1e-5));
        for (int i = 0; i < 8; i++) Assert.IsTrue(w[i] == 0 || w[8 + i] == 0, $"input {i}: both copies got weight");
        double right = w.Take(8).Sum(), bad = w.Skip(8).Sum();
        TestContext.WriteLine($"total weight: right {right:F4}, wrong {bad:F4}");
        Assert.IsGreaterThan(bad, right);
        Assert.IsGreaterThan(0.0, right);
    }
}

using MLNetForgetting.Modeling;
using MLNetForgetting.Modeling.Adapters;
using MLNetForgetting.Prompts;
using MLNetForgetting.SelfTraining;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNetForgetting.Tests.SelfTraining;

[TestClass]
public sealed class AdapterAndHeadTests
{
    public TestContext TestContext { get; set; } = null!;

    private static PromptBatch Batch(int count = 12)
    {
        var examples = ListFixture.Encode(ListFixture.Labelled()).Take(count).ToList();
        return PromptBatch.Collate(examples, ListFixture.Backbone.Config.PadTokenId, CPU);
    }

    /// <summary>The backbone's own MLM logits at &lt;mask&gt;, restricted to the label words, with empty adapter slots.</summary>
    private static Tensor BackboneLabelLogits(RobertaForMaskedLM backbone, PromptBatch batch, int[] labelIds)
    {
        AdapterSet.Uninstall(backbone);
        backbone.eval();
        using var hidden = backbone.forward(batch.InputIds, batch.AttentionMask);
        var rows = arange(batch.Size);
        using var atMask = hidden[rows, batch.MaskPositions];
        using var logits = backbone.MlmLogits(atMask);
        return logits.index_select(1, tensor(labelIds.Select(i => (long)i).ToArray()));
    }

    [TestMethod]
    public void AtInitialisationTheAdaptedModelEqualsTheBackbone()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var backbone = ListFixture.Backbone;
        var batch = Batch();
        // Paper-size bottleneck (r = 128 > d = 32) and σ = 2e-4: the adapters start near the identity.
        using var model = PromptClassifier.Create(backbone, ListFixture.Tokenizer, LiSTTasks.Sst2, new AdapterOptions(), new Generator(5));
        var reference = BackboneLabelLogits(backbone, batch, model.LabelWordIds);
        model.eval();
        var adapted = model.Logits(batch);
        double diff = (adapted - reference).abs().max().item<float>();
        TestContext.WriteLine($"max |adapted - backbone| = {diff:E3}");
        Assert.IsLessThan(1e-3, diff);
        Assert.IsGreaterThan(0.0, diff, "the adapters must actually be in the computation");

        // Without adapters the head copy alone reproduces the tied MLM head exactly.
        using var headOnly = PromptClassifier.Create(backbone, ListFixture.Tokenizer, LiSTTasks.Sst2, adapterOptions: null);
        headOnly.eval();
        var plain = headOnly.Logits(batch);
        Assert.IsTrue(plain.allclose(BackboneLabelLogits(backbone, batch, model.LabelWordIds), rtol: 0, atol: 1e-6));
    }

    [TestMethod]
    public void HoulsbyAdaptersAndLargeInitsChangeTheOutput()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = randn(3, 5, 16);
        var list = new BottleneckAdapter(16, 4, AdapterVariant.LiST, initStd: 0.5, generator: new Generator(1));
        var expected = x + x.matmul(list.Down.t()).matmul(list.Up.t());
        Assert.IsTrue(list.forward(x).allclose(expected, rtol: 1e-5, atol: 1e-6), "LiST adapter is y = x + x W1ᵀ W2ᵀ");
        var houlsby = new BottleneckAdapter(16, 4, AdapterVariant.Houlsby, initStd: 0.5, generator: new Generator(1));
        var expectedH = x + nn.functional.relu(x.matmul(houlsby.Down.t())).matmul(houlsby.Up.t());
        Assert.IsTrue(houlsby.forward(x).allclose(expectedH, rtol: 1e-5, atol: 1e-6));
        Assert.IsFalse(list.named_parameters().Any(p => p.name.Contains("bias")), "LiST adapters have no bias");
        Assert.AreEqual(2e-4, new BottleneckAdapter(256, 128).Down.std().item<float>(), 1e-5);
    }

    [TestMethod]
    public void ExplicitAttentionGivesTheSameOutputsAsTheFusedKernel()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var backbone = ListFixture.Backbone;
        AdapterSet.Uninstall(backbone);
        backbone.eval();
        var batch = Batch(); // padded rows: the key mask matters
        var fused = backbone.forward(batch.InputIds, batch.AttentionMask);
        Tensor explicitOut;
        using (MetaReweighting.TwiceDifferentiable(backbone))
            explicitOut = backbone.forward(batch.InputIds, batch.AttentionMask);
        double diff = (fused - explicitOut).abs().max().item<float>();
        TestContext.WriteLine($"max |explicit - fused| = {diff:E3}");
        Assert.IsLessThan(1e-5, diff);
        Assert.IsTrue(backbone.modules().OfType<RobertaSelfAttention>().All(a => !a.ExplicitAttention), "the switch must be restored");
    }

    [TestMethod]
    public void FreezingLeavesOnlyAdaptersAndHeadTrainableAndTheReportCountsThem()
    {
        var backbone = ListFixture.Backbone;
        using var model = PromptClassifier.Create(backbone, ListFixture.Tokenizer, LiSTTasks.Sst2, ListFixture.SmallAdapters, new Generator(2));
        var trainable = model.FreezeBackbone();
        var names = model.named_parameters().Select(p => p.name).ToList();
        Assert.IsTrue(names.All(n => n.StartsWith("adapters.layer.") || n.StartsWith("head.")), string.Join(", ", names));
        Assert.IsTrue(backbone.named_parameters().Where(p => !AdapterSet.IsAdapterParameterName(p.name)).All(p => !p.parameter.requires_grad));
        var report = model.ParameterReport();
        TestContext.WriteLine(report.ToString());
        int d = backbone.Config.HiddenSize, layers = backbone.Config.NumHiddenLayers, r = 8;
        Assert.AreEqual(layers * 2 * 2 * d * r, report.Adapters, "2 adapters per layer, 2 matrices d×r, no bias");
        Assert.AreEqual(d * d + d + 2 * d + 2 * d + 2, report.Head, "dense, LayerNorm, 2 decoder rows, 2 biases");
        Assert.AreEqual(report.Adapters + report.Head, report.Trainable);
        long backboneCount = backbone.named_parameters().Where(p => !AdapterSet.IsAdapterParameterName(p.name)).Sum(p => p.parameter.numel());
        Assert.AreEqual(backboneCount + report.Trainable, report.Total);
        Assert.AreEqual(report.Trainable, trainable.Sum(p => p.numel()));
        Assert.AreEqual(100.0 * report.Trainable / report.Total, report.Percent, 1e-9);
    }
}

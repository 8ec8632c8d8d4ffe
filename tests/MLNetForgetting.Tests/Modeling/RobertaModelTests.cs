using MLNetForgetting.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNetForgetting.Tests.Modeling;

[TestClass]
public sealed class RobertaModelTests
{
    internal static RobertaForMaskedLM TinyModel(int vocab = 50, int seed = 1)
    {
        var model = new RobertaForMaskedLM(RobertaConfig.Tiny(vocab));
        model.InitializeWeights(new Generator((ulong)seed));
        return model;
    }

    private static (Tensor Ids, Tensor Mask) Batch()
    {
        // Two sequences, the second padded (pad id 1).
        var ids = tensor(new long[,] { { 0, 7, 8, 9, 10, 2 }, { 0, 11, 12, 2, 1, 1 } });
        var mask = ids.ne(1).to(ScalarType.Int64);
        return (ids, mask);
    }

    [TestMethod]
    public void ForwardShapes()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModel();
        model.eval();
        var (ids, mask) = Batch();
        var hidden = model.forward(ids, mask);
        CollectionAssert.AreEqual(new long[] { 2, 6, 32 }, hidden.shape);
        CollectionAssert.AreEqual(new long[] { 2, 6, 50 }, model.MlmLogits(hidden).shape);
        CollectionAssert.AreEqual(new long[] { 2, 32 }, model.MeanPooled(ids, mask).shape);
        model.AddClassifier(3);
        CollectionAssert.AreEqual(new long[] { 2, 3 }, model.ClassifierLogits(ids, mask).shape);
    }

    [TestMethod]
    public void ParameterNamesFollowHuggingFaceRoberta()
    {
        using var model = TinyModel();
        var names = model.named_parameters().Select(p => p.name).ToHashSet();
        foreach (var expected in new[]
        {
            "roberta.embeddings.word_embeddings.weight", "roberta.embeddings.position_embeddings.weight",
            "roberta.embeddings.token_type_embeddings.weight", "roberta.embeddings.LayerNorm.weight",
            "roberta.encoder.layer.0.attention.self.query.weight", "roberta.encoder.layer.1.attention.self.value.bias",
            "roberta.encoder.layer.0.attention.output.dense.weight", "roberta.encoder.layer.0.attention.output.LayerNorm.bias",
            "roberta.encoder.layer.1.intermediate.dense.weight", "roberta.encoder.layer.1.output.dense.weight",
            "roberta.encoder.layer.1.output.LayerNorm.weight", "lm_head.dense.weight", "lm_head.layer_norm.weight", "lm_head.bias",
        })
            Assert.Contains(expected, names, $"missing {expected}");
        // The decoder is tied: no separate decoder weight is registered, so the optimizer sees E once.
        Assert.IsFalse(names.Any(n => n.Contains("decoder")), "a separate decoder weight is registered");
        Assert.AreEqual(64 + 2, model.Roberta.Embeddings.named_parameters().First(p => p.name == "position_embeddings.weight").parameter.shape[0]);
    }

    [TestMethod]
    public void DecoderSharesStorageWithTokenEmbeddings()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModel();
        model.eval();
        var (ids, mask) = Batch();
        using var _ = no_grad();
        var hidden = model.forward(ids, mask);
        var before = model.MlmLogits(hidden);
        // Writing into E in place must change the MLM output through the tie: scale row 9.
        model.TokenEmbeddings[9].mul_(3.0);
        var after = model.MlmLogits(hidden);
        var changedColumns = (after - before).abs().amax(new long[] { 0, 1 }).gt(1e-6).nonzero().squeeze(1);
        CollectionAssert.AreEqual(new long[] { 9 }, changedColumns.data<long>().ToArray());
        // And a gradient through the MLM head reaches E.
        model.train();
        using var grad = enable_grad();
        var (loss, _, _) = model.MaskedLmLoss(ids, mask, tensor(new long[,] { { -100, 7, -100, -100, -100, -100 }, { -100, -100, 12, -100, -100, -100 } }));
        loss.backward();
        Assert.IsNotNull(model.TokenEmbeddings.grad);
        Assert.IsTrue(model.TokenEmbeddings.grad!.abs().sum().item<float>() > 0);
    }

    [TestMethod]
    public void ResetTokenEmbeddingsRedrawsInPlaceAndLeavesBodyAlone()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModel(vocab: 4000);
        var body = model.BodyParameters().ToDictionary(p => p.Name, p => p.Parameter.detach().clone());
        var e = model.TokenEmbeddings;
        var before = e.detach().clone();
        model.ResetTokenEmbeddings(new Generator(99));
        Assert.IsTrue(TensorIdentity.SameMemory(e, model.TokenEmbeddings), "reset must be in place");
        Assert.IsFalse(before.allclose(e), "embeddings did not change");
        Assert.AreEqual(0.0, e[1].abs().sum().item<float>(), "padding row must be zero");
        var rows = e.index_select(0, arange(2, 4000));
        Assert.AreEqual(0.0, rows.mean().item<float>(), 0.001);
        Assert.AreEqual(0.02, rows.std().item<float>(), 0.001);
        foreach (var (name, p) in model.BodyParameters())
            Assert.IsTrue(TensorAssert.BitEqual(body[name], p), $"body parameter {name} changed");
    }

    [TestMethod]
    public void ReplacingTokenEmbeddingsLeavesEveryBodyParameterUntouched()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModel();
        var bodyBefore = model.BodyParameters().Where(p => p.Name != "lm_head.bias")
            .ToDictionary(p => p.Name, p => (Memory: TensorIdentity.Of(p.Parameter), Value: p.Parameter.detach().clone()));
        model.ReplaceTokenEmbeddings(70, new Generator(5));
        Assert.AreEqual(70, model.Config.VocabSize);
        CollectionAssert.AreEqual(new long[] { 70, 32 }, model.TokenEmbeddings.shape);
        CollectionAssert.AreEqual(new long[] { 70 }, model.LMHead.Bias.shape);
        Assert.AreEqual(0.0, model.LMHead.Bias.abs().sum().item<float>(), "the resized output bias is zeroed (docs/methods.md §2)");
        foreach (var (name, p) in model.BodyParameters().Where(p => p.Name != "lm_head.bias"))
        {
            Assert.AreEqual(bodyBefore[name].Memory, TensorIdentity.Of(p), $"{name} was replaced");
            Assert.IsTrue(TensorAssert.BitEqual(bodyBefore[name].Value, p), $"{name} changed");
        }
        model.eval();
        var (ids, mask) = Batch();
        CollectionAssert.AreEqual(new long[] { 2, 6, 70 }, model.MlmLogits(model.forward(ids, mask)).shape);
    }

    [TestMethod]
    public void PaddingDoesNotChangeRealTokenOutputs()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModel();
        model.eval();
        using var _ = no_grad();
        var shortIds = tensor(new long[,] { { 0, 11, 12, 2 } });
        var paddedIds = tensor(new long[,] { { 0, 11, 12, 2, 1, 1, 1 } });
        var a = model.forward(shortIds, shortIds.ne(1).to(ScalarType.Int64));
        var b = model.forward(paddedIds, paddedIds.ne(1).to(ScalarType.Int64)).narrow(1, 0, 4);
        Assert.IsTrue(a.allclose(b, rtol: 1e-4, atol: 1e-5), "padding leaked into real positions");
    }

    [TestMethod]
    public void LoadNamedTensorsListsMismatches()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModel();
        var tensors = model.NamedTensors().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        tensors.Remove("roberta.encoder.layer.1.output.dense.weight");
        tensors["extra.weight"] = zeros(3);
        tensors["lm_head.dense.weight"] = zeros(5, 5);
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => model.LoadNamedTensors(tensors));
        StringAssert.Contains(ex.Message, "missing: roberta.encoder.layer.1.output.dense.weight");
        StringAssert.Contains(ex.Message, "unexpected: extra.weight");
        StringAssert.Contains(ex.Message, "lm_head.dense.weight (expected [32,32], got [5,5])");
    }

    [TestMethod]
    public void InvalidConfigurationNamesTheOption()
    {
        var ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new RobertaForMaskedLM(RobertaConfig.Tiny(50) with { NumAttentionHeads = 3 }));
        Assert.AreEqual("NumAttentionHeads", ex.ParamName);
    }
}

[TestClass]
public sealed class RobertaInitializationTests
{
    [TestMethod]
    public void SeededInitializationIsReproducibleWhateverTheGlobalRngState()
    {
        using var scope = NewDisposeScope();
        manual_seed(123);
        using var a = RobertaModelTests.TinyModel(seed: 1);
        manual_seed(456);
        _ = randn(1000); // move the global generator on
        using var b = RobertaModelTests.TinyModel(seed: 1);
        using var c = RobertaModelTests.TinyModel(seed: 2);
        foreach (var (name, t) in a.NamedTensors())
            Assert.IsTrue(TensorAssert.BitEqual(t, b.NamedTensors()[name]), $"{name} differs between two inits with the same seed");
        Assert.IsFalse(TensorAssert.BitEqual(a.TokenEmbeddings, c.TokenEmbeddings), "different seeds gave the same embeddings");
    }
}

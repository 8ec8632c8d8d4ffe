using MLNetForgetting.Adaptation;
using MLNetForgetting.Interop;
using MLNetForgetting.Modeling;
using MLNetForgetting.Tests.Infrastructure;
using MLNetForgetting.Tests.Interop;
using static TorchSharp.torch;

namespace MLNetForgetting.Tests.Adaptation;

/// <summary>
/// Relearning on a BERT-type body (MiniLM's family): BERT pads with [PAD] = 0 and separates with [SEP], our
/// byte-level BPE vocabularies pad with 1 and separate with &lt;/s&gt; = 2. A BERT body's positions count from
/// 0 whatever the padding, so it takes the new vocabulary's ids; a RoBERTa-type body, whose position table is
/// offset by its padding id, refuses them.
/// </summary>
[TestClass]
public sealed class BertRelearningTests
{
    private static Dictionary<string, Tensor> Weights(RobertaForMaskedLM m) => m.NamedTensors().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

    [TestMethod]
    public void ABertBodyRelearnsAVocabularyWithOtherPaddingAndSeparatorIdsAndAssembles()
    {
        using var dir = new TempDir();
        using var _ = BertImportTests.WriteTinyBertDirectory(dir.Path);
        var (bert, _) = HuggingFaceImport.Import(dir.Path);
        using var task = ModelAssembly.Clone(bert);
        task.AddClassifier(3, new Generator(1));
        var target = AdaptationTestData.TargetTokenizer;
        Assert.AreEqual(0, bert.Config.PadTokenId);
        Assert.AreNotEqual(bert.Config.PadTokenId, target.PadId, "the premise: the two vocabularies pad differently");
        var before = Weights(bert);

        using (bert)
        {
            EmbeddingRelearning.Relearn(bert, target, () => AdaptationTestData.TargetCorpus, new RelearningSettings { MaxSteps = 3, BatchSize = 8 }, CPU);
            Assert.AreEqual(target.PadId, bert.Config.PadTokenId, "the relearned model pads as its vocabulary does");
            Assert.AreEqual(target.EosId, bert.Config.SeparatorTokenId, "and finds the second segment at its separator");
            foreach (var (name, t) in bert.NamedTensors().Where(kv => kv.Key != RobertaForMaskedLM.TokenEmbeddingsKey && kv.Key != "lm_head.bias"))
                Assert.IsTrue(TensorAssert.BitEqual(before[name], t), $"{name} changed: the body must stay frozen");

            using var assembled = ModelAssembly.Assemble(task, bert);
            Assert.AreEqual(target.PadId, assembled.Config.PadTokenId);
            Assert.AreEqual(target.EosId, assembled.Config.SeparatorTokenId);
            using var scope = NewDisposeScope();
            using var __ = no_grad();
            assembled.eval();
            int[] pair = target.EncodePair(AdaptationTestData.TargetCorpus[0], AdaptationTestData.TargetCorpus[1], 48);
            var (ids, mask) = MLNetForgetting.Text.PaddedBatch.Create([pair, pair[..5]], target.PadId, CPU);
            // Embeddings by hand: positions from 0, token type 1 after the first </s>.
            var w = assembled.NamedTensors();
            int sep = Array.IndexOf(pair, target.EosId);
            var types = tensor(pair.Select((_, j) => j > sep ? 1L : 0L).ToArray());
            var summed = w[RobertaForMaskedLM.TokenEmbeddingsKey].index_select(0, ids[0]) + w["roberta.embeddings.position_embeddings.weight"].narrow(0, 0, pair.Length)
                + w["roberta.embeddings.token_type_embeddings.weight"].index_select(0, types);
            var expected = nn.functional.layer_norm(summed, [32], w["roberta.embeddings.LayerNorm.weight"], w["roberta.embeddings.LayerNorm.bias"], 1e-12);
            Assert.IsLessThan(1e-5, (assembled.Roberta.Embeddings.forward(ids)[0] - expected).abs().max().item<float>(), "embeddings of a pair under the new ids");
            Assert.IsTrue(assembled.ClassifierLogits(ids, mask).isfinite().all().item<bool>());
        }
    }

    [TestMethod]
    public void ARobertaBodyRefusesAVocabularyThatPadsWithAnotherId()
    {
        using var dir = new TempDir();
        using var _ = BertImportTests.WriteTinyBertDirectory(dir.Path);
        var (bert, wordPiece) = HuggingFaceImport.Import(dir.Path);
        bert.Dispose();
        using var roberta = AdaptationTestData.NewModel();
        Assert.AreNotEqual(roberta.Config.PadTokenId, wordPiece!.PadId);
        var ex = Assert.ThrowsExactly<ArgumentException>(() => EmbeddingRelearning.Relearn(roberta, wordPiece, () => AdaptationTestData.EnglishCorpus,
            new RelearningSettings { MaxSteps = 1, BatchSize = 8 }, CPU));
        StringAssert.Contains(ex.Message, $"pads with id {wordPiece.PadId} but the model with {roberta.Config.PadTokenId}");
    }
}

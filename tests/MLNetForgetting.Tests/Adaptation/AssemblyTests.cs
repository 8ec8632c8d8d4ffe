using MLNetForgetting.Adaptation;
using MLNetForgetting.Modeling;
using static TorchSharp.torch;
using static MLNetForgetting.Tests.Adaptation.AdaptationTestData;

namespace MLNetForgetting.Tests.Adaptation;

[TestClass]
public sealed class AssemblyTests
{
    [TestMethod]
    public void TheAssembledModelHasTheTaskBodyAndTheRelearnedEmbeddingsAndLeavesItsInputsAlone()
    {
        using var pretrained = NewModel();
        using var taskModel = ModelAssembly.Clone(pretrained);
        TaskAdaptation.FineTune(taskModel, EnglishTokenizer, Pairs("en", 64, 2), 3, new TaskAdaptationSettings { MaxSteps = 4, BatchSize = 16, LearningRate = 1e-3 }, CPU);
        using var relearned = ModelAssembly.Clone(pretrained);
        EmbeddingRelearning.Relearn(relearned, TargetTokenizer, () => TargetCorpus, new RelearningSettings { MaxSteps = 4, BatchSize = 16, OutputBias = RelearnedOutputBias.ZeroTrained }, CPU);
        var taskBefore = Snapshot(taskModel);
        var relearnedBefore = Snapshot(relearned);

        using var assembled = ModelAssembly.Assemble(taskModel, relearned);

        Assert.AreEqual(TargetTokenizer.VocabSize, assembled.Config.VocabSize);
        Assert.AreEqual(3, assembled.Config.NumLabels);
        var names = assembled.named_parameters().Select(p => p.name).ToArray();
        CollectionAssert.AreEquivalent(taskModel.named_parameters().Select(p => p.name).ToArray(), names);
        foreach (var (name, p) in assembled.named_parameters())
        {
            var source = ModelAssembly.EmbeddingSideNames.Contains(name) ? relearned.NamedTensors()[name] : taskModel.NamedTensors()[name];
            Assert.IsTrue(TensorAssert.BitEqual(source, p), $"{name} does not come from the {(ModelAssembly.EmbeddingSideNames.Contains(name) ? "relearned" : "task-adapted")} model");
            Assert.IsFalse(TensorIdentity.SameMemory(source, p), $"{name} shares memory with an input");
        }
        // The tied decoder is the relearned E: MLM logits use it.
        using (no_grad())
        {
            assembled.eval();
            var h = randn(2, assembled.Config.HiddenSize);
            Assert.IsTrue(TensorAssert.BitEqual(assembled.MlmLogits(h), assembled.LMHead.forward(h, relearned.TokenEmbeddings)));
        }
        foreach (var (name, t) in taskModel.NamedTensors()) Assert.IsTrue(TensorAssert.BitEqual(taskBefore[name], t), $"task model {name} was modified");
        foreach (var (name, t) in relearned.NamedTensors()) Assert.IsTrue(TensorAssert.BitEqual(relearnedBefore[name], t), $"relearned model {name} was modified");
        // It classifies target-language pairs with the target tokenizer.
        var probabilities = TaskAdaptation.Predict(assembled, TargetTokenizer, Pairs("xa", 5, 1).Select(e => (e.Premise, e.Hypothesis)).ToArray());
        Assert.AreEqual(5, probabilities.Length);
    }

    [TestMethod]
    public void ModelsOfDifferentWidthCannotBeAssembled()
    {
        using var a = NewModel();
        using var b = new RobertaForMaskedLM(RobertaConfig.Tiny(300) with { HiddenSize = 16, NumAttentionHeads = 2 });
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => ModelAssembly.Assemble(a, b)).Message, "width 16");
    }
}

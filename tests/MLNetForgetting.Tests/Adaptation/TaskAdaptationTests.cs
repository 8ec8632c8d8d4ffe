using MLNetForgetting.Adaptation;
using MLNetForgetting.Modeling;
using MLNetForgetting.Tests.Training;
using MLNetForgetting.Training;
using static TorchSharp.torch;
using static MLNetForgetting.Tests.Adaptation.AdaptationTestData;

namespace MLNetForgetting.Tests.Adaptation;

[TestClass]
public sealed class TaskAdaptationTests
{
    public TestContext TestContext { get; set; } = null!;

    private static TaskAdaptationSettings Settings(long steps) => new()
    {
        MaxSteps = steps, BatchSize = 16, MaxSequenceLength = 48, LearningRate = 1e-3, Seed = 6, LogInterval = 1000,
    };

    private static readonly Lazy<IReadOnlyList<(string Premise, string Hypothesis, int Label)>> Train = new(() => Pairs("en", 400, 2));

    [TestMethod]
    public void TheEmbeddingsAndTheMlmHeadAreBitIdenticalAndTheBodyTrains()
    {
        using var model = NewModel();
        var before = Snapshot(model);
        var trainingFlags = new List<string>();
        var progress = new SyncProgress<TrainingProgress>(p =>
        {
            if (p.Step == 1) trainingFlags.AddRange(model.named_parameters().Where(x => x.parameter.requires_grad).Select(x => x.name));
        });
        var result = TaskAdaptation.FineTune(model, EnglishTokenizer, Train.Value, 3, Settings(25), CPU, log: TestContext.WriteLine, progress: progress);

        Assert.IsNotNull(model.Classifier);
        Assert.AreEqual(3, model.Config.NumLabels);
        Assert.AreEqual(25, result.History.Steps.Count);
        Assert.IsTrue(TensorAssert.BitEqual(before[RobertaForMaskedLM.TokenEmbeddingsKey], model.TokenEmbeddings), "E changed during task adaptation");
        foreach (var (name, p) in model.named_parameters().Where(p => p.name.StartsWith("lm_head.")))
            Assert.IsTrue(TensorAssert.BitEqual(before[name], p), $"MLM head parameter {name} changed");
        foreach (var name in new[] { "roberta.encoder.layer.0.attention.self.query.weight", "roberta.embeddings.position_embeddings.weight", "roberta.embeddings.LayerNorm.weight" })
            Assert.IsFalse(TensorAssert.BitEqual(before[name], model.NamedTensors()[name]), $"body parameter {name} did not train");
        Assert.IsFalse(trainingFlags.Contains(RobertaForMaskedLM.TokenEmbeddingsKey));
        Assert.IsFalse(trainingFlags.Any(n => n.StartsWith("lm_head.")));
        Assert.IsTrue(trainingFlags.Any(n => n.StartsWith("classifier.")));
        Assert.IsTrue(model.parameters().All(p => p.requires_grad), "requires_grad flags were not restored");
    }

    [TestMethod]
    public void WithoutFreezingTheEmbeddingsTrainToo()
    {
        using var model = NewModel();
        var before = Snapshot(model);
        TaskAdaptation.FineTune(model, EnglishTokenizer, Train.Value, 3, Settings(10) with { FreezeTokenEmbeddings = false }, CPU);
        Assert.IsFalse(TensorAssert.BitEqual(before[RobertaForMaskedLM.TokenEmbeddingsKey], model.TokenEmbeddings), "E did not train");
    }

    [TestMethod]
    public void FineTuningLearnsTheTaskAndPredictReturnsOrderedProbabilities()
    {
        using var model = NewPretrainedModel();
        var dev = Pairs("en", 300, 1);
        var result = TaskAdaptation.FineTune(model, EnglishTokenizer, Pairs("en", 1500, 2), 3,
            Settings(300) with { BatchSize = 32, ValidationInterval = 150, LearningRate = 1e-3, WarmupFraction = 0.1 }, CPU, validation: dev, log: TestContext.WriteLine);
        double accuracy = result.History.Validations[^1].Metrics["accuracy"];
        TestContext.WriteLine($"dev accuracy after 300 updates: {accuracy:F3}");
        // Measured 0.477. Chance is 1/3; a chance-level classifier on 300 pairs has sd 0.027, so 0.42 is chance + 3.2 sd (p < 1e-3).
        // A 400-update tiny model learns slowly; the full-size learning check is SyntheticTransferTests.
        Assert.IsTrue(accuracy > 0.42, $"dev accuracy {accuracy:F3}");

        var pairs = dev.Select(e => (e.Premise, e.Hypothesis)).ToArray();
        var batched = TaskAdaptation.Predict(model, EnglishTokenizer, pairs, batchSize: 7);
        Assert.AreEqual(pairs.Length, batched.Length);
        Assert.IsTrue(batched.All(p => p.Length == 3 && Math.Abs(p.Sum() - 1) < 1e-5 && p.All(x => x >= 0)));
        Assert.IsTrue(model.training, "Predict must restore training mode");
        // Order and batching do not matter (eval mode: no dropout): each pair alone gives the same probabilities.
        foreach (int i in new[] { 0, 17, 299 })
        {
            var single = TaskAdaptation.Predict(model, EnglishTokenizer, [pairs[i]], batchSize: 1)[0];
            for (int k = 0; k < 3; k++) Assert.AreEqual(single[k], batched[i][k], 1e-5, $"pair {i} class {k}");
        }
        Assert.AreEqual(accuracy, TaskAdaptation.Accuracy(model, EnglishTokenizer, dev), 1e-12);
    }

    [TestMethod]
    public void BadTrainingExamplesAreRejectedNamingTheExample()
    {
        using var model = NewModel();
        var good = Train.Value.Take(10).ToList();
        var badLabel = good.ToList(); badLabel[4] = (badLabel[4].Premise, badLabel[4].Hypothesis, 3);
        var e = Assert.ThrowsExactly<ArgumentException>(() => TaskAdaptation.FineTune(model, EnglishTokenizer, badLabel, 3, Settings(2), CPU));
        StringAssert.Contains(e.Message, "examples[4]");
        StringAssert.Contains(e.Message, "label 3");
        var noPremise = good.ToList(); noPremise[2] = ("", noPremise[2].Hypothesis, 0);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => TaskAdaptation.FineTune(model, EnglishTokenizer, noPremise, 3, Settings(2), CPU)).Message, "examples[2]: the premise");
        var noHypothesis = good.ToList(); noHypothesis[7] = (noHypothesis[7].Premise, null!, 0);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => TaskAdaptation.FineTune(model, EnglishTokenizer, noHypothesis, 3, Settings(2), CPU)).Message, "examples[7]: the hypothesis");
        // Validation pairs with a label outside the training label set are rejected too.
        var badDev = good.Take(3).Select(x => (x.Premise, x.Hypothesis, 5)).ToList();
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => TaskAdaptation.FineTune(model, EnglishTokenizer, good, 3, Settings(2), CPU, validation: badDev)).Message, "validation[0]: label 5");
        // A tokenizer of another vocabulary is refused.
        Assert.ThrowsExactly<ArgumentException>(() => TaskAdaptation.FineTune(model, TargetTokenizer, good, 3, Settings(2), CPU));
        Assert.IsNull(model.Classifier, "nothing may happen before the inputs are validated");
        Assert.AreEqual("LearningRate", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => (Settings(2) with { LearningRate = 0 }).Validate()).ParamName);
    }
}

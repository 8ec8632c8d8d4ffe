using System.Text.Json.Nodes;
using Microsoft.ML;
using MLNetForgetting.Adaptation;
using MLNetForgetting.MLNet.Classification;
using MLNetForgetting.MLNet.CrossLingual;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Synthetic;
using MLNetForgetting.Tests.Cli;
using MLNetForgetting.Tests.CrossLingual;
using MLNetForgetting.Tests.Infrastructure;
using MLNetForgetting.Tests.Pretraining;
using MLNetForgetting.Tests.Training;
using MLNetForgetting.Training;
using static MLNetForgetting.Tests.Infrastructure.ZipSurgery;

namespace MLNetForgetting.Tests.MLNet;

/// <summary>
/// Inputs that fit together only by accident are refused instead of giving a wrong model: embeddings
/// relearned against another body, a checkpoint from another configuration. Null, empty and
/// whitespace-only text at prediction time get one answer everywhere.
/// </summary>
[TestClass]
public sealed class NoSilentWrongResultsTests
{
    private static readonly SyntheticTestbed Testbed = new();
    private static TempDir _dir = null!;

    [ClassInitialize]
    public static void Init(TestContext _) => _dir = new TempDir();

    [ClassCleanup]
    public static void Cleanup() => _dir.Dispose();

    private static IDataView Text(MLContext ml, string code, int seed) =>
        ml.Data.LoadFromEnumerable(Testbed.UnlabelledCorpus(code, 400, seed).Select(t => new TextRow { Text = t }).ToList());

    private static LanguageModelTransformer Pretrain(MLContext ml, int seed)
    {
        var o = LanguageModelTests.TinyOptions(k: 3);
        o.MaxSteps = 4; o.Seed = seed;
        return ml.Transforms.Text.ActiveForgettingPretrainer(o).Fit(Text(ml, "en", 0));
    }

    private static LanguageModelTransformer Relearn(MLContext ml, LanguageModelTransformer lm) =>
        ml.Transforms.Text.EmbeddingRelearner(new EmbeddingRelearner.Options
        {
            LanguageModel = lm, VocabularySize = 400, Seed = 1, Settings = new RelearningSettings { MaxSteps = 2, BatchSize = 16 },
        }).Fit(Text(ml, "xa", 1));

    private static (IDataView Data, ITransformer Labels) Pairs(MLContext ml)
    {
        var data = ml.Data.LoadFromEnumerable(Testbed.NliExamples("en", 48, seed: 2).Select(e => new PairRow { Sentence1 = e.Premise, Sentence2 = e.Hypothesis, Label = e.Label }).ToList());
        return (data, ml.Transforms.Conversion.MapValueToKey("Label").Fit(data));
    }

    private static SentencePairClassifierTransformer FineTune(MLContext ml, LanguageModelTransformer lm)
    {
        var (data, labels) = Pairs(ml);
        return ml.MulticlassClassification.Trainers.SentencePairClassification(new SentencePairClassificationTrainer.Options
        {
            LanguageModel = lm, Seed = 1, Settings = new TaskAdaptationSettings { MaxSteps = 2, BatchSize = 16 },
        }).Fit(labels.Transform(data));
    }

    [TestMethod]
    public void Assemble_refuses_embeddings_relearned_against_another_body_naming_both()
    {
        var ml = new MLContext(1);
        var a = Pretrain(ml, seed: 1);
        var b = Pretrain(ml, seed: 2);
        var classifier = FineTune(ml, a);
        Assert.AreEqual(a.PretrainedBodyFingerprint, classifier.PretrainedBodyFingerprint);
        var fromA = Relearn(ml, a);
        var fromB = Relearn(ml, b);
        Assert.AreEqual(a.PretrainedBodyFingerprint, fromA.PretrainedBodyFingerprint, "relearning keeps the body");
        Assert.AreEqual(a.PretrainedBodyFingerprint, ModelAssembly.BodyFingerprint(fromA.Model), "and its weights say the same");
        Assert.AreNotEqual(a.PretrainedBodyFingerprint, b.PretrainedBodyFingerprint);

        var e = Assert.ThrowsExactly<BodyMismatchException>(() => classifier.Assemble(fromB, ml, "xa"));
        StringAssert.Contains(e.Message, a.PretrainedBodyFingerprint[..12]);
        StringAssert.Contains(e.Message, b.PretrainedBodyFingerprint[..12]);
        Assert.IsNotNull(classifier.Assemble(fromA, ml, "xa"));

        // The fingerprints travel in the zips.
        string lmZip = _dir.File("fromB.zip"), clfZip = _dir.File("clf.zip");
        ml.Model.Save(fromB, null, lmZip);
        ml.Model.Save(classifier, null, clfZip);
        var loadedLm = (LanguageModelTransformer)ml.Model.Load(lmZip, out _);
        var loadedClf = (SentencePairClassifierTransformer)ml.Model.Load(clfZip, out _);
        Assert.AreEqual(b.PretrainedBodyFingerprint, loadedLm.PretrainedBodyFingerprint);
        Assert.AreEqual(a.PretrainedBodyFingerprint, loadedClf.PretrainedBodyFingerprint);
        Assert.ThrowsExactly<BodyMismatchException>(() => loadedClf.Assemble(loadedLm, ml));

        // The command line refuses the same pair as a bad argument (exit 2), naming both options.
        string relearnedA = _dir.File("fromA.zip");
        ml.Model.Save(fromA, null, relearnedA);
        var r = CliRunner.Run("assemble", "--classifier", clfZip, "--relearned", lmZip, "--output", _dir.File("bad.zip"));
        Assert.AreEqual(2, r.ExitCode, r.ToString());
        StringAssert.Contains(r.StdErr, "--relearned and --classifier do not fit together");
        StringAssert.Contains(r.StdErr, b.PretrainedBodyFingerprint[..12]);
        Assert.IsFalse(File.Exists(_dir.File("bad.zip")));
        CliRunner.RunOk("assemble", "--classifier", clfZip, "--relearned", relearnedA, "--output", _dir.File("good.zip"));

        // A classifier zip written before the body was recorded: refused unless allowed explicitly.
        string old = CopyAndBreak(clfZip, _dir.File("old.zip"), z => RewriteSettings(z, s => s.AsObject().Remove("PretrainedBody")));
        var oldClf = (SentencePairClassifierTransformer)ml.Model.Load(old, out _);
        Assert.IsNull(oldClf.PretrainedBodyFingerprint);
        e = Assert.ThrowsExactly<BodyMismatchException>(() => oldClf.Assemble(fromA, ml));
        StringAssert.Contains(e.Message, "does not record which pretrained body");
        StringAssert.Contains(e.Message, "allowUnrecordedBody");
        Assert.IsNotNull(oldClf.Assemble(fromA, ml, allowUnrecordedBody: true));
        Assert.AreEqual(2, CliRunner.Run("assemble", "--classifier", old, "--relearned", relearnedA, "--output", _dir.File("old-out.zip")).ExitCode);
        CliRunner.RunOk("assemble", "--classifier", old, "--relearned", relearnedA, "--output", _dir.File("old-out.zip"), "--allow-unrecorded-body");
    }

    // Edits component.json and keeps the manifest consistent, as an older writer would have written it.
    private static void RewriteSettings(System.IO.Compression.ZipArchive zip, Action<JsonNode> change)
    {
        byte[] written = Array.Empty<byte>();
        Rewrite(zip, "component.json", b => { var node = JsonNode.Parse(b)!; change(node); return written = System.Text.Encoding.UTF8.GetBytes(node.ToJsonString()); });
        RewriteManifest(zip, m =>
        {
            var entry = m["entries"]!.AsArray().First(x => (string?)x!["name"] == "component.json")!;
            entry["length"] = written.Length;
            entry["sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(written));
        });
    }

    [TestMethod]
    public void Resume_refuses_a_checkpoint_of_another_configuration_naming_each_field()
    {
        var ml = new MLContext(1);
        string folder = _dir.File("ckpt-" + Guid.NewGuid().ToString("N"));
        ActiveForgettingPretrainer.Options Options(Action<ActiveForgettingPretrainer.Options>? change = null)
        {
            var o = LanguageModelTests.TinyOptions(k: 3);
            o.MaxSteps = 6; o.Seed = 4; o.CheckpointDirectory = folder; o.Resume = true;
            change?.Invoke(o);
            return o;
        }
        var first = ml.Transforms.Text.ActiveForgettingPretrainer(Options()).Fit(Text(ml, "en", 0));

        var e = Assert.ThrowsExactly<InvalidOperationException>(() =>
            ml.Transforms.Text.ActiveForgettingPretrainer(Options(o => { o.ResetInterval = 0; o.LearningRate = 1e-3; })).Fit(Text(ml, "en", 0)));
        StringAssert.Contains(e.Message, "ResetInterval: 3 in the checkpoint, 0 in this run");
        StringAssert.Contains(e.Message, "LearningRate: 0.003 in the checkpoint, 0.001 in this run");
        Assert.IsFalse(e.Message.Contains("MaxSteps"), e.Message);

        e = Assert.ThrowsExactly<InvalidOperationException>(() =>
            ml.Transforms.Text.ActiveForgettingPretrainer(Options(o => { o.MaxSteps = 8; o.Seed = 5; })).Fit(Text(ml, "en", 0)));
        StringAssert.Contains(e.Message, "MaxSteps: 6 in the checkpoint, 8 in this run");
        StringAssert.Contains(e.Message, "Seed: 4 in the checkpoint, 5 in this run");

        var tokenizer = first.Tokenizer; // same vocabulary, other text: only the data differs
        e = Assert.ThrowsExactly<InvalidOperationException>(() =>
            ml.Transforms.Text.ActiveForgettingPretrainer(Options(o => o.Tokenizer = tokenizer)).Fit(Text(ml, "en", 9)));
        StringAssert.Contains(e.Message, "Data: 400 lines");

        // The same configuration resumes: nothing left to do, the same weights come back.
        var again = ml.Transforms.Text.ActiveForgettingPretrainer(Options()).Fit(Text(ml, "en", 0));
        Assert.IsTrue(TensorAssert.BitEqual(first.Model.TokenEmbeddings, again.Model.TokenEmbeddings));
    }

    private sealed record Change(double LearningRate = 3e-3, int Seed = 1);

    /// <summary>
    /// A run cancelled after update 2 of 4 leaves a checkpoint; a resume with another learning rate or seed is
    /// refused naming the field and both values, and one with the same settings runs only the 2 remaining
    /// updates and ends where an uninterrupted run does.
    /// </summary>
    private static void RefusesChangedSettingsThenResumes<T>(Func<string?, Change, IProgress<TrainingProgress>?, CancellationToken, T> fit, Func<T, TorchSharp.torch.Tensor> weights)
    {
        string folder = _dir.File("ckpt-" + Guid.NewGuid().ToString("N"));
        var uninterrupted = fit(null, new Change(), null, default);

        using var cts = new CancellationTokenSource();
        var cancelAfterTwo = SyncProgress.Of(p => { if (p.Step == 2) cts.Cancel(); });
        Assert.ThrowsExactly<OperationCanceledException>(() => fit(folder, new Change(), cancelAfterTwo, cts.Token));

        var e = Assert.ThrowsExactly<InvalidOperationException>(() => fit(folder, new Change(LearningRate: 1e-3), null, default));
        StringAssert.Contains(e.Message, "LearningRate: 0.003 in the checkpoint, 0.001 in this run");
        Assert.IsFalse(e.Message.Contains("Seed:"), e.Message);
        e = Assert.ThrowsExactly<InvalidOperationException>(() => fit(folder, new Change(Seed: 2), null, default));
        StringAssert.Contains(e.Message, "Seed: 1 in the checkpoint, 2 in this run");
        Assert.IsFalse(e.Message.Contains("LearningRate:"), e.Message);

        long updates = 0;
        var resumed = fit(folder, new Change(), SyncProgress.Of(_ => updates++), default);
        Assert.AreEqual(2, updates, "the resumed run should run only updates 3 and 4");
        Assert.IsTrue(weights(uninterrupted).allclose(weights(resumed), rtol: 0, atol: 1e-6), "the resumed run does not end where an uninterrupted one does");
    }

    [TestMethod]
    public void Relearning_resume_refuses_another_learning_rate_or_seed_naming_both_values()
    {
        var ml = new MLContext(1);
        var lm = Pretrain(ml, seed: 1);
        var text = Text(ml, "xa", 1);
        RefusesChangedSettingsThenResumes((folder, change, progress, token) => ml.Transforms.Text.EmbeddingRelearner(new EmbeddingRelearner.Options
        {
            LanguageModel = lm, VocabularySize = 400, Seed = change.Seed, Progress = progress, CancellationToken = token,
            Settings = new RelearningSettings { MaxSteps = 4, BatchSize = 16, LearningRate = change.LearningRate, CheckpointDirectory = folder, Resume = true },
        }).Fit(text), m => m.Model.TokenEmbeddings);
    }

    [TestMethod]
    public void Fine_tuning_resume_refuses_another_learning_rate_or_seed_naming_both_values()
    {
        var ml = new MLContext(1);
        var lm = Pretrain(ml, seed: 1);
        var (data, labels) = Pairs(ml);
        var keyed = labels.Transform(data);
        RefusesChangedSettingsThenResumes((folder, change, progress, token) => ml.MulticlassClassification.Trainers.SentencePairClassification(new SentencePairClassificationTrainer.Options
        {
            LanguageModel = lm, Seed = change.Seed, Progress = progress, CancellationToken = token,
            Settings = new TaskAdaptationSettings { MaxSteps = 4, BatchSize = 16, LearningRate = change.LearningRate, CheckpointDirectory = folder, Resume = true },
        }).Fit(keyed), c => c.Model.NamedTensors()["classifier.out_proj.weight"]);
    }

    [TestMethod]
    public void Null_empty_and_blank_text_get_the_answer_for_empty_text_everywhere()
    {
        var ml = new MLContext(1);
        var lm = Pretrain(ml, seed: 1);
        var blanks = new[] { null, "", "   ", "\t\n" };
        var expected = lm.Embed(new string?[] { "" })[0];
        foreach (var row in lm.Embed(blanks))
            CollectionAssert.AreEqual(expected, row, new FloatComparer(1e-6f));
        var viaTransform = ml.Data.CreateEnumerable<EmbeddingRow>(lm.Transform(ml.Data.LoadFromEnumerable(blanks.Select(t => new TextRow { Text = t! }))), reuseRowObject: false).ToList();
        Assert.HasCount(blanks.Length, viaTransform, "no row is skipped");
        using var engine = ml.Model.CreatePredictionEngine<TextRow, EmbeddingRow>(lm);
        foreach (var t in blanks)
            CollectionAssert.AreEqual(expected, engine.Predict(new TextRow { Text = t! }).Features, new FloatComparer(1e-5f), $"engine, '{t}'");
        foreach (var row in viaTransform) CollectionAssert.AreEqual(expected, row.Features, new FloatComparer(1e-5f));

        var classifier = FineTune(ml, lm);
        var empty = classifier.PredictProbabilities(new string?[] { "" }, new string?[] { "" })[0];
        var blankPairs = classifier.PredictProbabilities(blanks, blanks.Reverse().ToArray());
        foreach (var p in blankPairs) CollectionAssert.AreEqual(empty, p, new FloatComparer(1e-6f));
    }
}

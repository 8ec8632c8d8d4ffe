using Microsoft.ML;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Tests.Infrastructure;
using MLNetForgetting.Training;

namespace MLNetForgetting.Tests.Cli;

[TestClass]
public sealed class PretrainCommandTests
{
    [TestMethod]
    public void PretrainWritesALoadableZipAndItsHistory()
    {
        using var dir = new TempDir();
        string corpus = CliRunner.WriteCorpus(dir.File("corpus.txt"));
        var r = CliRunner.RunOk(["pretrain", .. CliRunner.TinyRun, "--input", corpus, "--output", dir.File("out/lm.zip"), "--steps", "8", "--k", "4"]);

        // The default history sits beside the zip; the default scratch checkpoint folder is gone after success.
        Assert.IsTrue(File.Exists(dir.File("out/lm.zip")), r.ToString());
        var csv = File.ReadAllLines(dir.File("out/lm.history.csv"));
        Assert.HasCount(9, csv, "header + one row per update");
        StringAssert.StartsWith(csv[0], "step,loss");
        StringAssert.Contains(csv[4], ",reset", "update 4 ends the first episode");
        Assert.IsFalse(Directory.Exists(dir.File("out/lm.checkpoint")), "the default checkpoint folder should be removed after a successful run");
        // Plain progress lines (output is not a terminal) with step/total, loss, tokens/s and ETA.
        StringAssert.Matches(r.StdOut, new System.Text.RegularExpressions.Regex(@"forgetting K=4\s+step 8/8\s+loss \d+\.\d{4}\s+[\d,]+ tok/s\s+ETA \d\d:\d\d:\d\d"));
        Assert.AreEqual("", r.StdErr);

        var ml = new MLContext(0);
        var model = (LanguageModelTransformer)ml.Model.Load(dir.File("out/lm.zip"), out var schema);
        Assert.AreEqual(4, model.ResetInterval);
        Assert.AreEqual(1, model.Seed, "the default --seed");
        Assert.HasCount(8, model.History.Steps);
        Assert.AreEqual("Text", schema[0].Name);
        var embedding = model.Embed(new[] { "the cat sees a dog" })[0];
        Assert.IsTrue(embedding.Length == 32 && embedding.All(float.IsFinite));
    }

    [TestMethod]
    public void SizeKnobsBuildTheModelTheyNameAndItTravelsInTheZip()
    {
        using var dir = new TempDir();
        string corpus = CliRunner.WriteCorpus(dir.File("corpus.txt"), 100);
        CliRunner.RunOk(["pretrain", .. CliRunner.TinyRun, "--input", corpus, "--output", dir.File("lm.zip"), "--steps", "1", "--standard",
            "--hidden", "48", "--layers", "3", "--heads", "2", "--ffn", "96"]);
        var lm = (LanguageModelTransformer)new MLContext(0).Model.Load(dir.File("lm.zip"), out _);
        var c = lm.Model.Config;
        Assert.AreEqual((48, 3, 2, 96), (c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize));
        Assert.AreEqual(48, (int)lm.Model.TokenEmbeddings.shape[1]);
        // A width alone gets head size 32 and FFN 4D.
        CliRunner.RunOk(["pretrain", .. CliRunner.TinyRun, "--input", corpus, "--output", dir.File("lm2.zip"), "--steps", "1", "--standard", "--hidden", "64", "--layers", "1"]);
        var c2 = ((LanguageModelTransformer)new MLContext(0).Model.Load(dir.File("lm2.zip"), out _)).Model.Config;
        Assert.AreEqual((64, 1, 2, 256), (c2.HiddenSize, c2.NumHiddenLayers, c2.NumAttentionHeads, c2.IntermediateSize));
        var bad = CliRunner.Run(["pretrain", .. CliRunner.TinyRun, "--input", corpus, "--output", dir.File("x.zip"), "--hidden", "48", "--heads", "5"]);
        Assert.AreEqual(2, bad.ExitCode, bad.ToString());
        StringAssert.Contains(bad.StdErr, "--heads 5 must divide --hidden 48");
    }

    [TestMethod]
    public void FromContinuesAModelZipKeepingItsTokenizerAndRefusesSizeOptions()
    {
        using var dir = new TempDir();
        string corpus = CliRunner.WriteCorpus(dir.File("corpus.txt"), 100);
        CliRunner.RunOk(["pretrain", .. CliRunner.TinyRun, "--input", corpus, "--output", dir.File("base.zip"), "--steps", "2", "--standard"]);
        var r = CliRunner.RunOk(["pretrain", "--batch", "8", "--seq", "32", "--lr", "3e-3", "--input", corpus, "--from", dir.File("base.zip"),
            "--output", dir.File("more.zip"), "--steps", "4", "--k", "2"]);
        StringAssert.Contains(r.StdOut, "continued from");
        var ml = new MLContext(0);
        var b = (LanguageModelTransformer)ml.Model.Load(dir.File("base.zip"), out _);
        var m = (LanguageModelTransformer)ml.Model.Load(dir.File("more.zip"), out _);
        Assert.AreEqual(b.Tokenizer.Fingerprint, m.Tokenizer.Fingerprint);
        Assert.AreEqual(2, m.ResetInterval);
        var bad = CliRunner.Run(["pretrain", "--input", corpus, "--from", dir.File("base.zip"), "--output", dir.File("x.zip"), "--vocab", "500", "--hidden", "64"]);
        Assert.AreEqual(2, bad.ExitCode, bad.ToString());
        StringAssert.Contains(bad.StdErr, "drop --hidden, --vocab");
    }

    [TestMethod]
    public void TsvInputWithColumnAndJsonHistory()
    {
        using var dir = new TempDir();
        var lines = File.ReadAllLines(CliRunner.WriteCorpus(dir.File("c.txt"), 200));
        File.WriteAllLines(dir.File("c.tsv"), lines.Select((l, i) => $"{i}\t{l}").Prepend("id\tsentence"));
        CliRunner.RunOk(["pretrain", .. CliRunner.TinyRun, "--input", dir.File("c.tsv"), "--column", "sentence", "--output", dir.File("lm.zip"),
            "--history", dir.File("h.json"), "--steps", "3", "--standard"]);
        var history = TrainingHistory.FromJson(File.ReadAllText(dir.File("h.json")));
        Assert.HasCount(3, history.Steps);
        Assert.IsEmpty(history.Events, "--standard makes no resets");
        var model = new MLContext(0).Model.Load(dir.File("lm.zip"), out var schema);
        Assert.AreEqual(0, ((LanguageModelTransformer)model).ResetInterval);
        Assert.IsTrue(schema.GetColumnOrNull("sentence").HasValue, "the model keeps the TSV's column name as its input");
    }

    [TestMethod]
    public void InterruptedRunResumesToTheSameWeightsAsAnUninterruptedOne()
    {
        using var dir = new TempDir();
        string corpus = CliRunner.WriteCorpus(dir.File("corpus.txt"));
        string[] common = ["pretrain", .. CliRunner.TinyRun, "--input", corpus, "--steps", "10", "--k", "4", "--seed", "5"];

        CliRunner.RunOk([.. common, "--output", dir.File("straight.zip")]);

        string[] interrupted = [.. common, "--output", dir.File("resumed.zip"), "--checkpoint-dir", dir.File("ckpt")];
        var stopped = CliRunner.Run([.. interrupted, "--stop-after-steps", "6"]);
        Assert.AreEqual(130, stopped.ExitCode, stopped.ToString());
        Assert.HasCount(1, stopped.ErrorLines, stopped.StdErr);
        StringAssert.StartsWith(stopped.ErrorLines[0], "error: cancelled after update 6 of 10");
        StringAssert.Contains(stopped.ErrorLines[0], "--resume");
        Assert.IsTrue(File.Exists(dir.File("ckpt/checkpoint.safetensors")), "cancellation must leave a checkpoint");
        Assert.IsFalse(File.Exists(dir.File("resumed.zip")), "no model is written for a cancelled run");

        var resumed = CliRunner.RunOk([.. interrupted, "--resume"]);
        StringAssert.Contains(resumed.StdOut, "Resuming from");
        // A fresh start would reach the same weights too (same seed); the progress shows it really continued at update 7.
        StringAssert.Contains(resumed.StdOut, "step 7/10");
        Assert.IsFalse(resumed.StdOut.Contains("step 1/10", StringComparison.Ordinal), "the resumed run started over:\n" + resumed.StdOut);
        Assert.IsTrue(File.Exists(dir.File("ckpt/checkpoint.safetensors")), "a given --checkpoint-dir is kept");

        var ml = new MLContext(0);
        var a = (LanguageModelTransformer)ml.Model.Load(dir.File("straight.zip"), out _);
        var b = (LanguageModelTransformer)ml.Model.Load(dir.File("resumed.zip"), out _);
        CollectionAssert.AreEqual(a.History.Steps.Select(s => s.Loss).ToArray(), b.History.Steps.Select(s => s.Loss).ToArray(), "the resumed history continues the interrupted one");
        CollectionAssert.AreEqual(a.History.Events.Select(e => e.Step).ToArray(), b.History.Events.Select(e => e.Step).ToArray());
        var pa = a.Model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var pb = b.Model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        CollectionAssert.AreEquivalent(pa.Keys.ToArray(), pb.Keys.ToArray());
        foreach (var (name, p) in pa)
        {
            double diff = (p - pb[name]).abs().max().item<float>();
            Assert.IsLessThanOrEqualTo(1e-6, diff, $"parameter {name} differs by {diff}");
        }
    }

    [TestMethod]
    public void ResumeWithoutACheckpointWarnsAndStartsOver()
    {
        using var dir = new TempDir();
        string corpus = CliRunner.WriteCorpus(dir.File("corpus.txt"), 100);
        var r = CliRunner.RunOk(["pretrain", .. CliRunner.TinyRun, "--input", corpus, "--output", dir.File("lm.zip"), "--steps", "2", "--resume"]);
        StringAssert.Contains(r.StdOut, "warning: --resume: no checkpoint in");
        Assert.AreEqual("", r.StdErr, "warnings go to stdout; stderr carries only an error");
    }

    [TestMethod]
    public void CancelledTokenExitsWith130BeforeTheFirstUpdate()
    {
        using var dir = new TempDir();
        string corpus = CliRunner.WriteCorpus(dir.File("corpus.txt"), 100);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var r = CliRunner.Run(cancelled.Token, ["pretrain", .. CliRunner.TinyRun, "--input", corpus, "--output", dir.File("lm.zip"), "--steps", "5"]);
        Assert.AreEqual(130, r.ExitCode, r.ToString());
        Assert.HasCount(1, r.ErrorLines);
        StringAssert.StartsWith(r.ErrorLines[0], "error: cancelled before the first update");
        Assert.IsFalse(File.Exists(dir.File("lm.zip")));
    }
}

using MLNetForgetting.Cli.Reporting;
using MLNetForgetting.Tests.Infrastructure;
using MLNetForgetting.Training;

namespace MLNetForgetting.Tests.Cli;

[TestClass]
public sealed class PlotAndDemoTests
{
    private static readonly byte[] PngSignature = { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A };

    private static void AssertPng(string path)
    {
        Assert.IsTrue(File.Exists(path), $"{path} was not written");
        var bytes = File.ReadAllBytes(path);
        Assert.IsGreaterThan(5 * 1024, bytes.Length, $"{path} is only {bytes.Length} bytes; a rendered chart is larger");
        CollectionAssert.AreEqual(PngSignature, bytes.Take(8).ToArray(), $"{path} is not a PNG");
    }

    private static TrainingHistory SyntheticHistory(int steps, int k, double start)
    {
        var h = new TrainingHistory();
        for (int s = 1; s <= steps; s++)
        {
            h.Steps.Add(new StepRecord(s, start - Math.Log(s) * 0.3 + (k > 0 && s % k == 1 && s > 1 ? 0.5 : 0), 1000 + s, new Dictionary<string, double> { ["body"] = 1e-3, ["embeddings"] = 2e-3 }));
            if (k > 0 && s % k == 0 && s < steps) h.Events.Add(new TrainingEvent(s, "reset"));
        }
        h.Validations.Add(new ValidationRecord(steps / 2, new Dictionary<string, double> { ["loss"] = start - 0.5, ["accuracy"] = 0.2 }));
        h.Validations.Add(new ValidationRecord(steps, new Dictionary<string, double> { ["loss"] = start - 1, ["accuracy"] = 0.3 }));
        return h;
    }

    [TestMethod]
    public void PlotDrawsCsvAndJsonHistoriesAsPng()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("standard.csv"), SyntheticHistory(200, 0, 6).ToCsv());
        File.WriteAllText(dir.File("forgetting.json"), SyntheticHistory(200, 20, 6.2).ToJson());
        var r = CliRunner.RunOk("plot", "--history", dir.File("standard.csv"), "--history", dir.File("forgetting.json"), "--output", dir.File("plots/loss.png"), "--smooth", "5");
        AssertPng(dir.File("plots/loss.png"));
        StringAssert.Contains(r.StdOut, "2 histories, 9 reset marks");

        CliRunner.RunOk("plot", "--history", dir.File("standard.csv"), "--output", dir.File("val.png"), "--kind", "validation", "--metric", "accuracy");
        AssertPng(dir.File("val.png"));

        // A reference level (the unigram entropy of a corpus) changes the picture; a malformed one is refused naming it.
        CliRunner.RunOk("plot", "--history", dir.File("standard.csv"), "--output", dir.File("plain.svg"));
        CliRunner.RunOk("plot", "--history", dir.File("standard.csv"), "--output", dir.File("ref.svg"), "--reference", "5.5=unigram entropy");
        string plain = File.ReadAllText(dir.File("plain.svg")), withReference = File.ReadAllText(dir.File("ref.svg"));
        Assert.IsFalse(plain.Contains("unigram entropy"));
        StringAssert.Contains(withReference, "unigram entropy");
        var bad = CliRunner.Run("plot", "--history", dir.File("standard.csv"), "--output", dir.File("bad.png"), "--reference", "high=unigram");
        Assert.AreNotEqual(0, bad.ExitCode);
        StringAssert.Contains(bad.StdErr, "--reference 'high=unigram'");
    }

    [TestMethod]
    public void HistoryCsvReadsBackWhatToCsvWrote()
    {
        var h = SyntheticHistory(30, 10, 5);
        var back = HistoryFiles.FromCsv(h.ToCsv().Split('\n'), "h.csv");
        CollectionAssert.AreEqual(h.Steps.Select(s => s.Loss).ToArray(), back.Steps.Select(s => s.Loss).ToArray());
        CollectionAssert.AreEqual(h.Events.Select(e => e.Step).ToArray(), back.Events.Select(e => e.Step).ToArray());
        Assert.AreEqual(2e-3, back.Steps[3].LearningRates["embeddings"]);
        CollectionAssert.AreEqual(h.Validations.Select(v => v.Metrics["accuracy"]).ToArray(), back.Validations.Select(v => v.Metrics["accuracy"]).ToArray());
    }

    /// <summary>The whole story at the tiny size with one target language: every stage runs, the plots and tables are written.</summary>
    [TestMethod]
    public void DemoRunsEveryStageAndWritesPlotsAndTables()
    {
        using var dir = new TempDir();
        var r = CliRunner.RunOk("demo", "--output", dir.File("demo"), "--size", "tiny", "--languages", "xa");
        foreach (var run in new[] { "standard", "forgetting" })
            foreach (var file in new[] { $"pretrain-{run}.zip", $"finetune-{run}.zip", $"relearn-xa-{run}.zip", $"assembled-xa-{run}.zip", $"list-{run}.zip" })
                Assert.IsTrue(File.Exists(dir.File($"demo/{file}")), $"{file} missing\n{r}");
        Assert.AreEqual(2, File.ReadAllLines(dir.File("demo/pretrain-forgetting.history.csv")).Count(l => l.Contains(",reset")), "K = 4 over 12 updates resets twice (the last update ends the run)");
        AssertPng(dir.File("demo/pretrain-loss.png"));
        AssertPng(dir.File("demo/adaptation-curves.png"));
        // The per-language table, printed and exported: English after task adaptation, the target assembled, and their mean.
        StringAssert.Contains(r.StdOut, "Zero-shot NLI per language");
        StringAssert.Contains(r.StdOut, "[7/7] LiST");
        var evaluation = File.ReadAllLines(dir.File("demo/evaluation.csv"));
        CollectionAssert.AreEqual(new[] { "en", "xa", "mean of 1 targets" }, evaluation.Skip(1).Select(l => l.Split(',')[0]).ToArray());
        StringAssert.Contains(File.ReadAllText(dir.File("demo/summary.md")), "| LiST (forgetting) |");
        StringAssert.Contains(File.ReadAllText(dir.File("demo/summary.md")), "expected near chance", "the demo must say why its LiST accuracy sits near chance");
        Assert.IsTrue(File.ReadAllLines(dir.File("demo/relearn-xa-forgetting.history.csv"))[0].Contains("val_zero_shot_accuracy", StringComparison.Ordinal), "the relearning history carries the adaptation curve");
    }
}

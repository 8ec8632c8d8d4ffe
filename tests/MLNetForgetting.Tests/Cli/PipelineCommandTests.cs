using Microsoft.ML;
using MLNetForgetting.MLNet.Classification;
using MLNetForgetting.MLNet.FewShot;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Synthetic;
using MLNetForgetting.Tests.Infrastructure;
using MLNetForgetting.Tests.Pretraining;

namespace MLNetForgetting.Tests.Cli;

/// <summary>
/// relearn, finetune, assemble, evaluate, list, export and import on tiny synthetic data: each command
/// writes a zip that loads as the right component, and an interrupted relearn resumes.
/// </summary>
[TestClass]
public sealed class PipelineCommandTests
{
    private static TempDir _dir = null!;
    private static string Data(string path) => _dir.File(Path.Combine("data", path));
    private static string Lm => _dir.File("lm.zip");

    // Settings that keep every run to a few tiny updates.
    private static readonly string[] Small = { "--batch", "8", "--seq", "32", "--lr", "3e-3" };

    [ClassInitialize]
    public static void Setup(TestContext _)
    {
        _dir = new TempDir();
        new SyntheticTestbed().WriteDataset(_dir.File("data"), 300, 48, 24);
        CliRunner.RunOk(["pretrain", .. CliRunner.TinyRun, "--input", Data("raw/en"), "--output", Lm, "--steps", "3", "--k", "2"]);
    }

    [ClassCleanup]
    public static void Cleanup() => _dir.Dispose();

    [TestMethod]
    public void RelearnWithACorpusCapHeldOutLossAndKeepBestAndFinetuneWithASchedule()
    {
        // The study's regime: a capped corpus, many epochs over it, the best checkpoint by held-out loss.
        var lines = Directory.GetFiles(Data("raw/xa")).Order(StringComparer.Ordinal).SelectMany(File.ReadAllLines).ToArray();
        File.WriteAllLines(_dir.File("xa-train.txt"), lines.Skip(40));
        File.WriteAllLines(_dir.File("xa-held.txt"), lines.Take(40));
        var r = CliRunner.RunOk(["relearn", .. Small, "--model", Lm, "--input", _dir.File("xa-train.txt"), "--output", _dir.File("xa-cap.zip"), "--steps", "6",
            "--vocab", "300", "--corpus-tokens", "400", "--validation", _dir.File("xa-held.txt"), "--validate-every", "2", "--keep-best",
            "--checkpoint-dir", _dir.File("xa-cap-ckpt"), "--output-bias", "zero", "--verbose"]);
        StringAssert.Contains(r.StdOut, "corpus capped at 400 tokens");
        StringAssert.Contains(r.StdOut, "lowest held-out MLM loss");
        Assert.IsTrue(File.Exists(Path.Combine(_dir.File("xa-cap-ckpt"), "best.safetensors")), r.ToString());
        var bad = CliRunner.Run(["relearn", "--model", Lm, "--input", _dir.File("xa-train.txt"), "--output", _dir.File("x.zip"), "--keep-best"]);
        Assert.AreEqual(2, bad.ExitCode, bad.ToString());
        StringAssert.Contains(bad.StdErr, "--keep-best needs --validation");

        var f = CliRunner.RunOk(["finetune", .. Small, "--model", Lm, "--input", Data("glue_pools/MNLI/train.tsv"), "--output", _dir.File("nli-best.zip"),
            "--steps", "4", "--warmup", "0.25", "--linear-decay", "--validation", Data("xnli/dev/dev.en.tsv"), "--validate-every", "2", "--keep-best",
            "--checkpoint-dir", _dir.File("nli-best-ckpt")]);
        Assert.IsTrue(File.Exists(Path.Combine(_dir.File("nli-best-ckpt"), "best.safetensors")), f.ToString());
    }

    [TestMethod]
    public void CipherWritesCipheredTextAndTsvWhoseLabelsStayAndRoundTrips()
    {
        string dev = Data("xnli/dev/dev.en.tsv");
        CliRunner.RunOk("cipher", "--input", dev, "--output", _dir.File("dev.cipher.tsv"));
        var original = File.ReadAllLines(dev);
        var ciphered = File.ReadAllLines(_dir.File("dev.cipher.tsv"));
        Assert.AreEqual(original[0], ciphered[0], "the header stays");
        Assert.AreEqual(original.Length, ciphered.Length);
        int label = Array.IndexOf(original[0].Split('\t'), "label");
        Assert.IsTrue(label >= 0, "test data: the dev set has a label column");
        for (int i = 1; i < original.Length; i++)
        {
            var (o, c) = (original[i].Split('\t'), ciphered[i].Split('\t'));
            Assert.AreEqual(o[label], c[label], $"row {i}: the label changed");
            Assert.IsFalse(c.Where((_, j) => j != label).Any(x => x.Any(char.IsAsciiLetter)), $"row {i}: Latin letters left: {ciphered[i]}");
        }
        CliRunner.RunOk("cipher", "--input", _dir.File("dev.cipher.tsv"), "--output", _dir.File("dev.back.tsv"));
        CollectionAssert.AreEqual(original, File.ReadAllLines(_dir.File("dev.back.tsv")), "ciphering twice gives the original");
        var bad = CliRunner.Run("cipher", "--input", dev, "--output", _dir.File("x.tsv"), "--columns", "nope");
        Assert.AreEqual(2, bad.ExitCode, bad.ToString());
        StringAssert.Contains(bad.StdErr, "'nope' is not a column");
    }

    [TestMethod]
    public void RelearnFinetuneAssembleEvaluateExportImport()
    {
        var relearn = CliRunner.RunOk(["relearn", .. Small, "--model", Lm, "--input", Data("raw/xa"), "--language", "xa", "--output", _dir.File("xa.zip"), "--steps", "3", "--vocab", "300"]);
        StringAssert.Contains(relearn.StdOut, "relearn xa  step 3/3");
        Assert.HasCount(4, File.ReadAllLines(_dir.File("xa.history.csv")), "header + one row per update");

        var finetune = CliRunner.RunOk(["finetune", .. Small, "--model", Lm, "--input", Data("glue_pools/MNLI/train.tsv"), "--output", _dir.File("nli.zip"),
            "--steps", "3", "--validation", Data("xnli/dev/dev.en.tsv")]);
        StringAssert.Contains(finetune.StdOut, "token embeddings frozen");
        StringAssert.Contains(finetune.StdOut, "validation accuracy");

        CliRunner.RunOk("assemble", "--classifier", _dir.File("nli.zip"), "--relearned", _dir.File("xa.zip"), "--language", "xa", "--output", _dir.File("nli-xa.zip"));
        var ml = new MLContext(0);
        var assembled = (SentencePairClassifierTransformer)ml.Model.Load(_dir.File("nli-xa.zip"), out _);
        StringAssert.Contains(assembled.Description, "assembled for xa");
        var relearned = (LanguageModelTransformer)ml.Model.Load(_dir.File("xa.zip"), out _);
        Assert.AreEqual(relearned.Tokenizer.VocabSize, assembled.Tokenizer.VocabSize, "the assembled model reads the target vocabulary");

        // The Model Builder-style consumption code (examples/ConsumeModel) reads the tool's zips and predicts
        // what the library predicts, row by row and batched.
        foreach (var zip in new[] { _dir.File("nli.zip"), _dir.File("nli-xa.zip") })
        {
            var library = (SentencePairClassifierTransformer)ml.Model.Load(zip, out _);
            var pairs = ConsumeModel.SyntheticSampleModel.Pairs(new MLNetForgetting.Synthetic.SyntheticTestbed(), 8, MLNetForgetting.Synthetic.SyntheticTestbed.DatasetDevSeed);
            var expected = library.PredictProbabilities(pairs.Select(p => p.Sentence1).ToList(), pairs.Select(p => p.Sentence2).ToList());
            var consumer = ConsumeModel.SentencePairModel.Load(zip);
            var engine = consumer.CreatePredictionEngine();
            var batch = consumer.PredictBatch(pairs);
            for (int i = 0; i < pairs.Count; i++)
            {
                CollectionAssert.AreEqual(expected[i], engine.Predict(pairs[i]).Score.ToArray(), new FloatComparer(1e-5f), $"{zip}: pair {i}");
                CollectionAssert.AreEqual(expected[i], batch[i].Score.ToArray(), new FloatComparer(1e-5f), $"{zip}: batched pair {i}");
            }
        }

        // One model per TSV, paired in order; the language comes from "xx=" or from dev.xx.tsv.
        var evaluate = CliRunner.RunOk("evaluate", "--model", _dir.File("nli-xa.zip"), "--model", _dir.File("nli.zip"),
            "--test", Data("xnli/dev/dev.xa.tsv"), "--test", "en=" + Data("xnli/dev/dev.en.tsv"), "--output", _dir.File("eval"));
        StringAssert.Contains(evaluate.StdOut, "macro-F1 %");
        var csv = File.ReadAllLines(_dir.File("eval.csv"));
        Assert.HasCount(3, csv);
        StringAssert.StartsWith(csv[1], "xa,nli-xa.zip,24,");
        StringAssert.StartsWith(csv[2], "en,nli.zip,24,");
        StringAssert.Contains(File.ReadAllText(_dir.File("eval.md")), "(rows: gold, columns: predicted)");

        var export = CliRunner.RunOk("export", "--model", _dir.File("xa.zip"), "--output", _dir.File("hf-xa"), "--format", "both");
        foreach (var file in new[] { "config.json", "model.safetensors", "pytorch_model.bin", "vocab.json", "merges.txt" })
            Assert.IsTrue(File.Exists(_dir.File($"hf-xa/{file}")), $"{file} missing:\n{export}");
        CliRunner.RunOk("import", "--input", _dir.File("hf-xa"), "--output", _dir.File("imported.zip"));
        var imported = (LanguageModelTransformer)ml.Model.Load(_dir.File("imported.zip"), out _);
        var a = relearned.Embed(["xa text"])[0];
        var b = imported.Embed(["xa text"])[0];
        CollectionAssert.AreEqual(a, b, "export → import keeps the weights and vocabulary");
    }

    [TestMethod]
    public void ListTrainsAFewShotClassifierWithAUserTemplate()
    {
        var lines = File.ReadAllLines(Data("raw/en/synthetic.txt"));
        // A toy task: does the sentence mention a cat? Label words must be single tokens of the tiny vocabulary.
        var rows = lines.Select(l => (Text: l, Label: l.Contains("cat", StringComparison.Ordinal) ? "yes" : "no")).ToArray();
        File.WriteAllLines(_dir.File("fs.tsv"), rows.GroupBy(r => r.Label).SelectMany(g => g.Take(4)).Select(r => $"{r.Text}\t{r.Label}").Prepend("text\tlabel"));
        File.WriteAllLines(_dir.File("unlabelled.txt"), lines.Skip(100).Take(20));
        // Label words must be single tokens: a vocabulary of 600 (not the fixture's 300) holds " the" and " not" whole.
        string lm = _dir.File("lm600.zip");
        CliRunner.RunOk(["pretrain", .. CliRunner.TinyRun.Take(6), "--vocab", "600", "--lr", "3e-3", "--input", Data("raw/en"), "--output", lm, "--steps", "2", "--k", "0"]);
        var r = CliRunner.RunOk("list", "--model", lm, "--input", _dir.File("fs.tsv"), "--unlabelled", _dir.File("unlabelled.txt"),
            "--template", "*cls**sent_0*_the*mask*.*sep+*", "--label-words", "no=the,yes=not", "--output", _dir.File("list.zip"), "--adapters", _dir.File("list.adapters"),
            "--teacher-epochs", "1", "--rounds", "1", "--student-updates", "2", "--student-epochs", "1", "--bottleneck", "4", "--teacher-lr", "1e-3", "--student-lr", "1e-3");
        StringAssert.Contains(r.StdOut, "LiST on 8 labelled rows (no, yes) and 20 unlabelled rows");
        Assert.IsTrue(File.Exists(_dir.File("list.adapters")), r.ToString());
        var model = (PromptAdapterTransformer)new MLContext(0).Model.Load(_dir.File("list.zip"), out _);
        CollectionAssert.AreEqual(new[] { "no", "yes" }, model.LabelNames.ToArray());
        Assert.IsFalse(Directory.Exists(_dir.File("list.checkpoint")), "the scratch checkpoint folder is removed after a successful run");

        // Interrupted (as Ctrl+C would) in round 1's distillation phase, then --resume: the same classifier as the straight run.
        string[] again = ["list", "--model", lm, "--input", _dir.File("fs.tsv"), "--unlabelled", _dir.File("unlabelled.txt"),
            "--template", "*cls**sent_0*_the*mask*.*sep+*", "--label-words", "no=the,yes=not", "--output", _dir.File("list-resumed.zip"),
            "--teacher-epochs", "1", "--rounds", "1", "--student-updates", "2", "--student-epochs", "1", "--bottleneck", "4", "--teacher-lr", "1e-3", "--student-lr", "1e-3",
            "--checkpoint-dir", _dir.File("list-ckpt")];
        var stopped = CliRunner.Run([.. again, "--stop-after-steps", "3"]);
        Assert.AreEqual(130, stopped.ExitCode, stopped.ToString());
        StringAssert.Contains(stopped.ErrorLines[0], "--resume");
        Assert.IsFalse(File.Exists(_dir.File("list-resumed.zip")), "no model is written for a cancelled run");
        var resumed = CliRunner.RunOk([.. again, "--resume"]);
        StringAssert.Contains(resumed.StdOut, "Resuming from");
        var twin = (PromptAdapterTransformer)new MLContext(0).Model.Load(_dir.File("list-resumed.zip"), out _);
        var probe = rows.Skip(200).Take(6).Select(x => (IReadOnlyList<string>)new[] { x.Text }).ToList();
        var p1 = model.PredictProbabilities(probe);
        var p2 = twin.PredictProbabilities(probe);
        for (int i = 0; i < probe.Count; i++)
            for (int c = 0; c < 2; c++) Assert.AreEqual(p1[i][c], p2[i][c], 1e-5, $"row {i} class {c}: the resumed run differs from the straight one");

        File.WriteAllLines(_dir.File("test.tsv"), rows.Skip(200).Take(20).Select(x => $"{x.Text}\t{x.Label}").Prepend("text\tlabel"));
        var evaluate = CliRunner.RunOk("evaluate", "--model", _dir.File("list.zip"), "--test", "en=" + _dir.File("test.tsv"), "--output", _dir.File("list-eval.md"));
        StringAssert.StartsWith(File.ReadAllLines(_dir.File("list-eval.csv"))[1], "en,list.zip,20,");
        Assert.AreEqual("", evaluate.StdErr);
    }

    [TestMethod]
    public void InterruptedRelearnResumesFromItsCheckpoint()
    {
        string[] command = ["relearn", .. Small, "--model", Lm, "--input", Data("raw/xb"), "--output", _dir.File("xb.zip"), "--steps", "6", "--vocab", "300",
            "--checkpoint-dir", _dir.File("xb-ckpt")];
        var stopped = CliRunner.Run([.. command, "--stop-after-steps", "3"]);
        Assert.AreEqual(130, stopped.ExitCode, stopped.ToString());
        Assert.HasCount(1, stopped.ErrorLines, stopped.StdErr);
        StringAssert.StartsWith(stopped.ErrorLines[0], "error: cancelled after update 3 of 6");
        StringAssert.Contains(stopped.ErrorLines[0], "--resume");
        Assert.IsFalse(File.Exists(_dir.File("xb.zip")), "no model is written for a cancelled run");

        var resumed = CliRunner.RunOk([.. command, "--resume"]);
        StringAssert.Contains(resumed.StdOut, "Resuming from");
        StringAssert.Contains(resumed.StdOut, "step 4/6");
        Assert.IsFalse(resumed.StdOut.Contains("step 1/6", StringComparison.Ordinal), "the resumed run started over:\n" + resumed.StdOut);
        var model = (LanguageModelTransformer)new MLContext(0).Model.Load(_dir.File("xb.zip"), out _);
        Assert.HasCount(6, model.History.Steps, "the history holds the interrupted and the resumed updates");
    }

    // Placeholders: {dir} the class folder, {lm} the tiny language model, {data} the synthetic dataset.
    [TestMethod]
    [DataRow("missing model", "relearn --model {dir}/nope.zip --input {data}/raw/xa --output {dir}/o.zip", "input file '{dir}/nope.zip' does not exist")]
    [DataRow("not a zip", "relearn --model {data}/SOURCES.md --input {data}/raw/xa --output {dir}/o.zip", "--model '{data}/SOURCES.md' is not a model zip mlnf can load")]
    [DataRow("unknown language", "relearn --model {lm} --input {data}/raw/xa --language qq --output {dir}/o.zip", "unknown language code 'qq' in --language")]
    [DataRow("unwritable output", "relearn --model {lm} --input {data}/raw/xa --output {data}/SOURCES.md/o.zip", "'{data}/SOURCES.md' is a file, not a folder")]
    [DataRow("wrong column layout", "finetune --model {lm} --input {dir}/bad.tsv --output {dir}/o.zip", "lacks a hypothesis (hypothesis/text_b) column")]
    [DataRow("unknown label", "finetune --model {lm} --input {dir}/badlabel.tsv --output {dir}/o.zip", "label 'maybe' is not in the label set")]
    [DataRow("classifier as language model", "finetune --model {dir}/clf.zip --input {data}/glue_pools/MNLI/train.tsv --output {dir}/o.zip", "holds a sentence-pair classifier (from finetune or assemble); expected a language model")]
    [DataRow("language model as classifier", "assemble --classifier {lm} --relearned {lm} --output {dir}/o.zip", "holds a language model (from pretrain, relearn or import); expected a sentence-pair classifier")]
    [DataRow("unknown test language", "evaluate --model {dir}/clf.zip --test zz={data}/xnli/dev/dev.en.tsv --output {dir}/e", "unknown language code 'zz' in --test")]
    [DataRow("models and tests mismatch", "evaluate --model {dir}/clf.zip --model {dir}/clf.zip --test {data}/xnli/dev/dev.en.tsv --test {data}/xnli/dev/dev.xa.tsv --test {data}/xnli/dev/dev.xb.tsv --output {dir}/e", "2 --model and 3 --test")]
    [DataRow("template without words", "list --model {lm} --input {dir}/bad.tsv --template *cls**sent_0**mask*.*sep+* --output {dir}/o.zip", "--template and --label-words go together")]
    [DataRow("label word not a token", "list --model {lm} --input {dir}/single.tsv --template *cls**sent_0**mask*.*sep+* --label-words 0=xylophonic,1=the --output {dir}/o.zip", "Label word 'xylophonic'")]
    [DataRow("unknown LiST task", "list --model {lm} --input {dir}/single.tsv --task CoLA --output {dir}/o.zip", "unknown --task 'CoLA'")]
    [DataRow("import of a non-HF folder", "import --input {data}/raw --output {dir}/o.zip", "has no config.json")]
    [DataRow("synthetic demo with a real language", "demo --languages de --output {dir}/demo", "real languages need --data")]
    [DataRow("demo data without a language", "demo --data {data} --languages sw --output {dir}/demo", "has no raw/sw")]
    public void BadArgumentsExitNonZeroWithOneLine(string why, string commandLine, string expected)
    {
        if (!File.Exists(_dir.File("clf.zip")))
            CliRunner.RunOk(["finetune", .. Small, "--model", Lm, "--input", Data("glue_pools/MNLI/train.tsv"), "--output", _dir.File("clf.zip"), "--steps", "1"]);
        File.WriteAllText(_dir.File("bad.tsv"), "premise\tlabel\na\tentailment\n");
        File.WriteAllText(_dir.File("badlabel.tsv"), "premise\thypothesis\tlabel\na\tb\tentailment\nc\td\tmaybe\n");
        File.WriteAllText(_dir.File("single.tsv"), "text\tlabel\nthe cat\t1\nthe dog\t0\n");
        string Expand(string s) => s.Replace("{lm}", Lm).Replace("{data}", _dir.File("data")).Replace("{dir}", _dir.Path);
        var r = CliRunner.Run(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(Expand).ToArray());
        Assert.AreNotEqual(0, r.ExitCode, $"{why}: {r}");
        Assert.HasCount(1, r.ErrorLines, $"{why}: one line, no stack trace: {r}");
        StringAssert.StartsWith(r.ErrorLines[0], "error: ", why);
        StringAssert.Contains(r.ErrorLines[0], Expand(expected), why);
    }
}

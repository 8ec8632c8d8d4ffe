using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.ML;
using MLNetForgetting.Forgetting;
using MLNetForgetting.Interop;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Modeling;
using MLNetForgetting.Persistence;
using MLNetForgetting.Tests.Adaptation;
using MLNetForgetting.Tests.Cli;
using MLNetForgetting.Tests.Infrastructure;
using MLNetForgetting.Tests.Pretraining;
using MLNetForgetting.Text;
using static TorchSharp.torch;

namespace MLNetForgetting.Tests.Interop;

/// <summary>
/// The PyTorch distributed trainer (python/mlnf_torch, docs/distributed.md) against the .NET trainer, against
/// itself on two processes (torchrun, gloo, CPU), and its output back in ML.NET. Needs python3 with torch
/// (Debian: apt-get install python3-torch python3-numpy); inconclusive without it. Tiny models, synthetic text.
/// </summary>
[TestClass]
public sealed class DistributedTrainingTests
{
    private static string PythonDir => Path.Combine(ReferenceComparisonTests.RepoRoot(), "python");

    private static string RequirePython() =>
        ReferenceComparisonTests.PythonWithTorch() ?? throw new AssertInconclusiveException(
            "python3 with torch is not installed (Debian: apt-get install python3-torch python3-numpy; MLNF_PYTHON picks the interpreter); see docs/distributed.md.");

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>torchrun on one node with <paramref name="processes"/> workers. The rendezvous port is a free one (tests run in parallel);
    /// --redirects/--tee 1 work around Debian's torch 1.13 launcher under Python 3.11, whose default "0" parses as no value.</summary>
    private static string[] Torchrun(int processes) =>
        ["-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", processes.ToString(), "--master_addr", "127.0.0.1",
         "--master_port", FreePort().ToString(), "--redirects", "1", "--tee", "1", "-m", "mlnf_torch.train"];

    private static string Run(string python, params string[] args)
    {
        var psi = new ProcessStartInfo(python, args) { WorkingDirectory = PythonDir, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["OMP_NUM_THREADS"] = "1";
        psi.Environment["PYTHONDONTWRITEBYTECODE"] = "1"; // no __pycache__ in the repository
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(180_000)) { p.Kill(entireProcessTree: true); Assert.Fail($"python {string.Join(' ', args)} did not finish in 3 minutes"); }
        Assert.AreEqual(0, p.ExitCode, $"python {string.Join(' ', args)} failed:\n{stdout}\n{stderr.Result}");
        return stdout;
    }

    private static double[] Losses(string jsonl) =>
        File.ReadLines(jsonl).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("loss").GetDouble()).ToArray();

    private static RobertaForMaskedLM TinyModel(int seed, double dropout)
    {
        var tokenizer = AdaptationTestData.EnglishTokenizer;
        var model = new RobertaForMaskedLM(RobertaConfig.Tiny(tokenizer.VocabSize) with { MaxSequenceLength = 48, HiddenDropout = dropout, AttentionDropout = dropout });
        model.InitializeWeights(new Generator((ulong)seed));
        return model;
    }

    private static double MaxAbsDifference(IReadOnlyDictionary<string, Tensor> a, IReadOnlyDictionary<string, Tensor> b)
    {
        double worst = 0;
        foreach (var (name, t) in a)
        {
            Assert.IsTrue(b.ContainsKey(name), name);
            using var d = (t - b[name]).abs().max();
            worst = Math.Max(worst, d.item<float>());
        }
        return worst;
    }

    [TestMethod]
    public void PyTorchTrainerReproducesTheDotNetTrainerUpdateByUpdateAcrossAReset()
    {
        string python = RequirePython();
        using var dir = new TempDir();
        var tokenizer = AdaptationTestData.EnglishTokenizer;
        // Dropout 0: the two engines cannot draw the same dropout masks; everything else is the real trainer.
        using var model = TinyModel(5, dropout: 0);
        var settings = new PretrainingSettings
        {
            MaxSteps = 20, ResetInterval = 10, BatchSize = 8, MaxSequenceLength = 48, LearningRate = 3e-3, EmbeddingLearningRate = 3e-3,
            WarmupFraction = 0.1, Seed = 11,
        };
        var masker = new MlmMasker(tokenizer.VocabSize, tokenizer.MaskId, tokenizer.PadId, tokenizer.SpecialIds);
        var sequences = Batching.Encode(AdaptationTestData.EnglishCorpus.Take(200), tokenizer, 48, new CorpusStats()).ToList();
        var rng = new Random(4);
        var batches = Enumerable.Range(0, 20).Select(i => masker.Mask(sequences.Skip(8 * i).Take(8).ToList(), rng)).ToList();
        var resets = new Dictionary<long, Tensor>();
        try
        {
            TorchDistributedExchange.WriteReplay(dir.Path, model, tokenizer, batches, settings);
            var ours = TorchDistributedExchange.Replay(model, batches, settings, (n, e) => resets[n] = e.detach().clone().DetachFromDisposeScope());
            Run(python, "-m", "mlnf_torch.train", "--init", dir.File("init"), "--replay", dir.File("batches.safetensors"), "--settings", dir.File("settings.json"),
                "--output", dir.File("py"), "--log", dir.File("py.jsonl"), "--dump-resets", dir.File("resets"), "--threads", "1");

            var theirs = Losses(dir.File("py.jsonl"));
            Assert.HasCount(20, theirs);
            for (int i = 0; i < 20; i++)
                Assert.AreEqual(ours[i], theirs[i], 1e-4 * Math.Abs(ours[i]), $"loss of update {i + 1}: .NET {ours[i]}, PyTorch {theirs[i]}");
            CollectionAssert.AreEqual(new long[] { 10 }, resets.Keys.ToArray());

            // The new E: PyTorch seeds a CPU generator with the .NET trainer's StepSeed(seed ^ 0x5EED, 10) and draws normal_ the same way.
            var drawn = SafeTensors.Read(File.ReadAllBytes(Path.Combine(dir.File("resets"), "reset.10.safetensors")), out _);
            using (var e = drawn["reset.10"])
                Assert.IsTrue(TensorAssert.BitEqual(resets[10], e), "E after the reset differs between .NET and PyTorch");

            var (back, _) = HuggingFaceImport.Import(dir.File("py"));
            using (back)
            {
                double worst = MaxAbsDifference(model.NamedTensors(), back.NamedTensors());
                Console.WriteLine($"final weights: max |.NET - PyTorch| = {worst:E2}; losses max relative difference {Enumerable.Range(0, 20).Max(i => Math.Abs(ours[i] - theirs[i]) / Math.Abs(ours[i])):E2}");
                Assert.IsLessThan(1e-5, worst, "final weights after 20 updates");
            }
        }
        finally
        {
            foreach (var b in batches) b.Dispose();
            foreach (var e in resets.Values) e.Dispose();
        }
    }

    [TestMethod]
    public void TwoProcessesMatchOneAndResumeAcrossAReset()
    {
        string python = RequirePython();
        using var dir = new TempDir();
        using (var model = TinyModel(6, dropout: 0)) HuggingFaceExport.Export(model, AdaptationTestData.EnglishTokenizer, dir.File("init"));
        TorchDistributedExchange.WriteCorpusIds(AdaptationTestData.EnglishTokenizer, AdaptationTestData.EnglishCorpus.Take(400), 48, dir.File("corpus.ids"));
        string[] common = ["--init", dir.File("init"), "--corpus", dir.File("corpus.ids"), "--updates", "20", "--reset-interval", "5", "--batch-size", "8",
            "--lr", "3e-3", "--emb-lr", "3e-3", "--seed", "3", "--threads", "1"];

        Run(python, ["-m", "mlnf_torch.train", .. common, "--log", dir.File("one.jsonl"), "--reset-log", dir.File("one"), "--output", dir.File("one")]);
        Run(python, [.. Torchrun(2), .. common, "--log", dir.File("two.jsonl"), "--reset-log", dir.File("two"), "--output", dir.File("two")]);
        // Interrupted after update 7, resumed: crosses the resets after updates 10 and 15.
        Run(python, [.. Torchrun(2), .. common, "--checkpoint-dir", dir.File("ck"), "--stop-after", "7"]);
        string resumed = Run(python, [.. Torchrun(2), .. common, "--checkpoint-dir", dir.File("ck"), "--resume", "--output", dir.File("resumed")]);
        StringAssert.Contains(resumed, "resumed from update 7");

        var one = Losses(dir.File("one.jsonl"));
        var two = Losses(dir.File("two.jsonl"));
        Assert.HasCount(20, two);
        for (int i = 0; i < 20; i++)
            Assert.AreEqual(one[i], two[i], 1e-5 * Math.Abs(one[i]), $"loss of update {i + 1}: one process {one[i]}, two {two[i]}");

        // E after each reset: the same on both ranks, and the same as in the single process.
        string[] Hashes(string file) => File.ReadLines(file).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("update").GetInt64() + ":" + JsonDocument.Parse(l).RootElement.GetProperty("sha256").GetString()).ToArray();
        var rank0 = Hashes(dir.File("two.rank0.jsonl"));
        CollectionAssert.AreEqual(new[] { "5", "10", "15" }, rank0.Select(h => h.Split(':')[0]).ToArray());
        CollectionAssert.AreEqual(rank0, Hashes(dir.File("two.rank1.jsonl")), "E differs between the ranks after a reset");
        CollectionAssert.AreEqual(rank0, Hashes(dir.File("one.rank0.jsonl")), "E differs between one and two processes after a reset");

        var w1 = SafeTensors.Read(File.ReadAllBytes(Path.Combine(dir.File("one"), "model.safetensors")), out _);
        var w2 = SafeTensors.Read(File.ReadAllBytes(Path.Combine(dir.File("two"), "model.safetensors")), out _);
        var w3 = SafeTensors.Read(File.ReadAllBytes(Path.Combine(dir.File("resumed"), "model.safetensors")), out _);
        try
        {
            double worst = MaxAbsDifference(w1, w2);
            Console.WriteLine($"one vs two processes: losses max relative difference {Enumerable.Range(0, 20).Max(i => Math.Abs(one[i] - two[i]) / Math.Abs(one[i])):E2}, final weights max |diff| {worst:E2}");
            Assert.IsLessThan(1e-5, worst, "final weights of one and two processes");
            foreach (var (name, t) in w2) Assert.IsTrue(TensorAssert.BitEqual(t, w3[name]), $"{name}: the resumed run differs from the uninterrupted one");
        }
        finally { foreach (var t in w1.Values.Concat(w2.Values).Concat(w3.Values)) t.Dispose(); }
    }

    [TestMethod]
    public void DistributedOutputImportsServesAndTrainsOnInDotNet()
    {
        string python = RequirePython();
        using var dir = new TempDir();
        var tokenizer = AdaptationTestData.EnglishTokenizer;
        using (var model = TinyModel(7, dropout: 0.1)) HuggingFaceExport.Export(model, tokenizer, dir.File("init"));
        File.WriteAllLines(dir.File("en.txt"), AdaptationTestData.EnglishCorpus.Take(300));
        CliRunner.RunOk("encode", "--model", dir.File("init"), "--input", dir.File("en.txt"), "--output", dir.File("en.ids"), "--seq", "32");
        Run(python, [.. Torchrun(2), "--init", dir.File("init"), "--corpus", dir.File("en.ids"), "--updates", "8", "--reset-interval", "4", "--batch-size", "8",
            "--lr", "3e-3", "--emb-lr", "3e-3", "--threads", "1", "--output", dir.File("trained")]);

        CliRunner.RunOk("import", "--input", dir.File("trained"), "--output", dir.File("lm.zip"));
        var ml = new MLContext(1);
        var lm = (LanguageModelTransformer)ml.Model.Load(dir.File("lm.zip"), out _);
        Assert.AreEqual(tokenizer.Fingerprint, lm.Tokenizer.Fingerprint);
        var trained = HuggingFaceImport.ReadWeights(dir.File("trained"));
        try
        {
            foreach (var (name, t) in lm.Model.NamedTensors()) Assert.IsTrue(TensorAssert.BitEqual(t, trained[name]), $"{name} changed on the way into the zip");
        }
        finally { foreach (var t in trained.Values) t.Dispose(); }
        var engine = ml.Model.CreatePredictionEngine<TextRow, EmbeddingRow>(lm);
        var row = engine.Predict(new TextRow { Text = AdaptationTestData.EnglishCorpus[0] });
        Assert.AreEqual(32, row.Features.Length);
        Assert.IsTrue(row.Features.All(float.IsFinite));

        // Back in .NET: relearn embeddings for another language on the PyTorch-trained body, and continue pretraining.
        File.WriteAllLines(dir.File("xa.txt"), AdaptationTestData.TargetCorpus.Take(300));
        string[] small = ["--batch", "8", "--seq", "32", "--lr", "3e-3"];
        CliRunner.RunOk(["relearn", .. small, "--model", dir.File("lm.zip"), "--input", dir.File("xa.txt"), "--output", dir.File("xa.zip"), "--steps", "3", "--vocab", "300"]);
        CliRunner.RunOk(["pretrain", .. small, "--from", dir.File("lm.zip"), "--input", dir.File("en.txt"), "--output", dir.File("more.zip"), "--steps", "3", "--k", "2"]);
        var relearned = (LanguageModelTransformer)ml.Model.Load(dir.File("xa.zip"), out _);
        var more = (LanguageModelTransformer)ml.Model.Load(dir.File("more.zip"), out _);
        Assert.AreEqual(3, relearned.History.Steps.Count);
        Assert.IsTrue(relearned.History.Steps.All(s => double.IsFinite(s.Loss)) && more.History.Steps.All(s => double.IsFinite(s.Loss)));
        Assert.IsTrue(TensorAssert.BitEqual(lm.Model.NamedTensors()["roberta.encoder.layer.0.attention.self.query.weight"],
            relearned.Model.NamedTensors()["roberta.encoder.layer.0.attention.self.query.weight"]), "relearning changed the body");
    }
}

using System.Diagnostics;
using System.Text.Json;
using MLNetForgetting.Benchmarks;
using MLNetForgetting.Tests.Infrastructure;

namespace MLNetForgetting.Tests.Benchmarks;

/// <summary>
/// The vs-pytorch benchmark must not report a ratio against a crippled PyTorch peer (issue 21). The
/// process tests force Debian's reference BLAS (libblas3) on the peer through LD_LIBRARY_PATH and run
/// the real benchmark executable at a tiny size (sequences of 16 tokens, batches of 2, 256³ matmuls).
/// They need Debian's python3-torch (inconclusive without it) and no data from ../shared.
/// </summary>
[TestClass]
public sealed class PeerGuardTests
{
    private const string ReferenceBlasDir = "/usr/lib/x86_64-linux-gnu/blas";

    [TestMethod]
    public void RateThresholdIsFourTimesOursAndTheReferenceBlasOrOldKernelsAreRefusedWhateverTheRate()
    {
        const string openblas = """{"blas":"openblas","blas_detail":"OpenBLAS 0.3.21","blas_library":"/x/libopenblasp-r0.3.21.so"}""";
        Assert.IsTrue(PeerGuard.Judge("peer", openblas, peerGflops: 25.1, oursGflops: 100, matmulN: 2048).Fair);
        Assert.AreEqual(4.0, PeerGuard.MaxSlowdown);
        var slow = PeerGuard.Judge("peer", openblas, peerGflops: 24.9, oursGflops: 100, matmulN: 2048);
        Assert.IsFalse(slow.Fair);
        StringAssert.Contains(slow.Problems.Single(), "24.9 GFLOP/s against ours 100.0");
        StringAssert.Contains(slow.Warning, "WARNING");

        const string reference = """{"blas":"reference","blas_detail":"netlib reference BLAS (Debian libblas3)","blas_library":"/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0"}""";
        var fastReference = PeerGuard.Judge("peer", reference, peerGflops: 100, oursGflops: 100, matmulN: 2048);
        StringAssert.Contains(fastReference.Problems.Single(), "reference BLAS (/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0)");
        // OpenBLAS on kernels older than the CPU: refused on an AVX-512 machine, whatever the rates.
        const string prescott = """{"blas":"openblas","blas_detail":"OpenBLAS 0.3.21","blas_kernels":"Prescott","blas_library":"/x/libopenblasp-r0.3.21.so"}""";
        var fallback = PeerGuard.Judge("peer", prescott, peerGflops: 90, oursGflops: 100, matmulN: 2048, cpuFlags: new HashSet<string> { "avx2", "avx512f" });
        StringAssert.Contains(fallback.Problems.Single(), "OpenBLAS runs its Prescott kernels on a CPU with AVX-512; run with OPENBLAS_CORETYPE=SkylakeX");
        Assert.IsTrue(PeerGuard.Judge("peer", prescott, peerGflops: 90, oursGflops: 100, matmulN: 2048, cpuFlags: new HashSet<string> { "sse3" }).Fair);
        // Without our rate (no "ours" configuration in the run) only the BLAS is judged.
        Assert.IsTrue(PeerGuard.Judge("peer", openblas, peerGflops: 1, oursGflops: null, matmulN: 2048).Fair);
        StringAssert.Contains(PeerGuard.Refusal("vs-pytorch", [slow]), "apt-get install libopenblas0-pthread");
    }

    [TestMethod]
    public void VsPyTorchRefusesAPeerOnTheReferenceBlas()
    {
        using var dir = new TempDir();
        var r = RunVsPyTorch(dir, allowSlowPeer: false);
        Assert.AreEqual(2, r.ExitCode, r.ToString());
        // One line says why and what to install (the workers' own log lines are prefixed with [name]).
        var lines = r.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => !l.StartsWith('[')).ToList();
        Assert.AreEqual(1, lines.Count, r.ToString());
        StringAssert.StartsWith(lines[0], "vs-pytorch: refusing to compare: peer 'peer': it runs on the reference BLAS (/usr/lib/x86_64-linux-gnu/blas/libblas.so.3");
        StringAssert.Contains(lines[0], "apt-get install libopenblas0-pthread");
        StringAssert.Contains(lines[0], "--allow-slow-peer");
        // The peer's BLAS and matmul rate are printed before the refusal; nothing was timed or recorded.
        StringAssert.Contains(r.StdOut, "peer: netlib reference BLAS (Debian libblas3), 256³ matmul ");
        Assert.IsFalse(r.StdOut.Contains("round 1/", StringComparison.Ordinal), r.ToString());
        Assert.IsFalse(File.Exists(dir.File("results.jsonl")));
    }

    [TestMethod]
    public void AllowSlowPeerPrintsTheRatioWithAWarningAndRecordsThePeersBlas()
    {
        using var dir = new TempDir();
        var r = RunVsPyTorch(dir, allowSlowPeer: true);
        Assert.AreEqual(0, r.ExitCode, r.ToString());
        string ratioLine = r.StdOut.Split('\n').Single(l => l.StartsWith("ours / peer: training ", StringComparison.Ordinal));
        StringAssert.Contains(ratioLine, "peer: netlib reference BLAS (Debian libblas3), 256³ matmul ");
        StringAssert.Contains(ratioLine, "WARNING: unfair peer (it runs on the reference BLAS");

        using var result = JsonDocument.Parse(File.ReadAllLines(dir.File("results.jsonl")).Single());
        var root = result.RootElement;
        Assert.IsTrue(root.GetProperty("allow_slow_peer").GetBoolean());
        var check = root.GetProperty("configs").GetProperty("peer").GetProperty("peer_check");
        Assert.AreEqual("reference", check.GetProperty("blas").GetString());
        StringAssert.StartsWith(check.GetProperty("blas_library").GetString(), ReferenceBlasDir + "/libblas.so.3");
        Assert.IsTrue(check.GetProperty("peer_matmul_gflops").GetDouble() > 0);
        Assert.IsTrue(check.GetProperty("ours_matmul_gflops").GetDouble() > 0);
        Assert.IsFalse(check.GetProperty("fair").GetBoolean());
        StringAssert.Contains(root.GetProperty("ratios").GetProperty("ours_over_peer").GetProperty("warning").GetString(), "reference BLAS");
    }

    private sealed record Result(int ExitCode, string StdOut, string StdErr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{StdOut}\nstderr:\n{StdErr}";
    }

    /// <summary>The real benchmark (its dll is copied next to the tests) at a tiny size, the peer forced onto the reference BLAS.</summary>
    private static Result RunVsPyTorch(TempDir dir, bool allowSlowPeer)
    {
        if (!File.Exists(Path.Combine(ReferenceBlasDir, "libblas.so.3")))
            Assert.Inconclusive($"Debian's reference BLAS ({ReferenceBlasDir}/libblas.so.3, package libblas3) is not installed.");
        if (!PythonHasTorch())
            Assert.Inconclusive("/usr/bin/python3 cannot import torch (Debian: apt-get install python3-torch python3-numpy).");
        string repo = RepoRoot();
        string data = Directory.CreateDirectory(dir.File("text")).FullName;
        File.WriteAllLines(Path.Combine(data, "a.txt"), Paragraphs(40));

        string bench = Path.Combine(AppContext.BaseDirectory, "MLNetForgetting.Benchmarks.dll");
        Assert.IsTrue(File.Exists(bench), $"{bench} not found next to the tests");
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir.Path,
        };
        psi.Environment["LD_LIBRARY_PATH"] = ReferenceBlasDir;
        psi.Environment["MLNF_TORCH_THREADS"] = "1";
        foreach (var a in new[] { bench, "vs-pytorch", "--data", data, "--configs", "ours,peer", "--peer", Path.Combine(repo, "benchmarks", "peer", "roberta_peer.py"),
                     "--batch", "2", "--infer-batch", "2", "--seq", "16", "--matmul-n", "256", "--rounds", "1", "--train-steps", "1", "--infer-steps", "1",
                     "--warmup", "1", "--results", dir.File("results.jsonl") })
            psi.ArgumentList.Add(a);
        if (allowSlowPeer) psi.ArgumentList.Add("--allow-slow-peer");
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"vs-pytorch did not finish in 3 minutes. stdout:\n{stdout.Result}\nstderr:\n{stderr.Result}");
        }
        process.WaitForExit();
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Long lines of made-up words (the benchmark keeps lines over 200 characters); the timings do not depend on the text.</summary>
    private static IEnumerable<string> Paragraphs(int count)
    {
        var words = "the a model of forgetting learns new words when its embeddings are reset while the body keeps what it knew about language and structure".Split(' ');
        var random = new Random(1);
        for (int i = 0; i < count; i++)
            yield return string.Join(' ', Enumerable.Range(0, 60).Select(_ => words[random.Next(words.Length)])) + ".";
    }

    private static bool PythonHasTorch()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-c", "import torch"]) { RedirectStandardError = true, RedirectStandardOutput = true });
            if (p is null) return false;
            p.WaitForExit(60_000);
            return p.HasExited && p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "MLNetForgetting.sln"))) return d.FullName;
        throw new InvalidOperationException("Repository root not found.");
    }
}

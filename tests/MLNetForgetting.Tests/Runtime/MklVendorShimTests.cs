using System.Diagnostics;
using System.Globalization;
using MLNetForgetting.Runtime;
using MLNetForgetting.Tests.Infrastructure;
using TorchSharp;

namespace MLNetForgetting.Tests.Runtime;

/// <summary>
/// The opt-in MKL vendor shim: off unless asked for, loaded before libtorch when asked for, a clear
/// error for a wrong path, and the same numbers with and without it (it only changes which MKL kernels run).
/// </summary>
[TestClass]
public sealed class MklVendorShimTests
{
    [TestMethod]
    public void Resolve_is_off_by_default_and_follows_the_variable()
    {
        string empty = Directory.CreateTempSubdirectory("mlnf-shim-").FullName;
        try
        {
            Assert.IsNull(MklVendorShim.Resolve(null, empty), "no variable and no built file: off");
            string beside = Path.Combine(empty, MklVendorShim.FileName);
            File.WriteAllBytes(beside, new byte[] { 0 });
            Assert.AreEqual(beside, MklVendorShim.Resolve(null, empty), "a file built next to the app (the MSBuild opt-in) is used");
            Assert.IsNull(MklVendorShim.Resolve("off", empty));
            Assert.IsNull(MklVendorShim.Resolve("0", empty));
            Assert.AreEqual(beside, MklVendorShim.Resolve(beside, "/nonexistent"));
            var e = Assert.ThrowsExactly<InvalidOperationException>(() => MklVendorShim.Resolve("/no/such/shim.so", empty));
            StringAssert.Contains(e.Message, "MLNF_MKL_VENDOR_SHIM='/no/such/shim.so' is not a file");
        }
        finally { Directory.Delete(empty, true); }
    }

    [TestMethod]
    public void Shim_loads_before_libtorch_and_keeps_the_numbers()
    {
        string dir = Directory.CreateTempSubdirectory("mlnf-shim-").FullName;
        try
        {
            string shim = Path.Combine(dir, MklVendorShim.FileName);
            string source = Path.Combine(RepoRoot(), "build", "native", "mlnf_mkl_vendor.c");
            var cc = Process.Start(new ProcessStartInfo("cc", $"-O2 -shared -fPIC -o \"{shim}\" \"{source}\"") { RedirectStandardError = true });
            if (cc is null) { Assert.Inconclusive("no C compiler (cc)"); return; }
            cc.WaitForExit();
            if (cc.ExitCode != 0) Assert.Inconclusive("cc failed: " + cc.StandardError.ReadToEnd());

            // Whether MKL really switched kernels shows only in timing (vs-pytorch benchmark); here: loaded, same numbers.
            var off = ChildProcess.RunChecked("shim-matmul", Array.Empty<string>(),
                new Dictionary<string, string?> { [MklVendorShim.Variable] = "off" });
            var on = ChildProcess.RunChecked("shim-matmul", Array.Empty<string>(),
                new Dictionary<string, string?> { [MklVendorShim.Variable] = shim });
            StringAssert.Contains(off.StdOut, "shim off");
            StringAssert.Contains(on.StdOut, "shim " + shim);
            double Value(string output) => double.Parse(output.Split('\n').Single(l => l.StartsWith("sum ", StringComparison.Ordinal))[4..], CultureInfo.InvariantCulture);
            double Error(string output) => double.Parse(output.Split('\n').Single(l => l.StartsWith("maxrel ", StringComparison.Ordinal))[7..], CultureInfo.InvariantCulture);
            Assert.IsLessThan(1e-4, Error(off.StdOut), off.StdOut);
            Assert.IsLessThan(1e-4, Error(on.StdOut), on.StdOut);
            Assert.AreEqual(Value(off.StdOut), Value(on.StdOut), 1e-3 * Math.Abs(Value(off.StdOut)) + 1e-3);
        }
        finally { Directory.Delete(dir, true); }
    }

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "MLNetForgetting.sln"))) return d.FullName;
        throw new InvalidOperationException("Repository root not found.");
    }

    /// <summary>A 512² FP32 matmul against float64: prints the shim path, the sum and the largest relative error.</summary>
    [ChildAction("shim-matmul")]
    public static int Matmul(string[] args)
    {
        TorchRuntime.EnsureInitialized();
        Console.WriteLine("shim " + (MklVendorShim.LoadedPath ?? "off"));
        var g = new torch.Generator(7);
        using var a = torch.randn(new long[] { 512, 512 }, generator: g);
        using var b = torch.randn(new long[] { 512, 512 }, generator: g);
        using var c = a.matmul(b);
        using var exact = a.to(torch.float64).matmul(b.to(torch.float64));
        using var diff = (c.to(torch.float64) - exact).abs().max();
        using var scale = exact.abs().max();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sum {c.sum().item<float>():R}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"maxrel {diff.item<double>() / scale.item<double>():R}"));
        return 0;
    }
}

using System.Globalization;
using System.Runtime.InteropServices;
using MLNetForgetting.Runtime;

namespace MLNetForgetting.Tests.Runtime;

[TestClass]
[DoNotParallelize] // reads this process's resident set
public sealed class NativeHeapTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void TheTrimIntervalVariableIsAWholeNumberAndDefaultsTo100()
    {
        Assert.AreEqual(NativeHeap.StandardTrimInterval, NativeHeap.ParseTrimInterval(null));
        Assert.AreEqual(NativeHeap.StandardTrimInterval, NativeHeap.ParseTrimInterval(" "));
        Assert.AreEqual(0L, NativeHeap.ParseTrimInterval("0"));
        Assert.AreEqual(25L, NativeHeap.ParseTrimInterval(" 25 "));
        foreach (string bad in new[] { "-1", "ten", "1.5" })
        {
            var ex = Assert.ThrowsExactly<InvalidOperationException>(() => NativeHeap.ParseTrimInterval(bad));
            StringAssert.Contains(ex.Message, NativeHeap.TrimIntervalVariable);
        }
    }

    [TestMethod]
    public void TrimGivesFragmentedFreeMemoryBackToTheKernel()
    {
        if (!NativeHeap.IsGlibc) Assert.Inconclusive("malloc_trim is glibc only.");
        Assert.IsNotNull(NativeHeap.HeapInfo());
        // 1,600 blocks of 64 KB (below glibc's mmap threshold, so they come from the heap), every page
        // touched; freeing every other one leaves 50 MB of holes that free() cannot give back itself.
        const int blocks = 1600, size = 64 * 1024;
        var pointers = new IntPtr[blocks];
        for (int i = 0; i < blocks; i++)
        {
            pointers[i] = Marshal.AllocHGlobal(size); // malloc on Linux
            for (int page = 0; page < size; page += 4096) Marshal.WriteByte(pointers[i], page, 1);
        }
        try
        {
            for (int i = 0; i < blocks; i += 2) { Marshal.FreeHGlobal(pointers[i]); pointers[i] = IntPtr.Zero; }
            long before = Rss();
            NativeHeap.Trim();
            long after = Rss();
            TestContext.WriteLine($"RSS {before / 1e6:F1} MB -> {after / 1e6:F1} MB after malloc_trim");
            Assert.IsGreaterThan(30e6, (double)(before - after), $"trim released only {(before - after) / 1e6:F1} MB of ~50 MB of holes");
        }
        finally
        {
            foreach (var p in pointers) if (p != IntPtr.Zero) Marshal.FreeHGlobal(p);
        }
    }

    private static long Rss()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        throw new InvalidOperationException("no VmRSS");
    }
}

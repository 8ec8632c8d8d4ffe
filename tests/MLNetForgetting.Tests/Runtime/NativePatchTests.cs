using System.IO.Compression;
using System.Text;

namespace MLNetForgetting.Tests.Runtime;

/// <summary>
/// The build patches only the output copy of libLibTorchSharp.so (GLIBCXX_3.4.31-33 needs made weak);
/// the NuGet cache copy must stay byte-identical to the package.
/// </summary>
[TestClass]
public sealed class NativePatchTests
{
    private const string Library = "libLibTorchSharp.so";
    private const int VerFlgWeak = 0x2;

    private static string NuGetRoot()
    {
        string? env = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        return !string.IsNullOrEmpty(env) ? env : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
    }

    private static string PackageDir() => Path.Combine(NuGetRoot(), "torchsharp", "0.107.0");

    [TestMethod]
    public void Cache_copy_is_unchanged_and_output_copy_is_patched()
    {
        string cached = Path.Combine(PackageDir(), "runtimes", "linux-x64", "native", Library);
        string nupkg = Path.Combine(PackageDir(), "torchsharp.0.107.0.nupkg");
        string output = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", Library);
        Assert.IsTrue(File.Exists(cached), cached);
        Assert.IsTrue(File.Exists(nupkg), nupkg);
        Assert.IsTrue(File.Exists(output), output);

        byte[] fromPackage;
        using (var zip = ZipFile.OpenRead(nupkg))
        {
            var entry = zip.GetEntry($"runtimes/linux-x64/native/{Library}") ?? throw new AssertFailedException("library not in the nupkg");
            using var s = entry.Open();
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            fromPackage = ms.ToArray();
        }
        byte[] cacheBytes = File.ReadAllBytes(cached);
        CollectionAssert.AreEqual(fromPackage, cacheBytes, "the NuGet cache copy differs from the package: something wrote into the cache");

        var cacheNeeds = ElfVersionNeeds.Read(cacheBytes);
        Assert.IsTrue(cacheNeeds.TryGetValue("GLIBCXX_3.4.32", out int cacheFlags), "cache copy should need GLIBCXX_3.4.32");
        Assert.AreEqual(0, cacheFlags & VerFlgWeak, "cache copy must keep the need strong");

        var outputNeeds = ElfVersionNeeds.Read(File.ReadAllBytes(output));
        Assert.AreEqual(VerFlgWeak, outputNeeds["GLIBCXX_3.4.32"] & VerFlgWeak, "output copy must have the need weakened");
        foreach (var (name, flags) in outputNeeds)
            if (name is not ("GLIBCXX_3.4.31" or "GLIBCXX_3.4.32" or "GLIBCXX_3.4.33"))
                Assert.AreEqual(cacheNeeds[name], flags, $"only the GLIBCXX 3.4.31-33 needs may change ({name} did)");

        Assert.AreNotEqual(Inode(cached), Inode(output), "the output copy is a hard link into the cache");
        Assert.IsNull(new FileInfo(output).LinkTarget, "the output copy is a symlink");
    }

    private static long Inode(string path)
    {
        // `stat -c %i` avoids P/Invoke: the inode is the test's whole point, not its speed.
        var psi = new System.Diagnostics.ProcessStartInfo("stat", new[] { "-L", "-c", "%i", path }) { RedirectStandardOutput = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        string text = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return long.Parse(text.Trim());
    }
}

/// <summary>Minimal ELF64-LE reader of SHT_GNU_verneed: version name → vna_flags.</summary>
internal static class ElfVersionNeeds
{
    public static Dictionary<string, int> Read(byte[] b)
    {
        if (b.Length < 0x40 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F' || b[4] != 2 || b[5] != 1)
            throw new InvalidDataException("not an ELF64 little-endian file");
        long shoff = BitConverter.ToInt64(b, 0x28);
        int shentsize = BitConverter.ToUInt16(b, 0x3A), shnum = BitConverter.ToUInt16(b, 0x3C);
        var result = new Dictionary<string, int>();
        for (int i = 0; i < shnum; i++)
        {
            int sh = checked((int)(shoff + (long)i * shentsize));
            if (BitConverter.ToUInt32(b, sh + 4) != 0x6ffffffe) continue; // SHT_GNU_verneed
            int off = checked((int)BitConverter.ToInt64(b, sh + 0x18));
            int link = (int)BitConverter.ToUInt32(b, sh + 0x28);
            int count = (int)BitConverter.ToUInt32(b, sh + 0x2C);
            int strtab = checked((int)BitConverter.ToInt64(b, checked((int)(shoff + (long)link * shentsize)) + 0x18));
            int vn = off;
            for (int n = 0; n < count; n++)
            {
                int cnt = BitConverter.ToUInt16(b, vn + 2);
                int aux = vn + (int)BitConverter.ToUInt32(b, vn + 8);
                for (int a = 0; a < cnt; a++)
                {
                    int flags = BitConverter.ToUInt16(b, aux + 4);
                    int name = strtab + (int)BitConverter.ToUInt32(b, aux + 8);
                    int end = Array.IndexOf(b, (byte)0, name);
                    result[Encoding.ASCII.GetString(b, name, end - name)] = flags;
                    uint next = BitConverter.ToUInt32(b, aux + 12);
                    if (next == 0) break;
                    aux += (int)next;
                }
                uint vnNext = BitConverter.ToUInt32(b, vn + 12);
                if (vnNext == 0) break;
                vn += (int)vnNext;
            }
        }
        return result;
    }
}

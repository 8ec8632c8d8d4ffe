using MLNetForgetting.Persistence;
using MLNetForgetting.Tests.Infrastructure;

namespace MLNetForgetting.Tests.Persistence;

[TestClass]
[DoNotParallelize]
public sealed class AtomicFileTests
{
    [TestMethod]
    public void AWriteInterruptedBeforeTheRenameLeavesTheOldFileIntactAndNoLeftovers()
    {
        using var dir = new TempDir();
        string path = dir.File("checkpoint.safetensors");
        AtomicFile.WriteAllText(path, "good");
        AtomicFile.BeforeRename = tmp =>
        {
            Assert.IsTrue(File.Exists(tmp), "the new content is written beside the target first");
            throw new IOException("simulated crash before the rename");
        };
        try
        {
            Assert.ThrowsExactly<IOException>(() => AtomicFile.WriteAllText(path, "half-written replacement"));
        }
        finally { AtomicFile.BeforeRename = null; }
        Assert.AreEqual("good", File.ReadAllText(path));
        CollectionAssert.AreEqual(new[] { "checkpoint.safetensors" }, Directory.GetFiles(dir.Path).Select(Path.GetFileName).ToArray());
    }

    [TestMethod]
    public void AWriterThatFailsMidwayLeavesTheOldFileIntact()
    {
        using var dir = new TempDir();
        string path = dir.File("model.bin");
        AtomicFile.WriteAllBytes(path, new byte[] { 1, 2, 3 });
        Assert.ThrowsExactly<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(new byte[1000]);
            throw new InvalidOperationException("writer failed midway");
        }));
        CollectionAssert.AreEqual(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path));
        Assert.HasCount(1, Directory.GetFiles(dir.Path));
    }

    /// <summary>A pid that no running process has: a child that has already exited.</summary>
    internal static int DeadPid()
    {
        using var p = System.Diagnostics.Process.Start("true")!;
        p.WaitForExit();
        return p.Id;
    }

    [TestMethod]
    public void TheNextWriteRemovesTemporariesOfKilledWritersButNotOfLiveOnes()
    {
        using var dir = new TempDir();
        string path = dir.File("checkpoint.safetensors");
        string dead = dir.File($".checkpoint.safetensors.{DeadPid()}.{Guid.NewGuid():N}.tmp");
        string live = dir.File($".checkpoint.safetensors.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp"); // e.g. another thread mid-write
        string other = dir.File($".other.bin.{DeadPid()}.{Guid.NewGuid():N}.tmp"); // another target's: not ours to touch
        string unrelated = dir.File(".checkpoint.safetensors.notes.tmp");
        foreach (var f in new[] { dead, live, other, unrelated }) File.WriteAllText(f, "half");
        AtomicFile.WriteAllText(path, "new");
        Assert.AreEqual("new", File.ReadAllText(path));
        Assert.IsFalse(File.Exists(dead), "the killed writer's temporary was left behind");
        Assert.IsTrue(File.Exists(live) && File.Exists(other) && File.Exists(unrelated));
    }
}

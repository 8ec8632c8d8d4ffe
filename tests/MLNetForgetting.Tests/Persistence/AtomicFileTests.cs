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
}

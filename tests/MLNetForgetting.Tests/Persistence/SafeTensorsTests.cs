using MLNetForgetting.Persistence;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNetForgetting.Tests.Persistence;

[TestClass]
public sealed class SafeTensorsTests
{
    [TestMethod]
    public void RoundTripIsBitExactAndDeterministic()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(4);
        var tensors = new Dictionary<string, Tensor>
        {
            ["b.weight"] = randn(new long[] { 7, 5 }, generator: g),
            ["a.bias"] = randn(new long[] { 3 }, generator: g),
            ["ids"] = tensor(new long[] { 1, -2, 3 }),
            ["big"] = randn(new long[] { 300, 41 }, generator: g),
            ["view"] = randn(new long[] { 6, 4 }, generator: g).t(), // non-contiguous
        };
        var meta = new Dictionary<string, string> { ["k"] = "v" };
        byte[] bytes = SafeTensors.ToBytes(tensors, meta);
        CollectionAssert.AreEqual(bytes, SafeTensors.ToBytes(tensors.Reverse(), meta), "key order changed the bytes");
        var back = SafeTensors.Read(bytes, out var metaBack);
        Assert.AreEqual("v", metaBack["k"]);
        Assert.HasCount(tensors.Count, back);
        foreach (var (name, t) in tensors)
            Assert.IsTrue(TensorAssert.BitEqual(t.contiguous(), back[name]), $"{name} differs after the round trip");
    }

    [TestMethod]
    public void TruncatedOrCorruptDataIsRejectedWithAClearMessage()
    {
        using var scope = NewDisposeScope();
        byte[] bytes = SafeTensors.ToBytes(new Dictionary<string, Tensor> { ["w"] = ones(10, 10) });
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => SafeTensors.Read(bytes[..(bytes.Length - 7)], out _, "weights"));
        StringAssert.Contains(ex.Message, "weights is truncated");
        Assert.ThrowsExactly<InvalidDataException>(() => SafeTensors.Read(bytes[..5], out _));
        var garbled = (byte[])bytes.Clone();
        garbled[12] = (byte)'#';
        Assert.ThrowsExactly<InvalidDataException>(() => SafeTensors.Read(garbled, out _));
    }
}

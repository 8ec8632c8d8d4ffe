using static TorchSharp.torch;

namespace MLNetForgetting.Tests;

internal static class TensorAssert
{
    /// <summary>Same shape and every element bit-identical.</summary>
    public static bool BitEqual(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape) || a.dtype != b.dtype) return false;
        using var scope = NewDisposeScope();
        return a.cpu().contiguous().bytes.SequenceEqual(b.cpu().contiguous().bytes);
    }
}

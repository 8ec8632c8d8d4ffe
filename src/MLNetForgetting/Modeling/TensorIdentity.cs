using static TorchSharp.torch;

namespace MLNetForgetting.Modeling;

/// <summary>
/// Which memory a tensor reads. TorchSharp hands out a new wrapper (and handle) per property access,
/// so "same tensor" means same storage address plus offset: what tying, in-place resets and the
/// optimizer's one-registration rule are about.
/// </summary>
internal static class TensorIdentity
{
    public static (IntPtr Storage, long Offset) Of(Tensor t)
    {
        IntPtr ptr = t.dtype switch
        {
            ScalarType.Float32 => t.storage<float>().data_ptr(),
            ScalarType.Float64 => t.storage<double>().data_ptr(),
            ScalarType.Int64 => t.storage<long>().data_ptr(),
            ScalarType.Int32 => t.storage<int>().data_ptr(),
            _ => t.storage<byte>().data_ptr(),
        };
        return (ptr, t.storage_offset());
    }

    public static bool SameMemory(Tensor a, Tensor b) => Of(a) == Of(b) && a.shape.SequenceEqual(b.shape);
}
